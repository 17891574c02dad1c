"""Runs in phases (issue 12, item 3): seed 004's procedure — b3 alone, then every parameter — as one
spec. The first phase is checked against its closed form: with only b3 trained on the SSR, each step
is b3 ← b3 + 2η·Σ(r_i − b3) with r_i = y_i − ŷ_i(b3 = 0), so b3_k = m·(1 − (1 − 2ηn)^k), m the mean residual."""

import io
import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main


def run(*argv):
    out = io.StringIO()
    return main([str(a) for a in argv], out=out), out.getvalue()


def test_softplus_runs_b3_alone_then_every_parameter():
    code, text = run("train", "softplus", "--json")
    doc = json.loads(text)
    first, second = doc["phases"]
    assert code == 0 and [first["name"], second["name"]] == ["b3 alone", "every parameter"]

    state = np.random.RandomState(42)
    w1, w2, w3, w4 = (state.normal(0, 1) for _ in range(4))
    xs, ys = [0.1, 0.53, 0.82], [1.2, 3.2, 1.1]
    residuals = [y - (w3 * math.log1p(math.exp(w1 * x)) + w4 * math.log1p(math.exp(w2 * x))) for x, y in zip(xs, ys)]
    mean = sum(residuals) / 3
    k = first["epochs_run"]
    b3 = mean * (1 - (1 - 2 * 0.01 * 3) ** k)
    assert first["stopped_because"] == "loss_change_below" and 1 < k < 1000
    assert first["loss_history"][-1] == pytest.approx(sum((r - b3) ** 2 for r in residuals), rel=1e-12)

    assert second["initial_loss"] == pytest.approx(first["loss_history"][-1], rel=1e-15)   # from where it left
    assert second["loss_history"][-1] < second["initial_loss"]
    trained = doc["parameters"]
    assert trained[0]["weights"] != [[w1], [w2]]                       # the second phase trains the weights too


def test_the_text_report_has_a_line_per_phase_and_explain_says_which_phase_it_shows():
    code, text = run("train", "softplus")
    lines = text.splitlines()
    assert code == 0 and lines[0].endswith("2 phases")
    assert lines[1].startswith("b3 alone: 6 frozen (w1, w2, w3, w4, b1, b2), η = 0.01, up to 1000 epochs")
    assert lines[3].startswith("every parameter: all parameters")
    code, text = run("explain", "softplus")
    assert code == 0 and text.startswith("a run in 2 phases — 1. b3 alone") and "explained: the first phase's steps" in text


def test_a_saved_run_in_phases_holds_the_last_phase(tmp_path):
    assert run("train", "softplus", "--quiet", "--save", tmp_path / "sp.json")[0] == 0
    model = cr.load_model(tmp_path / "sp.json")
    assert model.run.training.frozen == () and model.run.training.epochs == 2000


def spec_with_phases(tmp_path, phases: str):
    path = tmp_path / "phased.toml"
    path.write_text(f"""
[network]
inputs = 1
loss = "mse"
[[network.layers]]
units = 1
activation = "identity"
weights = [[0.5]]
bias = 0.0
[training]
learning_rate = 0.1
epochs = 3
{phases}
[data]
inputs = [[1.0], [2.0]]
targets = [[2.0], [4.0]]
""")
    return path


@pytest.mark.parametrize("phases, message", [
    ('phases = 3', "training.phases: expected a list of tables ([[training.phases]]), one per phase, got 3"),
    ('[[training.phases]]\ntrain_only = ["w9"]', "training.phases[1].train_only: expected labels of this network's"),
    ('[[training.phases]]\ntrain_only = ["w1"]\nfrozen = ["b1"]', "training.phases[1].train_only: give either frozen"),
    ('[[training.phases]]\nname = "a"\n[[training.phases]]\nlearning_rat = 0.1', "training.phases[2]"),
    ('[[training.phases]]\nlearning_rate = -1', "training.phases[1].learning_rate: expected a finite number ≥ 0"),
])
def test_malformed_phases_are_refused_naming_the_phase_and_key(tmp_path, phases, message):
    with pytest.raises(cr.SpecError) as error:
        cr.load(spec_with_phases(tmp_path, phases))
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


def test_phases_train_only_what_each_says(tmp_path):
    path = spec_with_phases(tmp_path, '[[training.phases]]\ntrain_only = ["b1"]\n[[training.phases]]\n'
                                      'train_only = ["w1"]\nepochs = 1')
    code, text = run("train", path, "--json")
    doc = json.loads(text)
    # phase 1, b1 alone: E = Σ (t − w·x − b)² summed over the 2 samples, w = 0.5, residuals r = (1.5, 3):
    # ∂E/∂b = −2·(r1 + r2 − 2b), so b ← b + 0.2·(4.5 − 2b)
    b = 0.0
    for _ in range(3):
        b += 0.2 * (4.5 - 2 * b)
    # phase 2, w1 alone for 1 step: ∂E/∂w = −2·Σ x·(t − w·x − b) = −2·((2 − 0.5 − b) + 2·(4 − 1 − b))
    w = 0.5 + 0.2 * ((2 - 0.5 - b) + 2 * (4 - 1 - b))
    assert code == 0 and doc["parameters"][0]["bias"] == [pytest.approx(b, rel=1e-12)]
    assert doc["parameters"][0]["weights"] == [[pytest.approx(w, rel=1e-12)]]


@pytest.mark.parametrize("flag", [["--epochs", "3"], ["--checkpoint", "ck.json"]])
def test_flags_that_cannot_apply_to_a_run_in_phases_are_refused(tmp_path, monkeypatch, capsys, flag):
    monkeypatch.chdir(tmp_path)
    code, _ = run("train", "softplus", *flag)
    err = capsys.readouterr().err
    assert code == 2 and f"train {flag[0]}: expected none for softplus" in err and not (tmp_path / "ck.json").exists()
