"""ONNX export: the model onnx.checker accepts, run by onnxruntime (the oracle), gives chainrule's outputs
(float64 to 1e-12 relative; float32 to 1e-6 for small networks and 5e-5 for an MNIST-size 784-256-128-10
one: float32's rounding of sums grows with the widths) for every activation and bias mode; `chainrule
export onnx`."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import ConfigError
from chainrule.cli import main
from conftest import random_network

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
from chainrule.onnx import save_onnx, to_onnx    # noqa: E402

HIDDEN = ["sigmoid", "tanh", "relu", "softplus", "silu", cr.get_activation("leaky_relu", slope=0.2),
          cr.get_activation("elu", alpha=0.7), "identity"]
TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-6, atol=1e-7)}


def run(model: bytes, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("hidden", HIDDEN, ids=str)
def test_onnxruntime_gives_chainrules_outputs(hidden, dtype):
    rng = np.random.default_rng(5)
    for bias_mode, output, loss in (("per_neuron", "softmax", "cross_entropy"), ("shared", "sigmoid", "half_sse"),
                                    ("none", "identity", "mse")):
        net = random_network(rng, [3, 6, 5, 2], hidden, output, loss, dtype=dtype, bias_mode=bias_mode)
        x = rng.normal(0, 2, (9, 3)).astype(dtype)
        y = run(to_onnx(net), x)
        assert y.dtype == dtype and y.shape == (9, 2)
        np.testing.assert_allclose(y, net.predict(x), **TOLERANCE[dtype])


MNIST_SIZE_RTOL = 5e-5     # measured 1.15e-5 here and on a network trained on MNIST (100,000 outputs)


def test_an_mnist_size_float32_network_agrees_within_the_stated_relative_tolerance():
    rng = np.random.default_rng(0)
    net = cr.mlp([784, 256, 128, 10], activation="relu", loss="cross_entropy", seed=0, dtype="float32", init="he")
    for layer in net.layers:
        layer.weights *= 2.5                        # outputs as confident as a trained network's (down to 1e-17)
    x = (rng.uniform(0, 1, (2000, 784)) * (rng.uniform(size=(2000, 784)) < 0.2)).astype(np.float32)
    y, ours = run(to_onnx(net), x), net.predict(x)
    relative = np.abs(y.astype(np.float64) - ours) / np.abs(ours.astype(np.float64))
    assert relative.max() < MNIST_SIZE_RTOL and ours.min() < 1e-12
    assert relative.max() > 1e-6                    # the small networks' 1e-6 does not hold at this size
    assert (y.argmax(axis=1) == ours.argmax(axis=1)).all()


def test_softplus_stays_finite_where_exp_overflows():
    net = cr.Network([cr.Dense([[1.0], [-1.0]], [0.0, 0.0], activation="softplus")])
    x = np.array([[800.0], [-800.0], [30.0], [1e-9]])
    tail = math.log1p(math.exp(-30))                  # ln(1 + e^−30), kept to its relative precision
    expected = [[800, 0], [0, 800], [30 + tail, tail], [math.log1p(math.exp(1e-9)), math.log1p(math.exp(-1e-9))]]
    np.testing.assert_allclose(run(to_onnx(net), x), expected, rtol=1e-14)


def test_the_seed_000_network_exports_with_its_shared_biases():
    ex = cr.example("mazur")
    y = run(to_onnx(ex.network), ex.x)
    np.testing.assert_allclose(y, [[0.75136507, 0.772928465]], rtol=1e-8)   # seed 000's out_o1, out_o2


def test_export_onnx_from_the_command_line(tmp_path, capsys):
    model = tmp_path / "xor.json"
    assert main(["train", "xor", "--save", str(model), "--quiet"]) == 0
    out = tmp_path / "xor.onnx"
    assert main(["export", "onnx", str(model), str(out)]) == 0
    network = cr.load_model(model)
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(run(out.read_bytes(), x), network.predict(x), rtol=1e-12)
    assert main(["export", "onnx", "mazur", str(tmp_path / "mazur.onnx")]) == 0     # a spec's network too


@pytest.mark.parametrize("argv, message", [
    (["export", "onnx", "mazur", "out.txt"], "export OUT: expected a file name ending in .onnx, got 'out.txt'"),
    (["export", "torch", "mazur", "out.onnx"], "argument format: invalid choice"),
    (["export", "onnx", "no-such.json", "out.onnx"], "no-such.json"),
])
def test_export_refuses_bad_arguments_in_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())                 # nothing written


def test_an_activation_without_an_onnx_form_is_named_by_layer(tmp_path):
    class Square(cr.Activation):      # a plug-in activation that says nothing about ONNX
        def value(self, z):
            return z * z
    net = cr.Network([cr.Dense([[1.0]], activation="tanh"), cr.Dense([[1.0]], activation=Square())])
    with pytest.raises(ConfigError, match=r"^layers\[2\]\.activation: expected an activation with an ONNX form"):
        save_onnx(net, tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())
