"""`chainrule check` names the mistakes of every activation, loss and optimiser, and the structural ones,
on networks of several depths and widths.

Every number here — the right ones and each student's wrong one — is worked out in this file by plain
numpy arithmetic (``Hand``: the forward pass, the chain rule and the update rules written out), with the
student's wrong piece put in where the right one belongs; chainrule only reads the claims and names the
mistake.  Each mistake is checked alone in a claims file and after a few right claims."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.check import check


def sig(z):
    return 1 / (1 + np.exp(-z))


# each activation by hand: f(net), and f′ from (net, out)
F = {"sigmoid": sig, "tanh": np.tanh, "relu": lambda z: np.where(z > 0, z, 0.0), "identity": lambda z: z,
     "softplus": lambda z: np.log1p(np.exp(z)), "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
     "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1), "silu": lambda z: z * sig(z),
     "softmax": lambda z: np.exp(z) / np.exp(z).sum()}
DF = {"sigmoid": lambda z, a: a * (1 - a), "tanh": lambda z, a: 1 - a ** 2, "relu": lambda z, a: (z > 0) * 1.0,
      "identity": lambda z, a: np.ones_like(z), "softplus": lambda z, a: sig(z),
      "leaky_relu": lambda z, a: np.where(z > 0, 1.0, 0.01), "elu": lambda z, a: np.where(z > 0, 1.0, np.exp(z)),
      "silu": lambda z, a: sig(z) * (1 + z * (1 - sig(z)))}


class Net:
    """A network written out: weights (units × fan_in) and biases per layer, activations, loss, one
    sample or a batch; ``toml`` is its claims file's spec."""

    def __init__(self, inputs, layers, loss, x, t, bias_mode="per_neuron", eta=0.5, optimizer=None, batch="full",
                 reduction="sum"):
        self.layers = [(np.array(w, float), np.array(b, float), act) for w, b, act in layers]
        self.inputs, self.loss, self.bias_mode, self.eta = inputs, loss, bias_mode, eta
        self.x, self.t = np.array(x, float), np.array(t, float)
        self.optimizer, self.batch, self.reduction = optimizer or {}, batch, reduction

    @property
    def depth(self):
        return len(self.layers)

    def neuron(self, l, j):
        if l == self.depth - 1:
            return f"o{j + 1}"
        return f"h{j + 1}" if self.depth == 2 else f"h{l + 1}_{j + 1}"

    def labels(self):
        """w1… row by row, layer by layer; b1… one per neuron (per_neuron) or per layer (shared)."""
        w, b, out = 0, 0, []
        for W, _, _ in self.layers:
            rows = []
            for j in range(W.shape[0]):
                rows.append([f"w{w + i + 1}" for i in range(W.shape[1])])
                w += W.shape[1]
            if self.bias_mode == "per_neuron":
                biases = [f"b{b + j + 1}" for j in range(W.shape[0])]
                b += W.shape[0]
            else:
                biases = [f"b{b + 1}"] * W.shape[0]
                b += 1
            out.append((rows, biases))
        return out

    def toml(self, step=1):
        lines = ["[spec.network]", f"inputs = {self.inputs}", f'loss = "{self.loss}"']
        for W, b, act in self.layers:
            lines += ["[[spec.network.layers]]", f"units = {W.shape[0]}", f'activation = "{act}"',
                      f"weights = {W.tolist()}", f'bias_mode = "{self.bias_mode}"',
                      f"bias = {b.tolist() if self.bias_mode == 'per_neuron' else float(b[0])}"]
        lines += ["[spec.training]", f"learning_rate = {self.eta}",
                  f"batch = {self.batch if self.batch != 'full' else repr('full')}".replace("'", '"'),
                  f'reduction = "{self.reduction}"', f"epochs = {step + 1}", "shuffle = false"]
        lines += [f"{k} = {str(v).lower() if isinstance(v, bool) else v if not isinstance(v, str) else repr(v)}".replace("'", '"')
                  for k, v in self.optimizer.items()]
        lines += ["[spec.data]", f"inputs = {self.x.tolist()}", f"targets = {self.t.tolist()}"]
        return "\n".join(lines) + "\n"


class Hand:
    """One sample's forward and backward pass worked by hand, with pieces a student may get wrong
    replaced: ``f[l]``/``df[l]`` a layer's function/derivative, ``dE_dout``/``delta_out``/``E`` the
    loss's, ``back(l, W, delta)`` the sum of a hidden ∂E/∂out, ``inputs(l, values)`` a layer's inputs."""

    def __init__(self, net: Net, x, t, params=None, f=None, df=None, dE_dout=None, delta_out=None, E=None,
                 back=None, inputs=None):
        self.net = net
        params = params or [(W, b) for W, b, _ in net.layers]
        acts = [act for _, _, act in net.layers]
        f, df = f or {}, df or {}
        self.nets, self.outs, values = [], [], [np.array(x, float)]
        for l, ((W, b), act) in enumerate(zip(params, acts)):
            entering = inputs(l, values) if inputs else values[-1]
            z = W @ entering + b
            a = f.get(l, F[act])(z)
            self.nets.append(z)
            self.outs.append(a)
            values.append(a)
        self.values = values
        out, t = self.outs[-1], np.array(t, float)
        k = len(out)
        default_E = {"half_sse": lambda o, t: 0.5 * (t - o) ** 2, "sse": lambda o, t: (t - o) ** 2,
                     "mse": lambda o, t: (t - o) ** 2 / k, "cross_entropy": lambda o, t: -t * np.log(o),
                     "bce": lambda o, t: -(t * np.log(o) + (1 - t) * np.log(1 - o)) / k}[net.loss]
        self.E = (E or default_E)(out, t)
        self.deltas = [None] * net.depth
        self.dE_douts = [None] * net.depth
        self.douts = [None] * net.depth
        fused = (net.loss, acts[-1]) in (("cross_entropy", "softmax"), ("bce", "sigmoid"))
        if fused:
            right = (out - t) / (k if net.loss == "bce" else 1)
            self.deltas[-1] = delta_out(out, t) if delta_out else right
        else:
            grad = {"half_sse": lambda o, t: o - t, "sse": lambda o, t: 2 * (o - t), "mse": lambda o, t: 2 * (o - t) / k}
            self.dE_douts[-1] = (dE_dout or grad[net.loss])(out, t)
            if acts[-1] == "softmax":        # the whole Jacobian: δ_j = out_j·(∂E/∂out_j − Σ_k ∂E/∂out_k·out_k)
                g = self.dE_douts[-1]
                self.deltas[-1] = df[net.depth - 1](self.nets[-1], out, g) if net.depth - 1 in df else out * (g - g @ out)
            else:
                self.douts[-1] = df.get(net.depth - 1, DF[acts[-1]])(self.nets[-1], out)
                self.deltas[-1] = self.dE_douts[-1] * self.douts[-1]
        for l in range(net.depth - 2, -1, -1):
            W_above = params[l + 1][0]
            self.dE_douts[l] = back(l, W_above, self.deltas[l + 1]) if back else W_above.T @ self.deltas[l + 1]
            self.douts[l] = df.get(l, DF[acts[l]])(self.nets[l], self.outs[l])
            self.deltas[l] = self.dE_douts[l] * self.douts[l]

    def gradients(self):
        """[(∂E/∂W, ∂E/∂b)] per layer, one sample: δ·inputᵀ and δ (a shared bias: Σ δ)."""
        found = []
        for l, delta in enumerate(self.deltas):
            db = delta if self.net.bias_mode == "per_neuron" else np.full_like(delta, delta.sum())
            found.append((np.outer(delta, self.values[l]), db))
        return found


def claim_value(net: Net, hand: Hand, name: str) -> float:
    """A claim name's value in a Hand pass: net_h1, out_o2, delta_h1_2, dE_dout_o1, dout_h1_dnet_h1, E_total."""
    names = {net.neuron(l, j): (l, j) for l in range(net.depth) for j in range(len(net.layers[l][1]))}
    kind, _, who = name.rpartition("_") if not name.startswith("dout_") else ("dout", "", name[5:].split("_dnet")[0])
    if name == "E_total":
        return float(hand.E.sum())
    for prefix, table in (("net_", hand.nets), ("out_", hand.outs), ("delta_", hand.deltas), ("dE_dout_", hand.dE_douts),
                          ("dout_", hand.douts), ("E_", None)):
        if name.startswith(prefix):
            neuron = name[len(prefix):].split("_dnet")[0]
            l, j = names[neuron]
            return float(hand.E[j]) if table is None else float(table[l][j])
    raise KeyError(name)


def claims_file(tmp_path, net: Net, claims: list[tuple[str, float]], step=1, sample=1, name="c.toml"):
    lines = [net.toml(step), "[[claims]]", f"step = {step}", f"sample = {sample}"]
    lines += [f'"{n}" = {v:.10f}' for n, v in claims]        # 10 decimals: never an integer literal
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def named(tmp_path, net, wrong: tuple[str, float], right: list[tuple[str, float]] = (), step=1, sample=1):
    """The verdict of the wrong claim, written alone (right=()) or after the right ones (all must hold)."""
    report = check(claims_file(tmp_path, net, [*right, wrong], step, sample))
    *rights, verdict = report.verdicts
    assert all(v.ok for v in rights), [(v.claim.key, v.claim.value, v.correct) for v in rights if not v.ok]
    assert not verdict.ok, (wrong, verdict.correct)
    return verdict


def assert_named(tmp_path, net, wrong, right_names, expected, step=1, sample=1, hand=None, sentence=None):
    hand = hand or Hand(net, net.x[sample - 1], net.t[sample - 1])
    right = [(n, claim_value(net, hand, n)) for n in right_names]
    for claims in ([], right):
        v = named(tmp_path, net, wrong, claims, step, sample)
        assert v.mistake_id == expected, (expected, wrong, v.mistake_id, v.mistake, v.correct)
        assert v.correct_line and v.inherited_from is None
        if sentence:
            assert sentence in v.mistake


# ---- the networks -----------------------------------------------------------------------------------------

def tanh_net(**kw):                 # 2-2-2: tanh hidden, identity outputs, half_sse, per-neuron biases
    return Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.3], "tanh"), ([[0.4, 0.45], [0.5, 0.55]], [0.6, 0.5], "identity")],
               "half_sse", [[0.05, 0.1]], [[0.01, 0.99]], **kw)


def relu_net():                     # 2-2-1: relu hidden with one negative net, sigmoid output, sse
    return Net(2, [([[0.5, -0.4], [-0.6, -0.2]], [0.1, 0.05], "relu"), ([[0.7, 0.3]], [0.2], "sigmoid")],
               "sse", [[0.6, 0.3]], [[0.9]])


def softmax_net():                  # 2-2-3: sigmoid hidden, softmax + cross-entropy with 3 classes
    return Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.35], "sigmoid"),
                   ([[0.4, 0.45], [0.5, 0.55], [-0.3, 0.2]], [0.6, 0.1, -0.2], "softmax")],
               "cross_entropy", [[0.05, 0.1]], [[0.0, 1.0, 0.0]])


def deep_net(acts=("sigmoid", "tanh", "identity"), loss="mse"):      # 2-3-2-1
    return Net(2, [([[0.1, -0.2], [0.3, 0.25], [-0.15, 0.4]], [0.1, -0.1, 0.2], acts[0]),
                   ([[0.5, -0.3, 0.2], [0.35, 0.45, -0.25]], [0.05, -0.05], acts[1]),
                   ([[0.6, -0.7]], [0.1], acts[2])], loss, [[0.8, -0.4]], [[0.3]])


def act_net(act):                   # 2-2-1 with the activation in the hidden layer (a negative net for the kinked ones)
    return Net(2, [([[0.5, -0.4], [0.3, 0.2]], [-0.3, 0.1], act), ([[0.7, -0.3]], [0.2], "identity")],
               "half_sse", [[0.6, 0.3]], [[0.9]])


# ---- activations: each declared mistake, on a network that uses it -------------------------------------------

def hidden_case(act, mistake, wrong_df=None, wrong_f=None, claim=None, sentence=None):
    """A hidden layer's wrong f′ (claimed: δ_h1) or wrong f (claimed: out_h1 … the given claim)."""
    return (act, mistake, wrong_df, wrong_f, claim, sentence)


ACTIVATION_CASES = [
    hidden_case("tanh", "tanh_derivative_not_squared", lambda z, a: 1 - a, sentence="tanh′ is 1 − out², not 1 − out"),
    hidden_case("tanh", "tanh_derivative_sign", lambda z, a: 1 + a ** 2),
    hidden_case("tanh", "derivative_at_net", lambda z, a: 1 - z ** 2),
    hidden_case("tanh", "other_derivative", lambda z, a: a * (1 - a), sentence="(sigmoid′ used)"),
    hidden_case("tanh", "other_activation", wrong_f=sig, claim="out_h1", sentence="not sigmoid(net)"),
    hidden_case("sigmoid", "sigmoid_derivative_out", lambda z, a: a),
    hidden_case("sigmoid", "sigmoid_derivative_one_minus_out", lambda z, a: 1 - a),
    hidden_case("sigmoid", "derivative_at_net", lambda z, a: z * (1 - z)),
    hidden_case("sigmoid", "sigmoid_exponent_sign", wrong_f=lambda z: 1 / (1 + np.exp(z)), claim="out_h2"),
    hidden_case("sigmoid", "other_activation", wrong_f=np.tanh, claim="out_h1", sentence="not tanh(net)"),
    hidden_case("relu", "relu_derivative_wrong_side", lambda z, a: (z <= 0) * 1.0, claim="delta_h2"),
    hidden_case("relu", "relu_derivative_value", lambda z, a: a, claim="delta_h2"),
    hidden_case("relu", "relu_not_clipped", wrong_f=lambda z: z, claim="out_h1"),
    hidden_case("leaky_relu", "leaky_relu_no_slope", lambda z, a: (z > 0) * 1.0),
    hidden_case("leaky_relu", "leaky_relu_derivative_wrong_side", lambda z, a: np.where(z > 0, 0.01, 1.0), claim="delta_h2"),
    hidden_case("leaky_relu", "leaky_relu_value_no_slope", wrong_f=lambda z: np.where(z > 0, z, 0.0), claim="out_h1"),
    hidden_case("softplus", "softplus_derivative_at_out", lambda z, a: sig(a)),
    hidden_case("softplus", "softplus_derivative_sign", lambda z, a: sig(-z)),
    hidden_case("elu", "elu_derivative_function", lambda z, a: np.where(z > 0, 1.0, np.exp(z) - 1)),
    hidden_case("silu", "silu_derivative_sigmoid", lambda z, a: sig(z)),
    hidden_case("silu", "silu_derivative_sigmoid_prime", lambda z, a: sig(z) * (1 - sig(z))),
    hidden_case("identity", "identity_derivative_out", lambda z, a: a),
]


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=[f"{c[0]}-{c[1]}" for c in ACTIVATION_CASES])
def test_each_activation_mistake_is_named(tmp_path, case):
    act, mistake, wrong_df, wrong_f, claim, sentence = case
    net = act_net(act) if act != "identity" else deep_net(("sigmoid", "identity", "identity"))
    if wrong_df is not None:
        claim = claim or ("delta_h1" if act != "identity" else "delta_h2_1")
        layer = 0 if act != "identity" else 1
        student = Hand(net, net.x[0], net.t[0], df={layer: wrong_df})
    else:
        student = Hand(net, net.x[0], net.t[0], f={0: wrong_f})
    if act == "relu":
        assert Hand(net, net.x[0], net.t[0]).nets[0][0] < 0        # the kink's wrong side is exercised
    right = ["net_h1"] if act != "identity" else ["net_h1_1", "out_h1_2"]
    assert_named(tmp_path, net, (claim, claim_value(net, student, claim)), right, mistake, sentence=sentence)


def test_the_identity_output_treated_as_a_sigmoid_is_named(tmp_path):
    """The visual example's identity output worked as a sigmoid: δ_o1 = (out − t)·out·(1 − out)."""
    net = Net(2, [([[0.5, 0.5], [0.5, 0.5]], [0.0, 0.0], "sigmoid"), ([[0.5, 0.5]], [0.0], "identity")],
              "half_sse", [[1.0, 1.0]], [[0.5]], eta=0.01)
    out_h = 1 / (1 + math.exp(-1.0))                      # net_h = 0.5 + 0.5
    out_o = 0.5 * out_h * 2
    wrong = (out_o - 0.5) * out_o * (1 - out_o)
    v = named(tmp_path, net, ("delta_o1", wrong))
    assert v.mistake_id == "other_derivative" and "(sigmoid′ used)" in v.mistake


def test_softmax_without_its_jacobian_is_named_with_a_non_fused_loss(tmp_path):
    """softmax with mse (no fused δ): δ_j = ∂E/∂out_j·out_j·(1 − out_j), the cross terms dropped."""
    net = Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.35], "sigmoid"),
                  ([[0.4, 0.45], [0.5, 0.55], [-0.3, 0.2]], [0.6, 0.1, -0.2], "softmax")], "mse",
              [[0.05, 0.1]], [[0.0, 1.0, 0.0]])
    student = Hand(net, net.x[0], net.t[0], df={1: lambda z, a, g: g * a * (1 - a)})
    assert_named(tmp_path, net, ("delta_o2", claim_value(net, student, "delta_o2")), ["net_h1", "out_o2"],
                 "softmax_diagonal_only")
    student = Hand(net, net.x[0], net.t[0], f={1: sig})
    assert_named(tmp_path, net, ("out_o3", claim_value(net, student, "out_o3")), ["net_h1"], "softmax_as_sigmoid")
    student = Hand(net, net.x[0], net.t[0], f={1: np.exp})
    assert_named(tmp_path, net, ("out_o1", claim_value(net, student, "out_o1")), ["net_h1"], "softmax_not_normalised")


def test_a_mistake_in_one_layer_of_a_deep_network_is_named_alone(tmp_path):
    """2-3-2-1: tanh′ as 1 − out in the second layer only, δ_h2_2 claimed with nothing before it."""
    net = deep_net()
    student = Hand(net, net.x[0], net.t[0], df={1: lambda z, a: 1 - a})
    assert_named(tmp_path, net, ("delta_h2_2", claim_value(net, student, "delta_h2_2")), ["net_h1_1", "out_h2_1"],
                 "tanh_derivative_not_squared")
    student = Hand(net, net.x[0], net.t[0], df={0: lambda z, a: 1.0})       # σ′ dropped in layer 1 alone
    assert_named(tmp_path, net, ("delta_h1_3", claim_value(net, student, "delta_h1_3")), ["net_h1_1"], "no_derivative")


# ---- losses -----------------------------------------------------------------------------------------------

LOSS_CASES = [      # (loss, output activation, mistake, claim, the student's piece)
    ("half_sse", "sigmoid", "sign", "dE_dout_o1", dict(dE_dout=lambda o, t: t - o)),
    ("half_sse", "sigmoid", "squared", "dE_dout_o1", dict(dE_dout=lambda o, t: -(t - o) ** 2)),
    ("half_sse", "sigmoid", "two_kept", "delta_o1", dict(dE_dout=lambda o, t: 2 * (o - t))),
    ("half_sse", "sigmoid", "half_forgotten", "E_total", dict(E=lambda o, t: (t - o) ** 2)),
    ("sse", "identity", "two_dropped", "dE_dout_o1", dict(dE_dout=lambda o, t: o - t)),
    ("sse", "identity", "half_added", "E_total", dict(E=lambda o, t: 0.5 * (t - o) ** 2)),
    ("sse", "identity", "sign", "delta_o1", dict(dE_dout=lambda o, t: 2 * (t - o))),
    ("sse", "identity", "squared", "dE_dout_o1", dict(dE_dout=lambda o, t: -2 * (t - o) ** 2)),
    ("mse", "identity", "mean_not_taken", "dE_dout_o2", dict(dE_dout=lambda o, t: 2 * (o - t))),
    ("mse", "identity", "two_dropped", "dE_dout_o2", dict(dE_dout=lambda o, t: (o - t) / 2)),
    ("mse", "identity", "mean_not_taken", "E_total", dict(E=lambda o, t: (t - o) ** 2)),
    ("mse", "identity", "sign", "dE_dout_o1", dict(dE_dout=lambda o, t: (t - o))),
    ("mse", "identity", "squared", "dE_dout_o1", dict(dE_dout=lambda o, t: -2 * (t - o) ** 2 / 2)),
    ("cross_entropy", "softmax", "activation_factor_added", "delta_o1", dict(delta_out=lambda o, t: (o - t) * o * (1 - o))),
    ("cross_entropy", "softmax", "gradient_as_delta", "delta_o2", dict(delta_out=lambda o, t: -t / o)),
    ("cross_entropy", "softmax", "sign", "delta_o3", dict(delta_out=lambda o, t: t - o)),
    ("cross_entropy", "softmax", "log_sign", "E_total", dict(E=lambda o, t: t * np.log(o))),
    ("bce", "sigmoid", "activation_factor_added", "delta_o1", dict(delta_out=lambda o, t: (o - t) / 2 * o * (1 - o))),
    ("bce", "sigmoid", "mean_not_taken", "delta_o2", dict(delta_out=lambda o, t: o - t)),
    ("bce", "sigmoid", "sign", "delta_o1", dict(delta_out=lambda o, t: (t - o) / 2)),
]


def loss_net(loss, act):
    if loss == "cross_entropy":
        return softmax_net()
    t = [[0.2, 0.7]] if loss != "bce" else [[1.0, 0.0]]
    return Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.3], "tanh"), ([[0.4, 0.45], [0.5, -0.55]], [0.6, 0.1], act)],
               loss, [[0.05, 0.1]], t)


@pytest.mark.parametrize("case", LOSS_CASES, ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in LOSS_CASES])
def test_each_loss_mistake_is_named(tmp_path, case):
    loss, act, mistake, claim, piece = case
    net = loss_net(loss, act)
    student = Hand(net, net.x[0], net.t[0], **piece)
    assert_named(tmp_path, net, (claim, claim_value(net, student, claim)), ["net_h1", "out_o1"], mistake)


# ---- structure, at two depths -------------------------------------------------------------------------------

def one_path(l, W, delta):              # only the path through the next layer's first neuron
    return W[0] * delta[0]


STRUCTURE = [      # (mistake, claim in the 2-2-2 / in the 2-3-2-1 network, the student's piece)
    ("one_path", "dE_dout_h1", "dE_dout_h2_2", dict(back=one_path)),
    ("errors_not_deltas", "dE_dout_h2", None, None),
    ("wrong_layer_inputs", "net_o1", "net_h2_1", None),
]


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-2", "2-3-2-1"])
def test_one_path_is_named_at_two_depths(tmp_path, deep):
    net = deep_net() if deep else tanh_net()
    claim = "dE_dout_h1_2" if deep else "dE_dout_h1"
    student = Hand(net, net.x[0], net.t[0], back=lambda l, W, d: W[0] * d[0] if l == 0 else W.T @ d)
    assert_named(tmp_path, net, (claim, claim_value(net, student, claim)), [], "one_path")


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-2", "2-3-2-1"])
def test_the_wrong_layers_values_as_inputs_are_named_at_two_depths(tmp_path, deep):
    """net of the output layer computed from the inputs (2-2-2), or from layer 1's outputs where layer 2's
    belong (2-3-2-1: the inputs are 2 wide like layer 2, so the inputs are the lower layer of that width)."""
    if deep:
        net = deep_net()
        hand = Hand(net, net.x[0], net.t[0])
        W, b, _ = net.layers[2]
        wrong = float(W[0] @ net.x[0] + b[0])                # net_o1 from the inputs i1, i2
        assert_named(tmp_path, net, ("net_o1", wrong), ["net_h1_1"], "wrong_layer_inputs",
                     sentence="computed from the inputs (i1, i2) where layer 2's outputs")
    else:
        net = tanh_net()
        W, b, _ = net.layers[1]
        wrong = float(W[1] @ net.x[0] + b[1])
        assert_named(tmp_path, net, ("net_o2", wrong), ["net_h1"], "wrong_layer_inputs",
                     sentence="computed from the inputs (i1, i2)")


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-2", "2-3-2-1"])
def test_w_where_w_transposed_belongs_is_named_at_two_depths(tmp_path, deep):
    net = deep_net(("sigmoid", "tanh", "identity")) if not deep else Net(
        2, [([[0.1, -0.2], [0.3, 0.25]], [0.1, -0.1], "sigmoid"), ([[0.5, -0.3], [0.35, 0.45]], [0.05, -0.05], "tanh"),
            ([[0.6, -0.7], [0.2, 0.3]], [0.1, 0.0], "identity")], "half_sse", [[0.8, -0.4]], [[0.3, 0.6]])
    if not deep:
        net = tanh_net()
    claim = "dE_dout_h1_2" if deep else "dE_dout_h2"
    student = Hand(net, net.x[0], net.t[0], back=lambda l, W, d: W @ d if l == 0 else W.T @ d)   # W·δ, not Wᵀ·δ
    assert_named(tmp_path, net, (claim, claim_value(net, student, claim)), [], "transposed_weights")


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-2", "2-3-2-1"])
def test_a_bias_taken_as_a_weight_and_a_per_neuron_bias_summed_are_named_at_two_depths(tmp_path, deep):
    net = deep_net() if deep else tanh_net()
    hand = Hand(net, net.x[0], net.t[0])
    delta, inputs = hand.deltas[0], hand.values[0]
    b = "b2"                                              # the first layer's second neuron's bias
    assert_named(tmp_path, net, (f"dE_d{b}", float(delta[1] * inputs[0])), [], "bias_as_weight",
                 sentence="δ times an input (i1)")
    assert_named(tmp_path, net, (f"dE_d{b}", float(delta.sum())), [], "per_neuron_bias_summed")


def test_a_shared_bias_not_summed_is_named_on_a_deep_network(tmp_path):
    net = deep_net()
    net.bias_mode = "shared"
    net.layers = [(W, np.full(len(b), b[0]), act) for W, b, act in net.layers]
    hand = Hand(net, net.x[0], net.t[0])
    eta = net.eta
    wrong = float(net.layers[0][1][0] - eta * hand.deltas[0][2])        # b1⁺ from δ of h1_3 alone
    v = named(tmp_path, net, ("b1_after", wrong))
    assert v.mistake_id == "shared_bias_one_neuron" and "h1_3" in v.mistake


# ---- optimisers, at step 2 or 3 -----------------------------------------------------------------------------

def train_by_hand(net: Net, steps: int, rule, state=None):
    """The parameters before each step (1 … steps) and after the last, full batch of one sample, SGD-like
    rule(step, p, g, state) → p⁺ on every array (weights and biases of each layer)."""
    params = [(W.copy(), b.copy()) for W, b, _ in net.layers]
    history = []
    states: dict = {}
    for k in range(1, steps + 1):
        history.append([(W.copy(), b.copy()) for W, b in params])
        grads = Hand(net, net.x[0], net.t[0], params=params).gradients()
        params = [(rule(k, W, gW, states.setdefault((l, "W"), {})), rule(k, b, gb, states.setdefault((l, "b"), {})))
                  for l, ((W, b), (gW, gb)) in enumerate(zip(params, grads))]
    return history, params, states


def sgd_momentum(mu, eta, nesterov=False):
    def rule(k, p, g, s):
        s["prev"] = s.get("v")
        s["g"] = g
        s["v"] = g.copy() if s["prev"] is None else mu * s["prev"] + g
        return p - eta * ((g + mu * s["v"]) if nesterov else s["v"])
    return rule


def adam(eta, b1=0.9, b2=0.999, eps=1e-8):
    def rule(k, p, g, s):
        s["m_prev"], s["v_prev"], s["g"] = s.get("m", 0 * g), s.get("v", 0 * g), g
        s["m"] = b1 * s["m_prev"] + (1 - b1) * g
        s["v"] = b2 * s["v_prev"] + (1 - b2) * g * g
        return p - eta / (1 - b1 ** k) * s["m"] / (np.sqrt(s["v"]) / np.sqrt(1 - b2 ** k) + eps)
    return rule


def rmsprop(eta, alpha=0.99, eps=1e-8):
    def rule(k, p, g, s):
        s["v_prev"], s["g"] = s.get("v", 0 * g), g
        s["v"] = alpha * s["v_prev"] + (1 - alpha) * g * g
        return p - eta * g / (np.sqrt(s["v"]) + eps)
    return rule


def optim_net(**optimizer):
    return Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.3], "sigmoid"), ([[0.4, 0.45]], [0.6], "sigmoid")],
               "half_sse", [[0.05, 0.1]], [[0.01]], eta=optimizer.pop("eta", 0.5), optimizer=optimizer)


# (mistake, settings, step, rule by hand, the student's w5⁺ from (p, g, state, k, eta))
MU = 0.9
OPTIMIZER_CASES = [
    ("update_sign", {}, 2, lambda e: sgd_momentum(0, e), lambda p, g, s, k, e: p + e * g),
    ("no_rate", {}, 2, lambda e: sgd_momentum(0, e), lambda p, g, s, k, e: p - g),
    ("rate_squared", {}, 3, lambda e: sgd_momentum(0, e), lambda p, g, s, k, e: p - e * e * g),
    ("step_twice", {}, 2, lambda e: sgd_momentum(0, e), lambda p, g, s, k, e: p - 2 * e * g),
    ("velocity_subtracted", {"momentum": MU}, 2, lambda e: sgd_momentum(MU, e),
     lambda p, g, s, k, e: p - e * (MU * s["prev"] - g)),
    ("momentum_on_gradient", {"momentum": MU}, 3, lambda e: sgd_momentum(MU, e),
     lambda p, g, s, k, e: p - e * (s["prev"] + MU * g)),
    ("velocity_averaged", {"momentum": MU}, 2, lambda e: sgd_momentum(MU, e),
     lambda p, g, s, k, e: p - e * (MU * s["prev"] + (1 - MU) * g)),
    ("velocity_previous_step", {"momentum": MU}, 3, lambda e: sgd_momentum(MU, e),
     lambda p, g, s, k, e: p - e * s["prev"]),
    ("nesterov_no_lookahead", {"momentum": MU, "nesterov": True}, 2, lambda e: sgd_momentum(MU, e, True),
     lambda p, g, s, k, e: p - e * (MU * s["prev"] + g)),
    ("no_bias_correction", {"optimizer": "adam"}, 2, adam,
     lambda p, g, s, k, e: p - e * s["m"] / (np.sqrt(s["v"]) + 1e-8)),
    ("no_m_correction", {"optimizer": "adam"}, 2, adam,
     lambda p, g, s, k, e: p - e * s["m"] / (np.sqrt(s["v"]) / np.sqrt(1 - 0.999 ** k) + 1e-8)),
    ("no_v_correction", {"optimizer": "adam"}, 3, adam,
     lambda p, g, s, k, e: p - e / (1 - 0.9 ** k) * s["m"] / (np.sqrt(s["v"]) + 1e-8)),
    ("correction_previous_t", {"optimizer": "adam"}, 3, adam,
     lambda p, g, s, k, e: p - e / (1 - 0.9 ** (k - 1)) * s["m"] / (np.sqrt(s["v"]) / np.sqrt(1 - 0.999 ** (k - 1)) + 1e-8)),
    ("gradient_not_squared", {"optimizer": "adam"}, 2, adam,
     lambda p, g, s, k, e: p - e / (1 - 0.9 ** k) * s["m"] / (
         np.sqrt(0.999 * s["v_prev"] + 0.001 * g) / np.sqrt(1 - 0.999 ** k) + 1e-8)),
    ("moments_previous_step", {"optimizer": "adam"}, 3, adam,
     lambda p, g, s, k, e: p - e / (1 - 0.9 ** k) * s["m_prev"] / (np.sqrt(s["v_prev"]) / np.sqrt(1 - 0.999 ** k) + 1e-8)),
    ("no_sqrt", {"optimizer": "rmsprop"}, 2, rmsprop, lambda p, g, s, k, e: p - e * g / (s["v"] + 1e-8)),
    ("gradient_not_squared", {"optimizer": "rmsprop"}, 3, rmsprop,
     lambda p, g, s, k, e: p - e * g / (np.sqrt(0.99 * s["v_prev"] + 0.01 * g) + 1e-8)),
    ("alpha_swapped", {"optimizer": "rmsprop"}, 2, rmsprop,
     lambda p, g, s, k, e: p - e * g / (np.sqrt(0.01 * s["v_prev"] + 0.99 * g * g) + 1e-8)),
    ("average_previous_step", {"optimizer": "rmsprop"}, 3, rmsprop,
     lambda p, g, s, k, e: p - e * g / (np.sqrt(s["v_prev"]) + 1e-8)),
]


@pytest.mark.parametrize("case", OPTIMIZER_CASES, ids=[f"{c[1].get('optimizer', 'sgd')}-{c[0]}" for c in OPTIMIZER_CASES])
def test_each_optimiser_mistake_is_named_at_step_2_or_3(tmp_path, case):
    mistake, settings, step, rule, student = case
    eta = 0.05 if settings.get("optimizer") in ("adam", "rmsprop") else 0.3
    net = optim_net(eta=eta, **settings)
    history, _, states = train_by_hand(net, step, rule(eta))
    W5, g5 = history[-1][1][0][0, 0], states[(1, "W")]["g"]
    state = {key: value[0, 0] if value is not None else None for key, value in states[(1, "W")].items()}
    wrong = float(student(W5, g5[0, 0], state, step, eta))
    before = [("w5", float(W5)), ("dE_dw5", float(g5[0, 0]))]         # the student's right numbers of the step
    for right in ([], before):
        v = named(tmp_path, net, ("w5_after", wrong), right, step)
        assert v.mistake_id == mistake, (mistake, v.mistake_id, v.mistake)


def test_adam_eps_inside_the_square_root_is_named_where_eps_matters(tmp_path):
    eta, eps = 0.05, 0.01
    net = optim_net(eta=eta, optimizer="adam", eps=eps)
    history, _, states = train_by_hand(net, 2, adam(eta, eps=eps))
    s = {key: value[0, 0] for key, value in states[(1, "W")].items()}
    wrong = history[-1][1][0][0, 0] - eta / (1 - 0.9 ** 2) * s["m"] / np.sqrt(s["v"] / (1 - 0.999 ** 2) + eps)
    assert named(tmp_path, net, ("w5_after", float(wrong)), [], 2).mistake_id == "eps_inside_sqrt"


def test_rmsprop_eps_inside_the_square_root_is_named_where_eps_matters(tmp_path):
    eta, eps = 0.05, 0.01
    net = optim_net(eta=eta, optimizer="rmsprop", eps=eps)
    history, _, states = train_by_hand(net, 2, rmsprop(eta, eps=eps))
    s = {key: value[0, 0] for key, value in states[(1, "W")].items()}
    wrong = history[-1][1][0][0, 0] - eta * s["g"] / np.sqrt(s["v"] + eps)
    assert named(tmp_path, net, ("w5_after", float(wrong)), [], 2).mistake_id == "eps_inside_sqrt"


def test_weight_decay_sign_and_absence_are_named(tmp_path):
    eta, lam = 0.5, 0.1
    net = optim_net(eta=eta, weight_decay=lam)
    hand = Hand(net, net.x[0], net.t[0])
    g = hand.gradients()[1][0][0, 0]
    assert named(tmp_path, net, ("w5_after", 0.4 - eta * (g - lam * 0.4))).mistake_id == "decay_sign"
    assert named(tmp_path, net, ("w5_after", 0.4 - eta * g)).mistake_id == "decay_missing"


def test_a_momentum_step_with_the_velocity_subtracted_is_not_called_a_sign_flip(tmp_path):
    """The issue's example: ∂E/∂w5 and step 1's update right, step 2's velocity written μ·v − g."""
    eta = 0.5
    net = optim_net(eta=eta, momentum=MU)
    history, _, states = train_by_hand(net, 2, sgd_momentum(MU, eta))
    s = states[(1, "W")]
    w5, g5, v1 = history[-1][1][0][0, 0], s["g"][0, 0], s["prev"][0, 0]
    claims = [("dE_dw5", float(g5)), ("w5_after", float(w5 - eta * (MU * v1 - g5)))]
    report = check(claims_file(tmp_path, net, claims, 2))
    assert report.verdicts[0].ok and report.verdicts[1].mistake_id == "velocity_subtracted"


# ---- parameters of another step, online and batch -----------------------------------------------------------

def test_the_previous_and_the_next_steps_parameters_are_named(tmp_path):
    eta = 0.5
    net = optim_net(eta=eta)
    history, after, _ = train_by_hand(net, 2, sgd_momentum(0, eta))
    step1 = Hand(net, net.x[0], net.t[0], params=history[0])
    step3 = Hand(net, net.x[0], net.t[0], params=after)
    v = named(tmp_path, net, ("out_o1", float(step1.outs[1][0])), [], 2)
    assert v.mistake_id == "previous_parameters"
    v = named(tmp_path, net, ("out_h2", float(step3.outs[0][1])), [], 2)
    assert v.mistake_id == "later_parameters"


def test_online_steps_worked_as_one_batch_are_named(tmp_path):
    """Online (one sample a step) over 3 samples: step 3 worked with the parameters of step 1."""
    eta = 0.5
    net = Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.3], "sigmoid"), ([[0.4, 0.45]], [0.6], "sigmoid")],
              "half_sse", [[0.05, 0.1], [0.3, 0.9], [0.7, 0.2]], [[0.01], [0.6], [0.3]], eta=eta, batch=1)
    hand = Hand(net, net.x[2], net.t[2])                   # the starting parameters, the third sample
    v = named(tmp_path, net, ("out_o1", float(hand.outs[1][0])), [], 3, 3)
    assert v.mistake_id == "online_as_batch"


# ---- no false diagnosis --------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as hs  # noqa: E402

from chainrule.check import Checker, Claim  # noqa: E402
from chainrule.check.mistakes import catalogue  # noqa: E402
from chainrule.formats.spec import from_dict  # noqa: E402

ELEMENTWISE = ["sigmoid", "tanh", "relu", "identity", "softplus", "leaky_relu", "elu", "silu"]
RULES = [{}, {"momentum": 0.9}, {"momentum": 0.5, "nesterov": True}, {"optimizer": "adam"}, {"optimizer": "rmsprop"},
         {"weight_decay": 0.1}]


@hs.composite
def random_steps(draw):
    """A random network (1–3 layers of 1–3 units), loss, optimiser, batch, data, and a step 1–3."""
    rng = np.random.default_rng(draw(hs.integers(0, 2 ** 32 - 1)))
    sizes = [draw(hs.integers(1, 3)) for _ in range(draw(hs.integers(2, 4)))]
    loss = draw(hs.sampled_from(["half_sse", "sse", "mse", "cross_entropy", "bce"]))
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    acts = [draw(hs.sampled_from(ELEMENTWISE)) for _ in sizes[1:]]
    acts[-1] = {"cross_entropy": "softmax", "bce": "sigmoid"}.get(loss, acts[-1])
    bias_mode = draw(hs.sampled_from(["per_neuron", "shared", "none"]))
    layers = [{"units": u, "activation": a, "weights": rng.normal(0, 0.8, (u, f)).round(3).tolist(), "bias_mode": bias_mode}
              | ({"bias": 0.1} if bias_mode != "none" else {}) for f, u, a in zip(sizes, sizes[1:], acts)]
    rows = draw(hs.integers(1, 3))
    x = rng.uniform(-1, 1, (rows, sizes[0])).round(2)
    if loss == "cross_entropy":
        t = np.eye(sizes[-1])[rng.integers(0, sizes[-1], rows)]
    else:
        t = rng.uniform(0.05, 0.95, (rows, sizes[-1])).round(2)
    rule = dict(draw(hs.sampled_from(RULES)))
    training = {"learning_rate": 0.05 if rule.get("optimizer") else 0.3, "batch": draw(hs.sampled_from(["full", 1])),
                "reduction": draw(hs.sampled_from(["sum", "mean"])), **rule}
    spec = from_dict({"network": {"inputs": sizes[0], "loss": loss, "layers": layers}, "training": training,
                      "data": {"inputs": x.tolist(), "targets": t.tolist()}})
    return spec, draw(hs.integers(1, 3)), draw(hs.integers(4, 9)), draw(hs.integers(0, 2 ** 32 - 1))


def engine_claims(spec, step: int, digits: int) -> list[Claim]:
    """Every quantity of the step as the engine computes it, rounded to ``digits`` significant digits."""
    probe = Checker(spec, [Claim("net_o1", "net_o1", step, 1, "0", 0.0, None)])
    st = probe.steps[step]
    d = st.d
    neurons = [d.names.neuron(l, j) for l in range(d.L) for j in range(d.layers[l]["units"])]
    names = [f"{kind}_{n}" for n in neurons for kind in ("net", "out", "delta")] + ["E_total"]
    names += [f"dE_d{p}" for p in st.labels()] + [f"{p}_after" for p in st.labels()]
    sample = st.trace.samples[0].index + 1
    claims = []
    for name in names:
        value = st.correct(name, 0 if not name.startswith(("dE_d", "w", "b")) or name.startswith("dE_dout") else None)
        literal = f"{value:.{digits - 1}e}"
        claims.append(Claim(name, name, step, sample, literal, float(literal), None))
    return claims


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(random_steps())
def test_the_engines_numbers_are_right_and_a_random_wrong_one_is_never_misexplained(case):
    spec, step, digits, seed = case
    claims = engine_claims(spec, step, digits)
    assert all(v.ok for v in Checker(spec, claims).run()), "the engine's own numbers, rounded, are right"
    rng = np.random.default_rng(seed)
    c = claims[rng.integers(len(claims))]
    wrong = c.value * rng.uniform(1.05, 3.0) * rng.choice([-1, 1]) + rng.uniform(-0.5, 0.5)
    literal = f"{wrong:.{digits - 1}e}"
    claims[claims.index(c)] = Claim(c.key, c.name, c.step, c.sample, literal, float(literal), None)
    checker = Checker(spec, claims)
    verdict = next(v for v in checker.run() if v.claim.key == c.key)
    if verdict.ok or verdict.mistake_id is None or verdict.inherited_from:
        return
    ids = verdict.mistake_id.removesuffix("+digit_slip").split("+")
    if ids[0] in ("copied", "digit_slip", "cut", "rounded", "not_this_code"):
        return
    # the named mistakes, made in the step, give the claimed number (a slip after them: nearly)
    st = checker.steps[c.step]
    sentences = verdict.mistake.split("; then a ")[0].split("; ")
    found = [[m for m in catalogue(st) if m.id == i and m.sentence == s] for i, s in zip(ids, sentences)]
    assert all(found), (verdict.mistake_id, verdict.mistake)
    values = [checker.evaluation(verdict.claim, combo, claimed).value()
              for combo in _combos(found) for claimed in (True, False)]
    if verdict.mistake_id.endswith("+digit_slip"):
        return          # a slip of the digits after the mistake: the mistake's number is a digit slip away
    assert any(v is not None and verdict.claim.matches(v) for v in values), (verdict.mistake_id, verdict.mistake)


def _combos(found):
    if len(found) == 1:
        return [(m,) for m in found[0]]
    return [(a, b) for a in found[0] for b in found[1]]


# ---- the catalogue page ---------------------------------------------------------------------------------------

def test_the_catalogue_page_is_the_codes_and_lists_every_declared_mistake():
    import io
    from pathlib import Path

    from chainrule.core.activations import NAMES, get_activation
    from chainrule.cli import main
    out = io.StringIO()
    assert main(["check", "--catalogue"], out=out) == 0
    page = out.getvalue()
    assert (Path(__file__).parents[1] / "docs/mistakes.md").read_text(encoding="utf-8") == page, \
        "docs/mistakes.md is stale: chainrule check --catalogue > docs/mistakes.md"
    declared = {w.id for name in NAMES for w in get_activation(name).mistakes()}
    tested = {case[1] for case in ACTIVATION_CASES} | {"softmax_diagonal_only", "softmax_as_sigmoid",
                                                       "softmax_not_normalised", "no_derivative"}
    assert declared <= tested, declared - tested          # every activation's mistake has a test above
    from chainrule.core.losses import NAMES as LOSSES, get_loss
    from chainrule.core.optim import get_optimizer
    for name in LOSSES:
        for fused in (True, False) if get_loss(name).fused else (False,):
            for w in get_loss(name).mistakes(2, 1.0, fused):
                tested_here = {(c[0], c[2]) for c in LOSS_CASES}
                assert (name, w.id) in tested_here or not fused and get_loss(name).fused, (name, w.id)
    optimiser_tests = {c[0] for c in OPTIMIZER_CASES} | {"eps_inside_sqrt", "decay_sign", "decay_missing"}
    for name, settings in [("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}), ("sgd", {"momentum": 0.9}),
                           ("adam", {}), ("rmsprop", {})]:
        optimizer = get_optimizer(name, 0.1, **settings)
        assert {w.id for w in optimizer.mistakes()} <= optimiser_tests, name
    for id in declared | {"one_path", "transposed_weights", "bias_as_weight", "online_as_batch", "velocity_subtracted"}:
        assert f"| `{id}` |" in page


def test_check_without_a_claims_file_or_with_catalogue_and_a_file_is_one_line(capsys):
    from chainrule.cli import main
    assert main(["check"]) == 2
    assert main(["check", "--catalogue", "seed:000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "expected a claims file" in err and "--catalogue: expected no claims file" in err


def test_a_batch_step_worked_as_online_steps_is_named(tmp_path):
    """Two samples in one batch (sum): the student updates after sample 1, then works sample 2 with the
    updated parameters, and ends with the parameters after both."""
    eta = 0.5
    net = Net(2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.3], "sigmoid"), ([[0.4, 0.45]], [0.6], "sigmoid")],
              "half_sse", [[0.05, 0.1], [0.3, 0.9]], [[0.01], [0.6]], eta=eta)
    params = [(W, b) for W, b, _ in net.layers]
    first = Hand(net, net.x[0], net.t[0], params=params)
    params = [(W - eta * gW, b - eta * gb) for (W, b), (gW, gb) in zip(params, first.gradients())]
    second = Hand(net, net.x[1], net.t[1], params=params)
    after = [(W - eta * gW, b - eta * gb) for (W, b), (gW, gb) in zip(params, second.gradients())]
    v = named(tmp_path, net, ("out_o1", float(second.outs[1][0])), [], 1, 2)
    assert v.mistake_id == "batch_as_online"
    v = named(tmp_path, net, ("w5_after", float(after[1][0][0, 0])), [("w5", 0.4)], 1, 1)
    assert v.mistake_id == "batch_as_online"


# ---- the other structural mistakes, at two depths ------------------------------------------------------------

def below_output(net: Net) -> str:
    return net.neuron(net.depth - 2, 0)


def _errors_not_deltas(net, hand):          # ∂E/∂out of the layer below the outputs from ∂E/∂out, not δ, above
    W = net.layers[-1][0]
    return f"dE_dout_{below_output(net)}", float(W[:, 0] @ hand.dE_douts[-1])


def _updated_weights(net, hand):            # the output weights already updated: W⁺ = W − η·δ·outᵀ
    W = net.layers[-1][0] - net.eta * np.outer(hand.deltas[-1], hand.values[-2])
    return f"dE_dout_{below_output(net)}", float(W[:, 0] @ hand.deltas[-1])


def _no_bias(net, hand):
    W, _, _ = net.layers[-1]
    return "net_o1", float(W[0] @ hand.values[-2])


def _net_not_out(net, hand):                # the layer below's nets where its outs belong
    W, b, _ = net.layers[-1]
    return "net_o1", float(W[0] @ hand.nets[-2] + b[0])


def _input_net_not_out(net, hand):          # ∂E/∂w = δ·net of the layer below
    label = net.labels()[-1][0][0][0]
    return f"dE_d{label}", float(hand.deltas[-1][0] * hand.nets[-2][0])


SIMPLE_STRUCTURE = [("errors_not_deltas", _errors_not_deltas), ("updated_weights", _updated_weights),
                    ("no_bias", _no_bias), ("net_not_out", _net_not_out), ("input_net_not_out", _input_net_not_out)]


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-2", "2-3-2-1"])
@pytest.mark.parametrize("case", SIMPLE_STRUCTURE, ids=[c[0] for c in SIMPLE_STRUCTURE])
def test_the_structural_mistakes_are_named_at_two_depths(tmp_path, case, deep):
    mistake, student = case
    net = deep_net(("sigmoid", "tanh", "sigmoid"), "half_sse") if deep else Net(
        2, [([[0.15, 0.2], [0.25, 0.3]], [0.35, 0.3], "sigmoid"), ([[0.4, 0.45], [0.5, 0.55]], [0.6, 0.5], "sigmoid")],
        "half_sse", [[0.05, 0.1]], [[0.01, 0.99]])
    hand = Hand(net, net.x[0], net.t[0])
    assert_named(tmp_path, net, student(net, hand), [net.neuron(0, 0).join(["net_", ""])], mistake)


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-1", "2-3-2-1"])
def test_another_steps_parameters_are_named_at_two_depths(tmp_path, deep):
    eta = 0.5
    net = deep_net(("sigmoid", "tanh", "sigmoid"), "half_sse") if deep else optim_net(eta=eta)
    history, after, _ = train_by_hand(net, 2, sgd_momentum(0, net.eta))
    step1 = Hand(net, net.x[0], net.t[0], params=history[0])
    step3 = Hand(net, net.x[0], net.t[0], params=after)
    assert named(tmp_path, net, ("out_o1", float(step1.outs[-1][0])), [], 2).mistake_id == "previous_parameters"
    hidden = net.neuron(0, 1)
    assert named(tmp_path, net, (f"out_{hidden}", float(step3.outs[0][1])), [], 2).mistake_id == "later_parameters"


@pytest.mark.parametrize("deep", [False, True], ids=["2-2-1", "2-3-2-1"])
def test_online_and_batch_confused_are_named_at_two_depths(tmp_path, deep):
    x, t = [[0.05, 0.1], [0.3, 0.9], [0.7, 0.2]], [[0.01], [0.6], [0.3]]
    layers = [(W, b, act) for W, b, act in (deep_net(("sigmoid", "tanh", "sigmoid")) if deep else optim_net()).layers]
    online = Net(2, layers, "half_sse", x, t, eta=0.5, batch=1)
    hand = Hand(online, online.x[2], online.t[2])          # step 3 with the starting parameters
    assert named(tmp_path, online, ("out_o1", float(hand.outs[-1][0])), [], 3, 3).mistake_id == "online_as_batch"
    batch = Net(2, layers, "half_sse", x[:2], t[:2], eta=0.5)
    params = [(W, b) for W, b, _ in layers]
    first = Hand(batch, batch.x[0], batch.t[0], params=params)
    params = [(W - 0.5 * gW, b - 0.5 * gb) for (W, b), (gW, gb) in zip(params, first.gradients())]
    second = Hand(batch, batch.x[1], batch.t[1], params=params)
    assert named(tmp_path, batch, ("out_o1", float(second.outs[-1][0])), [], 1, 2).mistake_id == "batch_as_online"
