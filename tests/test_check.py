"""`chainrule check`: claimed numbers against the engine, each wrong one explained.

The seeds' verdicts below were worked out by hand from the seeds' own text (see the notes on each);
the catalogue's numbers are derived here by hand from seed 000's printed values, never by the engine."""

import io
import math
import json

import pytest

from chainrule.cli import main

# seed 000's printed values, and its first step's numbers derived from them by hand
OUT_H1, OUT_H2, OUT_O1, OUT_O2 = 0.593269992, 0.596884378, 0.75136507, 0.772928465
T1, T2, ETA = 0.01, 0.99, 0.5
DELTA_O1 = (OUT_O1 - T1) * OUT_O1 * (1 - OUT_O1)
DELTA_O2 = (OUT_O2 - T2) * OUT_O2 * (1 - OUT_O2)
DELTA_H1 = (DELTA_O1 * 0.40 + DELTA_O2 * 0.50) * OUT_H1 * (1 - OUT_H1)


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def verdicts(claims: str):
    code, text = run("check", claims, "--format", "json")
    return code, {c["name"]: c for c in json.loads(text)["claims"]}


def write(tmp_path, body: str, name: str = "claims.toml"):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_a_claims_file_of_right_numbers_passes(tmp_path):
    path = write(tmp_path, f"""
spec = "mazur"
[[claims]]
net_h1 = 0.3775
out_h1 = 0.593269992
out_o1 = 0.75136507
E_total = 0.298371109
dE_dout_o1 = 0.74136507
dout_o1_dnet_o1 = 0.186815602
delta_o1 = {DELTA_O1:.9f}
dE_dw5 = 0.082167041
w5 = 0.4
w5_after = 0.35891648
"b2_after (the correct one)" = 0.549799837
""")
    code, text = run("check", path)
    assert code == 0, text
    assert "11 claims, 11 right, 0 wrong" in text


def test_each_catalogue_mistake_is_named(tmp_path):
    dE_dw6 = DELTA_O1 * OUT_H2
    updated = (DELTA_O1 * 0.35891648 + DELTA_O2 * 0.511301270) * OUT_H1 * (1 - OUT_H1)
    path = write(tmp_path, f"""
spec = "mazur"
[[claims]]
"delta_h1 (updated weights)" = {updated:.8f}
"delta_o1 (no derivative)" = {OUT_O1 - T1:.8f}
"w5_after (sign)" = {0.4 + ETA * 0.082167041:.8f}
"w6_after (no rate)" = {0.45 - dE_dw6:.8f}
"b1_after (not summed)" = {0.35 - ETA * DELTA_H1:.8f}
"dE_dout_o1 (squared)" = {-(T1 - OUT_O1) ** 2:.8f}
"net_h2 (swapped)" = 0.3900
"out_h1 (slip)" = 0.593269929
""")
    code, found = verdicts(path)
    assert code == 1
    expected = {
        "delta_h1 (updated weights)": "hidden deltas computed with output weights already updated",
        "delta_o1 (no derivative)": "the activation's derivative factor left out",
        "w5_after (sign)": "the update's sign flipped",
        "w6_after (no rate)": "the learning rate not applied",
        "b1_after (not summed)": "a shared bias's gradient not summed over its neurons (δ of h1 only)",
        "dE_dout_o1 (squared)": "the squared residual used where the residual belongs",
        "net_h2 (swapped)": "swapped indices: w2 used where w3 belongs",
        "out_h1 (slip)": "digit slip: written 0.593269929 where 0.593269992 belongs",
    }
    for name, mistake in expected.items():
        assert not found[name]["ok"] and found[name]["mistake"] == mistake, (name, found[name])
        assert found[name]["inherited_from"] is None


def sigmoid(v):
    return 1 / (1 + __import__("math").exp(-v))


# seed 000's step by hand once more: nets from the seed's inputs and weights, then each mistake's value
I1, I2 = 0.05, 0.10
NET_H1, NET_H2 = 0.15 * I1 + 0.20 * I2 + 0.35, 0.25 * I1 + 0.30 * I2 + 0.35          # 0.3775, 0.3925
NET_O1 = 0.40 * OUT_H1 + 0.45 * OUT_H2 + 0.60
DE_DOUT_O1, DE_DOUT_O2 = OUT_O1 - T1, OUT_O2 - T2                                   # −(t − out)
DELTA_H2 = (DELTA_O1 * 0.45 + DELTA_O2 * 0.55) * OUT_H2 * (1 - OUT_H2)
W5_AFTER, W7_AFTER = 0.40 - ETA * DELTA_O1 * OUT_H1, 0.50 - ETA * DELTA_O2 * OUT_H1
CATALOGUE = [      # (claim, value a student following the mistake writes, mistake_id, sentence)
    ("E_total", (T1 - OUT_O1) ** 2 + (T2 - OUT_O2) ** 2, "half_forgotten",
     "the ½ of the squared error forgotten: E = (t − out)²"),                      # 0.596742218
    ("dE_dout_o1", T1 - OUT_O1, "sign", "the sign of ∂E/∂out flipped: out − t written as t − out"),
    ("dE_dout_o2", 2 * DE_DOUT_O2, "two_kept",
     "the 2 of the square's derivative kept although E has ½: ∂E/∂out = −2·(t − out)"),
    ("dE_dout_o1", -((T1 - OUT_O1) ** 2), "squared", "the squared residual used where the residual belongs"),
    ("dout_o1_dnet_o1", NET_O1 * (1 - NET_O1), "derivative_at_net",
     "sigmoid′ is out·(1 − out), not net·(1 − net) (taken at net)"),
    ("delta_o1", DE_DOUT_O1, "no_derivative", "the activation's derivative factor left out"),
    ("dE_dout_h1", DELTA_O1 * 0.40, "one_path", "a hidden neuron's error taken along one path only (through o1)"),
    ("dE_dout_h2", DE_DOUT_O1 * 0.45 + DE_DOUT_O2 * 0.55, "errors_not_deltas",
     "the next layer's ∂E/∂out used where its δ belongs (its activation's derivative skipped)"),
    ("delta_h1", (DELTA_O1 * W5_AFTER + DELTA_O2 * W7_AFTER) * OUT_H1 * (1 - OUT_H1), "updated_weights",
     "hidden deltas computed with output weights already updated"),
    ("net_h2", 0.25 * I1 + 0.30 * I2, "no_bias", "the bias left out of net"),
    ("net_o2", 0.50 * NET_H1 + 0.55 * NET_H2 + 0.60, "net_not_out",
     "the previous layer's net used where its out belongs"),
    ("dE_dw6", DELTA_O1 * NET_H2, "input_net_not_out",
     "∂net/∂w taken as the previous layer's net where its out belongs"),
    ("b1_after", 0.35 - ETA * DELTA_H2, "shared_bias_one_neuron",
     "a shared bias's gradient not summed over its neurons (δ of h2 only)"),
    ("w5_after", 0.40 + ETA * DELTA_O1 * OUT_H1, "update_sign", "the update's sign flipped"),
    ("w8_after", 0.55 - DELTA_O2 * OUT_H2, "no_rate", "the learning rate not applied"),
    ("net_h1", 0.15 * I1 + 0.30 * I2 + 0.35, "swapped_weight", "swapped indices: w4 used where w2 belongs"),
    ("out_o2", OUT_O1, "swapped_neuron", "swapped indices: computed with the weights of o1"),
    ("b2_after", W7_AFTER, "copied", "the value of w7_after copied here"),
]


def catalogue_file(tmp_path, entries, name="catalogue.toml"):
    lines = [f'"{claim} ({mistake})" = {value:.8f}' for claim, value, mistake, _ in entries]
    return write(tmp_path, 'spec = "mazur"\n[[claims]]\n' + "\n".join(lines) + "\n", name)


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e[2] for e in CATALOGUE])
def test_each_catalogue_mistake_alone_is_named_by_id_and_sentence(tmp_path, entry):
    code, found = verdicts(catalogue_file(tmp_path, [entry]))
    (verdict,) = found.values()
    assert code == 1 and not verdict["ok"]
    assert (verdict["mistake_id"], verdict["mistake"]) == (entry[2], entry[3]), verdict
    assert verdict["inherited_from"] is None and verdict["correct_line"]


def test_the_whole_catalogue_in_one_file_names_each_mistake(tmp_path):
    code, found = verdicts(catalogue_file(tmp_path, CATALOGUE))
    assert code == 1
    named = {name: (v["mistake_id"], v["mistake"]) for name, v in found.items()}
    assert named == {f"{claim} ({mistake})": (mistake, sentence) for claim, _, mistake, sentence in CATALOGUE}


def test_a_sum_of_squares_and_a_mean_over_the_batch_have_their_own_mistakes(tmp_path):
    """1-1 identity network, E = (t − w·x)², two samples averaged: ∂E/∂out = −2·(t − out) per sample."""
    w, xs, ts = 0.5, (1.0, 2.0), (0.2, 0.4)
    grads = [-2 * (t - w * x) * x for x, t in zip(xs, ts)]          # ∂E/∂w per sample: 0.6, 2.4
    body = f"""
[spec.network]
inputs = 1
loss = "sse"
[[spec.network.layers]]
units = 1
activation = "identity"
weights = [[{w}]]
bias_mode = "none"
[spec.training]
learning_rate = 0.1
batch = "full"
reduction = "mean"
[spec.data]
inputs = [[{xs[0]}], [{xs[1]}]]
targets = [[{ts[0]}], [{ts[1]}]]
[[claims]]
"dE_dout_o1 (two dropped)" = {-(ts[0] - w * xs[0]):.9f}
"dE_dw1 (summed)" = {sum(grads):.9f}
"dE_dw1" = {sum(grads) / 2:.9f}
"""
    code, found = verdicts(write(tmp_path, body))
    assert found["dE_dw1"]["ok"]
    assert found["dE_dout_o1 (two dropped)"]["mistake_id"] == "two_dropped"
    assert found["dE_dw1 (summed)"]["mistake"] == "the batch's per-sample gradients combined by their sum where their mean belongs"


def test_a_cut_number_is_right_with_a_note_and_a_right_one_uses_no_wrong_later_claim(tmp_path):
    path = write(tmp_path, f"""
spec = "mazur"
[[claims]]
"out_h1 (cut)" = 0.5932699
"dE_dw5" = {DELTA_O1 * OUT_H1:.9f}
"delta_o1 (later, wrong)" = 0.2
""")
    code, found = verdicts(path)
    cut = found["out_h1 (cut)"]
    assert cut["ok"] and cut["note"] == "cut instead of rounded: 0.5932699921 written as 0.5932699"
    assert found["dE_dw5"]["ok"] and not found["delta_o1 (later, wrong)"]["ok"]


def test_json_report_has_the_documented_shape(tmp_path):
    code, text = run("check", "seed:003", "--format", "json")
    doc = json.loads(text)
    assert code == 1 and set(doc) == {"claims", "wrong", "unanswered"}
    assert doc["wrong"] == sum(not c["ok"] for c in doc["claims"]) == 2
    assert set(doc["claims"][0]) == {"name", "step", "sample", "claimed", "correct", "ok", "answered", "inherited_from",
                                     "mistake", "mistake_id", "note", "correct_line"}


def wrong_of(seed):
    code, found = verdicts(f"seed:{seed}")
    assert code == 1
    return {name: c for name, c in found.items() if not c["ok"]}, found


def test_seed_000_b1_not_summed_and_b2_copied_from_w7():
    wrong, found = wrong_of("000")
    assert sorted(wrong) == ["b1_after (line 106)", "b1_after (line 107)", "b2_after (line 108)", "b2_after (line 109)"]
    for name in ("b1_after (line 106)", "b1_after (line 107)"):
        # 0.35 − 0.5·δ_h2 = 0.3450229; the seed writes 0.3450265
        assert wrong[name]["mistake"].startswith("a shared bias's gradient not summed over its neurons (δ of h2 only)")
        assert "digit slip" in wrong[name]["mistake"]
    for name in ("b2_after (line 108)", "b2_after (line 109)"):
        assert wrong[name]["mistake"] == "the value of w7_after copied here"     # w7+ = 0.511301270
    assert len(found) - len(wrong) == 20


def test_seed_001_slipped_output_and_training_printout_not_from_its_code():
    wrong, found = wrong_of("001")
    assert wrong["out_o1 (line 60)"]["mistake"] == "digit slip: written 0.75136079 where 0.75136507 belongs"
    printout = [name for name in wrong if name.startswith("loss_after")]
    first = wrong["loss_after (output line 0)"]["correct"]
    assert len(printout) == 5 and all(
        wrong[n]["mistake_id"] == "not_this_code" and wrong[n]["inherited_from"] is None
        and wrong[n]["mistake"] == f"the output of other code: this spec's run prints {first:.9g} after step 1"
        for n in printout)
    assert found["out_o2 (line 60)"]["ok"]


def test_seed_002_wrong_weight_in_out_y1_and_what_inherits_it():
    wrong, found = wrong_of("002")
    assert wrong["net_h1 (line 25, inside σ(z1))"]["mistake"] == "swapped indices: w2 used where w3 belongs"
    assert wrong["net_o1 (line 39, out_y1)"]["mistake"] == "swapped indices: w6 used where w7 belongs"
    yhat = wrong["out_o1 (line 40, ŷ1)"]
    assert yhat["inherited_from"] == ["net_o1 (line 39, out_y1)"] and yhat["mistake"].startswith("digit slip")
    inherits = {"E_total (line 61)": "E_o1 (line 53)", "dE_dout_o1 (line 84)": "out_o1 (line 40, ŷ1)",
                "dout_o1_dnet_o1 (line 92)": "out_o1 (line 40, ŷ1)", "dE_dw5 (line 109)": "dE_dout_o1 (line 84)",
                "w5_after (line 115)": "dE_dw5 (line 109)", "dE_o1_dout_h1 (line 151)": "delta_o1"}
    for name, source in inherits.items():
        assert wrong[name]["mistake"] is None and any(s.startswith(source) for s in wrong[name]["inherited_from"])
    # δ_o1 is claimed only at line 145: ∂E/∂w5 (line 109) inherits from what is written before it
    assert wrong["dE_dw5 (line 109)"]["inherited_from"] == ["dE_dout_o1 (line 84)", "dout_o1_dnet_o1 (line 92)"]
    assert "cut instead of rounded" in wrong["E_o1 (line 53)"]["mistake"] and wrong["E_o1 (line 53)"]["mistake_id"] == "cut"
    # the correct line beside the wrong one: symbols = numbers = result (w3 = 0.25, i2 = 0.1, seed 002's sheet)
    line = wrong["net_h1 (line 25, inside σ(z1))"]["correct_line"]
    assert line.startswith("net_h1 = w1·i1 + w3·i2 + b1 = ") and "0.25·0.1" in line and line.endswith(" = 0.3325")
    right = {n for n, c in found.items() if c["ok"]}
    assert right == {"net_h1 (line 19, z1)", "out_h1 (line 25, a_h1)", "out_h2 (line 32, a_h2)", "out_o2 (line 43, ŷ2)",
                     "E_o2 (line 57)", "dout_h1_dnet_h1 (line 165)"}


def test_seed_003_gradient_from_rounded_values():
    wrong, found = wrong_of("003")
    assert set(wrong) == {"dE_dw5 (∇w_jk)", "w5_after (w_jk)"}
    assert wrong["dE_dw5 (∇w_jk)"]["mistake"].startswith("computed from rounded values")   # 0.231·0.731
    assert wrong["w5_after (w_jk)"]["inherited_from"] == ["dE_dw5 (∇w_jk)"]


def test_seed_004_orange_with_blue_weights_squared_residual_and_flipped_sign():
    code, text = run("check", "seed:004", "--format", "json")
    claims = json.loads(text)["claims"]
    wrong = [c for c in claims if not c["ok"]]
    orange = [c for c in wrong if c["name"].startswith("out_orange")]      # the seed's own neuron names
    assert len(orange) == 3 and all(c["mistake"] == "swapped indices: computed with the weights of blue" for c in orange)
    green = [c for c in wrong if c["name"].startswith("out_green")]
    assert len(green) == 3 and all(c["inherited_from"] == ["out_orange (y_orange)"] for c in green)
    by_name = {c["name"]: c for c in wrong}
    assert by_name["dE_db3 (derivative_value)"]["mistake"] == "the squared residual used where the residual belongs"
    assert by_name["b3_after (updated b_3)"]["mistake"] == "the update's sign flipped"
    assert by_name["b3_after (updated b_3)"]["inherited_from"] == ["dE_db3 (derivative_value)"]
    assert "b3_after (updated b_3)" in by_name["loss_after (new loss func value)"]["inherited_from"]
    assert all(c["ok"] for c in claims if c["name"].startswith("out_blue"))


@pytest.mark.parametrize("body, message", [
    ('spec = "mazur"\n[[claims]]\nnet_h7 = 0.3\n', "claims.toml:3: net_h7: expected a name of this network"),
    ('spec = "mazur"\n[[claims]]\nfoo = 0.3\n', "claims.toml:3: foo: expected a claim name such as net_h1"),
    ('spec = "mazur"\n[[claims]]\nout_o1 = "abc"\n', """claims.toml:3: out_o1: expected a number (or "?" for a blank), got 'abc'"""),
    ('spec = "nope"\n[[claims]]\nout_o1 = 0.7\n', "claims.toml:1: spec: does not load: nope: expected a spec file"),
    ('[[claims]]\nout_o1 = 0.7\n', "claims.toml: spec: missing"),
    ('spec = "mazur"\n[[claims]]\nout_o1 = \n', "claims.toml:3: invalid TOML"),
    ('spec = "mazur"\nsteps = 3\n[[claims]]\nout_o1 = 0.7\n', "claims.toml:2: steps: expected one of claims, spec, title"),
    ('spec = "mazur"\n[[claims]]\nstep = 0\nout_o1 = 0.7\n', "claims.toml:3: step: expected an integer from 1"),
    ('spec = "mazur"\n[[claims]]\nsample = 2\nout_o1 = 0.7\n', "sample 2: expected one of the samples of step 1"),
    ('spec = "mazur"\n[spec2]\n', "spec2: expected one of claims, spec, title"),
])
def test_bad_claims_files_get_one_line_naming_the_key(tmp_path, capsys, body, message):
    code, text = run("check", write(tmp_path, body))
    err = capsys.readouterr().err
    assert code == 2 and text == ""
    assert message in err and err.count("\n") == 1, err


def test_an_inline_spec_table_and_a_spec_path_relative_to_the_claims_file(tmp_path):
    (tmp_path / "net.toml").write_text((__import__("chainrule").examples.path("mazur")).read_text())
    code, _ = run("check", write(tmp_path, 'spec = "net.toml"\n[[claims]]\nout_o1 = 0.75136507\n'))
    assert code == 0
    code, _ = run("check", write(tmp_path, """
[spec.network]
inputs = 1
loss = "half_sse"
[[spec.network.layers]]
units = 1
activation = "identity"
weights = [[2.0]]
bias = 0.5
[spec.data]
inputs = [[3.0]]
targets = [[1.0]]
[[claims]]
net_o1 = 6.5
dE_dw1 = 16.5
""", "inline.toml"))
    assert code == 0   # net = 2·3 + 0.5; ∂E/∂w = (6.5 − 1)·3


def test_unknown_seed_is_a_usage_error(capsys):
    code, _ = run("check", "seed:009")
    assert code == 2 and "seed:009: expected one of seed:000, seed:001, seed:002, seed:003, seed:004" in capsys.readouterr().err


# the issue's examples on seed 000's step (issue 27), each derived by hand from the seed's printed values
NET_H1_, OUT_O1_ = 0.3775, OUT_O1
ISSUE_EXAMPLES = [
    ("out_h1", math.tanh(0.3775), "other_activation"),                         # tanh where the spec says sigmoid
    ("net_o1", 0.40 * I1 + 0.45 * I2 + 0.60, "wrong_layer_inputs"),            # the inputs where out_h belongs
    ("w5_after", 0.40 - ETA ** 2 * DELTA_O1 * OUT_H1, "rate_squared"),         # w5 − η²·g
    ("dE_db1", DELTA_H1 * I1, "bias_as_weight"),                               # δ_h1·i1, once called dE_dw1 copied
    ("delta_h1", DELTA_O1 * 0.40 + DELTA_O2 * 0.50, "no_derivative"),          # δ_h1 without σ′, alone
]


@pytest.mark.parametrize("entry", ISSUE_EXAMPLES, ids=[e[2] for e in ISSUE_EXAMPLES])
def test_the_issues_examples_are_named_alone(tmp_path, entry):
    claim, value, mistake = entry
    code, found = verdicts(write(tmp_path, f'spec = "mazur"\n[[claims]]\n{claim} = {value:.9f}\n'))
    (verdict,) = found.values()
    assert verdict["mistake_id"] == mistake, verdict
