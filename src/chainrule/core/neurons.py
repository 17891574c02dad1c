"""What a network calls its neurons: the seeds' scheme — i1, i2 for inputs; h1, h2 for the one
hidden layer (h1_2 = hidden layer 1, neuron 2 when there are several); o1, o2 for outputs — or the
names a worked example gives them (seed 004's x, blue, orange, green), checked here once."""

from __future__ import annotations

import re

from .settings import ConfigError, Described

NEURON_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,15}")
_RESERVED = re.compile(r"[wbt]\d+|total|E")      # parameter labels, targets, the error: not a neuron's name


def neuron_names(names, count: int, key: str) -> list[str] | None:
    """Names a worked example gives its neurons (seed 004's blue, orange, green), checked: ``count``
    distinct words of letters and digits, none a parameter label; None keeps the seeds' i1, h1, o1."""
    if names is None:
        return None
    if not isinstance(names, (list, tuple)) or len(names) != count:
        got = Described(f"{len(names)} names") if isinstance(names, (list, tuple)) else names
        raise ConfigError(key, f"a list of {count} names (one per neuron)", got)
    for k, name in enumerate(names, start=1):
        if not isinstance(name, str) or not NEURON_NAME.fullmatch(name) or _RESERVED.fullmatch(name):
            raise ConfigError(f"{key}[{k}]", "a name of up to 16 letters and digits, starting with a letter, "
                              "not a parameter label (w1, b1), a target (t1), E or 'total'", name)
    if len(set(names)) != len(names):
        raise ConfigError(key, "distinct names", next(n for n in names if list(names).count(n) > 1))
    return list(names)


class Names:
    """Neuron symbols by layer (−1: the inputs; n_layers − 1: the outputs): ``given[l]`` where a
    layer's names are given, else the seeds' scheme."""

    def __init__(self, n_layers: int, given: dict[int, list[str]] | None = None):
        self.n_layers = n_layers
        self.given = given or {}

    @classmethod
    def of_network(cls, network) -> "Names":
        """A Network's names (its input_names and each Dense layer's names)."""
        given = {l: layer.names for l, layer in enumerate(network.layers) if layer.names}
        if network.input_names:
            given[-1] = network.input_names
        return cls(len(network.layers), given)

    @classmethod
    def of_table(cls, table: dict) -> "Names":
        """The names of a network described as data (a trace's ``network``, a spec's [network] table)."""
        layers = table["layers"]
        given = {l: layer["names"] for l, layer in enumerate(layers) if layer.get("names")}
        if table.get("input_names"):
            given[-1] = table["input_names"]
        return cls(len(layers), given)

    def neuron(self, layer: int, j: int) -> str:
        """Layer −1 is the input layer; layer n_layers − 1 the output layer."""
        if layer in self.given:
            return self.given[layer][j]
        if layer < 0:
            return f"i{j + 1}"
        if layer == self.n_layers - 1:
            return f"o{j + 1}"
        if self.n_layers == 2:
            return f"h{j + 1}"
        return f"h{layer + 1}_{j + 1}"

    def out(self, layer: int, j: int) -> str:
        """The symbol of a value entering layer + 1: an input i1, or out_h1."""
        return self.neuron(layer, j) if layer < 0 else f"out_{self.neuron(layer, j)}"

    def distinct(self, sizes: list[int]) -> None:
        """Every neuron's name — given or the default — names one neuron only (``sizes``: inputs, then units)."""
        seen: dict[str, str] = {}
        for l, size in enumerate(sizes, start=-1):
            key = "input_names" if l < 0 else f"layers[{l + 1}].names"
            for j in range(size):
                name = self.neuron(l, j)
                if name in seen:
                    raise ConfigError(key, f"names distinct across the network ({name!r} already names a "
                                      f"neuron of {seen[name]})", name)
                seen[name] = key


__all__ = ["NEURON_NAME", "Names", "neuron_names"]
