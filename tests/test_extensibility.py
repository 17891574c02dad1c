"""Proof by addition: elu, silu and rmsprop were added by writing one class each (activations.py,
optim.py) and work everywhere — spec files, every engine, explain in every format, check, gradcheck
and the web page — with PyTorch float64 and hand-derived numbers as the oracles.  And nothing outside
a definition branches on an activation's, loss's or optimiser's name."""

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import activations, losses, optim
from chainrule.cli import main
from chainrule.explain import FORMATS, render
from chainrule.core.expr import Eq
from conftest import torch_twin

SRC = Path(cr.__file__).parent

SPEC = """
name = "added"
[network]
inputs = 2
loss = "mse"
[[network.layers]]
units = 3
activation = "elu"
alpha = 0.7
init = { kind = "normal", std = 0.8 }
[[network.layers]]
units = 2
activation = "silu"
init = { kind = "normal", std = 0.8 }
[[network.layers]]
units = 1
activation = "identity"
init = { kind = "normal", std = 0.8 }
[training]
learning_rate = 0.05
batch = 2
reduction = "mean"
epochs = 3
seed = 5
{training}
[data]
inputs = [[0.5, -1.0], [-0.3, 0.8], [1.2, 0.1], [-0.9, -0.4]]
targets = [[0.2], [-0.5], [0.9], [0.1]]
"""
RMSPROP = 'optimizer = "rmsprop"\nalpha = 0.9\nmomentum = 0.5\nweight_decay = 0.01\neps = 1e-6'


def load(tmp_path, training: str = ""):
    path = tmp_path / "added.toml"
    path.write_text(SPEC.replace("{training}", training))
    return cr.load(path)


def run(*argv):
    out = io.StringIO()
    return main([str(a) for a in argv], out=out), out.getvalue()


def torch_run(torch, model, x, t, optimizer, epochs, batch):
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    for _ in range(epochs):
        for start in range(0, len(x), batch):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(xt[start:start + batch]), tt[start:start + batch]).backward()
            optimizer.step()
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("engine", ["reference", "arrays", "arrays-numpy", "floats"])
def test_elu_and_silu_train_as_pytorch_on_every_engine(tmp_path, torch, engine):
    spec = load(tmp_path)
    network = spec.build_network()
    x, t = spec.require_data()
    model = torch_twin(network)
    assert cr.fit(network, x, t, spec.training, engine=engine).engine == engine
    theirs = torch_run(torch, model, x, t, torch.optim.SGD(model.parameters(), lr=0.05), 3, 2)
    for a, b in zip(network.parameters(), theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("engine", ["reference", "arrays"])
def test_rmsprop_trains_as_torch_optim_rmsprop(tmp_path, torch, engine, momentum):
    spec = load(tmp_path, RMSPROP.replace("momentum = 0.5", f"momentum = {momentum}"))
    network = spec.build_network()
    x, t = spec.require_data()
    model = torch_twin(network)
    cr.fit(network, x, t, spec.training, engine=engine)
    rule = torch.optim.RMSprop(model.parameters(), lr=0.05, alpha=0.9, eps=1e-6, momentum=momentum, weight_decay=0.01)
    for a, b in zip(network.parameters(), torch_run(torch, model, x, t, rule, 3, 2)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_spec_keys_of_the_additions_are_validated_by_their_definitions(tmp_path):
    assert load(tmp_path, RMSPROP).training.alpha == 0.9
    (tmp_path / "bad.toml").write_text(SPEC.replace("{training}", "").replace("alpha = 0.7", "alpha = -1"))
    with pytest.raises(cr.SpecError, match=r"bad.toml:\d+: network.layers\[1\].alpha: expected a finite number > 0, got -1"):
        cr.load(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text(SPEC.replace("{training}", "").replace('"silu"', '"silu"\nalpha = 0.5'))
    with pytest.raises(cr.SpecError, match=r"network.layers\[2\].alpha: expected no alpha with silu"):
        cr.load(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text(SPEC.replace("{training}", 'optimizer = "adam"\nmomentum = 0.9'))
    with pytest.raises(cr.SpecError, match=r"training.momentum: expected no momentum with adam, which takes beta1"):
        cr.load(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text(SPEC.replace("{training}", 'optimizer = "rmsprop"\nalpha = 1.5'))
    with pytest.raises(cr.SpecError, match=r"training.alpha: expected a number in \[0, 1\], got 1.5"):
        cr.load(tmp_path / "bad.toml")


def test_explain_writes_the_additions_in_every_format_as_true_equations(tmp_path):
    spec = load(tmp_path, RMSPROP)
    traces = cr.trace_steps(spec.build_network(), *spec.require_data(), spec.training, 2)
    for fmt in FORMATS:
        assert render(traces, fmt, "added")
        assert render(traces, fmt, "added", matrix_form=True) if fmt != "json" else True
    text = re.sub(r" +=", " =", render(traces, "text", width=100_000))
    assert "∂out_h1_1/∂net_h1_1 = [net_h1_1 > 0] + 0.7·exp(net_h1_1)·[net_h1_1 ≤ 0] = " in text
    assert "∂out_h2_1/∂net_h2_1 = σ(net_h2_1)·(1 + net_h2_1·(1 − σ(net_h2_1))) = " in text
    assert "v_w1⁺ = α·v_w1 + (1 − α)·g_w1² = " in text and "u_w1⁺ = μ·u_w1 + g_w1/(√(v_w1⁺) + ε) = " in text
    from chainrule.explain import explain_step
    for trace in traces:
        document = explain_step(trace)
        checked = 0
        for section in document.sections:
            for item in _equations(section):
                if len(item.parts) >= 3 and not item.note.startswith("first step") and item.parts[-2].text() != "…":
                    try:
                        worked = item.parts[-2].value({})
                    except (KeyError, NotImplementedError):
                        continue        # a line with words or symbols left in it
                    assert worked == pytest.approx(item.parts[-1].number, rel=1e-9, abs=1e-12), item.text()
                    checked += 1
        assert checked > 60


def _equations(section):
    for item in section.items:
        if isinstance(item, Eq):
            yield item
        elif hasattr(item, "items"):
            yield from _equations(item)


def test_gradcheck_agrees_on_elu_and_silu(tmp_path):
    load(tmp_path)
    code, text = run("gradcheck", tmp_path / "added.toml", "--json")
    result = json.loads(text)
    assert code == 0 and result["ok"] and all(layer["max_relative_error"] < 1e-7 for layer in result["layers"])


# ---- check: hand-derived numbers for a 1-1-1 network, right and wrong ----------------------------------------

TINY = """
[spec]
name = "tiny"
[spec.network]
inputs = 1
loss = "half_sse"
[[spec.network.layers]]
units = 1
activation = "{hidden}"
weights = [[-0.8]]
bias = 0.1
[[spec.network.layers]]
units = 1
activation = "identity"
weights = [[1.5]]
bias = 0.2
[spec.training]
learning_rate = 0.5
batch = "full"
[spec.data]
inputs = [[0.5]]
targets = [[0.3]]
"""


def tiny_claims(tmp_path, hidden: str, claims: str) -> dict:
    path = tmp_path / "claims.toml"
    path.write_text(TINY.replace("{hidden}", hidden) + "\n[[claims]]\n" + claims)
    code, text = run("check", path, "--format", "json")
    assert code in (0, 1), text
    return {c["name"]: c for c in json.loads(text)["claims"]}


@pytest.mark.parametrize("hidden", ["elu", "silu"])
def test_check_knows_the_additions_derivatives(tmp_path, hidden):
    net = -0.8 * 0.5 + 0.1                                          # −0.3
    sigma = 1 / (1 + math.exp(-net))
    out, derivative = {"elu": (math.expm1(net), math.exp(net)),
                       "silu": (net * sigma, sigma * (1 + net * (1 - sigma)))}[hidden]
    out_o1 = 1.5 * out + 0.2
    delta_h1 = (out_o1 - 0.3) * 1.5 * derivative
    verdict = tiny_claims(tmp_path, hidden, f"""net_h1 = {net:.9f}
out_h1 = {out:.9f}
dout_h1_dnet_h1 = {derivative:.9f}
delta_h1 = {delta_h1:.9f}
"delta_h1 (no derivative)" = {(out_o1 - 0.3) * 1.5:.9f}
""")
    assert all(verdict[name]["ok"] for name in ("net_h1", "out_h1", "dout_h1_dnet_h1", "delta_h1"))
    wrong = verdict["delta_h1 (no derivative)"]
    assert not wrong["ok"] and wrong["mistake"] == "the activation's derivative factor left out"


def tiny_steps(rule: str):
    """The 1-1-1 identity network's first two steps by ``rule``, worked by hand: (w, g, w⁺, signed, no η) of step 2.
    net = w·x, E = ½(t − w·x)², ∂E/∂w = (w·x − t)·x with x = 0.5, t = 0.3, w = −0.8, η = 0.5."""
    x, t, w, eta = 0.5, 0.3, -0.8, 0.5
    state = {"v": 0.0, "m": 0.0, "u": 0.0, "first": True}
    for k in (1, 2):
        g = (w * x - t) * x
        if rule == "momentum" or rule == "nesterov":
            state["v"] = g if state["first"] else 0.9 * state["v"] + g
            d = g + 0.9 * state["v"] if rule == "nesterov" else state["v"]
        elif rule == "adam":
            state["m"] = 0.9 * state["m"] + 0.1 * g
            state["v"] = 0.999 * state["v"] + 0.001 * g * g
            d = state["m"] / (1 - 0.9 ** k) / (math.sqrt(state["v"]) / math.sqrt(1 - 0.999 ** k) + 1e-8)
        else:   # rmsprop, α = 0.9, momentum 0.5
            state["v"] = 0.9 * state["v"] + 0.1 * g * g
            state["u"] = 0.5 * state["u"] + g / (math.sqrt(state["v"]) + 1e-8)
            d = state["u"]
        state["first"] = False
        w, before = w - eta * d, w
    return before, g, w, before + eta * d, before - d


TRAINING = {"momentum": "momentum = 0.9", "nesterov": "momentum = 0.9\nnesterov = true",
            "adam": 'optimizer = "adam"', "rmsprop": 'optimizer = "rmsprop"\nalpha = 0.9\nmomentum = 0.5'}


@pytest.mark.parametrize("rule", TRAINING)
def test_check_diagnoses_updates_of_every_optimiser(tmp_path, rule):
    before, g, after, signed, unscaled = tiny_steps(rule)
    body = TINY.replace("{hidden}", "identity")
    body = body.replace('weights = [[-0.8]]\nbias = 0.1', 'weights = [[-0.8]]\nbias_mode = "none"')
    body = body.replace("[[spec.network.layers]]\nunits = 1\nactivation = \"identity\"\nweights = [[1.5]]\nbias = 0.2\n", "")
    body = body.replace('batch = "full"', 'batch = "full"\n' + TRAINING[rule])
    groups = {"right": f"w1 = {before:.12g}\ndE_dw1 = {g:.12g}\nw1_after = {after:.12g}\n",
              "signed": f"w1_after = {signed:.12g}\n", "unscaled": f"w1_after = {unscaled:.12g}\n"}
    found = {}
    for name, claims in groups.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(body + "\n[[claims]]\nstep = 2\n" + claims)
        code, text = run("check", path, "--format", "json")
        found[name] = (code, json.loads(text)["claims"])
    code, right = found["right"]
    assert code == 0 and all(c["ok"] for c in right), right
    code, (signed,) = found["signed"]
    assert code == 1 and signed["mistake"] == "the update's sign flipped", signed
    code, (unscaled,) = found["unscaled"]
    assert code == 1 and unscaled["mistake"] == "the learning rate not applied", unscaled


# ---- the web page's build form ----------------------------------------------------------------------------

def test_the_web_page_offers_and_runs_the_additions(tmp_path):
    from starlette.testclient import TestClient
    from chainrule.web.server import create_app
    client = TestClient(create_app())
    choices = client.get("/api/choices").json()
    assert {"elu", "silu"} <= set(choices["activations"]) and "softmax" not in choices["activations"]
    assert "rmsprop" in choices["optimizers"]
    created = client.post("/api/sessions", json={"spec_toml": SPEC.replace("{training}", RMSPROP)})
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    step = client.post(f"/api/sessions/{sid}/step").json()["trace"]
    assert step["optimizer"]["name"] == "rmsprop"
    html = client.get(f"/api/sessions/{sid}/steps/1/explain", params={"param": "w1"}).json()["html"]
    assert "<msqrt>" in html
    trained = client.post(f"/api/sessions/{sid}/train", json={"epochs": 2})
    assert trained.status_code == 200 and len(trained.json()["loss_history"]) == 2


# ---- no name branching outside the definitions ----------------------------------------------------------------

def test_nothing_branches_on_a_name_outside_its_definition():
    """A comparison with, or a table keyed by, an activation's, loss's or optimiser's name belongs in its own
    class; anywhere else it is a second definition that the next addition would have to find."""
    names = "|".join(re.escape(n) for n in (*activations.NAMES, *losses.NAMES, *optim.NAMES))
    branching = re.compile(rf"""(==|!=|\bin)\s*\(?\s*["']({names})["']|["']({names})["']\s*(==|!=|:\s*(lambda|\())""")
    javascript = re.compile(rf"""===?\s*["']({names})["']""")
    definitions = {SRC / "activations.py", SRC / "losses.py", SRC / "optim.py"}
    found = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".py", ".js") or path in definitions:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if branching.search(line) or javascript.search(line):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_no_engine_is_switched_through_a_module_global():
    from chainrule.training import engines
    sources = {path.name: path.read_text() for path in SRC.glob("*.py")}
    assert not any(re.search(r"^\s*global ", text, re.M) for text in sources.values())
    assert not re.search(r"\b(arrays|floats|engines)\.[A-Z_]+\s*=", "".join(sources.values()))
    assert engines.ENGINES == ("auto", "reference", "arrays", "arrays-numpy", "floats")
