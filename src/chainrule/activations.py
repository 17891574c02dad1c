"""Activation functions as pure (value, derivative) pairs in a name table.

Every function here is numerically stable for any finite input: no exp() is
ever evaluated on a large positive argument, so ±1000 gives no warnings.

An activation maps the net input z (shape (n, units)) to out = f(z).  Its
backward rule turns ∂E/∂out into ∂E/∂z:

* element-wise activations: ∂E/∂z = ∂E/∂out · f'(z)
* softmax (a whole row at once): ∂E/∂z_j = out_j · (∂E/∂out_j − Σ_k ∂E/∂out_k · out_k)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), evaluated without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z: Array) -> Array:
    """softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^(−|z|))."""
    return np.logaddexp(0.0, z)


def softmax(z: Array) -> Array:
    """softmax_j(z) = e^(z_j − max z) / Σ_k e^(z_k − max z), row by row."""
    shifted = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def log_softmax(z: Array) -> Array:
    """ln softmax_j(z) = z_j − max z − ln Σ_k e^(z_k − max z), row by row."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


@dataclass(frozen=True)
class Activation:
    """A named activation: ``value(z)`` and ``derivative(z, out)`` = f'(z).

    ``formula`` and ``derivative_formula`` are how explanations write them, in net and out.
    ``elementwise`` is False only for softmax, whose derivative is a Jacobian.
    """

    name: str
    value: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array]
    formula: str
    derivative_formula: str
    elementwise: bool = True
    params: dict = field(default_factory=dict)

    def backward(self, z: Array, out: Array, grad_out: Array) -> Array:
        """∂E/∂z from ∂E/∂out (rows are samples)."""
        if self.elementwise:
            return grad_out * self.derivative(z, out)
        inner = np.sum(grad_out * out, axis=-1, keepdims=True)
        return out * (grad_out - inner)


def _leaky_relu(slope: float) -> Activation:
    return Activation(
        name="leaky_relu",
        value=lambda z: np.where(z > 0, z, slope * z),
        derivative=lambda z, out: np.where(z > 0, 1.0, slope),
        formula=f"max(net, {slope:g}·net)",
        derivative_formula=f"(1 if net > 0 else {slope:g})",
        params={"slope": slope},
    )


_TABLE: dict[str, Activation] = {
    "identity": Activation(
        "identity", lambda z: np.array(z, dtype=float, copy=True), lambda z, out: np.ones_like(z),
        "net", "1"),
    "sigmoid": Activation(
        "sigmoid", sigmoid, lambda z, out: out * (1.0 - out),
        "1/(1 + e^(−net))", "out·(1 − out)"),
    "tanh": Activation(
        "tanh", np.tanh, lambda z, out: 1.0 - out * out,
        "tanh(net)", "1 − out²"),
    "relu": Activation(
        "relu", lambda z: np.maximum(z, 0.0), lambda z, out: (z > 0).astype(z.dtype),
        "max(net, 0)", "[net > 0]"),
    "softplus": Activation(
        "softplus", softplus, lambda z, out: sigmoid(z),
        "ln(1 + e^net)", "σ(net)"),
    "softmax": Activation(
        "softmax", softmax, lambda z, out: out * (1.0 - out),
        "e^(net_j)/Σ_k e^(net_k)", "out_j·([j = k] − out_k)", elementwise=False),
}

NAMES = tuple(sorted([*_TABLE, "leaky_relu"]))
DEFAULT_LEAKY_SLOPE = 0.01


def get_activation(name: str, slope: float | None = None) -> Activation:
    """The activation called ``name``; ``slope`` applies to leaky_relu only."""
    if name == "leaky_relu":
        return _leaky_relu(DEFAULT_LEAKY_SLOPE if slope is None else float(slope))
    if name not in _TABLE:
        raise ValueError(f"activation: expected one of {', '.join(NAMES)}, got {name!r}")
    if slope is not None:
        raise ValueError(f"activation: 'slope' applies only to leaky_relu, got it for {name!r}")
    return _TABLE[name]
