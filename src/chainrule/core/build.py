"""The one builder of networks, and the one serialisation of a network: its ``[network]`` table.

``network(table, seed)`` builds a network from the table a spec file, a model file and ``network_to_table``
share (inputs, loss, weight_labels, input_names; per layer units, activation and its settings, weights or
init, bias, bias_mode, names): ``Spec.build_network`` calls it with the spec's table, and ``mlp`` with a
table it writes from layer sizes — a network from its layer sizes in one line:
``mlp([2, 2, 2], activation="sigmoid", seed=0)``.

Every per-layer argument takes one value for all layers or a list with one per layer
(``activation=["tanh", "identity"]``); the output layer's activation defaults to the one the loss
needs (softmax for cross_entropy, sigmoid for bce).  Weights are drawn by ``init`` (a kind, or a
table such as ``{"kind": "normal", "std": 0.5}``, see ``init.py``) from one generator seeded by
``seed``, layer by layer in label order — or given explicitly with ``weights=[W¹, W², …]``, each
units × fan_in as in ``Dense``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import init as initialisers
from .activations import ALL_SETTINGS, NAMES, activation_params, settings_of
from .data import numbers
from .layers import Dense, check_size, float_dtype
from .losses import get_loss
from .network import BaseNetwork, new_network
from .settings import ConfigError, Described, is_integer


def _per_layer(value: Any, name: str, count: int) -> list:
    """One value per layer: a list of ``count`` values given as such, else the value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ConfigError(name, f"one value for all layers or a list of {count} (one per layer)",
                              Described(f"a list of {len(value)}"))
        return list(value)
    return [value] * count


def mlp(sizes: Sequence[int], activation: str | Sequence[str] = "sigmoid", *, loss: str = "half_sse",
        output_activation: str | None = None, init: Any = "xavier", seed: int = 0,
        bias: Any = 0.0, bias_mode: str | Sequence[str] = "per_neuron", weights: Sequence | None = None,
        weight_labels: str = "row", dtype: Any = np.float64, **activation_settings) -> BaseNetwork:
    """A fully connected network with ``sizes = [inputs, hidden…, outputs]``.

    ``activation`` applies to the hidden layers and, unless ``output_activation`` (or the loss) says
    otherwise, the output layer; ``bias`` is each layer's starting bias (a number, or per layer a
    number or list); activation settings such as ``slope=0.1`` go to every layer whose activation
    takes them.
    """
    if isinstance(sizes, (int, np.integer)) or not isinstance(sizes, (list, tuple)) or len(sizes) < 2 \
            or not all(is_integer(n) and n >= 1 for n in sizes):
        raise ConfigError("sizes", "a list of at least two layer sizes ≥ 1, inputs first: [2, 2, 2]", sizes)
    count = len(sizes) - 1
    dtype = float_dtype(dtype)
    check_size(sizes, "sizes", np.dtype(dtype).itemsize)
    if isinstance(activation, (list, tuple)):
        names = _per_layer(activation, "activation", count)
    else:
        wanted = get_loss(loss).output_activation if isinstance(loss, str) else None
        names = [activation] * (count - 1) + [wanted or activation]
    if output_activation is not None:
        names[-1] = output_activation
    unknown = [key for key in activation_settings if key not in ALL_SETTINGS]
    if unknown:
        raise ConfigError(unknown[0], "an argument of mlp or an activation's setting (" + ", ".join(ALL_SETTINGS) + ")",
                          shown=False)
    inits = _per_layer(init, "init", count)
    biases = _per_layer(bias, "bias", count) if not (isinstance(bias, (list, tuple)) and count == 1) else [bias]
    modes = _per_layer(bias_mode, "bias_mode", count)
    given = _per_layer(list(weights), "weights", count) if weights is not None else [None] * count
    if not (is_integer(seed) and seed >= 0):
        raise ConfigError("seed", "an integer ≥ 0", seed)
    tables = [{"units": units, "activation": names[l], "bias": biases[l], "bias_mode": modes[l],
               **({"init": inits[l]} if given[l] is None else {"weights": given[l]}),
               **{key: value for key, value in activation_settings.items() if key in _takes(names[l])}}
              for l, units in enumerate(sizes[1:])]

    def of_layer(number: int, error: ConfigError) -> ConfigError:
        return ConfigError(f"{error.key} of layer {number}" if count > 1 else error.key, error.expected, error.got,
                           shown=error.shown)

    built = network({"inputs": sizes[0], "loss": loss, "weight_labels": weight_labels, "layers": tables}, seed, dtype,
                    of_layer)
    taken = {key for layer in built.layers for key in layer.activation.params}
    for key in activation_settings:
        if key not in taken:
            raise ConfigError(key, f"a setting of one of this network's activations ({', '.join(dict.fromkeys(names))})",
                              activation_settings[key])
    return built


def _in_layers(number: int, error: ConfigError) -> ConfigError:
    return error.under(f"layers[{number}]")


def network(table: dict, seed: int = 0, dtype: Any = None,
            where: Callable[[int, ConfigError], ConfigError] = _in_layers) -> BaseNetwork:
    """The network of a ``[network]`` table, in ``dtype`` (default: the table's, else float64): each layer's
    weights as given (units × fan_in) or drawn by its ``init`` (default xavier) from one generator seeded by
    ``seed``, layer by layer in label order.  The table's values are checked by the classes they make; a
    layer's mistake is raised as ``where(number, error)`` (default: the key inside ``layers[number]``)."""
    dtype = float_dtype(dtype if dtype is not None else table.get("dtype", "float64"))
    sources = initialisers.RandomSources(seed)
    order = "column" if table.get("weight_labels", "row") == "column" else "row"
    layers = []
    fan_in = table["inputs"]
    for number, layer in enumerate(table["layers"], start=1):
        units = layer["units"]
        try:
            weights = _weights(layer.get("weights"), layer.get("init", "xavier"), units, fan_in, sources, order)
            layers.append(Dense(weights, layer.get("bias"), activation=layer.get("activation", "sigmoid"),
                                bias_mode=layer.get("bias_mode", "per_neuron"), dtype=dtype, names=layer.get("names"),
                                **activation_params(layer)))
        except ConfigError as exc:
            raise where(number, exc) from None
        fan_in = units
    return new_network(layers, table.get("loss", "half_sse"), table.get("weight_labels", "row"), table.get("input_names"))


def _weights(given, init, units: int, fan_in: int, sources, order: str) -> np.ndarray:
    """A layer's weights: the matrix given (units × fan_in), or drawn by its initialiser."""
    if given is None:
        try:
            table = initialisers.checked(init)
        except ConfigError as exc:
            raise exc.under("init") from None
        return sources.draw(table, units, fan_in, order)
    drawn = numbers(given, "weights", np.float64)
    if drawn.shape == (units,) and fan_in == 1:        # one input: a spec may give the column as a flat list
        drawn = drawn.reshape(units, 1)
    if drawn.shape != (units, fan_in):
        raise ConfigError("weights", f"a {units} × {fan_in} matrix (units × fan_in)", Described(f"shape {drawn.shape}"))
    return drawn


def _takes(activation) -> dict:
    """The settings an activation (a name or an object) takes; none for a name that is not one."""
    if not isinstance(activation, str):
        return getattr(activation, "SETTINGS", {})
    return settings_of(activation) if activation in NAMES else {}


def layer_to_table(layer, values: bool = True) -> dict:
    """One ``[[network.layers]]`` table; without ``values``, weights and bias are left out."""
    table = {"units": layer.units, "activation": layer.activation.name}
    table.update(layer.activation.params)      # e.g. slope = 0.01, whatever the activation takes
    if values:
        table["weights"] = layer.weights.tolist()
        if layer.bias is not None:
            table["bias"] = layer.bias_value()
    table["bias_mode"] = layer.bias_mode
    if layer.names:
        table["names"] = list(layer.names)
    return table


def network_to_table(network, values: bool = True) -> dict:
    """The network as a spec's ``[network]`` table (plain data; floats exact through repr)."""
    table = {"inputs": network.inputs, "loss": network.loss.name, "weight_labels": network.weight_labels,
             "dtype": np.dtype(network.dtype).name}
    if network.input_names:
        table["input_names"] = list(network.input_names)
    return table | {"layers": [layer_to_table(layer, values) for layer in network.layers]}
