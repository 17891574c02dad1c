"""`chainrule worksheet`: a step as a fill-in sheet, its TOML form checked by `chainrule check`.

The right answers are seed 000's step worked here in plain Python from the seed's inputs, weights and
targets (never the engine's output)."""

import io
import json
import math
import re

import pytest

from chainrule.cli import main
from test_explain import compile_latex


def run(*argv):
    out = io.StringIO()
    code = main([str(a) for a in argv], out=out)
    return code, out.getvalue()


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def mazur_by_hand() -> dict:
    """Every claim name of seed 000's first step, by the seed's formulas."""
    i1, i2, t1, t2, eta = 0.05, 0.10, 0.01, 0.99, 0.5
    w = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55, b1=0.35, b2=0.60)
    v = {"net_h1": w["w1"] * i1 + w["w2"] * i2 + w["b1"], "net_h2": w["w3"] * i1 + w["w4"] * i2 + w["b1"]}
    v["out_h1"], v["out_h2"] = sigmoid(v["net_h1"]), sigmoid(v["net_h2"])
    v["net_o1"] = w["w5"] * v["out_h1"] + w["w6"] * v["out_h2"] + w["b2"]
    v["net_o2"] = w["w7"] * v["out_h1"] + w["w8"] * v["out_h2"] + w["b2"]
    v["out_o1"], v["out_o2"] = sigmoid(v["net_o1"]), sigmoid(v["net_o2"])
    v["E_o1"], v["E_o2"] = 0.5 * (t1 - v["out_o1"]) ** 2, 0.5 * (t2 - v["out_o2"]) ** 2
    v["E_total"] = v["loss_before"] = v["E_o1"] + v["E_o2"]
    for o, t in (("o1", t1), ("o2", t2)):
        v[f"dE_dout_{o}"] = -(t - v[f"out_{o}"])
        v[f"dout_{o}_dnet_{o}"] = v[f"out_{o}"] * (1 - v[f"out_{o}"])
        v[f"delta_{o}"] = v[f"dE_dout_{o}"] * v[f"dout_{o}_dnet_{o}"]
    for h, (wa, wb) in (("h1", ("w5", "w7")), ("h2", ("w6", "w8"))):
        v[f"dE_o1_dout_{h}"], v[f"dE_o2_dout_{h}"] = v["delta_o1"] * w[wa], v["delta_o2"] * w[wb]   # Mazur's shares
        v[f"dE_dout_{h}"] = v["delta_o1"] * w[wa] + v["delta_o2"] * w[wb]
        v[f"dout_{h}_dnet_{h}"] = v[f"out_{h}"] * (1 - v[f"out_{h}"])
        v[f"delta_{h}"] = v[f"dE_dout_{h}"] * v[f"dout_{h}_dnet_{h}"]
    g = {"w1": v["delta_h1"] * i1, "w2": v["delta_h1"] * i2, "w3": v["delta_h2"] * i1, "w4": v["delta_h2"] * i2,
         "b1": v["delta_h1"] + v["delta_h2"], "w5": v["delta_o1"] * v["out_h1"], "w6": v["delta_o1"] * v["out_h2"],
         "w7": v["delta_o2"] * v["out_h1"], "w8": v["delta_o2"] * v["out_h2"], "b2": v["delta_o1"] + v["delta_o2"]}
    after = {p: w[p] - eta * g[p] for p in w}
    v.update({f"dE_d{p}": g[p] for p in g}, **{f"{p}_after": after[p] for p in after})
    h1 = sigmoid(after["w1"] * i1 + after["w2"] * i2 + after["b1"])
    h2 = sigmoid(after["w3"] * i1 + after["w4"] * i2 + after["b1"])
    o1 = sigmoid(after["w5"] * h1 + after["w6"] * h2 + after["b2"])
    o2 = sigmoid(after["w7"] * h1 + after["w8"] * h2 + after["b2"])
    v["loss_after"] = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    return v


HAND = mazur_by_hand()


def sheet(tmp_path, fill=None):
    code, text = run("worksheet", "mazur", "--format", "toml")
    assert code == 0
    if fill is not None:
        text = re.sub(r'^(\w+)(\s*)= "\?"', lambda m: f"{m.group(1)}{m.group(2)}= {fill(m.group(1))}", text, flags=re.M)
    path = tmp_path / "sheet.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_the_toml_sheet_has_every_quantity_in_order_and_check_reports_the_blanks(tmp_path):
    path, text = sheet(tmp_path)
    names = re.findall(r'^(\w+)\s*= "\?"', text, flags=re.M)
    assert set(names) == set(HAND)          # every quantity of the step, each once
    assert names.index("net_h1") < names.index("out_h1") < names.index("E_total") < names.index("delta_o1") \
        < names.index("delta_h1") and names.index("dE_dw1") < names.index("w1_after")
    assert 'dE_dout_h1      = "?"   # δ_o1·w5 + δ_o2·w7' in text
    code, report = run("check", path)
    assert code == 1 and f"{len(HAND)} claims, 0 right, 0 wrong, {len(HAND)} unanswered" in report
    code, data = run("check", path, "--format", "json")
    assert json.loads(data)["unanswered"] == len(HAND) and json.loads(data)["wrong"] == 0


def test_filled_with_the_right_numbers_the_sheet_passes(tmp_path):
    path, _ = sheet(tmp_path, lambda name: f"{HAND[name]:.9g}")
    code, report = run("check", path)
    assert code == 0 and f"{len(HAND)} claims, {len(HAND)} right, 0 wrong" in report, report


def test_one_wrong_number_on_the_sheet_is_named(tmp_path):
    forgot_half = (0.01 - HAND["out_o1"]) ** 2 + (0.99 - HAND["out_o2"]) ** 2
    path, _ = sheet(tmp_path, lambda name: f"{forgot_half:.9g}" if name == "E_total" else f"{HAND[name]:.9g}")
    code, data = run("check", path, "--format", "json")
    wrong = [c for c in json.loads(data)["claims"] if not c["ok"]]
    assert code == 1 and [c["name"] for c in wrong] == ["E_total"]
    assert wrong[0]["mistake_id"] == "half_forgotten"


def test_answers_fill_every_blank_with_the_engines_number(tmp_path):
    path, _ = sheet(tmp_path)
    code, filled = run("check", path, "--answers")
    assert code == 0 and not re.search(r'= "\?"', filled) and "# w1·i1 + w2·i2 + b1" in filled
    values = dict(re.findall(r"^(\w+)\s*= ([-0-9.e]+)", filled, flags=re.M))
    del values["step"], values["sample"]
    assert set(values) == set(HAND)
    for name, value in values.items():
        assert float(value) == pytest.approx(HAND[name], rel=1e-8, abs=1e-12), name
    out = tmp_path / "answers.toml"
    code, printed = run("check", path, "--answers", out)
    assert code == 0 and printed == "" and out.read_text(encoding="utf-8") == filled
    assert run("check", out)[0] == 0


def test_the_sheet_in_text_shows_formula_blank_and_name_and_no_numbers_beyond_the_givens():
    code, text = run("worksheet", "mazur")
    assert code == 0
    assert "net_h1 = w1·i1 + w2·i2 + b1 = ________   (net_h1)" in text
    assert "∂E/∂w5 = δ_o1·out_h1 = ________   (dE_dw5)" in text
    assert "w5⁺ = w5 − η·∂E/∂w5 = ________   (w5_after)" in text
    assert "w1 = 0.15" in text and "0.593269992" not in text and "0.0821670406" not in text


@pytest.mark.parametrize("fmt", ["markdown", "html", "latex"])
def test_every_format_writes_the_blanks(fmt):
    code, text = run("worksheet", "mazur", "--format", fmt)
    assert code == 0 and ("dE\\_dw5" if fmt == "latex" else "dE_dw5") in text and "0.59326999" not in text
    assert (r"\underline{\hspace{6em}}" if fmt != "html" else "<mspace") in text


def test_the_latex_sheet_compiles(tmp_path):
    code, text = run("worksheet", "mazur", "--format", "latex")
    assert code == 0
    compile_latex(tmp_path, text, "sheet")


def test_names_lists_every_claim_name_with_its_formula():
    code, text = run("check", "--names", "mazur")
    names = [line.split()[0] for line in text.splitlines()]
    assert code == 0 and set(names) == set(HAND)
    assert re.search(r"^dE_dout_h1\s+δ_o1·w5 \+ δ_o2·w7$", text, flags=re.M)


def test_a_later_step_and_a_batch_get_their_own_groups(tmp_path):
    code, text = run("worksheet", "softplus", "--format", "toml", "--step", "2")
    assert code == 0 and "step = 2" in text and "sample = 3" in text


@pytest.mark.parametrize("argv, message", [
    (["worksheet", "mazur", "--step", "0"], "worksheet --step: expected an integer from 1 to 10,000 (the steps this spec's training runs), got 0"),
    (["worksheet", "mazur", "--step", "100000"], "worksheet --step: expected an integer from 1 to 10,000"),
    (["worksheet", "mazur", "--learning-rate", "0.1"], "unrecognized arguments: --learning-rate"),
    (["check", "seed:000", "--answers"], "check --answers: expected a claims file with blanks, got 'seed:000'"),
    (["check", "--names", "mazur", "--format", "json"], "check --names: expected a spec alone"),
])
def test_wrong_uses_are_refused_in_one_line(capsys, argv, message):
    code, text = run(*argv)
    err = capsys.readouterr().err
    assert code == 2 and text == "" and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("written", [
    "[[claims]]\nout_o1 = '?'\nout_o2 = \"?\"\n",                       # single quotes
    "claims = [{out_o1 = \"?\", out_o2 = '?'}]\n",                      # an inline table (claims without lines)
    "[[claims]]\n\"out_o1\" = \"?\"\n  out_o2='?'\n",                   # a quoted key, no spaces
])
def test_answers_fill_blanks_however_they_are_written(tmp_path, written):
    path = tmp_path / "c.toml"
    path.write_text('spec = "mazur"\n' + written)
    code, filled = run("check", path, "--answers")
    assert code == 0 and "?" not in filled, filled
    found = dict(re.findall(r"(out_o[12])\"?\s*=\s*([-0-9.e]+)", filled))
    assert float(found["out_o1"]) == pytest.approx(HAND["out_o1"], rel=1e-8)
    assert float(found["out_o2"]) == pytest.approx(HAND["out_o2"], rel=1e-8)
