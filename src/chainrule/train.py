"""The fit loop: batching, reduction, stopping rules and the History of a run.

An epoch is one pass over the data.  Each step takes one batch — one sample
(``online``), all samples (``full``) or ``n`` of them — combines the per-sample
gradients by the ``reduction`` (sum or mean, the same reduction that turns the
per-sample losses into the dataset loss) and applies the optimiser.  The loss
recorded for an epoch is the dataset loss with the parameters after that epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from .network import REDUCTIONS, Network
from .optim import SGD


class TrainingDiverged(ArithmeticError):
    """The loss or the parameters stopped being finite numbers."""


@dataclass(frozen=True)
class TrainingConfig:
    learning_rate: float = 0.1
    batch: str | int = "full"
    reduction: str = "sum"
    epochs: int = 1
    frozen: tuple = ()
    seed: int = 0
    shuffle: bool = False
    stop_below: Optional[float] = None
    stop_change_below: Optional[float] = None

    def __post_init__(self):
        checks = [
            (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
             and self.learning_rate >= 0, "learning_rate", "a finite number ≥ 0", self.learning_rate),
            (self.batch in ("online", "full") or (isinstance(self.batch, int) and not isinstance(self.batch, bool)
                                                  and self.batch >= 1),
             "batch", "'online', 'full' or an integer ≥ 1", self.batch),
            (self.reduction in REDUCTIONS, "reduction", "'sum' or 'mean'", self.reduction),
            (isinstance(self.epochs, int) and not isinstance(self.epochs, bool) and self.epochs >= 0,
             "epochs", "an integer ≥ 0", self.epochs),
            (isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
             "seed", "an integer ≥ 0", self.seed),
        ]
        for name in ("stop_below", "stop_change_below"):
            value = getattr(self, name)
            checks.append((value is None or (isinstance(value, (int, float)) and math.isfinite(value)
                                             and value >= 0), name, "a finite number ≥ 0", value))
        for ok, key, expected, got in checks:
            if not ok:
                raise ValueError(f"{key}: expected {expected}, got {got!r}")

    def batch_size(self, n_samples: int) -> int:
        return {"online": 1, "full": n_samples}.get(self.batch, self.batch)


def epoch_batches(n_samples: int, config: TrainingConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """The index arrays of one epoch's batches, in order (shuffled when asked)."""
    order = rng.permutation(n_samples) if config.shuffle else np.arange(n_samples)
    size = config.batch_size(n_samples)
    return [order[start:start + size] for start in range(0, n_samples, size)]


def schedule(n_samples: int, config: TrainingConfig) -> Iterator[tuple[int, int, np.ndarray, bool]]:
    """(epoch, step, indices, ends_epoch) for every step of training, counted from 1."""
    rng = np.random.default_rng((config.seed, 1))
    step = 0
    epoch = 0
    while True:
        epoch += 1
        batches = epoch_batches(n_samples, config, rng)
        for number, indices in enumerate(batches, start=1):
            step += 1
            yield epoch, step, indices, number == len(batches)


def take_step(network: Network, optimizer: SGD, x: np.ndarray, t: np.ndarray, reduction: str, masks):
    """One gradient step on the batch (x, t); returns (values, deltas, gradients, batch losses)."""
    values, deltas, grads = network.backprop(x, t, reduction)
    losses = network.sample_losses(x, t, values)
    optimizer.step(network.parameters(), grads, masks)
    return values, deltas, grads, losses


def diverged_message(where: str, loss: float, learning_rate: float) -> str:
    return (f"{where}: the loss became {loss} (not a finite number); training stopped. "
            f"Try a lower learning_rate (now {learning_rate:g}) or scale the inputs to about [-1, 1].")


@dataclass
class History:
    initial_loss: float
    loss_history: list = field(default_factory=list)
    epochs_run: int = 0
    steps_run: int = 0
    stopped_because: str = "epochs"

    def as_dict(self) -> dict:
        return {"initial_loss": self.initial_loss, "loss_history": list(self.loss_history),
                "epochs_run": self.epochs_run, "stopped_because": self.stopped_because}


def fit(network: Network, x, t, config: TrainingConfig,
        callback: Callable[[int, float], None] | None = None) -> History:
    """Train ``network`` in place on (x, t) as ``config`` says; return the History.

    Stops after ``config.epochs`` epochs, or earlier when the epoch loss falls below
    ``stop_below`` or changes by less than ``stop_change_below`` from the epoch before.
    ``callback(epoch, loss)`` is called after every epoch (progress display).
    """
    # Overflow while diverging is reported once, by TrainingDiverged, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        return _fit(network, np.asarray(x, dtype=network.dtype), np.asarray(t, dtype=network.dtype),
                    config, callback)


def _fit(network, x, t, config, callback) -> History:
    optimizer = SGD(config.learning_rate)
    masks = network.trainable_masks(config.frozen)
    previous = network.dataset_loss(x, t, config.reduction)
    if not math.isfinite(previous):
        raise TrainingDiverged(diverged_message("before training", previous, config.learning_rate))
    history = History(initial_loss=previous)
    if config.epochs == 0:
        return history
    for epoch, step, indices, ends_epoch in schedule(len(x), config):
        if epoch > config.epochs:
            break
        *_, losses = take_step(network, optimizer, x[indices], t[indices], config.reduction, masks)
        history.steps_run = step
        if not np.all(np.isfinite(losses)):
            raise TrainingDiverged(diverged_message(f"epoch {epoch}, step {step}", float(np.sum(losses)),
                                                    config.learning_rate))
        if ends_epoch:
            loss = network.dataset_loss(x, t, config.reduction)
            if not math.isfinite(loss):
                raise TrainingDiverged(diverged_message(f"epoch {epoch} (after step {step})", loss,
                                                        config.learning_rate))
            history.loss_history.append(loss)
            history.epochs_run = epoch
            if callback:
                callback(epoch, loss)
            if config.stop_below is not None and loss < config.stop_below:
                history.stopped_because = "loss_below"
                break
            if config.stop_change_below is not None and abs(previous - loss) < config.stop_change_below:
                history.stopped_because = "loss_change_below"
                break
            previous = loss
    return history

