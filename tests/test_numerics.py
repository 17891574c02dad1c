"""Stable numerics: no overflow warnings at ±1000, and divergence stops training with advice."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from conftest import DIVERGES
from chainrule.core.activations import NAMES, get_activation, row_max
from chainrule.core.losses import NAMES as LOSSES, get_loss

BIG = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])


@pytest.mark.parametrize("name", NAMES)
def test_activations_are_finite_and_silent_at_1000(name):
    act = get_activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = act.value(BIG)
            grad = act.backward(BIG, out, np.ones_like(BIG))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("width", [1, 3, 10, 32, 33, 200])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_in_place_is_the_formula_row_by_row(width, dtype):
    """The arrays engine's softmax, in place, against e^(z − max z) / Σ e^(z − max z) written out row by row, at
    large magnitudes."""
    net = np.random.default_rng(width).normal(scale=300, size=(9, width)).astype(dtype)
    out = np.empty_like(net)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_activation("softmax").value_into(net, out)
    for row, got in zip(net.astype(np.float64), out):
        e = [np.exp(z - max(row)) for z in row]
        np.testing.assert_allclose(got, [v / sum(e) for v in e], rtol=1e-12 if dtype == np.float64 else 1e-5,
                                   atol=1e-300 if dtype == np.float64 else 1e-38)
    assert out.dtype == dtype


@pytest.mark.parametrize("shape", [(1, 1), (128, 10), (7, 32), (5, 33), (0, 10), (3, 200), (10, 1, 4), (6,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_row_max_is_numpys_max_along_the_rows_bit_for_bit(shape, dtype):
    """Each row's max, however it is reduced, against NumPy's max along the last axis: the same numbers, NaN
    and ±inf rows included."""
    z = np.random.default_rng(len(shape)).normal(scale=1e3, size=shape).astype(dtype)
    if z.ndim == 2 and z.shape[0] > 3:
        z[1, 0], z[2, -1], z[3, :] = np.nan, np.inf, -np.inf
    expected = np.max(z, axis=-1, keepdims=True)
    got = row_max(z)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_stable_forms_give_the_limits():
    sig = get_activation("sigmoid").value(BIG)[0]
    assert sig[0] == 0.0 and sig[-1] == 1.0 and sig[2] == 0.5
    sp = get_activation("softplus").value(BIG)[0]
    assert sp[-1] == 1000.0 and sp[0] == 0.0
    sm = get_activation("softmax").value(BIG)[0]
    assert sm[-1] == 1.0 and sm.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_are_finite_and_silent_for_large_nets(name):
    loss = get_loss(name)
    net = np.array([[-1000.0, 1000.0], [1000.0, -1000.0]])
    act = get_activation(loss.output_activation or "sigmoid")
    out = act.value(net)
    t = np.array([[1.0, 0.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            value = loss.value(net, out, t)
            delta = loss.fused_delta(net, out, t) if loss.fused else loss.gradient(out, t)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(delta))
    if name in ("bce", "cross_entropy"):  # a confident wrong answer costs about 1000 nats, not inf
        assert value[0] == pytest.approx(2000.0 if name == "cross_entropy" else 1000.0, rel=1e-9)


def test_divergence_stops_with_the_step_and_advice():
    spec = cr.loads(DIVERGES)
    x, t = spec.require_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cr.TrainingDiverged) as info:
            cr.fit(spec.build_network(), x, t, spec.training)
    message = str(info.value)
    assert "epoch" in message and "step" in message and "learning_rate" in message and "scale the inputs" in message
