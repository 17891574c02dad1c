"""The implementations of one training step, chosen by name — never by a module global.

All of them compute the same mathematics (network.py's backward pass and the optimiser's rule);
what differs is how:

    reference      Network.backprop + Optimizer.step on arrays: the readable one, and the one a
                   traced step runs (trace.py), so every explained number comes from it
    arrays         the buffered step (arrays.py): buffers allocated once, activations in place, for
                   plain SGD η folded into the output δ and W ← W − δᵀx inside one BLAS gemm
                   (SciPy's when installed)
    arrays-numpy   the same with NumPy's matmul for every product
    floats         the same step on Python floats (floats.py): plain SGD in float64 only; on tiny
                   networks each NumPy call costs more than its arithmetic
    auto           floats for at most 256 parameters, batches of at most 8 and plain SGD in
                   float64; arrays otherwise

"The same numbers": every engine gives the reference engine's parameters to float rounding —
measured at most 1e-11 relative after a run (tests/test_engines.py checks 1e-9 over random networks,
losses, bias modes, reductions, batches and optimisers); the reference engine equals a traced step
exactly.  ``fit`` reports the engine that ran in ``History.engine``.
"""

from __future__ import annotations

import numpy as np

from . import floats
from .arrays import ArrayTrainer, InPlaceTrainer
from ..core.network import BaseNetwork
from ..core.settings import ConfigError

ENGINES = ("auto", "reference", "arrays", "arrays-numpy", "floats")


def check(engine: str) -> str:
    if engine not in ENGINES:
        raise ConfigError("engine", f"one of {', '.join(ENGINES)}", engine)
    return engine


def take_step(network: BaseNetwork, optimizer, x: np.ndarray, t: np.ndarray, reduction: str, masks):
    """One gradient step on the batch (x, t); returns (values, deltas, gradients, batch losses)."""
    values, deltas, grads = network.backprop(x, t, reduction)
    losses = network.sample_losses(x, t, values)
    optimizer.step(network.parameters(), grads, masks)
    return values, deltas, grads, losses


class ReferenceTrainer(InPlaceTrainer):
    """Steps by ``take_step``: the network's own forward and backward pass and the optimiser's rule."""

    def __init__(self, network: BaseNetwork, optimizer, reduction: str, masks=None):
        self.network, self.optimizer, self.reduction, self.masks = network, optimizer, reduction, masks

    @staticmethod
    def prepare(x: np.ndarray, t: np.ndarray):
        return x, t

    def step(self, batch, want_losses: bool = False):
        x, t = batch
        values, _, _, losses = take_step(self.network, self.optimizer, x, t, self.reduction, self.masks)
        self.last_output = values[-1].out
        return losses


def trainer(engine: str, network: BaseNetwork, optimizer, reduction: str, masks, batch_size: int,
            targets_sum_to_one: bool, one_hot: bool = False):
    """(the engine's name, a trainer running it); "auto" is resolved to the engine it picks."""
    check(engine)
    if engine == "auto":
        engine = "floats" if floats.suitable(network, optimizer, batch_size) else "arrays"
    if engine == "reference":
        return engine, ReferenceTrainer(network, optimizer, reduction, masks)
    if engine == "floats":
        if not floats.possible(network, optimizer):
            raise ConfigError("engine", "'floats' only for plain SGD (no momentum or weight decay) "
                              "on a float64 network", f"{optimizer.name} on {np.dtype(network.dtype).name}",)
        return engine, floats.FloatTrainer(network, optimizer, reduction, masks, targets_sum_to_one)
    blas = "numpy" if engine == "arrays-numpy" else "auto"
    return engine, ArrayTrainer(network, optimizer, reduction, masks, batch_size, targets_sum_to_one, blas, one_hot)
