"""The explanations: formulas shown equal the engine's functions, chain factors equal seed 000's
numbers and finite differences, every renderer is frozen in a golden file whose numbers are the
seed's, the LaTeX compiles and the HTML renders its math in Chromium with no network."""

import math
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chainrule as cr
from chainrule.core import activations, losses
from chainrule.explain import FORMATS, chains_as_data, render
from chainrule.core.expr import sym
from chainrule.training.gradcheck import numeric_gradients
from conftest import printed

GOLDEN = Path(__file__).parent / "golden"
EXTENSIONS = {"text": "txt", "markdown": "md", "latex": "tex", "html": "html", "json": "json"}

DEEP_SPEC = """
name = "deep"
[network]
inputs = 2
loss = "cross_entropy"
[[network.layers]]
units = 3
activation = "relu"
weights = [[0.1, -0.2], [0.4, 0.3], [-0.5, 0.6]]
bias = [0.1, 0.0, -0.1]
[[network.layers]]
units = 2
activation = "tanh"
weights = [[0.3, -0.1, 0.2], [0.5, 0.4, -0.3]]
bias_mode = "shared"
bias = 0.05
[[network.layers]]
units = 3
activation = "softmax"
weights = [[0.2, -0.4], [0.1, 0.3], [-0.3, 0.5]]
bias = [0.0, 0.1, -0.1]
[training]
learning_rate = 0.5
batch = "full"
reduction = "mean"
[data]
inputs = [[1.0, 2.0], [0.5, -1.0]]
targets = [[1, 0, 0], [0, 0, 1]]
"""


def deep_traces(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(DEEP_SPEC)
    spec = cr.load(path)
    x, t = spec.require_data()
    return cr.trace_steps(spec.build_network(), x, t, spec.training, 1)


# ---- the formulas a reader sees are the functions the engine runs -------------------------------------

@pytest.mark.parametrize("name", activations.NAMES)
def test_each_shown_activation_derivative_is_the_engines(name):
    params = {"slope": 0.2} if name == "leaky_relu" else ({"alpha": 0.7} if name == "elu" else {})
    activation = activations.get_activation(name, **params)
    formula = activation.derivative_formula(sym("net_h1"), sym("out_h1"))
    value = activation.formula(sym("net_h1"))
    if not activation.elementwise:
        assert formula is None          # shown through its Jacobian, not as f'
        return
    for net in (-2.5, -0.3, 0.4, 3.0):
        out = float(activation.value(np.array([net]))[0])
        expected = float(activation.derivative(np.array(net), np.array(out)))
        assert value.value({"net_h1": net}) == pytest.approx(out, rel=1e-12)
        assert formula.value({"net_h1": net, "out_h1": out}) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", losses.NAMES)
def test_each_shown_loss_term_and_gradient_is_the_engines(name):
    loss = losses.get_loss(name)
    net = np.array([[0.3, -1.2]])
    out = activations.softmax(net) if name == "cross_entropy" else activations.sigmoid(net)
    t = np.array([[1.0, 0.0]]) if name == "cross_entropy" else np.array([[0.2, 0.9]])
    terms, gradient = loss.terms(net, out, t)[0], loss.gradient(out, t)[0]
    for j, o in enumerate(("o1", "o2")):
        env = {f"out_{o}": out[0, j], f"t_{o}": t[0, j], f"net_{o}": net[0, j]}
        assert loss.term_formula(sym(f"out_{o}"), sym(f"t_{o}"), 2).value(env) == pytest.approx(terms[j], rel=1e-12)
        assert loss.gradient_formula(sym(f"out_{o}"), sym(f"t_{o}"), 2).value(env) == pytest.approx(gradient[j], rel=1e-12)
        if loss.fused:
            fused = loss.fused_delta(net, out, t)[0]
            assert loss.fused_delta_formula(sym(f"out_{o}"), sym(f"t_{o}"), 2, float(t.sum())).value(env) == pytest.approx(fused[j], rel=1e-12)


def numeric_by_label(network, x, t, reduction):
    """Finite-difference gradients by parameter label (w1, b1, …)."""
    grads = iter(numeric_gradients(network, x, t, reduction))
    per_layer = [{"weights": next(grads), "bias": next(grads) if layer.bias is not None else None}
                 for layer in network.layers]
    return {label: float(per_layer[ref.layer][ref.kind][ref.index]) for label, ref in network.labels.items()}


# ---- the chain of factors ---------------------------------------------------------------------------------

def chain(trace, label):
    return next(c for c in chains_as_data(trace) if c["parameter"] == label)


# seed 000's printed forward values; the factors below are derived from them by hand
OUT_H1, OUT_O1, OUT_O2, T_O1, T_O2 = 0.593269992, 0.75136507, 0.772928465, 0.01, 0.99


def test_w5_chain_is_seed_000s_three_factors(mazur_step):
    path, = chain(mazur_step, "w5")["samples"][0]["paths"]
    assert [f["symbol"] for f in path["factors"]] == ["∂E/∂out_o1", "∂out_o1/∂net_o1", "∂net_o1/∂w5"]
    by_hand = [OUT_O1 - T_O1, OUT_O1 * (1 - OUT_O1), OUT_H1]
    for factor, expected in zip(path["factors"], by_hand):
        assert factor["value"] == pytest.approx(expected, rel=1e-8)
    printed(path["product"], "0.082167041")      # seed 000, line 76


def test_w1_chain_sums_seed_000s_two_paths(mazur_step):
    paths = chain(mazur_step, "w1")["samples"][0]["paths"]
    assert len(paths) == 2
    through = [p["factors"][2]["symbol"] for p in paths]
    assert through == ["∂net_o1/∂out_h1", "∂net_o2/∂out_h1"]
    # seed 000's "Deeper Network" line: (out_o − t)·out_o·(1 − out_o)·w·out_h1·(1 − out_h1)·i1 per path
    by_hand = [(OUT_O1 - T_O1) * OUT_O1 * (1 - OUT_O1) * 0.40, (OUT_O2 - T_O2) * OUT_O2 * (1 - OUT_O2) * 0.50]
    for path, expected in zip(paths, by_hand):
        assert math.prod(f["value"] for f in path["factors"][:3]) == pytest.approx(expected, rel=1e-7)
        assert path["factors"][3]["value"] == pytest.approx(OUT_H1 * (1 - OUT_H1), rel=1e-8)
        assert path["factors"][4]["value"] == 0.05                       # ∂net_h1/∂w1 = i1
    total = sum(p["product"] for p in paths)
    assert total == pytest.approx(sum(by_hand) * OUT_H1 * (1 - OUT_H1) * 0.05, rel=1e-7)
    assert 0.15 - 0.5 * total == pytest.approx(0.149780716, abs=5e-10)   # seed 000's w1+


def test_shared_bias_chain_runs_through_both_neurons(mazur_step):
    paths = chain(mazur_step, "b1")["samples"][0]["paths"]
    assert len(paths) == 4 and all(p["factors"][-1]["value"] == 1 for p in paths)
    assert {p["factors"][-1]["symbol"] for p in paths} == {"∂net_h1/∂b1", "∂net_h2/∂b1"}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       activation=st.sampled_from(["sigmoid", "tanh", "softplus", "leaky_relu", "identity"]),
       loss=st.sampled_from(["half_sse", "sse", "mse", "bce", "cross_entropy"]),
       reduction=st.sampled_from(["sum", "mean"]), samples=st.integers(1, 3))
def test_path_products_summed_over_samples_equal_finite_differences(seed, hidden, activation, loss, reduction, samples):
    rng = np.random.default_rng(seed)
    out_act = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, "sigmoid")
    sizes = [2, *hidden, 2]
    layers = [cr.Dense(rng.normal(0, 0.8, (b, a)), rng.normal(0, 0.5, b),
                       activation=activation if k < len(hidden) else out_act)
              for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    network = cr.Network(layers, loss)
    x = rng.normal(size=(samples, 2))
    t = np.eye(2)[rng.integers(0, 2, samples)] if loss == "cross_entropy" else rng.uniform(0.05, 0.95, (samples, 2))
    numeric = numeric_by_label(network, x, t, reduction)
    config = cr.TrainingConfig(learning_rate=0.1, batch="full", reduction=reduction, epochs=1)
    trace = cr.trace_steps(network, x, t, config, 1)[0]
    for c in chains_as_data(trace):
        per_sample = [sum(p["product"] for p in s["paths"]) for s in c["samples"]]
        total = sum(per_sample) / (1 if reduction == "sum" else samples)
        assert total == pytest.approx(numeric[c["parameter"]], rel=1e-6, abs=1e-8), c["parameter"]


# ---- every renderer, frozen in a golden file; the numbers in it are seed 000's ---------------------------

SEED_000 = ["0.3775", "0.593269992", "0.3925", "0.596884378", "1.10590597", "0.75136507", "1.2249214",
            "0.772928465", "0.274811083", "0.023560026", "0.082167041", "0.35891648", "0.149780716",
            "0.19956143", "0.24975114", "0.29950229", "0.408666186", "0.511301270", "0.561370121"]
NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(text)]


def contains_printed(numbers: list[float], seed_text: str) -> bool:
    decimals = len(seed_text.split(".")[1])
    return any(abs(n - float(seed_text)) <= 0.5 * 10 ** -decimals + 1e-15 for n in numbers)


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_file_of_the_mazur_step(fmt, mazur_step):
    text = render([mazur_step], fmt, "mazur")
    golden = GOLDEN / f"mazur.{EXTENSIONS[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{golden.name} changed: review it, then UPDATE_GOLDEN=1"
    numbers = numbers_in(text)
    missing = [s for s in SEED_000 if not contains_printed(numbers, s)]
    assert not missing, f"seed 000's numbers missing from the {fmt} explanation: {missing}"


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_golden_file_of_the_mazur_step_in_matrix_form(fmt, mazur_step):
    text = render([mazur_step], fmt, "mazur", matrix_form=True)
    golden = GOLDEN / f"mazur-matrix.{EXTENSIONS[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{golden.name} changed: review it, then UPDATE_GOLDEN=1"
    numbers = numbers_in(text)
    assert not [s for s in SEED_000 if not contains_printed(numbers, s)]


def test_matrix_form_indexes_a_shared_bias_and_writes_one_loss_as_a_number(mazur_step):
    """Seed 000 writes the bias column (∂E/∂b2)₁, (∂E/∂b2)₂: one bias, two entries; one sample's loss is a number."""
    text = render([mazur_step], "text", "mazur", matrix_form=True)
    assert "(∂E/∂b2)₁" in text and "(∂E/∂b2)₂" in text and "(∂E/∂b1)₁" in text
    assert re.search(r"E_total = \d\.\d+\n", text) and "E_total = [" not in text
    assert r"\left(\frac{\partial E}{\partial b_{2}}\right)_{1}" in render([mazur_step], "latex", "mazur",
                                                                            matrix_form=True)


def test_one_parameter_explains_its_chain_and_update_only(mazur_step):
    text = re.sub(r" +=", " =", render([mazur_step], "text", "mazur", parameter="w1", width=100_000))
    assert "∂E/∂w1 = ∂E/∂out_o1·∂out_o1/∂net_o1·∂net_o1/∂out_h1·∂out_h1/∂net_h1·∂net_h1/∂w1 + " in text
    assert "w1⁺ = 0.15 − 0.5·0.000438567734 = 0.149780716" in text
    assert "∂E/∂w5" not in text and "w5⁺" not in text
    with pytest.raises(ValueError, match="param: expected one of w1, w2, w3, w4, b1, w5, .*, b2, got 'w9'"):
        render([mazur_step], "text", "mazur", parameter="w9")


# ---- LaTeX compiles; Markdown's math is valid LaTeX ---------------------------------------------------

def compile_latex(tmp_path, source: str, name: str = "doc") -> None:
    if shutil.which("pdflatex") is None:
        pytest.fail("pdflatex is missing: `make test` installs it (apt-get install texlive-latex-base)")
    (tmp_path / f"{name}.tex").write_text(source, encoding="utf-8")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    assert result.returncode == 0 and not errors, errors or result.stdout[-2000:]
    assert (tmp_path / f"{name}.pdf").stat().st_size > 1000


@pytest.mark.parametrize("matrix_form", [False, True])
def test_latex_of_mazur_and_of_a_3_layer_softmax_network_compiles(tmp_path, mazur_step, matrix_form):
    traces = [mazur_step, *deep_traces(tmp_path)]
    compile_latex(tmp_path, render(traces, "latex", "both", matrix_form=matrix_form))


def test_markdown_math_of_a_3_layer_softmax_network_is_valid_latex(tmp_path):
    markdown = render(deep_traces(tmp_path), "markdown", "deep") + render(deep_traces(tmp_path), "markdown",
                                                                        "deep", matrix_form=True)
    display = re.findall(r"^\$\$(.+)\$\$$", markdown, flags=re.M)
    inline = [m for line in markdown.splitlines() if not line.startswith("$$")
              for m in re.findall(r"\$([^$]+)\$", line)]
    assert len(display) > 50 and len(inline) > 10
    assert "\\delta_{o_{1}}" in markdown and "softmax" in markdown
    body = "\n".join([f"\\[{m}\\]" for m in display] + [f"${m}$\n" for m in inline])
    compile_latex(tmp_path, "\\documentclass{article}\\usepackage[a3paper,landscape]{geometry}\\usepackage{amsmath}"
                            "\\setcounter{MaxMatrixCols}{64}\\begin{document}\n" + body + "\n\\end{document}\n")


# ---- HTML: opens offline in Chromium with every formula rendered ---------------------------------------

def open_offline(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests = []
    page.route("**/*", lambda route: (requests.append(route.request.url),
                                      route.continue_() if route.request.url.startswith("file:") else route.abort()))
    page.goto(path.as_uri())
    return page, requests


def rendered_math(page) -> dict:
    return page.evaluate("""() => {
        const maths = [...document.querySelectorAll('math')];
        return {count: maths.length,
                unrendered: maths.filter(m => !getComputedStyle(m).display.includes('math')
                                          || m.getBoundingClientRect().width === 0
                                          || m.getBoundingClientRect().height === 0).length,
                errors: document.querySelectorAll('merror').length};
    }""")


def test_mazur_html_renders_every_formula_offline_with_seed_values_on_the_diagram(browser, tmp_path, mazur_step):
    path = tmp_path / "mazur.html"
    path.write_text(render([mazur_step], "html", "mazur"), encoding="utf-8")
    page, requests = open_offline(browser, path)
    math_state = rendered_math(page)
    assert math_state["count"] > 50 and math_state["unrendered"] == 0 and math_state["errors"] == 0
    assert all(url.startswith("file:") for url in requests) and len(requests) == 1
    printed(float(page.get_attribute("#neuron-o1", "data-out")), "0.75136507")
    printed(float(page.get_attribute("#edge-w5", "data-after")), "0.35891648")
    assert page.text_content("#edge-w5 text") == "w5 0.4 → 0.3589"     # on the edge, to 4 digits
    page.screenshot(path=str(tmp_path / "mazur.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("matrix_form", [False, True])
def test_html_of_a_3_layer_softmax_network_renders_every_formula(browser, tmp_path, matrix_form):
    path = tmp_path / "deep.html"
    path.write_text(render(deep_traces(tmp_path), "html", "deep", matrix_form=matrix_form), encoding="utf-8")
    page, requests = open_offline(browser, path)
    math_state = rendered_math(page)
    assert math_state["count"] > 15 and math_state["unrendered"] == 0 and math_state["errors"] == 0
    assert len(requests) == 1
    assert page.locator("svg.network .neuron").count() == 2 + 3 + 2 + 3
    page.close()


# ---- long equations broken into lines, the same way in every format ----------------------------------------

def example_traces(name: str):
    spec = cr.load(name)
    return cr.trace_steps(spec.build_network(), *spec.require_data(), spec.training, 1)


@pytest.mark.parametrize("name", cr.examples.names())
def test_text_lines_stay_within_100_columns_in_every_example_and_form(name):
    traces = example_traces(name)
    description = cr.load(name).description
    for options in ({}, {"matrix_form": True}, {"parameter": "w1"}):
        text = render(traces, "text", name, description=description, **options)
        long = [line for line in text.splitlines() if len(line) > 100]
        assert not long, f"{name} {options}: {len(long)} lines over 100 columns, e.g. {long[0]!r}"
    wide = render(traces, "text", name, width=100_000)
    assert max(map(len, wide.splitlines())) > 100 or name in ("visual", "worksheet")   # it is the width that broke them


def test_a_long_sum_is_one_step_per_line_aligned_under_its_equals_sign(mazur_step):
    """∂E/∂w1 (~420 characters on one line): lhs = symbols, = numbers, = result; each sum continued with
    "+ " two columns in from the step it continues; the note beside the result."""
    lines = render([mazur_step], "text", "mazur", parameter="w1").splitlines()
    first = next(k for k, line in enumerate(lines) if line.lstrip().startswith("∂E/∂w1 = ∂E/∂out_o1"))
    block = lines[first:first + 5]
    column = block[0].index("=")
    assert block[0].endswith("∂E/∂out_o1·∂out_o1/∂net_o1·∂net_o1/∂out_h1·∂out_h1/∂net_h1·∂net_h1/∂w1")
    assert block[1] == " " * (column + 4) + "+ ∂E/∂out_o2·∂out_o2/∂net_o2·∂net_o2/∂out_h1·∂out_h1/∂net_h1·∂net_h1/∂w1"
    assert block[2] == " " * column + "= 0.74136507·0.186815602·0.4·0.241300709·0.05"
    assert block[3] == " " * (column + 4) + "+ (−0.217071535)·0.175510053·0.5·0.241300709·0.05"
    assert block[4] == " " * column + "= 0.000438567734   (every path from the error to w1)"
    # the same numbers a hand computation gives: 0.74136507·0.186815602·0.4·0.241300709·0.05 + …
    assert 0.74136507 * 0.186815602 * 0.4 * 0.241300709 * 0.05 - 0.217071535 * 0.175510053 * 0.5 * 0.241300709 * 0.05 \
        == pytest.approx(0.000438567734, rel=1e-8)


def test_prose_wraps_between_words_and_never_inside_a_formula(mazur_step):
    text = render([mazur_step], "text", "mazur", description=cr.load("mazur").description)
    assert "so b1⁺ = 0.35 − 0.5·0.0187256094 = 0.340637195." in text.replace("\n  ", " ")
    assert not re.search(r"[=−+]\n|\n *[=−+] \d", text.split("Network 2-2-2")[0])


def test_explain_width_is_a_text_option_in_range(capsys):
    from chainrule.cli import main
    assert main(["explain", "mazur", "--format", "latex", "--width", "120"], out=io.StringIO()) == 2
    assert "explain --width: expected --format text" in capsys.readouterr().err
    assert main(["explain", "mazur", "--width", "10"], out=io.StringIO()) == 2
    assert "expected a number of columns from 40 to 100000, got 10" in capsys.readouterr().err
    out = io.StringIO()
    assert main(["explain", "mazur", "--width", "60"], out=out) == 0
    assert max(len(line) for line in out.getvalue().splitlines() if not line.startswith("  ┌")) <= 60


@pytest.mark.parametrize("name", ["mazur", "xor", "softplus"])
@pytest.mark.parametrize("matrix_form", [False, True])
def test_latex_is_compact_and_never_overfull(tmp_path, name, matrix_form):
    """One step of mazur on 4 pages (it was 9, one step of the argument per line in landscape); no line
    runs into the margin (no Overfull \\hbox in pdflatex's log)."""
    compile_latex(tmp_path, render(example_traces(name), "latex", name, matrix_form=matrix_form))
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log
    pages = int(re.search(r"Output written on doc.pdf \((\d+) pages?", log).group(1))
    assert pages <= {"mazur": 4, "xor": 7, "softplus": 4}[name] if not matrix_form else pages <= 2


def test_markdown_breaks_a_long_equation_as_an_aligned_block(mazur_step):
    text = render([mazur_step], "markdown", "mazur")
    line = next(l for l in text.splitlines() if l.startswith(r"$$\begin{aligned}\frac{\partial E}{\partial w_{1}}"))
    assert line.endswith(r"\end{aligned}$$") and line.count(r" \\ ") >= 3 and r"&\quad +" in line


def test_html_breaks_long_equations_into_rows_so_nothing_scrolls(browser, tmp_path, mazur_step):
    path = tmp_path / "mazur.html"
    path.write_text(render([mazur_step], "html", "mazur"), encoding="utf-8")
    page, _ = open_offline(browser, path)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator("math.rows").count() >= 10
    overflow = page.evaluate("Math.max(0, ...[...document.querySelectorAll('.eq')].map(e => e.scrollWidth - e.clientWidth))")
    assert overflow == 0 and page.evaluate("document.documentElement.scrollWidth") <= 1280
    rows = page.locator("math.rows").first.locator(":scope > mtable > mtr")
    assert rows.count() >= 3 and rows.nth(1).locator("mtd").first.text_content().strip() == ""
    page.close()


def test_one_parameter_of_a_small_network_shows_only_its_path(mazur_step):
    """--param w5 on the 2-2-2 network: o1's forward pass and δ, not h1's or h2's, nor any other gradient."""
    text = re.sub(r" +=", " =", render([mazur_step], "text", "mazur", parameter="w5"))
    assert "net_o1 = w5·out_h1 + w6·out_h2 + b2 = 0.4·0.593269992 + 0.45·0.596884378 + 0.6 = 1.10590597" in text
    assert "δ_o1 = ∂E/∂out_o1·∂out_o1/∂net_o1 = 0.74136507·0.186815602 = 0.138498562" in text
    assert "net_h1 =" not in text and "δ_h1" not in text and "δ_o2" not in text and "∂E/∂w1" not in text
    assert "w5 = 0.4\n  (the other 9 parameters enter below by value)" in text
    w1 = render([mazur_step], "text", "mazur", parameter="w1")
    assert "net_h2 =" not in w1 and "δ_h2" not in w1 and "δ_o2" in w1       # w1's gradient runs through both outputs


# ---- updates by momentum and Adam: each written equation is true ---------------------------------------------

OPTIMISERS = {"weight decay": "weight_decay = 0.01", "momentum": "momentum = 0.9", "nesterov and weight decay": "momentum = 0.9\nnesterov = true\nweight_decay = 0.01",
              "adam and weight decay": 'optimizer = "adam"\nweight_decay = 0.01'}


def optimised_mazur_traces(tmp_path, settings: str, steps: int = 3):
    text = (Path(cr.examples.__file__).parent / "mazur.toml").read_text()
    (tmp_path / "opt.toml").write_text(text.replace("learning_rate = 0.5\n", f"learning_rate = 0.5\n{settings}\n"))
    spec = cr.load(tmp_path / "opt.toml")
    return cr.trace_steps(spec.build_network(), *spec.require_data(), spec.training, steps)


@pytest.mark.parametrize("name", OPTIMISERS)
def test_momentum_and_adam_updates_are_written_as_true_equations(tmp_path, name):
    from chainrule.explain import explain_step
    from chainrule.core.expr import Eq
    for trace in optimised_mazur_traces(tmp_path, OPTIMISERS[name]):
        update, = [s for s in explain_step(trace).sections if s.title.startswith("Update")]
        equations = [item for item in update.items if isinstance(item, Eq) and len(item.parts) >= 3]
        assert len(equations) >= 2 * 10          # each parameter: its g, v or m and v, then its new value
        for eq in equations:        # the numbers written, worked out, give the result written after them
            if eq.note.startswith("first step"):        # v⁺ = g: nothing to work out
                continue
            assert eq.parts[-2].value({}) == pytest.approx(eq.parts[-1].number, rel=1e-12, abs=1e-15), eq.text()
        results = {eq.parts[0].text(): eq.parts[-1].number for eq in equations}
        after = trace.parameters_after
        assert results["w1⁺"] == after[0]["weights"][0][0] and results["w8⁺"] == after[1]["weights"][1][1]
        assert results["b1⁺"] == after[0]["bias"]
    text = re.sub(r" +=", " =", render([trace], "text", width=100_000))
    expected = {"weight decay": "g_w1 = ∂E/∂w1 + λ·w1 = ", "momentum": "v_w1⁺ = μ·v_w1 + ∂E/∂w1 = ",
                "nesterov and weight decay": "w1⁺ = w1 − η·(g_w1 + μ·v_w1⁺) = ",
                "adam and weight decay": "m_w1⁺ = β_1·m_w1 + (1 − β_1)·g_w1 = "}
    assert expected[name] in text


def test_latex_and_html_of_momentum_and_adam_updates_compile_and_render(browser, tmp_path):
    traces = [trace for name in OPTIMISERS for trace in optimised_mazur_traces(tmp_path, OPTIMISERS[name], 2)]
    latex = render(traces, "latex", "optimisers")
    assert r"\sqrt{" in latex and r"\beta_{1}" in latex and r"\mu" in latex
    compile_latex(tmp_path, latex)
    path = tmp_path / "optimisers.html"
    path.write_text(render(traces, "html", "optimisers"), encoding="utf-8")
    page, requests = open_offline(browser, path)
    math_state = rendered_math(page)
    assert math_state["count"] > 100 and math_state["unrendered"] == 0 and math_state["errors"] == 0
    assert page.locator("msqrt").count() > 0
    page.close()


def test_the_shares_mazur_writes_have_their_own_lines_and_every_minus_is_one_sign(mazur_step):
    """∂E_o1/∂out_h1 = δ_o1·w5 and ∂E_o2/∂out_h1 = δ_o2·w7 before their sum (seed 000's lines); a negative
    number is written with the minus sign − of the formulas, never a hyphen."""
    text = render([mazur_step], "text", "mazur")
    delta_o1 = (0.75136507 - 0.01) * 0.75136507 * (1 - 0.75136507)          # seed 000's δ_o1, by hand
    share = re.search(r"^\s*∂E_o1/∂out_h1\s+= δ_o1·w5 = 0\.138498562·0\.4 = (\S+)   \(the path through o1\)$", text, re.M)
    assert share and float(share.group(1)) == pytest.approx(delta_o1 * 0.4, rel=1e-8)
    lines = text.splitlines()
    names = [line.split("=")[0].strip() for line in lines if "=" in line]
    assert names.index("∂E_o1/∂out_h1") < names.index("∂E_o2/∂out_h1") < names.index("∂E/∂out_h1")
    assert "(−0.0380982365)·0.5" in text and not re.search(r"(?<![\w.])-\d", text)


def test_softplus_summarises_its_frozen_parameters_and_writes_no_identity_or_one_term_sum():
    """Seed 004's first phase trains b3 alone: one gradient, one update, the frozen six in one line each;
    the identity output is out_green = net_green, its derivative 1, and one output's E_total no sum; the
    neurons carry the seed's names (x, y_blue, y_orange, y_green)."""
    from chainrule.cli import main
    import io
    out = io.StringIO()
    assert main(["explain", "softplus"], out=out) == 0
    text = out.getvalue()
    gradients = re.findall(r"^  ∂E/∂(\w+)$", text, re.M)
    assert gradients == ["b3"]
    assert "Not needed: the gradients of the frozen w1, w2, b1, b2, w3, w4" in text
    assert "Frozen, unchanged: w1, w2, b1, b2, w3, w4 (p⁺ = p)." in text and "(frozen)" not in text
    assert re.search(r"^\s*out_green +=  *net_green = [0-9.]+$", text, re.M)       # the seed's names (y_green)
    assert re.search(r"^\s*∂out_green/∂net_green +=  *1$", text, re.M) and "identity(" not in text
    assert re.search(r"^\s*E_total = E_green = [0-9.]+$", text, re.M)
    assert "net_blue   = w1·x + b1 = 0.496714153·0.1 + 0 = 0.0496714153" in text and "out_h1" not in text
    assert "summed over the paths" not in text        # one output: each hidden ∂E/∂out is one path
