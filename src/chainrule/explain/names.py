"""How a derivation names things: the error E, neurons (neurons.Names: i1, h1, h1_2, o1, or the
example's own) and their values (out_h1), every parameter's label in order, the list of labels an error message offers, the
number of parameters, and a sample's input or target written as a vector."""

from __future__ import annotations

from ..core.expr import Sym, num
from ..core.neurons import Names
from ..core.settings import ConfigError
from ..training.trace import StepTrace

E = Sym("E")


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
