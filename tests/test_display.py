"""What a notebook shows (``_repr_html_``, ``_repr_markdown_``) checked by structure, and terminal reprs
kept to one short line.  Seed 000's hand-worked numbers (w5⁺ = 0.35891648) are the oracle for content."""

import copy
from html import unescape
import pickle
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
from chainrule.check import check

SVG = "{http://www.w3.org/2000/svg}"


def svgs(html: str, kind: str) -> list[ET.Element]:
    return [ET.fromstring(match) for match in re.findall(rf'<svg class="{kind}".*?</svg>', html, re.S)]


def test_network_html_draws_every_neuron_and_weight_and_lists_every_parameter():
    net = cr.mlp([3, 4, 2], activation="tanh", seed=0)
    html = net._repr_html_()
    (svg,) = svgs(html, "network")
    assert len(svg.findall(f".//{SVG}circle")) == 3 + 4 + 2
    assert len(svg.findall(f".//{SVG}line")) == 3 * 4 + 4 * 2
    rows = re.findall(r"<tr><td", html)
    assert len(rows) == len(net.labels) == 3 * 4 + 4 + 4 * 2 + 2
    w1 = net.layers[0].weights[0, 0]
    assert f"{w1:.9g}" in html
    assert '<div class="chainrule"><style>' in html and "body {" not in html     # scoped, never restyles the page


def test_a_large_network_gets_a_summary_per_layer_not_every_parameter():
    net = cr.mlp([784, 64, 10], activation="relu", loss="cross_entropy", seed=0)
    html = net._repr_html_()
    assert "too wide to draw" in html and "50,890 parameters" in html
    assert len(re.findall(r"<tr><td", html)) == 4        # weights and bias of two layers
    assert len(repr(net)) < 100


def test_explanation_html_has_the_diagram_and_the_derivation_in_mathml():
    explanation = cr.example("mazur").explain()
    html = explanation._repr_html_()
    (svg,) = svgs(html, "network")
    assert len(svg.findall(f".//{SVG}circle")) == 6
    assert "<math" in html and "0.35891648" in html
    markdown = explanation._repr_markdown_()
    assert "$$" in markdown and "0.35891648" in markdown
    assert explanation[0]._repr_markdown_() == markdown
    assert repr(explanation).startswith("<Explanation: step 1, loss 0.298371109 →")


def test_a_step_too_large_to_derive_shows_a_note_not_an_error():
    net = cr.mlp([30, 60, 10], loss="cross_entropy", seed=0)
    explanation = net.explain(np.ones(30), [1])
    assert 'param="w1"' in unescape(explanation._repr_html_())
    assert 'param="w1"' in explanation._repr_markdown_()


def test_history_repr_is_one_short_line_and_its_html_draws_the_curve():
    ex = cr.example("xor")
    history = ex.fit(epochs=2000, stop_below=None)
    text = repr(history)
    assert "\n" not in text and len(text) < 120 and "2000 epochs" in text
    html = history._repr_html_()
    (curve,) = svgs(html, "curve")
    (line,) = curve.findall(f".//{SVG}polyline")
    assert len(line.get("points").split()) == 2001            # epoch 0 and every epoch after
    assert f"{history.loss_history[-1]:.9g}" in html


def test_history_with_validation_draws_two_curves():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2))
    net = cr.mlp([2, 4, 2], activation="tanh", loss="cross_entropy", seed=0)
    history = net.fit(x, (x[:, 0] > 0).astype(int), epochs=10, validation_fraction=0.2, patience=20)
    (curve,) = svgs(history._repr_html_(), "curve")
    lines = curve.findall(f".//{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [11, 10]


def test_claims_report_html_is_its_table():
    report = check("seed:000")
    title, verdicts = report                                    # still unpacks
    html = report._repr_html_()
    assert len(re.findall(r"<tr><td", html)) == len(verdicts)
    assert html.count(">WRONG<") == len(report.wrong)
    assert str(report).startswith(title)
    assert repr(report).count("\n") == 0


def test_terminal_reprs_are_short_and_copies_work():
    ex = cr.example("mazur")
    assert repr(ex.network) == "<Network 2-2-2: sigmoid → sigmoid, loss half_sse, 10 parameters>"
    assert repr(ex.network.layers[0]) == "Dense(2 → 2, sigmoid, bias shared)"
    trace = ex.explain()[0]
    assert len(repr(trace)) < 100
    for thing in (ex.network, trace, ex.explain(), ex.fit(epochs=3)):
        assert repr(pickle.loads(pickle.dumps(thing))) == repr(thing) == repr(copy.deepcopy(thing))


def test_display_leaves_the_network_unchanged():
    ex = cr.example("mazur")
    before = [p.copy() for p in ex.network.parameters()]
    ex.network._repr_html_()
    ex.explain()._repr_html_()
    for p, q in zip(before, ex.network.parameters()):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("thing", ["network", "explanation", "history"])
def test_html_fragments_parse(thing):
    from html.parser import HTMLParser
    ex = cr.example("mazur")
    html = {"network": ex.network._repr_html_, "explanation": ex.explain()._repr_html_,
            "history": ex.fit(epochs=5)._repr_html_}[thing]()
    HTMLParser().feed(html)
    assert html.startswith('<div class="chainrule">') and html.endswith("</div>")
