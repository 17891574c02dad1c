"""Every option applies or is refused (issue 12, item 1): the command line changes a spec's training
settings, parameters, data, trainable set and dtype, says so in the header, and refuses a flag that
cannot apply. The expected numbers are worked by hand from seed 000 (Mazur's step): ∂E/∂w5 =
0.0821670406, δ_o1 = 0.138498562, δ_o2 = −0.0380982365."""

import io
import json
import re

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.formats.spec import load


def run(*argv):
    out = io.StringIO()
    return main([str(a) for a in argv], out=out), out.getvalue()


def parameters(text: str) -> dict:
    return {layer: value for layer, value in re.findall(r"^  ([wb]\d+) = (\S+)$", text, re.M)}


def test_learning_rate_applies_to_an_example_and_the_header_says_so():
    code, text = run("train", "mazur", "--learning-rate", "0.1", "--epochs", "1")
    assert code == 0 and "learning rate 0.1" in text.splitlines()[0]
    assert text.splitlines()[1] == "changed from the command line: learning_rate = 0.1"
    w5 = float(parameters(text)["w5"])
    assert w5 == pytest.approx(0.4 - 0.1 * 0.0821670406, abs=1e-9)


def test_train_only_leaves_every_other_parameter_as_the_spec_wrote_it():
    code, text = run("train", "mazur", "--train-only", "b2", "--epochs", "1", "--json")
    doc = json.loads(text)
    layers = doc["parameters"]
    assert code == 0 and doc["changed"] == ["trained: b2 only"]
    assert layers[0]["weights"] == [[0.15, 0.2], [0.25, 0.3]] and layers[0]["bias"] == 0.35
    assert layers[1]["weights"] == [[0.4, 0.45], [0.5, 0.55]]
    assert layers[1]["bias"] == pytest.approx(0.6 - 0.5 * (0.138498562 - 0.0380982365), abs=1e-9)


def test_freeze_keeps_the_named_parameters():
    code, text = run("train", "mazur", "--freeze", "w5,b2", "--epochs", "3")
    values = parameters(text)
    assert code == 0 and values["w5"] == "0.4" and values["b2"] == "0.6" and values["w6"] != "0.45"


def test_set_and_inputs_change_the_forward_pass_explained():
    code, text = run("explain", "mazur", "--set", "w1=0.2,b1=0.3")
    text = re.sub(r" +=", " =", text)
    assert code == 0 and "net_h1 = w1·i1 + w2·i2 + b1 = 0.2·0.05 + 0.2·0.1 + 0.3 = 0.33" in text
    assert text.startswith("changed from the command line: w1 = 0.2; b1 = 0.3\n")

    code, text = run("explain", "mazur", "--inputs", "1,2", "--targets", "0,1")
    text = re.sub(r" +=", " =", text)
    assert code == 0 and "net_h1 = w1·i1 + w2·i2 + b1 = 0.15·1 + 0.2·2 + 0.35 = 0.9" in text
    assert "E_o1 = 1/2·(t_o1 − out_o1)² = 1/2·(0 − " in text


def test_optimizer_settings_reach_the_explained_update():
    code, text = run("explain", "mazur", "--optimizer", "sgd", "--momentum", "0.9", "--steps", "2", "--format", "json")
    doc = json.loads(text)
    assert code == 0 and doc["steps"][1]["optimizer"]["name"] == "sgd"
    assert "momentum" in json.dumps(doc["steps"][1]["optimizer"])


def test_dtype_and_batch_override_the_spec():
    spec = load("mazur").overridden({"batch": "online"}, dtype="float32")
    assert spec.build_network().dtype == np.float32 and spec.training.batch == "online"
    assert spec.changed == ("batch = 'online'", "dtype = float32")


@pytest.mark.parametrize("argv, message", [
    (["train", "mazur", "--layers", "3"], "train --layers: applies to --data only"),
    (["train", "mazur", "--activation", "tanh"], "train --activation: applies to --data only"),
    (["train", "--data", "mnist", "--set", "w1=2"], "train --set: applies to a spec file or example, not to --data"),
    (["train", "--data", "mnist", "--train-only", "b1"], "train --train-only: applies to a spec file or example"),
    (["train", "mazur", "--set", "w99=1"], "train --set: expected labels of this network's parameters (w1, w2"),
    (["train", "mazur", "--set", "w1"], "train --set: expected LABEL=NUMBER such as w1=0.2, got 'w1'"),
    (["train", "mazur", "--freeze", "q1"], "train --freeze: expected labels of this network's parameters"),
    (["train", "mazur", "--freeze", "b1", "--train-only", "b2"], "train: expected --freeze or --train-only, got both"),
    (["train", "mazur", "--learning-rate", "-2"], "train --learning-rate: expected a finite number ≥ 0, got -2"),
    (["train", "mazur", "--batch", "3x"], "train --batch: expected 'online', 'full' or an integer ≥ 1, got '3x'"),
    (["train", "mazur", "--inputs", "1,2,3"], "train --inputs row 1: expected 2 finite numbers, got '1,2,3'"),
    (["train", "mazur", "--inputs", "1,2;3,4"], "train --targets: expected as many rows as the inputs (2), got 1 row"),
    (["explain", "mazur", "--momentum", "0.9", "--optimizer", "adam"], "explain --momentum"),
])
def test_an_option_that_cannot_apply_is_refused_naming_it(capsys, argv, message):
    code, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_a_saved_run_takes_training_settings_but_not_a_new_network(tmp_path, capsys):
    assert run("train", "mazur", "--epochs", "2", "--save", tmp_path / "m.json")[0] == 0
    code, _ = run("train", tmp_path / "m.json", "--set", "w1=0.3", "--epochs", "1")
    assert code == 2 and "train --set: applies to a spec or example, not to a saved run" in capsys.readouterr().err
    code, text = run("train", tmp_path / "m.json", "--learning-rate", "0.25", "--epochs", "1")
    assert code == 0 and "learning rate 0.25" in text and "changed from the command line: learning_rate = 0.25" in text


# ---- specs to copy, and descriptions shown (issue 12, item 2) ------------------------------------------------

def test_spec_name_prints_the_example_file_which_trains_as_the_example_does(tmp_path):
    code, text = run("spec", "xor")
    assert code == 0 and text.startswith('name = "xor"') and 'description = """' in text
    (tmp_path / "mine.toml").write_text(text)
    assert run("train", tmp_path / "mine.toml", "--json")[1] == run("train", "xor", "--json")[1]


def test_spec_of_an_unknown_name_lists_the_examples(capsys):
    code, _ = run("spec", "mazr")
    assert code == 2 and "spec: expected a built-in example (mazur, mazur-code" in capsys.readouterr().err


def test_examples_long_shows_every_whole_description():
    from chainrule.formats import examples
    code, text = run("examples", "--long")
    assert code == 0
    for name in examples.names():
        assert f"{name}\n{examples.description(name)}" in text


def test_mazur_says_where_it_departs_from_seed_000_and_from_mazurs_post():
    from chainrule.formats import examples
    text = examples.description("mazur")
    # seed 000's b2⁺ is w7⁺ copied; b1⁺ = 0.35 − 0.5·(δ_h1 + δ_h2), with seed 000's δ_h1 and δ_h2 worked by hand
    assert "b2⁺ = 0.511301270, which is w7⁺ copied" in text and "b1⁺ = 0.3450265" in text
    assert f"{0.35 - 0.5 * (0.00877135469 + 0.00995425471):.9f}" in text
    assert "leaves the biases at 0.35 and 0.60" in text and "--freeze b1,b2" in text


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "json"])
def test_every_explanation_format_opens_with_the_examples_description(fmt):
    code, text = run("explain", "mazur", "--format", fmt)
    assert code == 0
    if fmt == "json":
        assert json.loads(text)["description"].startswith("Seed 000's 2-2-2 sigmoid network")
        return
    opening = text.index("Seed 000")
    assert opening < text.index("Network 2-2-2") and ("w7⁺ copied" in text or "w7$^+$ copied" in text)


def test_gradcheck_takes_what_the_gradients_depend_on_and_refuses_training_settings(capsys):
    code, text = run("gradcheck", "mazur", "--set", "w1=3,b2=-1", "--inputs", "1,2;0,1", "--targets", "0,1;1,0")
    assert code == 0 and text.startswith("changed from the command line: w1 = 3.0; b2 = -1.0; inputs = [[1.0, 2.0], "
                                         "[0.0, 1.0]]; targets = [[0.0, 1.0], [1.0, 0.0]]")
    assert "all layers agree" in text
    code, _ = run("gradcheck", "mazur", "--learning-rate", "0.1")      # a step's size changes no gradient
    assert code == 2 and "unrecognized arguments: --learning-rate" in capsys.readouterr().err


# ---- check and serve take the same changes ---------------------------------------------------------------

def test_check_against_a_spec_changed_from_the_command_line(tmp_path):
    """Homework: η = 0.1 instead of 0.5. By hand: w5⁺ = 0.4 − 0.1·0.0821670406 = 0.391783296; with
    b1 = 0.3 (--set), net_h1 = 0.15·0.05 + 0.2·0.1 + 0.3 = 0.3275."""
    claims = tmp_path / "hw.toml"
    claims.write_text('spec = "mazur"\n[[claims]]\nstep = 1\nw5_after = 0.391783296\n')
    assert run("check", claims)[0] == 1              # against mazur as it is (η = 0.5), wrong
    code, text = run("check", claims, "--learning-rate", "0.1")
    assert code == 0, text
    assert text.startswith("checked against the spec as changed from the command line: learning_rate = 0.1\n")
    claims.write_text('spec = "mazur"\n[[claims]]\nstep = 1\nnet_h1 = 0.3275\n')
    code, text = run("check", claims, "--set", "b1=0.3", "--format", "json")
    assert code == 0 and json.loads(text)["changed"] == ["b1 = 0.3"]
    code, names = run("check", "--names", "mazur", "--set", "b1=0.3")
    assert code == 0 and "net_h1" in names


def test_check_refuses_an_override_that_cannot_apply(capsys):
    code, _ = run("check", "seed:000", "--layers", "3")
    assert code == 2 and "unrecognized arguments: --layers" in capsys.readouterr().err
    code, _ = run("check", "seed:000", "--set", "w9=1")
    assert code == 2 and "check --set: expected labels of this network's parameters" in capsys.readouterr().err


def test_serve_opens_the_page_with_the_changed_spec(monkeypatch, capsys):
    from starlette.testclient import TestClient
    import chainrule.web.server as server
    opened = {}
    monkeypatch.setattr(server, "serve", lambda host, port, browser, setup, limits=None: opened.update(setup=setup))
    assert main(["serve", "mazur", "--learning-rate", "0.1", "--set", "w1=0.2"], out=io.StringIO()) == 0
    client = TestClient(server.create_app(setup=opened["setup"]))
    setup = client.get("/api/initial").json()["setup"]
    state = client.post("/api/sessions", json=setup).json()["state"]
    assert state["parameters"]["w1"] == 0.2 and "learning_rate = 0.1" in setup["spec_toml"]
    assert TestClient(server.create_app()).get("/api/initial").json() == {"setup": {"example": "mazur"}}
    assert main(["serve", "--learning-rate", "0.1"], out=io.StringIO()) == 2
    assert "serve --learning-rate: applies to a spec or example the page opens with" in capsys.readouterr().err
    assert main(["serve", "softplus"], out=io.StringIO()) == 2
    assert "serve: expected a spec of one run, got softplus, a run in 2 phases" in capsys.readouterr().err


# ---- each override changes the numbers as asked: PyTorch, run from mazur's weights, is the oracle ------------

TWO_SAMPLES = ["--inputs", "0.05,0.1;0.3,0.7", "--targets", "0.01,0.99;0.5,0.5"]


def torch_mazur(torch, *, lr=0.5, epochs=1, optimizer="sgd", momentum=0.0, nesterov=False, weight_decay=0.0,
                batch=None, reduction="sum", x=((0.05, 0.1),), t=((0.01, 0.99),), trained=None, order=None,
                w1=0.15, b2=0.6):
    """Seed 000's 2-2-2 network written in torch: shared scalar biases, ½-squared error summed over the
    outputs, the sample losses summed (or averaged) per batch; ``trained``: the labels that learn."""
    f64 = torch.float64
    p = {"W1": torch.tensor([[w1, 0.2], [0.25, 0.3]], dtype=f64), "b1": torch.tensor(0.35, dtype=f64),
         "W2": torch.tensor([[0.4, 0.45], [0.5, 0.55]], dtype=f64), "b2": torch.tensor(b2, dtype=f64)}
    for v in p.values():
        v.requires_grad_(True)
    labels = {"W1": [["w1", "w2"], ["w3", "w4"]], "W2": [["w5", "w6"], ["w7", "w8"]], "b1": "b1", "b2": "b2"}
    masks = {k: torch.tensor([[float(trained is None or l in trained) for l in row] for row in labels[k]], dtype=f64)
             if k.startswith("W") else torch.tensor(float(trained is None or labels[k] in trained), dtype=f64) for k in p}
    if optimizer == "adam":
        opt = torch.optim.Adam(list(p.values()), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(list(p.values()), lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    xs, ts = torch.tensor(x, dtype=f64), torch.tensor(t, dtype=f64)
    size = batch or len(xs)
    for _ in range(epochs):
        rows = list(order or range(len(xs)))
        for start in range(0, len(rows), size):
            idx = rows[start:start + size]
            h = torch.sigmoid(xs[idx] @ p["W1"].T + p["b1"])
            o = torch.sigmoid(h @ p["W2"].T + p["b2"])
            per_sample = 0.5 * ((ts[idx] - o) ** 2).sum(dim=1)
            opt.zero_grad()
            (per_sample.mean() if reduction == "mean" else per_sample.sum()).backward()
            for k, v in p.items():
                v.grad *= masks[k]
            opt.step()
    return [{"weights": p["W1"].detach().tolist(), "bias": p["b1"].item()},
            {"weights": p["W2"].detach().tolist(), "bias": p["b2"].item()}]


def trained(*flags) -> list:
    code, text = run("train", "mazur", *flags, "--json")
    assert code == 0, text
    return json.loads(text)["parameters"]


def flat(layers) -> np.ndarray:
    return np.array([v for layer in layers for v in [*np.ravel(layer["weights"]), layer["bias"]]])


@pytest.mark.parametrize("flags, settings", [
    (["--learning-rate", "0.1", "--epochs", "3"], {"lr": 0.1, "epochs": 3}),
    (["--epochs", "4"], {"epochs": 4}),
    (["--momentum", "0.9", "--epochs", "3"], {"momentum": 0.9, "epochs": 3}),
    (["--momentum", "0.9", "--nesterov", "--epochs", "3"], {"momentum": 0.9, "nesterov": True, "epochs": 3}),
    (["--weight-decay", "0.01", "--epochs", "3"], {"weight_decay": 0.01, "epochs": 3}),
    (["--optimizer", "adam", "--learning-rate", "0.01", "--epochs", "3"], {"optimizer": "adam", "lr": 0.01, "epochs": 3}),
    ([*TWO_SAMPLES, "--batch", "full", "--reduction", "mean", "--epochs", "2"],
     {"x": ((0.05, 0.1), (0.3, 0.7)), "t": ((0.01, 0.99), (0.5, 0.5)), "reduction": "mean", "epochs": 2}),
    ([*TWO_SAMPLES, "--batch", "1", "--epochs", "2"],
     {"x": ((0.05, 0.1), (0.3, 0.7)), "t": ((0.01, 0.99), (0.5, 0.5)), "batch": 1, "epochs": 2}),
    (["--set", "w1=0.2,b2=0.1", "--epochs", "2"], {"w1": 0.2, "b2": 0.1, "epochs": 2}),
    (["--freeze", "b1,b2", "--epochs", "3"], {"trained": {"w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"}, "epochs": 3}),
    (["--train-only", "w5,b1", "--epochs", "3"], {"trained": {"w5", "b1"}, "epochs": 3}),
])
def test_each_override_trains_as_pytorch_does_with_that_setting(torch, flags, settings):
    assert np.allclose(flat(trained(*flags)), flat(torch_mazur(torch, **settings)), rtol=0, atol=1e-12)


def test_dtype_float32_trains_the_same_step_in_single_precision(torch):
    single, double = flat(trained("--dtype", "float32", "--epochs", "3")), flat(torch_mazur(torch, epochs=3))
    assert np.allclose(single, double, atol=1e-6) and not np.array_equal(single, double)


def test_shuffle_and_seed_train_the_samples_in_a_drawn_order(torch):
    """Online on two samples for one epoch: the result is one of the two orders, and the seed picks it."""
    two = {"x": ((0.05, 0.1), (0.3, 0.7)), "t": ((0.01, 0.99), (0.5, 0.5)), "batch": 1}
    orders = [flat(torch_mazur(torch, order=order, **two)) for order in ((0, 1), (1, 0))]
    seen = set()
    for seed in range(6):
        result = flat(trained(*TWO_SAMPLES, "--batch", "1", "--shuffle", "--seed", str(seed), "--epochs", "1"))
        matches = [k for k, expected in enumerate(orders) if np.allclose(result, expected, atol=1e-12)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {0, 1}          # six seeds draw both orders


def test_validation_fraction_and_patience_stop_early_on_the_held_out_loss():
    """A held-out 30 % of 12 samples; training stops `patience` epochs after the best validation loss,
    which the history shows no later epoch beat."""
    rng = np.random.default_rng(0)
    rows = ";".join(f"{a},{b}" for a, b in rng.uniform(size=(12, 2)))
    targets = ";".join(f"{a},{b}" for a, b in rng.uniform(size=(12, 2)))
    code, text = run("train", "mazur", "--inputs", rows, "--targets", targets, "--validation-fraction", "0.3",
                     "--patience", "2", "--learning-rate", "20", "--epochs", "300", "--json")
    doc = json.loads(text)
    assert code == 0 and {"validation_fraction = 0.3", "patience = 2"} <= set(doc["changed"])
    history, best = doc["validation_loss_history"], doc["best_epoch"]
    assert doc["stopped_because"] == "validation" and doc["epochs_run"] == best + 2 < 300
    assert all(later >= history[best - 1] for later in history[best:])
