"""Spec files: every mistake is one clear line with file, line, key, what was expected and what was got."""

from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.formats import examples

GOOD = """\
name = "tiny"
[network]
inputs = 2
loss = "half_sse"

[[network.layers]]
units = 2
activation = "sigmoid"
weights = [[0.1, 0.2], [0.3, 0.4]]
bias = 0.5
bias_mode = "shared"

[[network.layers]]
units = 1
activation = "identity"
weights = [[0.5, 0.6]]

[training]
learning_rate = 0.5
batch = "online"

[data]
inputs = [[1, 2], [3, 4]]
targets = [[1], [0]]
"""


def load_text(tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return cr.load(path)


def error_of(tmp_path, text):
    with pytest.raises(cr.SpecError) as info:
        load_text(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_good_spec_loads(tmp_path):
    spec = load_text(tmp_path, GOOD)
    net = spec.build_network()
    assert net.shape_text() == "2-2-1"
    assert list(net.labels) == ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2"]
    assert spec.training.batch == "online" and spec.inputs.shape == (2, 2)


@pytest.mark.parametrize("old,new,expected", [
    ('loss = "half_sse"', 'loss = "half_sse"\nspeed = 3', ["spec.toml:5:", "network.speed", "unknown key"]),
    ("weights = [[0.5, 0.6]]", "weights = [[0.5, 0.6, 0.7]]",
     ["spec.toml:16:", "network.layers[2].weights row 1", "expected 2 numbers", "got 3 numbers"]),
    ("weights = [[0.1, 0.2], [0.3, 0.4]]", "weights = [[0.1, 0.2]]",
     ["spec.toml:9:", "network.layers[1].weights", "expected 2 rows", "got 1 rows"]),
    ('activation = "identity"', 'activation = "swish"',
     ["spec.toml:15:", "network.layers[2].activation", "expected one of", "got 'swish'"]),
    ("learning_rate = 0.5", "learning_rate = -0.5",
     ["spec.toml:19:", "training.learning_rate", "expected a finite number ≥ 0", "got -0.5"]),
    ("learning_rate = 0.5", "learning_rate = nan", ["training.learning_rate", "expected a finite number", "got nan"]),
    ("bias = 0.5", "bias = inf", ["spec.toml:10:", "network.layers[1].bias", "finite", "got inf"]),
    ("inputs = [[1, 2], [3, 4]]", "inputs = [[1, 2], [3]]",
     ["spec.toml:23:", "data.inputs row 2", "expected 2 numbers", "got 1 numbers"]),
    ("targets = [[1], [0]]", "targets = [[1]]", ["data.targets", "expected 2 rows", "got 1 rows"]),
    ('batch = "online"', 'batch = "sometimes"', ["training.batch", "'online'", "got 'sometimes'"]),
    ('batch = "online"', 'batch = 0', ["training.batch", "integer ≥ 1", "got 0"]),
    ('batch = "online"', 'frozen = ["w9"]', ["training.frozen", "expected labels of this network's parameters", "got 'w9'"]),
    ('bias_mode = "shared"', 'bias_mode = "shared_ish"', ["network.layers[1].bias_mode", "got 'shared_ish'"]),
    ('bias = 0.5\n', 'bias = [0.5, 0.1]\n', ["network.layers[1].bias", "one number (bias_mode is shared)"]),
    ("weights = [[0.5, 0.6]]", "weights = [[0.5, 0.6]]\nbias = [0.1, 0.2]",
     ["spec.toml:17:", "network.layers[2].bias", "a list of 1 numbers", "got 2 numbers"]),
    ("units = 1", "units = 0", ["network.layers[2].units", "integer ≥ 1", "got 0"]),
    ("inputs = 2", "inputs = 2.5", ["network.inputs", "integer ≥ 1", "got 2.5"]),
    ('loss = "half_sse"', 'loss = "cross_entropy"', ["network.loss", "softmax output layer", "got identity"]),
    ("weights = [[0.5, 0.6]]", 'init = { kind = "normal", sd = 1 }', ["network.layers[2].init.sd", "unknown key"]),
    ("[data]", "[dataa]", ["dataa", "unknown key"]),
])
def test_mistakes_are_named(tmp_path, old, new, expected):
    assert old in GOOD
    message = error_of(tmp_path, GOOD.replace(old, new, 1))
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_invalid_toml_names_the_line(tmp_path):
    message = error_of(tmp_path, GOOD.replace("units = 1", "units = = 1"))
    assert message.startswith(f"{tmp_path / 'spec.toml'}:14: invalid TOML")


def test_missing_spec_names_the_examples():
    with pytest.raises(cr.SpecError, match="mazur"):
        cr.load("no-such-example")


def test_data_from_csv_with_header(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,1\n3,4,0\n")
    text = GOOD[:GOOD.index("[data]")] + '[data]\ncsv = "d.csv"\ntarget_columns = ["label"]\n'
    spec = load_text(tmp_path, text)
    assert spec.inputs.tolist() == [[1, 2], [3, 4]] and spec.targets.tolist() == [[1], [0]]


def test_csv_row_errors_name_file_and_line(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,1\n3,x,0\n")
    text = GOOD[:GOOD.index("[data]")] + '[data]\ncsv = "d.csv"\n'
    message = error_of(tmp_path, text)
    assert "d.csv:3" in message and "column 2" in message and "got 'x'" in message


def test_flat_lists_for_single_input_and_output(tmp_path):
    spec = cr.load("softplus")
    assert spec.inputs.shape == (3, 1) and spec.targets.shape == (3, 1)


def test_legacy_seed_continues_across_layers_in_label_order():
    state = np.random.RandomState(42)
    draws = state.normal(0, 1, size=4)
    net = cr.load("softplus").build_network()
    assert net.layers[0].weights.ravel().tolist() == draws[:2].tolist()
    assert net.layers[1].weights.ravel().tolist() == draws[2:].tolist()


def test_seeded_initialisers_are_reproducible(tmp_path):
    text = GOOD.replace("weights = [[0.1, 0.2], [0.3, 0.4]]", 'init = { kind = "he", seed = 5 }')
    a = load_text(tmp_path, text).build_network().layers[0].weights
    b = load_text(tmp_path, text).build_network().layers[0].weights
    assert np.array_equal(a, b)
    c = load_text(tmp_path, text.replace("seed = 5", "seed = 6")).build_network().layers[0].weights
    assert not np.array_equal(a, c)


def test_column_labels_number_weights_down_the_columns(tmp_path):
    net = load_text(tmp_path, GOOD.replace('loss = "half_sse"', 'loss = "half_sse"\nweight_labels = "column"')).build_network()
    assert [net.labels[f"w{n}"].get(net) for n in range(1, 5)] == [0.1, 0.3, 0.2, 0.4]


@pytest.mark.parametrize("name", examples.names())
def test_every_builtin_example_loads_with_data_and_a_description(name):
    spec = cr.load(name)
    spec.require_data()
    assert examples.summary(name)


@pytest.mark.parametrize("order", ["row", "column"])
def test_labels_number_weights_layer_by_layer_then_biases(order):
    """The numbering written out as loops: weights of each layer in turn (row or column order), then
    biases: one per neuron, one per layer when shared, none when absent."""
    shapes, modes = [(3, 2), (2, 3), (1, 2)], ["per_neuron", "shared", "none"]
    layers = [cr.Dense(np.zeros(shape), None if mode == "none" else (0.0 if mode == "shared" else np.zeros(shape[0])),
                       bias_mode=mode) for shape, mode in zip(shapes, modes)]
    net = cr.Network(layers, weight_labels=order)
    expected = []
    for l, (units, fan_in) in enumerate(shapes):
        cells = [(j, i) for j in range(units) for i in range(fan_in)] if order == "row" else \
                [(j, i) for i in range(fan_in) for j in range(units)]
        expected += [(l, "weights", cell) for cell in cells]
    expected += [(0, "bias", (0,)), (0, "bias", (1,)), (0, "bias", (2,)), (1, "bias", ())]
    names = [f"w{n}" for n in range(1, 15)] + ["b1", "b2", "b3", "b4"]
    assert list(net.labels) == names and len(net.labels) == 18
    for name, (l, kind, index) in zip(names, expected):
        ref = net.labels[name]
        assert (ref.layer, ref.kind, ref.index) == (l, kind, index)
        label = net.weight_label(l, *index) if kind == "weights" else net.bias_label(l, index[0] if index else 0)
        assert label == name
    assert net.bias_label(2, 0) is None
    assert [(name, (ref.layer, ref.kind, ref.index)) for name, ref in net.labels.items()] == list(zip(names, expected))
    rng = np.random.default_rng(3)      # every value distinct: numbers() reads each at its own label's place
    for layer in net.layers:
        layer.weights[...] = rng.random(layer.weights.shape)
        if layer.bias is not None:
            layer.bias[...] = rng.random(layer.bias.shape)
    at = {"weights": lambda l, index: net.layers[l].weights[index], "bias": lambda l, index: net.layers[l].bias[index]}
    assert list(net.labels.numbers()) == [(name, float(at[kind](l, index))) for name, (l, kind, index) in zip(names, expected)]
    for wrong in ("w0", "w15", "w01", "b5", "x1", "w", 3):
        assert wrong not in net.labels
    with pytest.raises(ValueError, match=r"frozen: expected labels of this network's parameters \(w1 … w14, b1 … b4\), got 'w15'"):
        net.trainable_masks(["w15"])


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
