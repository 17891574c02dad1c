"""Neurons named as a worked example names them (seed 004: x → blue, orange → green): in every
derivation, on the diagram, in claim names and worksheets, kept by model files, and checked once."""

import io
import json
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main


def run(*argv):
    out = io.StringIO()
    return main([str(a) for a in argv], out=out), out.getvalue()


def softplus_step():
    spec = cr.load("softplus")
    return cr.trace_steps(spec.build_network(), *spec.require_data(), spec.training, 1)


def test_softplus_derives_with_the_seeds_names_and_its_numbers():
    """Seed 004: y_blue = softplus(w1·x + b1) with w1 = 0.496714153 (np.random.seed(42)'s first draw), x = 0.1."""
    text = re.sub(r" +=", " =", cr.explain.render(softplus_step(), "text", width=100_000))
    w1 = 0.4967141530112327
    blue = float(np.log1p(np.exp(w1 * 0.1)))                 # softplus by hand, b1 = 0
    assert f"out_blue = softplus(net_blue) = softplus({w1 * 0.1:.9g}) = {blue:.9g}" in text
    assert "net_green = w3·out_blue + w4·out_orange + b3" in text and "E_green = (t_green − out_green)²" in text
    assert "i1" not in text and "out_h1" not in text and "out_o1" not in text
    latex = cr.explain.render(softplus_step(), "latex")
    assert r"\mathrm{out}_{\mathrm{blue}}" in latex and r"\mathrm{net}_{\mathrm{green}}" in latex


def test_the_diagram_and_worksheet_use_the_names(tmp_path):
    html = cr.explain.render(softplus_step(), "html")
    assert 'id="neuron-blue"' in html and 'id="neuron-x"' in html and ">green</text>" in html
    code, names = run("check", "--names", "softplus")
    assert code == 0 and "out_blue" in names and "dE_dout_orange" in names and "out_h1" not in names
    code, sheet = run("worksheet", "softplus", "--format", "toml")
    assert code == 0 and re.search(r'^out_green +=  *"\?"   # net_green$', sheet, re.M)
    assert re.search(r'^net_blue +=  *"\?"   # w1·x \+ b1$', sheet, re.M)


def test_claims_by_the_names_are_checked_and_the_default_names_refused(tmp_path, capsys):
    w1, w3, w4 = 0.4967141530112327, 0.6476885381006925, 1.5230298564080254
    w2 = -0.13826430117118466
    blue, orange = np.log1p(np.exp(w1 * 0.1)), np.log1p(np.exp(w2 * 0.1))
    green = w3 * blue + w4 * orange                           # by hand: identity output, b3 = 0
    claims = tmp_path / "c.toml"
    claims.write_text(f'spec = "softplus"\n[[claims]]\nstep = 1\nsample = 1\nout_blue = {blue:.9f}\n'
                      f'out_green = {green:.9f}\ndE_dout_green = {-2 * (1.2 - green):.9f}\n')
    code, text = run("check", claims, "--format", "json")
    assert code == 0 and all(c["ok"] for c in json.loads(text)["claims"])
    claims.write_text('spec = "softplus"\n[[claims]]\nstep = 1\nsample = 1\nout_h1 = 0.71\n')
    assert run("check", claims)[0] == 2
    assert "c.toml:5: out_h1: expected a name of this network" in capsys.readouterr().err


def test_model_files_keep_the_names(tmp_path):
    network = cr.load("softplus").build_network()
    for suffix in (".json", ".npz"):
        path = tmp_path / f"sp{suffix}"
        network.save(path)
        loaded = cr.load_model(path)
        assert loaded.input_names == ["x"] and [layer.names for layer in loaded.layers] == [["blue", "orange"], ["green"]]


SPEC = """
[network]
inputs = 1
{top}
[[network.layers]]
units = 2
activation = "tanh"
{hidden}
[[network.layers]]
units = 1
activation = "identity"
{output}
[data]
inputs = [0.1, 0.2]
targets = [0.3, 0.4]
"""


@pytest.mark.parametrize("top, hidden, output, message", [
    ("", 'names = ["blue"]', "", "network.layers[1].names: expected a list of 2 names (one per neuron), got 1 names"),
    ("", 'names = ["blue", "blue"]', "", "network.layers[1].names: expected distinct names, got 'blue'"),
    ("", 'names = ["blue", "w3"]', "", "network.layers[1].names[2]: expected a name of up to 16 letters and digits"),
    ("", 'names = ["blue", "a_b"]', "", "network.layers[1].names[2]: expected a name of up to 16 letters"),
    ("", 'names = ["blue", 7]', "", "network.layers[1].names[2]: expected a name of up to 16 letters"),
    ("", 'names = ["blue", "total"]', "", "network.layers[1].names[2]: expected a name"),
    ("", 'names = "blue"', "", "network.layers[1].names: expected a list of 2 names"),
    ('input_names = ["x", "y"]', "", "", "network.input_names: expected a list of 1 names (one per neuron), got 2 names"),
    ('input_names = ["blue"]', 'names = ["blue", "orange"]', "",
     "network.layers[1].names: expected names distinct across the network ('blue' already names a neuron of input_names)"),
    ("", 'names = ["o1", "h2"]', "",
     "network.layers[2].names: expected names distinct across the network ('o1' already names a neuron of layers[1].names)"),
    ("", "", 'names = ["E"]', "network.layers[2].names[1]: expected a name"),
])
def test_bad_names_are_refused_with_their_key(tmp_path, top, hidden, output, message):
    path = tmp_path / "s.toml"
    path.write_text(SPEC.format(top=top, hidden=hidden, output=output))
    with pytest.raises(cr.SpecError) as error:
        cr.load(path).build_network()
    assert message in str(error.value)
    code, _ = run("explain", path)
    assert code == 2
