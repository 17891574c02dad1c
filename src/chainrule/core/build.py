"""A network from its layer sizes in one line: ``mlp([2, 2, 2], activation="sigmoid", seed=0)``.

Every per-layer argument takes one value for all layers or a list with one per layer
(``activation=["tanh", "identity"]``); the output layer's activation defaults to the one the loss
needs (softmax for cross_entropy, sigmoid for bce).  Weights are drawn by ``init`` (a kind, or a
table such as ``{"kind": "normal", "std": 0.5}``, see ``init.py``) from one generator seeded by
``seed``, layer by layer in label order — or given explicitly with ``weights=[W¹, W², …]``, each
units × fan_in as in ``Dense``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import init as initialisers
from .activations import ALL_SETTINGS, NAMES, settings_of
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
    sources = initialisers.RandomSources(seed if is_integer(seed) and seed >= 0 else _bad_seed(seed))
    order = "column" if weight_labels == "column" else "row"
    layers = []
    for number, (units, fan_in) in enumerate(zip(sizes[1:], sizes[:-1]), start=1):
        where = f" of layer {number}" if count > 1 else ""
        try:
            drawn = _weights(given[number - 1], inits[number - 1], units, fan_in, sources, order)
            settings = {key: value for key, value in activation_settings.items() if key in _takes(names[number - 1])}
            layers.append(Dense(drawn, biases[number - 1], activation=names[number - 1],
                                bias_mode=modes[number - 1], dtype=dtype, **settings))
        except ConfigError as exc:
            raise ConfigError(f"{exc.key}{where}", exc.expected, exc.got, shown=exc.shown) from None
    taken = {key for layer in layers for key in layer.activation.params}
    for key in activation_settings:
        if key not in taken:
            raise ConfigError(key, f"a setting of one of this network's activations ({', '.join(dict.fromkeys(names))})",
                              activation_settings[key])
    return new_network(layers, loss, weight_labels)


def _weights(given, init, units: int, fan_in: int, sources, order: str) -> np.ndarray:
    """A layer's weights: the matrix given (units × fan_in), or drawn by its initialiser."""
    if given is None:
        try:
            table = initialisers.checked(init)
        except ConfigError as exc:
            raise exc.under("init") from None
        return sources.draw(table, units, fan_in, order)
    drawn = numbers(given, "weights", np.float64)
    if drawn.shape != (units, fan_in):
        raise ConfigError("weights", f"a {units} × {fan_in} matrix (units × fan_in)", Described(f"shape {drawn.shape}"))
    return drawn


def _takes(activation) -> dict:
    """The settings an activation (a name or an object) takes; none for a name that is not one."""
    if not isinstance(activation, str):
        return getattr(activation, "SETTINGS", {})
    return settings_of(activation) if activation in NAMES else {}


def _bad_seed(seed: Any) -> int:
    raise ConfigError("seed", "an integer ≥ 0", seed)


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
