"""How a derivation names things: the error E, neurons (i1, h1, h1_2, o1) and their values
(out_h1), every parameter's label in order, the list of labels an error message offers, the
number of parameters, and a sample's input or target written as a vector."""

from __future__ import annotations

from ..expr import Sym, num
from ..settings import ConfigError
from ..trace import StepTrace

E = Sym("E")


class Names:
    """Neuron symbols as the seeds write them: i1, i2 for inputs; h1, h2 for the one
    hidden layer (h1_2 = hidden layer 1, neuron 2 when there are several); o1, o2 for outputs."""

    def __init__(self, n_layers: int):
        self.n_layers = n_layers

    def neuron(self, layer: int, j: int) -> str:
        """Layer −1 is the input layer; layer n_layers − 1 the output layer."""
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


def labels(trace: StepTrace) -> list[str]:
    """Every parameter's label, layer by layer: its weights, then its biases."""
    found = []
    for layer in trace.network["layers"]:
        found += [label for row in layer["weight_labels"] for label in row]
        found += dict.fromkeys(b for b in layer["bias_labels"] if b is not None)
    return found


def label_list(trace: StepTrace) -> str:
    """All labels when few, else their ranges: 'w1–w2440, b1–b41'."""
    every = labels(trace)
    if len(every) <= 20:
        return ", ".join(every)
    ranges = []
    for prefix in ("w", "b"):
        numbers = sorted(int(label[1:]) for label in every if label[0] == prefix)
        if numbers:
            ranges.append(f"{prefix}{numbers[0]}–{prefix}{numbers[-1]}")
    return ", ".join(ranges)


def unknown_parameter(trace: StepTrace, parameter: str) -> ValueError:
    """The error for a --param that names no parameter of the network."""
    return ConfigError("param", f"one of {label_list(trace)}", parameter)


def parameter_count(trace: StepTrace) -> int:
    return sum(layer["units"] * layer["fan_in"] + {"shared": 1, "per_neuron": layer["units"]}.get(layer["bias_mode"], 0)
               for layer in trace.network["layers"])


def vector(values) -> str:
    """(v1, v2, …) in full when short; a long one (an image) by its size and non-zero count."""
    if len(values) <= 16:
        return f"({', '.join(num(v) for v in values)})"
    return f"of {len(values)} values ({sum(1 for v in values if v != 0)} non-zero)"


__all__ = ["E", "Names", "label_list", "labels", "parameter_count", "unknown_parameter", "vector"]
