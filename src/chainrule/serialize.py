"""The one serialisation of a network: its spec form, the ``[network]`` table of a spec file.

``network_to_table(network)`` writes inputs, loss, weight_labels, dtype and, per layer, units,
activation, each of the activation's parameters as a key of its own (``slope = 0.01``), weights,
bias and bias_mode.  Model files (JSON and .npz), traces (``trace.describe_network``), the
parameters of a run's JSON output (``Network.parameters_as_data``) and the web page's state and
spec.toml download are all written from it.

Reading goes the other way through one validator: ``network_from_document`` checks a model
document's format and version, requires every layer's parameters to be given, and builds the
network with ``spec.from_dict`` — the validator of spec files — so a JSON model and an .npz model
(whose weights and biases are arrays in the archive) are refused for the same mistakes, each
with one line naming the file and the key.
"""

from __future__ import annotations

import numpy as np

FORMAT = "chainrule-model"
VERSION = 1

# the keys of a layer's table that are not activation parameters
LAYER_KEYS = ("units", "activation", "weights", "bias", "bias_mode")


def layer_to_table(layer, values: bool = True) -> dict:
    """One ``[[network.layers]]`` table; without ``values``, weights and bias are left out."""
    table = {"units": layer.units, "activation": layer.activation.name}
    table.update(layer.activation.params)      # e.g. slope = 0.01, whatever the activation takes
    if values:
        table["weights"] = layer.weights.tolist()
        if layer.bias is not None:
            table["bias"] = layer.bias_value()
    table["bias_mode"] = layer.bias_mode
    return table


def network_to_table(network, values: bool = True) -> dict:
    """The network as a spec's ``[network]`` table (plain data; floats exact through repr)."""
    return {"inputs": network.inputs, "loss": network.loss.name, "weight_labels": network.weight_labels,
            "dtype": np.dtype(network.dtype).name,
            "layers": [layer_to_table(layer, values) for layer in network.layers]}


def model_document(network, name: str = "model", values: bool = True) -> dict:
    """A model file's content: format, version, name and the network table."""
    return {"format": FORMAT, "version": VERSION, "name": name, "network": network_to_table(network, values)}


def network_arrays(network) -> dict[str, np.ndarray]:
    """The parameters as an .npz holds them: weights_0, bias_0, weights_1, … (absent biases left out)."""
    arrays = {}
    for l, layer in enumerate(network.layers):
        arrays[f"weights_{l}"] = layer.weights
        if layer.bias is not None:
            arrays[f"bias_{l}"] = layer.bias
    return arrays


def network_from_document(document, source: str, arrays: dict[str, np.ndarray] | None = None):
    """The network of a model document, validated like a spec; ``arrays`` (from an .npz) are the
    weights and biases the document's table leaves out.  Raises SpecError: ``source: key: …``."""
    from .settings import Described, show
    from .spec import SpecError, _layer_key, from_dict

    def fail(key: str, message: str) -> SpecError:
        return SpecError(f"{source}: {key}: {message}")

    if not isinstance(document, dict):
        raise fail("format", f"expected a {FORMAT} document (an object), got {type(document).__name__}")
    if document.get("format") != FORMAT:
        raise fail("format", f"expected {FORMAT!r}, got {show(document.get('format'))}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail("version", f"expected an integer from 1 to {VERSION}, got {show(version)}")
    if version > VERSION:
        raise fail("version", f"expected {VERSION} or lower, got {version}: written by a newer chainrule "
                              f"(this one reads model versions up to {VERSION})")
    body = {k: v for k, v in document.items() if k not in ("format", "version")}
    network = body.get("network")
    layers = network.get("layers") if isinstance(network, dict) else None
    if arrays is not None and isinstance(network, dict) and isinstance(layers, list):
        arrays = dict(arrays)
        body["network"] = network = dict(network, layers=[dict(t) if isinstance(t, dict) else t for t in layers])
        layers = network["layers"]
        for l, table in enumerate(layers):
            if not isinstance(table, dict):
                continue
            for kind in ("weights", "bias"):
                name = f"{kind}_{l}"
                if name in arrays:
                    if kind in table:
                        raise fail(_layer_key(l + 1, kind), f"given twice: in the table and as the array {name}")
                    table[kind] = arrays.pop(name)
        if arrays:
            name = min(arrays)
            raise fail(name, f"unexpected array; expected model and weights_L, bias_L for the "
                             f"{len(layers)} layers, got {Described(name)}")
    if isinstance(layers, list):       # a saved model gives every parameter: nothing initialised at random
        for l, table in enumerate(layers, start=1):
            if not isinstance(table, dict):
                continue
            if "init" in table:
                raise fail(_layer_key(l, "init"), "not in a saved model; expected explicit weights")
            if "weights" not in table:
                where = f" (the array weights_{l - 1})" if arrays is not None else ""
                raise fail(_layer_key(l, "weights"), f"missing; expected the layer's weights{where}")
            if "bias" not in table and table.get("bias_mode", "per_neuron") != "none":
                where = f" (the array bias_{l - 1})" if arrays is not None else ""
                raise fail(_layer_key(l, "bias"), f"missing; expected the layer's bias{where}")
    return from_dict(body, source).build_network()
