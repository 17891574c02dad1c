"""Backprop gradients against two oracles: central finite differences (property-based, every
activation, loss, bias mode and reduction) and PyTorch autograd from the same starting weights."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import chainrule as cr
from chainrule.training import gradcheck
from chainrule.core.activations import NAMES as ACTIVATIONS
from chainrule.core.layers import BIAS_MODES, Dense
from chainrule.core.losses import NAMES as LOSSES
from chainrule import Network

HIDDEN = [a for a in ACTIVATIONS if a != "softmax"]


@st.composite
def problems(draw):
    loss = draw(st.sampled_from(LOSSES))
    n_layers = draw(st.integers(1, 3))
    inputs = draw(st.integers(1, 3))
    units = [draw(st.integers(1, 4)) for _ in range(n_layers)]
    acts = [draw(st.sampled_from(HIDDEN)) for _ in range(n_layers - 1)]
    last = {"cross_entropy": "softmax", "bce": "sigmoid"}.get(loss) or draw(st.sampled_from(ACTIVATIONS))
    if last == "softmax" and units[-1] == 1:
        units[-1] = 2
    acts.append(last)
    modes = [draw(st.sampled_from(BIAS_MODES)) for _ in range(n_layers)]
    reduction = draw(st.sampled_from(["sum", "mean"]))
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2 ** 31))
    return loss, inputs, units, acts, modes, reduction, n, seed


def build(loss, inputs, units, acts, modes, seed):
    rng = np.random.default_rng(seed)
    layers, fan_in = [], inputs
    for u, a, m in zip(units, acts, modes):
        params = {"slope": float(rng.uniform(0.01, 0.3))} if a == "leaky_relu" else (
            {"alpha": float(rng.uniform(0.2, 2.0))} if a == "elu" else {})
        bias = None if m == "none" else (rng.normal() if m == "shared" else rng.normal(size=u))
        layers.append(Dense(rng.normal(size=(u, fan_in)), bias, activation=a, bias_mode=m, **params))
        fan_in = u
    return Network(layers, loss)


def targets(loss, rng, n, k):
    if loss == "cross_entropy":
        return rng.dirichlet(np.ones(k), size=n)
    if loss == "bce":
        return rng.uniform(0, 1, size=(n, k))
    return rng.normal(size=(n, k))


def test_finite_differences_catch_a_wrong_gradient():
    # The oracle must be able to fail: a deliberately broken derivative is detected.
    network = build("half_sse", 2, [3, 1], ["tanh", "identity"], ["per_neuron", "per_neuron"], 3)
    x, t = np.random.default_rng(0).normal(size=(4, 2)), np.zeros((4, 1))
    class BrokenTanh(type(network.layers[0].activation)):
        def derivative(self, z, out):
            return 1.0 - out            # the square left out
    network.layers[0].activation = BrokenTanh()
    assert gradcheck.check(network, x, t)[0].max_relative_error > 1e-3


def near_kink(network, x):
    """relu, leaky_relu (and elu with α ≠ 1) are not differentiable at 0: finite differences there are meaningless."""
    for layer, values in zip(network.layers, network.forward(x)):
        if any(np.any(np.abs(values.net - k) < 1e-2) for k in layer.activation.kinks):
            return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_gradients_match_central_differences(problem):
    loss, inputs, units, acts, modes, reduction, n, seed = problem
    network = build(loss, inputs, units, acts, modes, seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.normal(size=(n, inputs))
    t = targets(loss, rng, n, network.outputs)
    if near_kink(network, x):
        return
    for layer in gradcheck.check(network, x, t, reduction):
        assert layer.max_relative_error < 1e-7, (problem, layer)


def test_every_activation_loss_bias_mode_and_reduction_is_reachable():
    # The strategy above covers the whole table; this pins that the table is what the issues list.
    assert set(ACTIVATIONS) == {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax", "elu", "silu"}
    assert set(LOSSES) == {"half_sse", "sse", "mse", "bce", "cross_entropy"}
    assert set(BIAS_MODES) == {"per_neuron", "shared", "none"}


# ---- PyTorch autograd as the oracle -----------------------------------------------------------------

torch = pytest.importorskip("torch")


def torch_loss(loss, z, out, t):
    if loss == "half_sse":
        per = 0.5 * ((t - out) ** 2).sum(-1)
    elif loss == "sse":
        per = ((t - out) ** 2).sum(-1)
    elif loss == "mse":
        per = ((t - out) ** 2).mean(-1)
    elif loss == "bce":
        per = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none").mean(-1)
    else:
        per = -(t * torch.log_softmax(z, -1)).sum(-1)
    return per


TORCH_ACT = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "softplus": torch.nn.functional.softplus, "softmax": lambda z: torch.softmax(z, -1)}


@pytest.mark.parametrize("loss,last", [("half_sse", "sigmoid"), ("sse", "identity"), ("mse", "tanh"),
                                       ("bce", "sigmoid"), ("cross_entropy", "softmax"), ("half_sse", "softmax")])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_training_matches_pytorch_from_the_same_weights(loss, last, reduction):
    rng = np.random.default_rng(7)
    acts = ["tanh", "softplus", last]
    units, inputs, n = [5, 4, 3], 3, 12
    network = build(loss, inputs, units, acts, ["per_neuron", "shared", "per_neuron"], 11)
    x = rng.normal(size=(n, inputs))
    t = targets(loss, rng, n, 3)
    params = [torch.tensor(p.copy(), requires_grad=True) for p in network.parameters()]
    config = cr.TrainingConfig(learning_rate=0.05, batch=4, reduction=reduction, epochs=3)
    cr.fit(network, x, t, config)

    opt = torch.optim.SGD(params, lr=0.05)
    X, T = torch.tensor(x), torch.tensor(t)
    for _ in range(3):
        for start in range(0, n, 4):
            xb, tb = X[start:start + 4], T[start:start + 4]
            h = xb
            k = 0
            for layer_act in acts:
                W, b = params[k], params[k + 1]
                k += 2
                z = h @ W.T + b
                h = TORCH_ACT[layer_act](z)
            per = torch_loss(loss, z, h, tb)
            total = per.sum() if reduction == "sum" else per.mean()
            opt.zero_grad()
            total.backward()
            opt.step()
    for mine, theirs in zip(network.parameters(), params):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
