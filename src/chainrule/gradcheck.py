"""Backprop against brute force: every gradient compared with central finite differences.

The numeric gradient uses the fourth-order central stencil

    ∂E/∂p ≈ (−E(p + 2h) + 8·E(p + h) − 8·E(p − h) + E(p − 2h)) / 12h

whose error is O(h⁴) plus rounding of about ε·E/h: with h = 1e-4 that resolves relative
errors near 1e-11, where the two-point stencil stops near 1e-7.  It costs 4 forward passes
per parameter, so W parameters cost O(W²) work against backprop's O(W).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

STEP = 1e-4   # h of the stencil


def numeric_gradients(network: Network, x, t, reduction: str = "sum", h: float = STEP) -> list[np.ndarray]:
    """Finite-difference ∂(dataset loss)/∂p for every parameter array, in ``parameters()`` order."""
    def loss_at(p, idx, value):
        p[idx] = value
        return network.dataset_loss(x, t, reduction)

    grads = []
    for p in network.parameters():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            saved = p[idx]
            g[idx] = (-loss_at(p, idx, saved + 2 * h) + 8 * loss_at(p, idx, saved + h)
                      - 8 * loss_at(p, idx, saved - h) + loss_at(p, idx, saved - 2 * h)) / (12 * h)
            p[idx] = saved
        grads.append(g)
    return grads


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-3) -> float:
    """max |a − n| / max(max |a|, max |n|, floor): relative to the array's scale, absolute below ``floor``."""
    scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(numeric))), floor)
    return float(np.max(np.abs(analytic - numeric))) / scale


@dataclass
class LayerCheck:
    layer: int                 # counted from 1
    parameters: int
    max_relative_error: float


def check(network: Network, x, t, reduction: str = "sum") -> list[LayerCheck]:
    """Backprop's gradients against finite differences, the worst relative error per layer."""
    x = np.asarray(x, dtype=network.dtype)
    t = np.asarray(t, dtype=network.dtype)
    _, _, analytic = network.backprop(x, t, reduction)
    numeric = numeric_gradients(network, x, t, reduction)
    results, k = [], 0
    for number, layer in enumerate(network.layers, start=1):
        n = len(layer.parameters())
        errors = [relative_error(a, b) for a, b in zip(analytic[k:k + n], numeric[k:k + n])]
        results.append(LayerCheck(number, sum(p.size for p in layer.parameters()), max(errors)))
        k += n
    return results
