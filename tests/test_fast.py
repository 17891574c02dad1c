"""The fast training path, the optimisers and schedules against PyTorch, early stopping, real data."""

import io
from pathlib import Path
import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import chainrule as cr
from chainrule.cli import main
from chainrule.datasets import Standardizer, load_csv, load_mnist, one_hot, read_idx, train_test_split
from chainrule.layers import Dense
from chainrule.network import Network
from chainrule.train import TrainingConfig, TrainingDiverged

torch = pytest.importorskip("torch")


def random_network(rng, sizes, hidden, output, loss, dtype=np.float64, bias_mode="per_neuron"):
    layers = []
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        mode = bias_mode if k < len(sizes) - 2 else "per_neuron"
        bias = {"per_neuron": rng.normal(0, 0.3, b), "shared": rng.normal(0, 0.3), "none": None}[mode]
        layers.append(Dense(rng.normal(0, 0.7, (b, a)), bias, dtype=dtype, bias_mode=mode,
                            activation=hidden if k < len(sizes) - 2 else output))
    return Network(sizes[0], layers, loss)


def targets(rng, loss, n, k):
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.uniform(0.05, 0.95, (n, k))


OUTPUT = {"cross_entropy": "softmax", "bce": "sigmoid"}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.sampled_from(["relu", "sigmoid", "tanh", "softplus", "leaky_relu",
                                                             "identity"]),
       loss=st.sampled_from(["half_sse", "sse", "mse", "bce", "cross_entropy"]),
       bias_mode=st.sampled_from(["per_neuron", "shared", "none"]), reduction=st.sampled_from(["sum", "mean"]),
       batch=st.sampled_from(["online", "full", 3]), optimizer=st.sampled_from(["sgd", "momentum", "adam"]),
       frozen=st.booleans(), engine=st.sampled_from(["floats", "arrays with SciPy's gemm", "arrays with NumPy"]))
def test_fast_path_gives_the_traced_paths_parameters(seed, hidden, loss, bias_mode, reduction, batch, optimizer,
                                                       frozen, engine):
    from chainrule import fast, small
    saved = small.MAX_PARAMETERS, fast.BLAS
    small.MAX_PARAMETERS = saved[0] if engine == "floats" else 0      # small networks train on floats by default
    fast.BLAS = "numpy" if engine.endswith("NumPy") else "auto"
    try:
        check_fast_against_traced(seed, hidden, loss, bias_mode, reduction, batch, optimizer, frozen)
    finally:
        small.MAX_PARAMETERS, fast.BLAS = saved


def test_scipy_gemm_is_used_when_installed():
    pytest.importorskip("scipy")
    from chainrule import fast
    assert fast._scipy_gemm(np.float32) is not None and fast._scipy_gemm(np.float64) is not None


def check_fast_against_traced(seed, hidden, loss, bias_mode, reduction, batch, optimizer, frozen):
    rng = np.random.default_rng(seed)
    sizes = [3, 4, 3, 2]
    x, t = rng.normal(size=(7, 3)), targets(rng, loss, 7, 2)
    options = {"sgd": {}, "momentum": {"momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
               "adam": {"optimizer": "adam", "learning_rate": 0.01}}[optimizer]
    config = TrainingConfig(**{"learning_rate": 0.05, "batch": batch, "reduction": reduction, "epochs": 2,
                               "shuffle": True, "seed": seed, "frozen": ("w1", "w7") if frozen else (), **options})
    fast = random_network(np.random.default_rng(seed), sizes, hidden, OUTPUT.get(loss, "sigmoid"), loss,
                          bias_mode=bias_mode)
    traced = random_network(np.random.default_rng(seed), sizes, hidden, OUTPUT.get(loss, "sigmoid"), loss,
                            bias_mode=bias_mode)
    cr.fit(fast, x, t, config)
    steps = 2 * len(range(0, 7, config.batch_size(7)))
    cr.trace_steps(traced, x, t, config, steps)
    for a, b in zip(fast.parameters(), traced.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    if frozen:
        assert fast.labels["w1"].get(fast) == random_network(np.random.default_rng(seed), sizes, hidden,
                                                             OUTPUT.get(loss, "sigmoid"), loss,
                                                             bias_mode=bias_mode).labels["w1"].get(fast)


def test_fast_path_in_float32_stays_float32_and_close_to_float64():
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(50, 3)).astype(np.float32), np.eye(2, dtype=np.float32)[rng.integers(0, 2, 50)]
    nets = [random_network(np.random.default_rng(1), [3, 8, 2], "relu", "softmax", "cross_entropy", dtype=d)
            for d in (np.float32, np.float64)]
    config = TrainingConfig(learning_rate=0.1, batch=10, reduction="mean", epochs=3)
    for net in nets:
        cr.fit(net, x, t, config)
    for a, b in zip(*(net.parameters() for net in nets)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ---- optimisers and schedules against PyTorch (float64, same weights, same batches) ----------------------------

def torch_twin(network):
    layers = []
    for k, layer in enumerate(network.layers):
        linear = torch.nn.Linear(layer.fan_in, layer.units).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights))
            linear.bias.copy_(torch.from_numpy(layer.bias))
        layers.append(linear)
        if k < len(network.layers) - 1:
            layers.append({"tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU()}[layer.activation.name])
    return torch.nn.Sequential(*layers)


CASES = {
    "momentum": ({"momentum": 0.9}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), None),
    "nesterov": ({"momentum": 0.8, "nesterov": True}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8,
                                                                                   nesterov=True), None),
    "weight decay": ({"weight_decay": 0.05, "momentum": 0.5},
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.05), None),
    "adam": ({"optimizer": "adam", "learning_rate": 0.01, "weight_decay": 0.01},
             lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01), None),
    "step schedule": ({"schedule": "step", "step_size": 2, "gamma": 0.5}, lambda p: torch.optim.SGD(p, lr=0.1),
                      lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "exponential schedule": ({"schedule": "exponential", "gamma": 0.7}, lambda p: torch.optim.SGD(p, lr=0.1),
                             lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.7)),
    "inverse scaling": ({"schedule": "inverse_scaling", "power": 0.5, "optimizer": "adam", "learning_rate": 0.01},
                        lambda p: torch.optim.Adam(p, lr=0.01),
                        lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1) ** 0.5)),
}


@pytest.mark.parametrize("case", CASES)
def test_optimiser_matches_pytorch_to_1e_10(case):
    options, make_optimizer, make_schedule = CASES[case]
    rng = np.random.default_rng(3)
    network = random_network(rng, [4, 6, 5, 3], "tanh", "softmax", "cross_entropy")
    x = rng.normal(size=(40, 4))
    labels = rng.integers(0, 3, 40)
    model = torch_twin(network)
    optimizer = make_optimizer(model.parameters())
    schedule = make_schedule(optimizer) if make_schedule else None
    epochs = 5
    config = TrainingConfig(**{"learning_rate": 0.1, "batch": 8, "reduction": "mean", "epochs": epochs, **options})
    cr.fit(network, x, np.eye(3)[labels], config)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(epochs):
        for start in range(0, 40, 8):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[start:start + 8]), yt[start:start + 8]).backward()
            optimizer.step()
        if schedule:
            schedule.step()
    ours = network.parameters()
    theirs = [p.detach().numpy() for p in model.parameters()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_early_stopping_restores_the_best_validation_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    t = (x[:, :1] * x[:, 1:] > 0).astype(float) + rng.normal(0, 0.4, (60, 1))   # noisy: overfits
    network = random_network(rng, [2, 30, 1], "tanh", "identity", "mse")
    config = TrainingConfig(learning_rate=0.05, batch=5, reduction="mean", epochs=400, validation_fraction=0.3,
                            patience=10, seed=2)
    history = cr.fit(network, x, t, config)
    assert history.stopped_because == "validation" and history.epochs_run < 400
    best = min(history.validation_loss_history)
    assert history.validation_loss_history[history.best_epoch - 1] == best
    assert history.epochs_run == history.best_epoch + config.patience
    from chainrule.train import validation_split
    _, held = validation_split(60, config)
    assert network.dataset_loss(x[held], t[held], "mean") == pytest.approx(best, rel=1e-12)


def test_non_finite_loss_stops_with_advice_and_no_warnings():
    rng = np.random.default_rng(0)
    network = random_network(rng, [2, 4, 1], "relu", "identity", "sse")
    x, t = rng.normal(size=(20, 2)) * 1e3, rng.normal(size=(20, 1)) * 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged, match=r"epoch \d+, step \d+: the loss became .*lower learning_rate"):
            cr.fit(network, x, t, TrainingConfig(learning_rate=10.0, batch=4, epochs=50))


# ---- data -----------------------------------------------------------------------------------------------------

def test_idx_reader_reads_and_rejects(tmp_path):
    good = tmp_path / "a.idx"
    good.write_bytes(bytes([0, 0, 8, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(6)))
    np.testing.assert_array_equal(read_idx(good), [[0, 1, 2], [3, 4, 5]])
    bad = tmp_path / "b.idx"
    bad.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="b.idx: expected an IDX file"):
        read_idx(bad)
    short = tmp_path / "c.idx"
    short.write_bytes(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + bytes(3))
    with pytest.raises(ValueError, match="expected 5 bytes of values for shape \\(5,\\), got 3"):
        read_idx(short)


def write_idx(path, array: np.ndarray) -> None:
    """The IDX layout written out by hand: 0, 0, type 0x08 (bytes), dimensions, big-endian sizes, values."""
    data = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data += array.astype(np.uint8).tobytes()
    if str(path).endswith(".gz"):
        import gzip
        data = gzip.compress(data)
    Path(path).write_bytes(data)


def quadrant_images(rng, n: int):
    """6×6 images whose class (0–3) is the quadrant lit bright; the others hold dim noise."""
    labels = rng.integers(0, 4, n)
    images = rng.integers(0, 60, (n, 6, 6))
    for k, c in enumerate(labels):
        r, q = divmod(int(c), 2)
        images[k, 3 * r:3 * r + 3, 3 * q:3 * q + 3] = 255
    return images, labels


def fashion_like_directory(directory: Path, rng) -> tuple:
    """A data set distributed like Fashion-MNIST: the four files under MNIST's names, gzipped."""
    directory.mkdir()
    (train, y), (test, y_test) = quadrant_images(rng, 400), quadrant_images(rng, 100)
    for name, array in (("train-images-idx3-ubyte", train), ("train-labels-idx1-ubyte", y),
                        ("t10k-images-idx3-ubyte", test), ("t10k-labels-idx1-ubyte", y_test)):
        write_idx(directory / f"{name}.gz", array)
    return train, y, test, y_test


def test_an_idx_directory_loads_gzipped_files_as_rows_in_0_1(tmp_path):
    train, y, test, y_test = fashion_like_directory(tmp_path / "fashion", np.random.default_rng(0))
    x, labels, x_test, labels_test = cr.datasets.load_idx_directory(tmp_path / "fashion", dtype=np.float64)
    np.testing.assert_allclose(x, train.reshape(400, 36) / 255, rtol=1e-15)
    np.testing.assert_allclose(x_test, test.reshape(100, 36) / 255, rtol=1e-15)
    assert labels.tolist() == y.tolist() and labels_test.tolist() == y_test.tolist()
    (tmp_path / "fashion" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match="fashion: expected the four IDX files .* got none of t10k-labels-idx1-ubyte$"):
        cr.datasets.load_idx_directory(tmp_path / "fashion")


def test_train_data_directory_and_spec_idx_train_a_classifier_of_its_classes(tmp_path, capsys):
    fashion_like_directory(tmp_path / "fashion", np.random.default_rng(1))
    out = io.StringIO()
    code = main(["train", "--data", str(tmp_path / "fashion"), "--layers", "16", "--batch", "20", "--epochs", "20",
                 "--json", "--quiet"], out=out)
    result = json.loads(out.getvalue())
    assert code == 0 and result["data"] == "fashion" and result["network"] == "36-16-4"
    assert result["test_accuracy"] == 1.0     # the lit quadrant decides the class
    spec = """[network]
inputs = 36
loss = "cross_entropy"
[[network.layers]]
units = 16
activation = "relu"
init = { kind = "he", seed = 0 }
[[network.layers]]
units = 4
activation = "softmax"
init = { kind = "he", seed = 1 }
[training]
learning_rate = 0.05
momentum = 0.9
batch = 20
epochs = 20
reduction = "mean"
[data]
idx = "fashion"
"""
    (tmp_path / "fashion.toml").write_text(spec)
    out = io.StringIO()
    assert main(["train", str(tmp_path / "fashion.toml"), "--json", "--quiet"], out=out) == 0
    assert json.loads(out.getvalue())["test_accuracy"] == 1.0
    (tmp_path / "held.toml").write_text(spec.replace("epochs = 20", "epochs = 20\nvalidation_fraction = 0.25"))
    out = io.StringIO()
    assert main(["train", str(tmp_path / "held.toml"), "--json", "--quiet"], out=out) == 0
    result = json.loads(out.getvalue())
    assert result["validation_accuracy"] == 1.0 and result["test_accuracy"] == 1.0
    (tmp_path / "wrong.toml").write_text(spec.replace("inputs = 36", "inputs = 35"))
    with pytest.raises(cr.SpecError, match=r"data.idx: expected network.inputs = 36 \(pixels per image\) and 4 "):
        cr.load(tmp_path / "wrong.toml")
    (tmp_path / "none.toml").write_text(spec.replace('idx = "fashion"', 'idx = "nowhere"'))
    with pytest.raises(cr.SpecError, match="data.idx: expected a directory of IDX files, got .*nowhere") as error:
        cr.load(tmp_path / "none.toml")
    assert str(error.value).count("data.idx") == 1
    assert main(["train", "--data", str(tmp_path / "nowhere")], out=io.StringIO()) != 0
    assert "train --data: expected mnist or a directory of IDX files, got" in capsys.readouterr().err


def test_csv_one_hot_and_standardisation_fitted_on_train_only(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("a,b,kind\n1,10,x\n2,20,y\n3,30,x\n4,40,z\n")
    x, t, classes = load_csv(path, "kind")
    assert classes == ["x", "y", "z"] and t.tolist()[1] == [0, 1, 0] and x.shape == (4, 2)
    train, test = train_test_split(4, 0.25, seed=0)
    scaler = Standardizer.fit(x[train])
    z = scaler.transform(x[train])
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaler.mean, x[train].mean(axis=0))
    assert one_hot([2, 0], 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    (tmp_path / "bad.csv").write_text("a,kind\nfoo,x\n")
    with pytest.raises(ValueError, match="bad.csv:2: column 1: expected a finite number, got 'foo'"):
        load_csv(tmp_path / "bad.csv", "kind")


@pytest.mark.parametrize("suffix", ["npz", "json"])
def test_model_round_trip_keeps_dtype_and_values(tmp_path, suffix):
    rng = np.random.default_rng(0)
    network = random_network(rng, [3, 5, 2], "relu", "softmax", "cross_entropy", dtype=np.float32)
    cr.io.save_model(network, tmp_path / f"m.{suffix}")
    back = cr.io.load_model(tmp_path / f"m.{suffix}")
    for a, b in zip(network.parameters(), back.parameters()):
        assert b.dtype == np.float32 and np.array_equal(a, b)
    if suffix == "npz":
        with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
            assert "model" in archive


def test_one_epoch_on_1000_mnist_samples_matches_pytorch_to_1e_9():
    x, y, _, _ = load_mnist(dtype=np.float64)
    x, y = x[:1000], y[:1000]
    rng = np.random.default_rng(0)
    network = random_network(rng, [784, 64, 32, 10], "relu", "softmax", "cross_entropy")
    model = torch_twin(network)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    config = TrainingConfig(learning_rate=0.1, batch=50, reduction="mean", epochs=1, shuffle=True, seed=5)
    from chainrule.train import epoch_batches
    order = np.concatenate(epoch_batches(1000, config, np.random.default_rng((config.seed, 1))))
    cr.fit(network, x, one_hot(y, 10), config)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for start in range(0, 1000, 50):
        batch = torch.from_numpy(order[start:start + 50])
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
        optimizer.step()
    for a, b in zip(network.parameters(), [p.detach().numpy() for p in model.parameters()]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_train_data_mnist_command_on_a_subset(tmp_path):
    out = io.StringIO()
    code = main(["train", "--data", "mnist", "--limit", "3000", "--epochs", "2", "--json", "--save",
                 str(tmp_path / "m.npz")], out=out)
    result = json.loads(out.getvalue())
    assert code == 0 and result["network"] == "784-256-128-10" and result["test_accuracy"] > 0.85
    assert cr.io.load_model(tmp_path / "m.npz").layers[0].weights.dtype == np.float32


def test_an_optimiser_passed_to_fit_carries_its_state_across_calls():
    """Two calls of one epoch sharing the optimiser train exactly as one call of two epochs."""
    rng = np.random.default_rng(4)
    x, t = rng.normal(size=(12, 3)), rng.uniform(size=(12, 2))
    config = TrainingConfig(learning_rate=0.05, batch=4, epochs=2, momentum=0.9, reduction="mean")
    once = random_network(np.random.default_rng(4), [3, 5, 2], "tanh", "sigmoid", "mse")
    twice = random_network(np.random.default_rng(4), [3, 5, 2], "tanh", "sigmoid", "mse")
    cr.fit(once, x, t, config)
    from dataclasses import replace
    optimizer = config.build_optimizer()
    for _ in range(2):
        cr.fit(twice, x, t, replace(config, epochs=1), optimizer=optimizer)
    for a, b in zip(once.parameters(), twice.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_spec_file_form_of_mnist_training(tmp_path):
    text = (Path(__file__).parent.parent / "specs" / "mnist.toml").read_text()
    text = text.replace('dataset = "mnist"', 'dataset = "mnist"\nlimit = 2000').replace("epochs = 5", "epochs = 1")
    (tmp_path / "mnist.toml").write_text(text)
    out = io.StringIO()
    assert main(["train", str(tmp_path / "mnist.toml"), "--json", "--quiet"], out=out) == 0
    result = json.loads(out.getvalue())
    assert result["test_accuracy"] > 0.6 and result["initial_loss"] is None and len(result["loss_history"]) == 1
    spec = cr.load(tmp_path / "mnist.toml")
    assert spec.build_network().dtype == np.float32 and len(spec.inputs) == 2000 and len(spec.test_inputs) == 10_000


@pytest.mark.parametrize("change, message", [
    (('inputs = 784', 'inputs = 780'), "data.dataset: expected network.inputs = 784 (pixels per image) and 10 output units (classes), got 780"),
    (('dataset = "mnist"', 'dataset = "cifar"'), "data.dataset: expected one of 'mnist', got 'cifar'"),
    (('dataset = "mnist"', 'limit = 5'), "data.limit: applies only with data.dataset or data.idx"),
    (('dtype = "float32"', 'dtype = "float16"'), "network.dtype: expected one of 'float64', 'float32', got 'float16'"),
])
def test_spec_dataset_errors_name_the_key(tmp_path, change, message):
    text = (Path(__file__).parent.parent / "specs" / "mnist.toml").read_text().replace(*change)
    if change[1] == "limit = 5":
        text = text.replace("[data]\n", "[data]\ninputs = [[0.0]]\ntargets = [[0.0]]\n")
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(cr.SpecError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        cr.load(tmp_path / "bad.toml")
    assert str(error.value).count("bad.toml") == 1      # one location, not a message wrapped twice


def test_train_data_with_a_validation_split_stops_early_and_keeps_the_best_epoch(tmp_path, capsys):
    fashion_like_directory(tmp_path / "fashion", np.random.default_rng(2))
    out = io.StringIO()
    assert main(["train", "--data", str(tmp_path / "fashion"), "--layers", "8", "--batch", "10", "--epochs", "40",
                 "--learning-rate", "0.5", "--validation-fraction", "0.25", "--patience", "2", "--json", "--quiet"],
                out=out) == 0
    result = json.loads(out.getvalue())
    losses = result["validation_loss_history"]
    assert len(losses) == result["epochs_run"] and result["best_epoch"] == 1 + int(np.argmin(losses))
    if result["stopped_because"] == "validation":
        assert result["epochs_run"] == result["best_epoch"] + 2
    assert result["validation_accuracy"] == 1.0      # the lit quadrant decides the class
    assert main(["train", "--data", str(tmp_path / "fashion"), "--validation-fraction", "1.5"], out=io.StringIO()) != 0
    assert "train --validation-fraction: expected a number in [0, 1), got 1.5" in capsys.readouterr().err
