"""The chainrule command line and its JSON contract."""

import io
import math
import json
from pathlib import Path
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import gradcheck
from chainrule import cli
from chainrule.cli import main
from conftest import fashion_like_directory, printed


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_examples_lists_every_builtin_with_a_line():
    code, text = run("examples")
    assert code == 0
    names = [line.split()[0] for line in text.splitlines()]
    assert names == ["mazur", "mazur-code", "worksheet", "visual", "xor", "softplus"]


def test_explain_without_argument_walks_the_mazur_step_like_seed_000():
    code, text = run()
    assert code == 0 and text == run("explain", "mazur")[1]
    code, text = run("explain", "--width", "100000")     # every equation on one line
    text = re.sub(r" +=", " =", text)      # equations are aligned on their first '='

    assert code == 0
    for line in ["net_h1 = w1·i1 + w2·i2 + b1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775",
                 "out_o1 = sigmoid(net_o1) = sigmoid(1.10590597) = 0.75136507",
                 "E_o1 = 1/2·(t_o1 − out_o1)² = 1/2·(0.01 − 0.75136507)² = 0.274811083",
                 "∂E/∂w5 = ∂E/∂out_o1·∂out_o1/∂net_o1·∂net_o1/∂w5 = 0.74136507·0.186815602·0.593269992"
                 " = 0.0821670406",
                 "w5⁺ = 0.4 − 0.5·0.0821670406 = 0.35891648",
                 "w1⁺ = 0.15 − 0.5·0.000438567734 = 0.149780716"]:
        assert line in text
    assert "∂E/∂out_h1 = δ_o1·w5 + δ_o2·w7 = 0.138498562·0.4 + (−0.0380982365)·0.5" in text
    assert "E_total = E_o1 + E_o2 = 0.274811083 + 0.0235600256 = 0.298371109" in text
    assert "after it" in text


@pytest.mark.parametrize("argv", [[c, w] for c in cli.COMMANDS for w in ("mazur", "x.toml", "", "a b", "7")]
                         + [["train", "mazur", "--quiet"], ["train", "--epochs", "3", "visual"], ["check", "seed:000"],
                            ["explain", "xor", "--steps", "2"], ["predict", "m.json", "--inputs", "1,2"]])
def test_arguments_are_what_argparse_makes_of_them(argv):
    """The command line's parsing shortcuts (a command's own parser; a command and one word) against argparse
    through the top-level parser, every command: the same arguments, or the same error."""
    try:
        expected = cli._parser().parse_args(argv)
    except cli.UsageError as error:
        with pytest.raises(cli.UsageError) as got:
            cli._parsed(argv)
        assert str(got.value).split(": ", 1)[1] == str(error).split(": ", 1)[1]
        return
    assert cli._parsed(argv) == expected


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "chainrule", "examples"], capture_output=True, text=True)
    assert result.returncode == 0 and "mazur" in result.stdout


def test_starting_loads_no_web_client():
    """Every command pays for what importing chainrule loads: the web client and tar reader (15 ms of a
    command's 0.2 s start) load only when MNIST is downloaded."""
    code = "import sys, chainrule, chainrule.cli; print(sorted({'urllib.request', 'http.client', 'ssl', 'tarfile'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_explain_json_contract():
    code, text = run("explain", "mazur", "--steps", "2", "--format", "json")
    assert code == 0
    doc = json.loads(text)
    assert [s["step"] for s in doc["steps"]] == [1, 2]
    step = doc["steps"][0]
    assert {"step", "samples", "gradients", "learning_rate", "parameters_after", "loss_before",
            "loss_after"} <= set(step)
    sample = step["samples"][0]
    assert {"input", "target", "layers", "loss", "deltas"} <= set(sample)
    assert set(sample["layers"][0]) == {"net", "out"}
    printed(sample["layers"][1]["out"][0], "0.75136507")
    assert isinstance(step["parameters_after"][1]["bias"], float)   # shared bias: a number
    printed(step["parameters_after"][1]["weights"][0][0], "0.35891648")
    assert doc["steps"][1]["loss_before"] == step["loss_after"]
    code, text = run("explain", "visual", "--format", "json")
    assert json.loads(text)["steps"][0]["parameters_after"][0]["bias"] is None   # no bias: null
    code, text = run("explain", "xor", "--format", "json")
    assert isinstance(json.loads(text)["steps"][0]["parameters_after"][0]["bias"], list)


def test_train_json_contract_and_save_predict_round_trip(tmp_path):
    model = tmp_path / "xor.json"
    code, text = run("train", "xor", "--json", "--save", str(model))
    assert code == 0
    doc = json.loads(text)
    assert set(doc) == {"initial_loss", "loss_history", "epochs_run", "stopped_because", "parameters"}
    assert doc["stopped_because"] == "loss_below" and doc["loss_history"][-1] < 0.001
    assert len(doc["loss_history"]) == doc["epochs_run"]
    code, text = run("predict", str(model), "--inputs", "0,0;0,1;1,0;1,1", "--json")
    outputs = np.array(json.loads(text)["outputs"])
    assert np.all(np.abs(outputs - [[0], [1], [1], [0]]) < 0.05)
    # the saved model holds exactly the trained parameters
    saved = cr.load_model(model)
    assert saved.parameters_as_data() == doc["parameters"]


def test_train_epochs_override_and_text_report():
    code, text = run("train", "mazur", "--epochs", "1")
    assert code == 0 and "after 1 epoch" in text and "w5 = 0.35891648" in text


@pytest.mark.parametrize("argv,fragment", [
    (["explain", "nope"], "nope: expected a spec file or a built-in example"),
    (["explain", "--steps", "0"], "--steps: expected an integer from 1 to 100"),
    (["train", "mazur", "--epochs", "-1"], "--epochs: expected an integer from 0 to 10,000,000"),
    (["predict", "mazur", "--inputs", "1,2,3"], "row 1: expected 2 finite numbers"),
    (["predict", "missing.json", "--inputs", "1,2"], "missing.json: cannot read: No such file"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_are_one_line_with_exit_code_2(argv, fragment, capsys):
    code, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and fragment in err and "Traceback" not in err


def test_traceback_on_request(capsys):
    code, _ = run("--traceback", "explain", "nope")
    assert code == 2 and "Traceback" in capsys.readouterr().err


def test_bad_model_file(tmp_path, capsys):
    bad = tmp_path / "m.json"
    bad.write_text('{"format": "chainrule-model", "version": 1, "network": {"inputs": 2, "layers": []}}')
    code, _ = run("predict", str(bad), "--inputs", "1,2")
    err = capsys.readouterr().err
    assert code == 2 and "network.layers" in err


@pytest.mark.parametrize("name", cr.examples.names())
def test_every_example_explains_in_text_and_json(name):
    code, text = run("explain", name)
    assert code == 0 and "Forward pass" in text and "Update" in text
    code, text = run("explain", name, "--format", "json")
    assert code == 0 and json.loads(text)["steps"][0]["loss_after"] >= 0


def test_explain_deeper_network_with_softmax_and_batches(tmp_path):
    spec = tmp_path / "deep.toml"
    spec.write_text("""
[network]
inputs = 2
loss = "cross_entropy"
[[network.layers]]
units = 3
activation = "leaky_relu"
slope = 0.1
init = { kind = "he", seed = 1 }
[[network.layers]]
units = 2
activation = "tanh"
bias_mode = "none"
[[network.layers]]
units = 3
activation = "softmax"
bias_mode = "shared"
[training]
learning_rate = 0.1
batch = 2
reduction = "mean"
[data]
inputs = [[1, 2], [3, 4], [5, 6]]
targets = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
""")
    code, text = run("explain", str(spec), "--steps", "2", "--width", "100000")
    text = re.sub(r" +=", " =", text)
    assert code == 0
    assert "net_h1_1" in text and "net_h2_2" in text and "(loss and softmax combined)" in text
    assert "∂E/∂w1 = 1/2·Σ_s ∂E^(s)/∂w1 = (" in text and "∂E^(2)/∂w1 = δ_h1_1·i1 = " in text and "step 2" in text


@pytest.mark.parametrize("name", cr.examples.names())
def test_gradcheck_agrees_on_every_example(name):
    code, text = run("gradcheck", name, "--json")
    doc = json.loads(text)
    assert code == 0 and doc["ok"] and all(layer["max_relative_error"] < 1e-7 for layer in doc["layers"])
    code, text = run("gradcheck", name)
    assert code == 0 and "layer 1:" in text and "all layers agree" in text


def test_explain_step_k_param_matrix_and_every_format():
    code, text = run("explain", "mazur-code", "--step", "3", "--param", "w5")
    assert code == 0 and "step 3 (epoch 3)" in text and "step 1 " not in text and "∂E/∂w5" in text
    code, text = run("explain", "mazur", "--matrix")
    assert code == 0 and "matrix form" in text and "∇W̃ = δ·x̃ᵀ" in text
    for fmt, marker in [("markdown", "$$"), ("latex", "\\begin{document}"), ("html", "<math"), ("json", '"chains"')]:
        code, text = run("explain", "mazur", "--format", fmt)
        assert code == 0 and marker in text, fmt
    code, text = run("explain", "mazur", "--colour", "always")
    assert "\033[1m" in text


@pytest.mark.parametrize("argv, message", [
    (["explain", "--step", "0"], "--step: expected an integer from 1 to 10,000 (the steps this spec's training runs), got 0"),
    (["explain", "--param", "w99"], "--param: expected one of w1, w2"),
    (["gradcheck"], "gradcheck: expected a spec file or example name (or --cost), got neither"),
])
def test_explain_and_gradcheck_usage_errors(capsys, argv, message):
    code, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_gradcheck_cost_measures_growth_rates():
    code, text = run("gradcheck", "--cost", "--json")
    doc = json.loads(text)
    assert code == 0 and [r["parameters"] for r in doc["rows"]][0] < 200 and doc["rows"][-1]["parameters"] > 90_000
    # the figures themselves are benchmarks (printed, not asserted); only the gulf of orders of magnitude is checked
    assert all(math.isfinite(doc[k]) for k in ("finite_difference_growth", "backprop_growth"))
    assert doc["rows"][-1]["ratio"] > 1_000
    code, text = run("gradcheck", "--cost")
    assert code == 0 and "measured growth over the two largest: backprop time ∝ W^" in text


def test_explain_refuses_a_whole_derivation_of_a_large_network_but_explains_one_parameter(tmp_path, capsys):
    spec = tmp_path / "wide.toml"
    spec.write_text("""
[network]
inputs = 60
loss = "mse"
[[network.layers]]
units = 40
activation = "tanh"
init = { kind = "xavier" }
[[network.layers]]
units = 1
activation = "identity"
[data]
inputs = [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
           0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
           0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]]
targets = [[1.0]]
""")
    code, _ = run("explain", str(spec))
    assert code == 2 and "explain: a whole derivation: expected at most 2,000 parameters, got 2,481; explain one parameter with --param" in capsys.readouterr().err
    code, text = run("explain", str(spec), "--param", "w2440")
    assert code == 0 and "∂E/∂w2440" in text
    code, _ = run("explain", str(spec), "--param", "w9999")
    assert code == 2 and "expected one of w1–w2440, b1–b41, got 'w9999'" in capsys.readouterr().err


def test_mnist_missing_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHAINRULE_MNIST", str(tmp_path))
    code, _ = run("train", "--data", "mnist", "--epochs", "1")
    err = capsys.readouterr().err
    assert code == 2 and "MNIST: expected the IDX files in" in err and "run `chainrule data mnist`" in err


def test_predict_reads_npz_models_and_csv_rows_and_names_the_class(tmp_path, capsys):
    # softmax of net = x: for x = (3, 0) the outputs are e³/(e³ + 1) = 0.952574127 and 1/(e³ + 1)
    network = cr.Network([cr.Dense([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0], activation="softmax")], "cross_entropy")
    cr.save_model(network, tmp_path / "m.npz")
    (tmp_path / "rows.csv").write_text("a,b\n3,0\n0,3\n")
    out = io.StringIO()
    assert main(["predict", str(tmp_path / "m.npz"), "--csv", str(tmp_path / "rows.csv"), "--json"], out=out) == 0
    result = json.loads(out.getvalue())
    assert result["classes"] == [0, 1]
    assert result["outputs"][0] == pytest.approx([0.952574127, 0.0474258732], rel=1e-8)
    out = io.StringIO()
    assert main(["predict", str(tmp_path / "m.npz"), "--inputs", "3,0"], out=out) == 0
    assert out.getvalue() == "(3, 0) → (0.952574127, 0.0474258732)  class 0\n"
    (tmp_path / "bad.csv").write_text("3,0\n1,x\n")
    assert main(["predict", str(tmp_path / "m.npz"), "--csv", str(tmp_path / "bad.csv")], out=io.StringIO()) != 0
    assert "bad.csv:2" in capsys.readouterr().err


def test_one_parameter_of_a_large_network_shows_only_what_its_gradient_goes_through(tmp_path, capsys):
    """A 30-50-20-3 network on a batch of 12: the derivation of w1 shows its neuron's forward pass (without
    the terms of blank inputs), the δ of its layer and those above, six of the twelve samples, and a
    gradient equal to finite differences."""
    rng = np.random.default_rng(5)
    x, labels = rng.normal(size=(12, 30)), rng.integers(0, 3, 12)
    x[:, 20:] = 0.0         # blank inputs: their terms add nothing to a sum and are left out of it
    (tmp_path / "x.csv").write_text("\n".join(",".join(f"{v:.6f}" for v in row) + "," + ",".join(
        "1" if c == k else "0" for c in range(3)) for row, k in zip(x, labels)))
    spec = tmp_path / "big.toml"
    spec.write_text("""
[network]
inputs = 30
loss = "cross_entropy"
[[network.layers]]
units = 50
activation = "tanh"
init = { kind = "xavier", seed = 1 }
[[network.layers]]
units = 20
activation = "sigmoid"
init = { kind = "xavier", seed = 2 }
[[network.layers]]
units = 3
activation = "softmax"
init = { kind = "xavier", seed = 3 }
[training]
learning_rate = 0.1
batch = "full"
reduction = "mean"
[data]
csv = "x.csv"
target_columns = [30, 31, 32]
""")
    code, text = run("explain", str(spec), "--param", "w1", "--width", "100000")
    assert code == 0
    assert "net_h1_1 = w1·i1 + w2·i2" in text and "net_h1_2 =" not in text        # only w1's neuron
    assert "(the 10 terms whose input is 0 are left out)" in text and "w21·i21" not in text
    assert "δ_h1_1" in text and "δ_h1_2 " not in text and "δ_h2_20" in text and "δ_o3" in text
    assert text.count("\nSample ") == 6 and "The other 6 samples of the batch" in text
    assert "(the other 2,632 parameters enter below by value)" in text
    network = cr.load(spec).build_network()
    data = cr.load(spec).require_data()
    expected = gradcheck.numeric_gradients(network, *data, "mean")[0][0, 0]
    written = float(re.search(r"∂E/∂w1 += 1/12·Σ_s .* = (\S+)", text).group(1))
    assert written == pytest.approx(expected, rel=1e-6)
    for refused in (["--format", "json"], ["--matrix"], ["--matrix", "--param", "w1"]):
        code, _ = run("explain", str(spec), *refused)
        assert code == 2
    assert "explain: the matrix form: expected at most 2,000 parameters, got 2,633;" in capsys.readouterr().err
    code, text = run("explain", str(spec), "--param", "b71", "--format", "json")
    chains = json.loads(text)["steps"][0]["chains"]
    assert [c["parameter"] for c in chains] == ["b71"]
    assert chains[0]["gradient"] == pytest.approx(gradcheck.numeric_gradients(network, *data, "mean")[5][0], rel=1e-6)


def test_gradcheck_leaves_out_parameters_at_a_relu_kink_and_checks_float32_networks_in_float64(tmp_path, capsys):
    # net_h1 = 0.5·1 − 0.5 = 0 exactly: moving w1 by ±2h crosses the kink of relu, where E has no derivative
    spec = tmp_path / "kink.toml"
    spec.write_text("""
[network]
inputs = 1
dtype = "float32"
[[network.layers]]
units = 2
activation = "relu"
weights = [[0.5], [0.3]]
bias = [-0.5, 0.1]
[[network.layers]]
units = 1
activation = "sigmoid"
weights = [[0.7, -0.4]]
bias = [0.2]
[data]
inputs = [[1.0]]
targets = [[0.9]]
""")
    code, text = run("gradcheck", str(spec), "--json")
    result = json.loads(text)
    assert code == 0 and result["ok"]
    first, second = result["layers"]
    assert (first["checked"], first["at_kinks"]) == (4, 2)        # w1 and b1 move net_h1 across 0
    assert (second["checked"], second["at_kinks"]) == (3, 0) and second["max_relative_error"] < 1e-9
    code, text = run("gradcheck", str(spec))
    assert "in float64 (the network is float32)" in text and "2 left out, a ReLU kink" in text


def test_gradcheck_of_a_large_network_compares_a_random_choice_of_parameters(tmp_path):
    spec = tmp_path / "wide.toml"
    spec.write_text("""
[network]
inputs = 40
loss = "mse"
[[network.layers]]
units = 30
activation = "tanh"
init = { kind = "xavier", seed = 1 }
[[network.layers]]
units = 2
activation = "identity"
init = { kind = "xavier", seed = 2 }
[data]
inputs = [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
           0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]]
targets = [[1.0, -1.0]]
""")
    code, text = run("gradcheck", str(spec), "--max-parameters", "60", "--json")
    layers = json.loads(text)["layers"]
    assert code == 0 and [layer["parameters"] for layer in layers] == [1230, 62]
    assert 58 <= sum(layer["checked"] for layer in layers) <= 64 and all(layer["checked"] >= 2 for layer in layers)
    assert all(layer["max_relative_error"] < 1e-7 for layer in layers)


def test_explain_of_a_small_network_on_a_large_batch_is_refused_whole_and_focused_on_one_parameter(tmp_path, capsys):
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(500, 3))
    (tmp_path / "d.csv").write_text("a,b,y\n" + "\n".join(f"{a:.5f},{b:.5f},{c:.5f}" for a, b, c in rows))
    spec = tmp_path / "batch.toml"
    spec.write_text("""
[network]
inputs = 2
loss = "mse"
[[network.layers]]
units = 16
activation = "tanh"
init = { kind = "xavier", seed = 1 }
[[network.layers]]
units = 1
activation = "identity"
init = { kind = "xavier", seed = 2 }
[training]
batch = "full"
reduction = "mean"
[data]
csv = "d.csv"
target_columns = ["y"]
""")
    code, _ = run("explain", str(spec))
    assert code == 2
    assert ("a whole derivation: expected at most 20,000 parameters × samples in the step, got 65 × 500 = 32,500"
            in capsys.readouterr().err)
    code, text = run("explain", str(spec), "--param", "w3", "--width", "100000")
    assert code == 0 and text.count("\nSample ") == 6 and "The other 494 samples of the batch" in text
    network, data = cr.load(spec).build_network(), cr.load(spec).require_data()
    written = float(re.search(r"∂E/∂w3 += 1/500·Σ_s .* = (\S+)", text).group(1))
    assert written == pytest.approx(gradcheck.numeric_gradients(network, *data, "mean")[0][1, 0], rel=1e-6)


# ---- train on real data: --data DIRECTORY, --data mnist, and spec files with [data] idx or dataset ----------------

def fashion_spec(units: int, training: str) -> str:
    """A spec of one ReLU layer of ``units`` and a softmax over fashion_like_directory's 4 classes, trained as
    ``training`` says (mean reduction), on the IDX directory "fashion" beside it."""
    return f"""[network]
inputs = 36
loss = "cross_entropy"
[[network.layers]]
units = {units}
activation = "relu"
init = {{ kind = "he", seed = 0 }}
[[network.layers]]
units = 4
activation = "softmax"
init = {{ kind = "he", seed = 1 }}
[training]
{training}
reduction = "mean"
[data]
idx = "fashion"
"""


def test_train_data_directory_and_spec_idx_train_a_classifier_of_its_classes(tmp_path, capsys):
    fashion_like_directory(tmp_path / "fashion", np.random.default_rng(1))
    out = io.StringIO()
    code = main(["train", "--data", str(tmp_path / "fashion"), "--layers", "16", "--batch", "20", "--epochs", "20",
                 "--json", "--quiet"], out=out)
    result = json.loads(out.getvalue())
    assert code == 0 and result["data"] == "fashion" and result["network"] == "36-16-4"
    assert result["test_accuracy"] == 1.0     # the lit quadrant decides the class
    spec = fashion_spec(16, "learning_rate = 0.05\nmomentum = 0.9\nbatch = 20\nepochs = 20")
    (tmp_path / "fashion.toml").write_text(spec)
    out = io.StringIO()
    assert main(["train", str(tmp_path / "fashion.toml"), "--json", "--quiet"], out=out) == 0
    assert json.loads(out.getvalue())["test_accuracy"] == 1.0
    (tmp_path / "held.toml").write_text(spec.replace("epochs = 20", "epochs = 20\nvalidation_fraction = 0.25"))
    out = io.StringIO()
    assert main(["train", str(tmp_path / "held.toml"), "--json", "--quiet"], out=out) == 0
    result = json.loads(out.getvalue())
    assert result["validation_accuracy"] == 1.0 and result["test_accuracy"] == 1.0
    (tmp_path / "wrong.toml").write_text(spec.replace("inputs = 36", "inputs = 35"))
    with pytest.raises(cr.SpecError, match=r"data.idx: expected network.inputs = 36 \(pixels per image\) and 4 "):
        cr.load(tmp_path / "wrong.toml")
    (tmp_path / "none.toml").write_text(spec.replace('idx = "fashion"', 'idx = "nowhere"'))
    with pytest.raises(cr.SpecError, match="data.idx: expected a directory of IDX files, got .*nowhere") as error:
        cr.load(tmp_path / "none.toml")
    assert str(error.value).count("data.idx") == 1
    assert main(["train", "--data", str(tmp_path / "nowhere")], out=io.StringIO()) != 0
    assert "train --data: expected mnist or a directory of IDX files, got" in capsys.readouterr().err


def test_large_data_reports_the_last_epochs_accuracy_as_trained_not_a_pass_again(tmp_path):
    """With a progress bar (large data, --data), the training rows' accuracy is the bar's count over the last
    epoch's batches, as Keras reports it. Oracle: with one full batch an epoch, that is the accuracy, by a
    forward pass written here in NumPy, of the parameters after one epoch fewer. Early stopping that goes
    back to an earlier epoch's parameters gets a pass over the training rows instead."""
    from chainrule import runs
    fashion_like_directory(tmp_path / "fashion", np.random.default_rng(4))
    (tmp_path / "f.toml").write_text(fashion_spec(6, 'learning_rate = 0.3\nbatch = "full"\nepochs = 3'))
    spec = cr.load(tmp_path / "f.toml")
    trained = runs.train(spec, show=False, bar=True)
    assert set(trained.accuracy) == {"last_epoch_accuracy", "test_accuracy"}
    before = runs.train(spec, spec.training.replace(epochs=2), show=False).network
    (w1, b1), (w2, b2) = ((layer.weights, layer.bias) for layer in before.layers)
    x, t = spec.require_data()
    predicted = (np.maximum(x @ w1.T + b1, 0) @ w2.T + b2).argmax(axis=1)
    assert trained.accuracy["last_epoch_accuracy"] == pytest.approx(np.mean(predicted == t.argmax(axis=1)))
    assert "train (last epoch's batches, as trained)" in runs.spec_text(trained)
    held = cr.load(tmp_path / "f.toml")
    held = runs.train(held, held.training.replace(epochs=40, learning_rate=5.0, validation_fraction=0.25, patience=1),
                      show=False, bar=True)
    assert held.history.best_epoch < held.history.epochs_run, held.history
    assert "train_accuracy" in held.accuracy and "last_epoch_accuracy" not in held.accuracy


def test_train_data_mnist_command_on_a_subset(tmp_path):
    out = io.StringIO()
    code = main(["train", "--data", "mnist", "--limit", "3000", "--epochs", "2", "--json", "--save",
                 str(tmp_path / "m.npz")], out=out)
    result = json.loads(out.getvalue())
    assert code == 0 and result["network"] == "784-256-128-10" and result["test_accuracy"] > 0.85
    assert cr.load_model(tmp_path / "m.npz").layers[0].weights.dtype == np.float32


def test_spec_file_form_of_mnist_training(tmp_path):
    text = (Path(__file__).parent.parent / "specs" / "mnist.toml").read_text()
    text = text.replace('dataset = "mnist"', 'dataset = "mnist"\nlimit = 2000').replace("epochs = 5", "epochs = 1")
    (tmp_path / "mnist.toml").write_text(text)
    out = io.StringIO()
    assert main(["train", str(tmp_path / "mnist.toml"), "--json", "--quiet"], out=out) == 0
    result = json.loads(out.getvalue())
    assert result["test_accuracy"] > 0.6 and result["initial_loss"] is None and len(result["loss_history"]) == 1
    spec = cr.load(tmp_path / "mnist.toml")
    assert spec.build_network().dtype == np.float32 and len(spec.inputs) == 2000 and len(spec.test_inputs) == 10_000


def test_train_data_with_a_validation_split_stops_early_and_keeps_the_best_epoch(tmp_path, capsys):
    fashion_like_directory(tmp_path / "fashion", np.random.default_rng(2))
    out = io.StringIO()
    assert main(["train", "--data", str(tmp_path / "fashion"), "--layers", "8", "--batch", "10", "--epochs", "40",
                 "--learning-rate", "0.5", "--validation-fraction", "0.25", "--patience", "2", "--json", "--quiet"],
                out=out) == 0
    result = json.loads(out.getvalue())
    losses = result["validation_loss_history"]
    assert len(losses) == result["epochs_run"] and result["best_epoch"] == 1 + int(np.argmin(losses))
    if result["stopped_because"] == "validation":
        assert result["epochs_run"] == result["best_epoch"] + 2
    assert result["validation_accuracy"] == 1.0      # the lit quadrant decides the class
    assert main(["train", "--data", str(tmp_path / "fashion"), "--validation-fraction", "1.5"], out=io.StringIO()) != 0
    assert "train --validation-fraction: expected a number in [0, 1), got 1.5" in capsys.readouterr().err
