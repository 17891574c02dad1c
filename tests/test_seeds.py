"""The seeds' own numbers, written here from the seeds' text, reproduced by the built-in examples.

Every expected value below is copied from a seed document (../shared/seeds) or derived by hand
from the seed's formulas in plain Python — never from chainrule's output.
"""

import math

import numpy as np
import pytest

import chainrule as cr
from conftest import first_step, printed


# ---- seed 000: Mazur's 2-2-2 example -------------------------------------------------------------

def test_seed000_forward_values(mazur_step):
    s = mazur_step.samples[0]
    hidden, output = s.layers
    printed(hidden["net"][0], "0.3775")
    printed(hidden["out"][0], "0.593269992")
    printed(hidden["net"][1], "0.3925")
    printed(hidden["out"][1], "0.596884378")
    printed(output["net"][0], "1.10590597")
    printed(output["out"][0], "0.75136507")
    printed(output["net"][1], "1.2249214")
    printed(output["out"][1], "0.772928465")


def test_seed000_errors(mazur_step):
    s = mazur_step.samples[0]
    printed(s.errors[0], "0.274811083")
    printed(s.errors[1], "0.023560026")
    printed(s.loss, "0.298371109")
    printed(mazur_step.loss_before, "0.298371109")


def test_seed000_gradient_of_w5_and_update(mazur_step):
    printed(mazur_step.gradients[1]["weights"][0][0], "0.082167041")
    printed(mazur_step.parameters_after[1]["weights"][0][0], "0.35891648")


def test_seed000_all_eight_updated_weights(mazur_step):
    after = mazur_step.parameters_after
    w = after[0]["weights"][0] + after[0]["weights"][1] + after[1]["weights"][0] + after[1]["weights"][1]
    seed_text = ["0.149780716", "0.19956143", "0.24975114", "0.29950229",
                 "0.35891648", "0.408666186", "0.511301270", "0.561370121"]
    for value, text in zip(w, seed_text):
        printed(value, text)


def test_seed000_shared_biases_follow_the_seeds_formula(mazur_step):
    # ∂E/∂b1 and ∂E/∂b2 written out as in seed 000's "Deeper Network and bias" section, by hand.
    sig = lambda z: 1 / (1 + math.exp(-z))
    oh1, oh2 = sig(0.3775), sig(0.3925)
    oo1, oo2 = sig(0.40 * oh1 + 0.45 * oh2 + 0.60), sig(0.50 * oh1 + 0.55 * oh2 + 0.60)
    d1 = (oo1 - 0.01) * oo1 * (1 - oo1)
    d2 = (oo2 - 0.99) * oo2 * (1 - oo2)
    dE_db1 = (d1 * (0.40 * oh1 * (1 - oh1) + 0.45 * oh2 * (1 - oh2))
              + d2 * (0.50 * oh1 * (1 - oh1) + 0.55 * oh2 * (1 - oh2)))
    dE_db2 = d1 + d2
    assert mazur_step.gradients[0]["bias"] == pytest.approx(dE_db1, rel=1e-12)
    assert mazur_step.gradients[1]["bias"] == pytest.approx(dE_db2, rel=1e-12)
    assert mazur_step.parameters_after[0]["bias"] == pytest.approx(0.35 - 0.5 * dE_db1, rel=1e-12)
    assert mazur_step.parameters_after[1]["bias"] == pytest.approx(0.60 - 0.5 * dE_db2, rel=1e-12)


def test_seed000_matrix_form_gives_the_same_step(mazur_step):
    # Seed 000's linear-algebra section: augmented matrices, δ vectors and outer products.
    sig = lambda z: 1 / (1 + np.exp(-z))
    A1 = np.array([[0.15, 0.20, 0.35], [0.25, 0.30, 0.35]])
    A2 = np.array([[0.40, 0.45, 0.60], [0.50, 0.55, 0.60]])
    i = np.array([0.05, 0.10, 1.0])
    h = sig(A1 @ i)
    o = sig(A2 @ np.append(h, 1.0))
    delta2 = (o - [0.01, 0.99]) * o * (1 - o)
    dev2 = np.outer(delta2, np.append(h, 1.0))
    delta1 = (A2[:, :2].T @ delta2) * h * (1 - h)
    dev1 = np.outer(delta1, i)
    np.testing.assert_allclose(mazur_step.gradients[1]["weights"], dev2[:, :2], rtol=1e-12)
    np.testing.assert_allclose(mazur_step.gradients[0]["weights"], dev1[:, :2], rtol=1e-12)
    assert mazur_step.gradients[1]["bias"] == pytest.approx(dev2[:, 2].sum(), rel=1e-12)
    assert mazur_step.gradients[0]["bias"] == pytest.approx(dev1[:, 2].sum(), rel=1e-12)


# ---- seed 001: the object-oriented code, biases never updated --------------------------------------

def _seed001_code(iterations, target):
    """Seed 001's algorithm as its code runs it, neuron by neuron in plain Python floats."""
    hidden_w = [[0.15, 0.2], [0.25, 0.3]]
    out_w = [[0.4, 0.45], [0.5, 0.55]]
    hb, ob, x, lr = 0.35, 0.6, [0.05, 0.1], 0.5
    squash = lambda total: 1 / (1 + math.exp(-total))

    def forward():
        h = [squash(sum(x[i] * w[i] for i in range(2)) + hb) for w in hidden_w]
        o = [squash(sum(h[i] * w[i] for i in range(2)) + ob) for w in out_w]
        return h, o

    errors = []
    for _ in range(iterations):
        h, o = forward()
        d_o = [-(target[k] - o[k]) * o[k] * (1 - o[k]) for k in range(2)]
        d_h = [sum(d_o[k] * out_w[k][j] for k in range(2)) * h[j] * (1 - h[j]) for j in range(2)]
        for k in range(2):
            for j in range(2):
                out_w[k][j] -= lr * d_o[k] * h[j]
        for j in range(2):
            for i in range(2):
                hidden_w[j][i] -= lr * d_h[j] * x[i]
        _, o = forward()
        errors.append(sum(0.5 * (target[k] - o[k]) ** 2 for k in range(2)))
    return errors, hidden_w, out_w


def test_seed001_code_trained_10000_iterations():
    spec = cr.load("mazur-code")
    assert spec.training.epochs == 10000
    x, t = spec.require_data()
    assert t.tolist() == [[0.01, 0.09]]  # the code's own call: nn.train([0.05, 0.1], [0.01, 0.09])
    network = spec.build_network()
    history = cr.fit(network, x, t, spec.training)
    errors, hidden_w, out_w = _seed001_code(10000, [0.01, 0.09])
    np.testing.assert_allclose(history.loss_history, errors, rtol=1e-9)
    np.testing.assert_allclose(network.layers[0].weights, hidden_w, rtol=1e-9)
    np.testing.assert_allclose(network.layers[1].weights, out_w, rtol=1e-9)
    assert float(network.layers[0].bias) == 0.35 and float(network.layers[1].bias) == 0.6


# ---- seed 002: the worksheet with column-wise numbering ---------------------------------------------

def test_seed002_worksheet_values():
    step = first_step("worksheet")
    s = step.samples[0]
    printed(s.layers[0]["net"][0], "0.3325")   # z1 = 0.15·0.05 + 0.25·0.1 + 0.30
    printed(s.layers[0]["net"][1], "0.34")     # z2 = 0.20·0.05 + 0.3·0.1 + 0.30
    printed(s.layers[0]["out"][0], "0.5824")   # a_h1
    printed(s.layers[0]["out"][1], "0.5842")   # a_h2
    printed(s.layers[1]["out"][1], "0.7830")   # ŷ2
    printed(s.errors[1], "0.0214")             # E_y2
    net = cr.load("worksheet").build_network()
    ref = net.labels
    # column numbering: w1: x1→h1, w2: x1→h2, w3: x2→h1, w4: x2→h2
    assert [(ref[f"w{n}"].layer, ref[f"w{n}"].index) for n in (1, 2, 3, 4)] == [(0, (0, 0)), (0, (1, 0)),
                                                                                 (0, (0, 1)), (0, (1, 1))]
    assert [ref[f"w{n}"].get(net) for n in range(1, 9)] == [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]


# ---- seed 003: gokadin's visual step and the XOR network ------------------------------------------

def test_seed003_visual_step():
    step = first_step("visual")
    s = step.samples[0]
    printed(s.layers[0]["net"][0], "1.0")       # x_j = 1.0·0.5 + 1.0·0.5
    printed(s.layers[0]["out"][0], "0.731")     # y_j = σ(1)
    printed(s.layers[1]["net"][0], "0.731")     # x_k
    printed(s.deltas[1][0], "0.231")            # δ_k = y_k − y'_k
    printed(s.deltas[0][0], "0.0227")           # δ_j ≈ 0.0227
    printed(step.gradients[0]["weights"][0][0], "0.0227")
    printed(step.parameters_after[0]["weights"][0][0], "0.499773")
    # The seed prints ∇w_jk = 0.231·0.731 = 0.168861 and w_jk = 0.49831139, products of values it had
    # already rounded to 3 digits; to the 3 significant digits of those inputs:
    printed(step.gradients[1]["weights"][0][0], "0.169")
    printed(step.parameters_after[1]["weights"][0][0], "0.49831")
    net = cr.load("visual").build_network()
    for layer, params in zip(net.layers, step.parameters_after):
        layer.weights[...] = params["weights"]
    y = net.predict([[1.0, 1.0]])[0, 0]
    printed(y, "0.7285")          # "we get y ≈ 0.7285 after the weight changes"
    printed(y - 0.5, "0.2285")


def test_seed003_xor_learns_within_005():
    spec = cr.load("xor")
    x, t = spec.require_data()
    network = spec.build_network()
    cr.fit(network, x, t, spec.training)
    outputs = network.predict(x)
    assert np.all(np.abs(outputs - np.array([[0], [1], [1], [0]])) < 0.05)


# ---- seed 004: softplus 1-2-1 with np.random.seed(42) ---------------------------------------------

def test_seed004_initial_weights_are_the_legacy_draws():
    state = np.random.RandomState(42)
    w = [state.normal(0, 1) for _ in range(4)]  # np.random.seed(42); w_1 = np.random.normal(0, 1); …
    net = cr.load("softplus").build_network()
    assert [net.labels[f"w{n}"].get(net) for n in (1, 2, 3, 4)] == w
    assert [net.labels[f"b{n}"].get(net) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]


def test_seed004_y_blue_values():
    spec = cr.load("softplus")
    x, _ = spec.require_data()
    hidden = spec.build_network().forward(x)[0].out
    for value, text in zip(hidden[:, 0], ["0.718291262698181", "0.8334146592824242", "0.9173954367325202"]):
        printed(value, text)


def test_seed004_b3_step_is_gradient_descent_on_ssr():
    # By hand: ŷ = w3·softplus(w1·x) + w4·softplus(w2·x) + b3; ∂SSR/∂b3 = −2·Σ(y − ŷ); b3⁺ = b3 − 0.01·∂SSR/∂b3.
    state = np.random.RandomState(42)
    w1, w2, w3, w4 = (state.normal(0, 1) for _ in range(4))
    sp = lambda z: math.log1p(math.exp(z))
    xs, ys = [0.1, 0.53, 0.82], [1.2, 3.2, 1.1]
    y_hat = [w3 * sp(w1 * x) + w4 * sp(w2 * x) for x in xs]
    grad = -2 * sum(y - yh for y, yh in zip(ys, y_hat))
    step = first_step("softplus")
    assert step.gradients[1]["bias"][0] == pytest.approx(grad, rel=1e-12)
    assert step.parameters_after[1]["bias"][0] == pytest.approx(-0.01 * grad, rel=1e-12)
    assert step.parameters_after[0] == step.parameters_before[0]   # all but b3 frozen
    assert step.loss_before == pytest.approx(sum((y - yh) ** 2 for y, yh in zip(ys, y_hat)), rel=1e-12)
