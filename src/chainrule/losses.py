"""Per-sample losses over a sample's k outputs, as pure functions in a name table.

Each loss gives, for rows of outputs ``out`` and targets ``t`` (shape (n, k)):

* ``terms(net, out, t)``  → shape (n, k): each output's share of the loss (E_o1, E_o2, …);
* ``value(net, out, t)``  → shape (n,): the loss of every sample, Σ_k of its terms;
* ``gradient(out, t)``    → shape (n, k): ∂E/∂out of every sample;
* ``fused_delta(net, out, t)`` (only where the output activation is fixed):
  ∂E/∂net directly, the stable form that never divides by out·(1 − out).

The dataset loss is the reduction (sum or mean) of the per-sample values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .activations import log_softmax, sigmoid, softplus

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    name: str
    terms: Callable[[Array, Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    formula: str
    gradient_formula: str
    output_activation: Optional[str] = None
    fused_delta: Optional[Callable[[Array, Array, Array], Array]] = None

    def value(self, net: Array, out: Array, t: Array) -> Array:
        return np.sum(self.terms(net, out, t), axis=-1)


def _half_sse(net, out, t):
    return 0.5 * (t - out) ** 2


def _sse(net, out, t):
    return (t - out) ** 2


def _mse(net, out, t):
    return (t - out) ** 2 / out.shape[-1]


def _bce(net, out, t):
    # ln σ(z) = −softplus(−z) and ln(1 − σ(z)) = −softplus(z): no log of 0, no overflow.
    return (t * softplus(-net) + (1.0 - t) * softplus(net)) / out.shape[-1]


def _bce_gradient(out, t):
    return (out - t) / (out * (1.0 - out) * out.shape[-1])


def _cross_entropy(net, out, t):
    return -t * log_softmax(net)


def _cross_entropy_gradient(out, t):
    return -t / out


def _cross_entropy_delta(net, out, t):
    # ∂/∂z_j of −Σ_k t_k ln softmax_k(z) = softmax_j(z)·Σ_k t_k − t_j
    return out * np.sum(t, axis=-1, keepdims=True) - t


LOSSES: dict[str, Loss] = {
    "half_sse": Loss("half_sse", _half_sse, lambda out, t: out - t,
                     "½·Σ_k (t_k − out_k)²", "out − t"),
    "sse": Loss("sse", _sse, lambda out, t: 2.0 * (out - t),
                "Σ_k (t_k − out_k)²", "2·(out − t)"),
    "mse": Loss("mse", _mse, lambda out, t: 2.0 * (out - t) / out.shape[-1],
                "(1/k)·Σ_k (t_k − out_k)²", "2·(out − t)/k"),
    "bce": Loss("bce", _bce, _bce_gradient,
                "−(1/k)·Σ_k [t_k·ln out_k + (1 − t_k)·ln(1 − out_k)]",
                "(out − t)/(out·(1 − out)·k)",
                output_activation="sigmoid",
                fused_delta=lambda net, out, t: (sigmoid(net) - t) / out.shape[-1]),
    "cross_entropy": Loss("cross_entropy", _cross_entropy, _cross_entropy_gradient,
                          "−Σ_k t_k·ln softmax_k(z)", "−t/out",
                          output_activation="softmax", fused_delta=_cross_entropy_delta),
}

NAMES = tuple(LOSSES)


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(NAMES)}, got {name!r}")
    return LOSSES[name]


def reduce(per_sample: Array, reduction: str) -> float:
    """The dataset loss: Σ or mean of the per-sample losses."""
    return float(np.sum(per_sample) if reduction == "sum" else np.mean(per_sample))
