"""Saved models: one serialisation (the spec's [network] table), one validator for JSON and .npz."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.formats import io as model_io
from chainrule.core.build import network_to_table
from chainrule.formats.serialize import FORMAT, VERSION
from chainrule.formats.spec import from_dict
from chainrule.training.trace import describe_network
from chainrule.web.sessions import to_toml


def sample_network(dtype=np.float64) -> cr.Network:
    rng = np.random.default_rng(3)
    layers = [cr.Dense(rng.normal(size=(3, 2)), 0.25, activation="leaky_relu", slope=0.2, bias_mode="shared",
                       dtype=dtype),
              cr.Dense(rng.normal(size=(4, 3)), None, activation="tanh", bias_mode="none", dtype=dtype),
              cr.Dense(rng.normal(size=(2, 4)), rng.normal(size=2), activation="softmax", dtype=dtype)]
    return cr.Network(layers, "cross_entropy", "column")


def assert_same(a: cr.Network, b: cr.Network) -> None:
    assert network_to_table(a, values=False) == network_to_table(b, values=False)
    assert len(a.parameters()) == len(b.parameters())
    for p, q in zip(a.parameters(), b.parameters()):
        assert q.dtype == p.dtype and q.shape == p.shape and np.array_equal(p, q)


@pytest.mark.parametrize("suffix", ["json", "npz"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_keeps_values_dtype_and_the_table(tmp_path, suffix, dtype):
    network = sample_network(dtype)
    path = tmp_path / f"m.{suffix}"
    model_io.save_model(network, path, "sample")
    back = model_io.load_model(path)
    assert_same(network, back)
    assert back.layers[0].activation.params == {"slope": 0.2} and back.weight_labels == "column"


def test_the_table_is_the_spec_form_and_activation_parameters_are_written_generically():
    network = sample_network()
    table = network_to_table(network)
    assert list(table) == ["inputs", "loss", "weight_labels", "dtype", "layers"]
    assert table["layers"][0] == {"units": 3, "activation": "leaky_relu", "slope": 0.2,
                                  "weights": network.layers[0].weights.tolist(), "bias": 0.25, "bias_mode": "shared"}
    assert "bias" not in table["layers"][1]
    spec_network = from_dict({"network": table}).build_network()
    assert_same(network, spec_network)
    # whatever parameters an activation has are written as keys of the layer, by their own names
    network.layers[1].activation = cr.get_activation("elu", alpha=1.5)
    assert network_to_table(network)["layers"][1]["alpha"] == 1.5
    assert from_dict({"network": network_to_table(network)}).build_network().layers[1].activation.alpha == 1.5


def test_describe_network_is_the_table_plus_labels():
    network = sample_network()
    described = describe_network(network)
    table = network_to_table(network, values=False)
    for key in ("inputs", "loss", "dtype"):
        assert described[key] == table[key]
    first = described["layers"][0]
    assert first["activation_params"] == {"slope": 0.2} and first["fan_in"] == 2 and first["units"] == 3
    assert first["weight_labels"][0][:2] == [network.weight_label(0, 0, 0), network.weight_label(0, 0, 1)]
    assert described["layers"][1]["bias_labels"] == [None] * 4
    assert network.parameters_as_data()[0] == {"weights": network.layers[0].weights.tolist(), "bias": 0.25}


def test_the_web_spec_toml_is_the_same_table(tmp_path):
    network = sample_network(np.float32)
    text = to_toml("a \"quoted\" name", network, cr.TrainingConfig(), np.zeros((1, 2)), np.array([[1.0, 0.0]]))
    spec = cr.loads(text)
    assert spec.name == 'a "quoted" name'
    assert_same(network, spec.build_network())


def test_version_1_files_written_before_dtype_was_always_given_still_load(tmp_path):
    """The saver of version 1 left dtype out for float64 and wrote slope only for leaky_relu."""
    network = sample_network()
    table = network_to_table(network)
    del table["dtype"]
    document = {"format": FORMAT, "version": 1, "name": "old", "network": table}
    (tmp_path / "old.json").write_text(json.dumps(document, indent=1))
    assert_same(network, model_io.load_model(tmp_path / "old.json"))
    for layer in table["layers"]:
        layer.pop("weights")
        layer.pop("bias", None)
    arrays = {"weights_0": network.layers[0].weights, "bias_0": network.layers[0].bias,
              "weights_1": network.layers[1].weights,
              "weights_2": network.layers[2].weights, "bias_2": network.layers[2].bias}
    np.savez(tmp_path / "old.npz", model=np.array(json.dumps(document)), **arrays)
    assert_same(network, model_io.load_model(tmp_path / "old.npz"))


def tampered_npz(tmp_path, change_document=None, **arrays):
    """A saved model with its document changed and some arrays replaced (None removes one)."""
    model_io.save_model(sample_network(), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        content = {name: archive[name] for name in archive.files}
    document = json.loads(str(content["model"]))
    if change_document:
        change_document(document)
    content["model"] = np.array(json.dumps(document))
    for name, value in arrays.items():
        if value is None:
            content.pop(name)
        else:
            content[name] = value
    path = tmp_path / "bad.npz"
    np.savez(path, **content)
    return path


def refusal(path) -> str:
    with pytest.raises(cr.SpecError) as info:
        model_io.load_model(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def test_npz_of_a_newer_version_is_refused_naming_the_version(tmp_path):
    path = tampered_npz(tmp_path, lambda d: d.update(version=99))
    message = refusal(path)
    assert f"{path}: version: expected {VERSION} or lower, got 99" in message and "newer chainrule" in message


def test_npz_with_integer_weights_is_refused(tmp_path):
    path = tampered_npz(tmp_path, weights_1=np.ones((4, 3), dtype=np.int64))
    assert refusal(path) == (f"{path}: network.layers[2].weights: expected floating-point numbers "
                             f"(float32 or float64), got a int64 array of shape (4, 3)")


def test_npz_with_nan_weights_is_refused_naming_the_element(tmp_path):
    weights = sample_network().layers[2].weights.copy()
    weights[1, 2] = np.nan
    path = tampered_npz(tmp_path, weights_2=weights)
    assert refusal(path) == f"{path}: network.layers[3].weights row 2 column 3: expected a finite number, got nan"


def test_npz_with_a_wrong_weight_shape_is_refused(tmp_path):
    path = tampered_npz(tmp_path, weights_0=np.zeros((2, 3)))
    message = refusal(path)
    assert message.startswith(f"{path}: network.layers[1].weights: expected shape (3, 2)")
    assert message.endswith("got a float64 array of shape (2, 3)")


@pytest.mark.parametrize("arrays, document, expected", [
    ({"bias_2": np.array([0.0, np.inf])}, None, "network.layers[3].bias item 2: expected a finite number, got inf"),
    ({"bias_0": np.zeros(3)}, None, "network.layers[1].bias: expected shape ()"),
    ({"weights_0": np.zeros((3, 2), dtype=np.float32)}, None, "network.layers[1].weights: expected float64 numbers"),
    ({"weights_1": None}, None, "network.layers[2].weights: missing; expected the layer's weights (the array weights_1)"),
    ({"bias_2": None}, None, "network.layers[3].bias: missing"),
    ({"weights_7": np.zeros((1, 1))}, None, "weights_7: unexpected array"),
    ({}, lambda d: d.update(format="other"), "format: expected 'chainrule-model', got 'other'"),
    ({}, lambda d: d["network"]["layers"][0].update(units=5), "network.layers[1].weights: expected shape (5, 2)"),
    ({}, lambda d: d["network"].update(loss="nope"), "network.loss: expected one of"),
])
def test_npz_mistakes_are_refused_like_json_ones(tmp_path, arrays, document, expected):
    path = tampered_npz(tmp_path, document, **arrays)
    assert f"{path}: {expected}" in refusal(path)


def test_json_models_are_refused_for_the_same_mistakes(tmp_path):
    model_io.save_model(sample_network(), tmp_path / "m.json")
    document = json.loads((tmp_path / "m.json").read_text())
    path = tmp_path / "bad.json"

    def check(change, expected):
        doc = json.loads(json.dumps(document))
        change(doc)
        path.write_text(json.dumps(doc))
        assert f"{path}: {expected}" in refusal(path)

    check(lambda d: d.update(version=99), f"version: expected {VERSION} or lower, got 99")
    check(lambda d: d["network"]["layers"][2]["weights"][0].__setitem__(1, "x"),
          "network.layers[3].weights row 1 column 2: expected a number, got 'x'")
    check(lambda d: d["network"]["layers"][1].pop("weights"), "network.layers[2].weights: missing")
    check(lambda d: d["network"]["layers"][1].update(init={"kind": "he"}), "network.layers[2].init: not in a saved model")


def test_unreadable_npz_files_are_one_line_errors(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert "expected a chainrule model (.npz), got an unreadable file" in refusal(tmp_path / "junk.npz")
    np.savez(tmp_path / "nomodel.npz", weights_0=np.zeros((1, 1)))
    assert "model: missing" in refusal(tmp_path / "nomodel.npz")
    np.savez(tmp_path / "objects.npz", model=np.array([{"a": 1}], dtype=object))
    assert refusal(tmp_path / "objects.npz").startswith(f"{tmp_path / 'objects.npz'}: model: ")


def test_written_files_get_the_usual_permissions(tmp_path):
    """A model or picture is written as open() would write it (0o666 less the umask), not with the
    temporary file's 0o600; a replaced file keeps its own mode."""
    import os
    import stat
    from chainrule.formats.io import write_atomically
    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.json"
        write_atomically(fresh, "{}")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        kept = tmp_path / "kept.json"
        kept.write_text("old")
        kept.chmod(0o640)
        write_atomically(kept, "new")
        assert (stat.S_IMODE(kept.stat().st_mode), kept.read_text()) == (0o640, "new")
    finally:
        os.umask(umask)
