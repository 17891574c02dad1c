"""Backprop against brute force: every gradient compared with central finite differences.

The numeric gradient uses the fourth-order central stencil

    ∂E/∂p ≈ (−E(p + 2h) + 8·E(p + h) − 8·E(p − h) + E(p − 2h)) / 12h

whose error is O(h⁴) plus rounding of about ε·E/h: with h = 1e-4 that resolves relative
errors near 1e-11, where the two-point stencil stops near 1e-7.  It costs 4 forward passes
per parameter, so W parameters cost O(W²) work against backprop's O(W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core import data
from ..core.network import BaseNetwork

STEP = 1e-4   # h of the stencil
TOLERANCE = 1e-7    # the largest relative error at which backprop and finite differences agree


def numeric_gradient(network: BaseNetwork, x, t, reduction: str, p: np.ndarray, idx: tuple, h: float = STEP) -> float:
    """Finite-difference ∂(dataset loss)/∂p[idx], p being one of ``network.parameters()``."""
    def loss_at(value):
        p[idx] = value
        return network.dataset_loss(x, t, reduction)

    saved = p[idx]
    g = (-loss_at(saved + 2 * h) + 8 * loss_at(saved + h) - 8 * loss_at(saved - h) + loss_at(saved - 2 * h)) / (12 * h)
    p[idx] = saved
    return g


def crosses_a_kink(network: BaseNetwork, x, p: np.ndarray, idx: tuple, h: float = STEP) -> bool:
    """Whether moving p[idx] by ±2h moves some neuron's net across a kink of its activation (a ReLU's 0)
    for some sample: there the loss has no derivative, and the stencil's slope is not the gradient's."""
    kinked = [l for l, layer in enumerate(network.layers) if layer.activation.kinks]
    if not kinked:
        return False
    saved = p[idx]
    signs = []
    for value in (saved - 2 * h, saved + 2 * h):
        p[idx] = value
        values = network.forward(x)
        signs.append([values[l].net > k for l in kinked for k in network.layers[l].activation.kinks])
    p[idx] = saved
    return any(np.any(a != b) for a, b in zip(*signs))


def numeric_gradients(network: BaseNetwork, x, t, reduction: str = "sum", h: float = STEP) -> list[np.ndarray]:
    """Finite-difference ∂(dataset loss)/∂p for every parameter array, in ``parameters()`` order."""
    grads = []
    for p in network.parameters():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            g[idx] = numeric_gradient(network, x, t, reduction, p, idx, h)
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
    checked: int = 0           # how many of them were compared (all, or a seeded random choice)
    at_kinks: int = 0          # of those, how many were left out: a ReLU kink within ±2h


def check(network: BaseNetwork, x, t, reduction: str = "sum", max_parameters: int | None = None,
          seed: int = 0) -> list[LayerCheck]:
    """Backprop's gradients against finite differences, the worst relative error per layer, in
    float64 whatever the network's dtype (finite differences in float32 resolve only ~1e-3).

    With ``max_parameters``, a larger network has that many of its parameters compared, chosen at
    random (from ``seed``) in proportion to each array's size, at least one from each array.
    A parameter whose ±2h moves some ReLU across its kink is left out (counted in ``at_kinks``):
    the loss has no derivative there to compare with."""
    network = network.astype(np.float64)
    x, t = data.samples(x, t, network.inputs, network.outputs, np.float64, network.loss)   # checked as fit checks
    with np.errstate(over="ignore", invalid="ignore"):
        loss = network.dataset_loss(x, t, reduction)
        _, _, analytic = network.backprop(x, t, reduction)
    if not (math.isfinite(loss) and all(np.isfinite(g).all() for g in analytic)):
        # inf − inf compares as agreeing: a check of non-finite gradients would say "agree" about nothing
        raise ValueError(f"gradcheck: expected a finite loss and gradients to compare, got loss {loss:g} (the "
                         "network's sums overflow at these parameters and inputs)")
    parameters = network.parameters()
    total = sum(p.size for p in parameters)
    rng = np.random.default_rng(seed)
    results, k = [], 0
    for number, layer in enumerate(network.layers, start=1):
        errors, checked, at_kinks = [0.0], 0, 0
        for p, a in zip(parameters[k:k + len(layer.parameters())], analytic[k:k + len(layer.parameters())]):
            if max_parameters is None or total <= max_parameters:
                chosen = list(np.ndindex(p.shape))
            else:
                count = min(p.size, max(1, round(max_parameters * p.size / total)))
                chosen = [np.unravel_index(f, p.shape) for f in rng.choice(p.size, count, replace=False)]
            smooth = [idx for idx in chosen if not crosses_a_kink(network, x, p, idx)]
            at_kinks += len(chosen) - len(smooth)
            checked += len(chosen)
            if smooth:
                numeric = np.array([numeric_gradient(network, x, t, reduction, p, idx) for idx in smooth])
                errors.append(relative_error(np.array([a[idx] for idx in smooth]), numeric))
        results.append(LayerCheck(number, sum(q.size for q in layer.parameters()), max(errors), checked, at_kinks))
        k += len(layer.parameters())
    return results


@dataclass
class CostRow:
    parameters: int
    backprop_seconds: float
    finite_difference_seconds: float
    measured_parameters: int      # finite differences timed on this many parameters, scaled to all of them

    @property
    def ratio(self) -> float:
        return self.finite_difference_seconds / self.backprop_seconds


def _timed(function, repeats: int) -> float:
    """The median wall time of ``function()`` over ``repeats`` runs."""
    import time
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def cost(sizes=(100, 1_000, 10_000, 100_000), batch: int = 16, sample: int = 300, seed: int = 0) -> list[CostRow]:
    """Time one backprop gradient and one finite-difference gradient of 16-m-10 tanh networks with about
    ``size`` parameters.  Finite differences on more than ``sample`` parameters are timed on ``sample`` of
    them chosen at random and scaled by W/sample: each parameter costs the same four forward passes."""
    from ..core.layers import Dense
    rng = np.random.default_rng(seed)
    rows = []
    inputs, outputs = 16, 10
    for size in sizes:
        hidden = max(1, round((size - outputs) / (inputs + 1 + outputs + 1)))
        layers = [Dense(rng.normal(0, 0.3, (hidden, inputs)), rng.normal(0, 0.1, hidden), activation="tanh"),
                  Dense(rng.normal(0, 0.3, (outputs, hidden)), rng.normal(0, 0.1, outputs), activation="identity")]
        network = BaseNetwork(layers, "mse")
        x, t = rng.normal(size=(batch, inputs)), rng.normal(size=(batch, outputs))
        total = sum(p.size for p in network.parameters())
        backprop = _timed(lambda: network.backprop(x, t, "mean"), 7)
        flat = [(p, idx) for p in network.parameters() for idx in np.ndindex(p.shape)]
        chosen = flat if total <= sample else [flat[k] for k in rng.choice(total, sample, replace=False)]

        def differences():
            for p, idx in chosen:
                saved = p[idx]
                for offset in (2 * STEP, STEP, -STEP, -2 * STEP):
                    p[idx] = saved + offset
                    network.dataset_loss(x, t, "mean")
                p[idx] = saved

        fd = _timed(differences, 3) * total / len(chosen)
        rows.append(CostRow(total, backprop, fd, len(chosen)))
    return rows


def growth(rows: list[CostRow], attribute: str) -> float:
    """The exponent a of time ∝ W^a over the two largest networks."""
    a, b = rows[-2], rows[-1]
    return float(np.log(getattr(b, attribute) / getattr(a, attribute)) / np.log(b.parameters / a.parameters))


def agrees(layers: list[LayerCheck]) -> bool:
    return all(layer.max_relative_error < TOLERANCE for layer in layers)


def report_data(layers: list[LayerCheck]) -> dict:
    return {"layers": [vars(layer) for layer in layers], "tolerance": TOLERANCE, "ok": agrees(layers)}


def report_text(name: str, network: BaseNetwork, reduction: str, layers: list[LayerCheck], samples: int,
                available: int) -> str:
    """The check of ``network`` on the first ``samples`` of the ``available`` samples of spec ``name``."""
    what = f"the {samples} sample{'s' if samples != 1 else ''}" if samples == available else \
        f"the first {samples:,} of {available:,} samples"
    dtype = "" if network.dtype == np.float64 else f", in float64 (the network is {np.dtype(network.dtype).name})"
    lines = [f"{name}: backprop against central finite differences (4th order, h = {STEP:g}) on "
             f"{what} of the spec, loss {network.loss.name}, reduction {reduction}{dtype}"]
    for layer in layers:
        checked = "" if layer.checked == layer.parameters else f" ({layer.checked:,} checked, chosen at random)"
        kinks = "" if not layer.at_kinks else (f"; {layer.at_kinks:,} left out, a ReLU kink lying within ±2h "
                                               "of them (no derivative there)")
        lines.append(f"  layer {layer.layer}: {layer.parameters:,} parameters{checked}, max relative error "
                     f"{layer.max_relative_error:.2e}{kinks}")
    lines.append(f"{'all layers agree' if agrees(layers) else 'MISMATCH: some layer differs'} (tolerance {TOLERANCE:g})")
    return "\n".join(lines) + "\n"


def cost_data(rows: list[CostRow]) -> dict:
    return {"rows": [{"parameters": r.parameters, "backprop_seconds": r.backprop_seconds,
                      "finite_difference_seconds": r.finite_difference_seconds, "ratio": r.ratio,
                      "measured_parameters": r.measured_parameters} for r in rows],
            "backprop_growth": growth(rows, "backprop_seconds"),
            "finite_difference_growth": growth(rows, "finite_difference_seconds")}


def cost_text(rows: list[CostRow]) -> str:
    lines = ["Backprop against finite differences: one gradient of a 16-m-10 tanh network, batch 16",
             f"{'parameters W':>13}  {'backprop':>11}  {'finite diff.':>13}  {'ratio':>9}"]
    for r in rows:
        note = "" if r.measured_parameters == r.parameters else f"  (timed on {r.measured_parameters}, scaled by W)"
        lines.append(f"{r.parameters:>13,}  {r.backprop_seconds * 1e3:>9.3f}ms  {r.finite_difference_seconds:>12.3f}s  "
                     f"{r.ratio:>9,.0f}×{note}")
    b, f = growth(rows, "backprop_seconds"), growth(rows, "finite_difference_seconds")
    lines.append(f"measured growth over the two largest: backprop time ∝ W^{b:.2f}, finite differences ∝ W^{f:.2f} "
                 f"(theory: W and W²)")
    return "\n".join(lines) + "\n"
