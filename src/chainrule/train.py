"""The fit loop: batching, reduction, optimiser and schedule, stopping rules and the History of a run.

An epoch is one pass over the data.  Each step takes one batch — one sample
(``online``), all samples (``full``) or ``n`` of them — combines the per-sample
gradients by the ``reduction`` (sum or mean, the same reduction that turns the
per-sample losses into the dataset loss) and applies the optimiser (SGD with
optional momentum, Nesterov and weight decay, or Adam) at the epoch's learning
rate (its schedule).  The loss recorded for an epoch is the dataset loss with the
parameters after that epoch (``epoch_loss = "dataset"``) or, cheaper on large
data, the reduction of the batch losses seen during the epoch (``"batches"``).
With a validation split, training stops when the validation loss has not
improved for ``patience`` epochs and the best parameters are restored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import numpy as np

from .network import REDUCTIONS, Network
from .optim import OPTIMIZERS, SCHEDULES, SGD, Adam, scheduled_rate


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
    optimizer: str = "sgd"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    schedule: str = "constant"
    step_size: int = 1
    gamma: float = 0.1
    power: float = 0.5
    validation_fraction: float = 0.0
    patience: int = 5
    min_delta: float = 0.0
    epoch_loss: str = "dataset"

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
        def number(value, low=0.0, high=math.inf, low_open=False, high_open=False):
            return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    and (value > low if low_open else value >= low) and (value < high if high_open else value <= high))
        checks += [
            (self.optimizer in OPTIMIZERS, "optimizer", f"one of {', '.join(OPTIMIZERS)}", self.optimizer),
            (number(self.momentum, 0, 1, high_open=True), "momentum", "a number in [0, 1)", self.momentum),
            (isinstance(self.nesterov, bool), "nesterov", "true or false", self.nesterov),
            (not self.nesterov or self.momentum > 0, "nesterov", "momentum > 0 with it", self.momentum),
            (number(self.weight_decay), "weight_decay", "a finite number ≥ 0", self.weight_decay),
            (number(self.beta1, 0, 1, high_open=True), "beta1", "a number in [0, 1)", self.beta1),
            (number(self.beta2, 0, 1, high_open=True), "beta2", "a number in [0, 1)", self.beta2),
            (number(self.eps, 0, low_open=True), "eps", "a number > 0", self.eps),
            (self.schedule in SCHEDULES, "schedule", f"one of {', '.join(SCHEDULES)}", self.schedule),
            (isinstance(self.step_size, int) and not isinstance(self.step_size, bool) and self.step_size >= 1,
             "step_size", "an integer ≥ 1", self.step_size),
            (number(self.gamma, 0, 1, low_open=True), "gamma", "a number in (0, 1]", self.gamma),
            (number(self.power), "power", "a finite number ≥ 0", self.power),
            (number(self.validation_fraction, 0, 1, high_open=True), "validation_fraction", "a number in [0, 1)",
             self.validation_fraction),
            (isinstance(self.patience, int) and not isinstance(self.patience, bool) and self.patience >= 1,
             "patience", "an integer ≥ 1", self.patience),
            (number(self.min_delta), "min_delta", "a finite number ≥ 0", self.min_delta),
            (self.epoch_loss in ("dataset", "batches"), "epoch_loss", "'dataset' or 'batches'", self.epoch_loss),
        ]
        for ok, key, expected, got in checks:
            if not ok:
                raise ValueError(f"{key}: expected {expected}, got {got!r}")

    def batch_size(self, n_samples: int) -> int:
        return {"online": 1, "full": n_samples}.get(self.batch, self.batch)

    def build_optimizer(self):
        """The optimiser this configuration names, at the first epoch's learning rate."""
        rate = self.rate(1)
        if self.optimizer == "adam":
            return Adam(rate, self.beta1, self.beta2, self.eps, self.weight_decay)
        return SGD(rate, self.momentum, self.nesterov, self.weight_decay)

    def rate(self, epoch: int) -> float:
        return scheduled_rate(self.learning_rate, self.schedule, epoch, self.step_size, self.gamma, self.power)


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
    fixed = None if config.shuffle else epoch_batches(n_samples, config, rng)    # the same every epoch
    while True:
        epoch += 1
        batches = fixed or epoch_batches(n_samples, config, rng)
        for number, indices in enumerate(batches, start=1):
            step += 1
            yield epoch, step, indices, number == len(batches)


def take_step(network: Network, optimizer, x: np.ndarray, t: np.ndarray, reduction: str, masks):
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
    initial_loss: Optional[float]        # None with epoch_loss = "batches"
    loss_history: list = field(default_factory=list)
    epochs_run: int = 0
    steps_run: int = 0
    stopped_because: str = "epochs"
    validation_loss_history: list = field(default_factory=list)
    best_epoch: Optional[int] = None

    def as_dict(self) -> dict:
        result = {"initial_loss": self.initial_loss, "loss_history": list(self.loss_history),
                  "epochs_run": self.epochs_run, "stopped_because": self.stopped_because}
        if self.validation_loss_history:
            result["validation_loss_history"] = list(self.validation_loss_history)
            result["best_epoch"] = self.best_epoch
        return result


def fit(network: Network, x, t, config: TrainingConfig,
        callback: Callable[[int, float], None] | None = None, on_step: Callable | None = None,
        optimizer=None) -> History:
    """Train ``network`` in place on (x, t) as ``config`` says; return the History.

    Stops after ``config.epochs`` epochs, or earlier when the epoch loss falls below
    ``stop_below`` or changes by less than ``stop_change_below`` from the epoch before.
    ``callback(epoch, loss)`` is called after every epoch (progress display), and
    ``on_step(epoch, done, total, losses, outputs, targets)`` after every step with the batch's
    losses and outputs before its update (``done`` samples of ``total`` in this epoch).
    ``optimizer`` continues an optimiser's state (momentum, Adam's moments) from an earlier call.
    """
    # Overflow while diverging is reported once, by TrainingDiverged, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        return _fit(network, np.asarray(x, dtype=network.dtype), np.asarray(t, dtype=network.dtype),
                    config, callback, on_step, optimizer)


def validation_split(n_samples: int, config: TrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """(training indices, validation indices): a random ``validation_fraction`` held out, from the seed."""
    n_validation = int(round(n_samples * config.validation_fraction))
    if config.validation_fraction and not 1 <= n_validation < n_samples:
        raise ValueError(f"validation_fraction: expected a fraction leaving at least one sample on each side of "
                         f"{n_samples} sample{'s' * (n_samples != 1)}, got {config.validation_fraction}")
    order = np.random.default_rng((config.seed, 2)).permutation(n_samples) if n_validation else np.arange(n_samples)
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def _fit(network, x, t, config, callback, on_step=None, optimizer=None) -> History:
    from .fast import FastTrainer
    from . import small
    train, held = validation_split(len(x), config)
    x_val, t_val = x[held], t[held]
    if len(held):
        x, t = x[train], t[train]
    optimizer = optimizer or config.build_optimizer()
    masks = network.trainable_masks(config.frozen) if config.frozen else None
    sums_to_one = bool(np.allclose(t.sum(axis=1), 1.0))
    if small.suitable(network, optimizer, config.batch_size(len(x))):
        trainer = small.ScalarTrainer(network, optimizer, config.reduction, masks, sums_to_one)
    else:
        trainer = FastTrainer(network, optimizer, config.reduction, masks, config.batch_size(len(x)), sums_to_one)
    try:
        return _epochs(network, x, t, x_val, t_val, config, optimizer, trainer, callback, on_step)
    except BaseException:
        trainer.sync()      # the network shows where training stopped
        raise


def _epochs(network, x, t, x_val, t_val, config, optimizer, trainer, callback, on_step) -> History:
    by_batches = config.epoch_loss == "batches"
    # with batch losses (large data), no extra pass over the data: the initial loss is not computed
    previous = math.nan if by_batches else network.dataset_loss(x, t, config.reduction)
    if not (by_batches or math.isfinite(previous)):
        raise TrainingDiverged(diverged_message("before training", previous, config.learning_rate))
    history = History(initial_loss=None if by_batches else previous)
    if config.epochs == 0:
        return history
    want_losses = by_batches or on_step is not None
    epoch_sum, epoch_count, done = 0.0, 0, 0
    best = (math.inf, None)
    # unshuffled batches are the same views of the data every epoch
    views = None if config.shuffle else [
        (xb, tb, trainer.prepare(xb, tb)) for xb, tb in (
            (x[b[0]:b[-1] + 1], t[b[0]:b[-1] + 1]) if _contiguous(b) else (x[b], t[b])
            for b in epoch_batches(len(x), config, np.random.default_rng(0)))]
    scheduled = config.schedule != "constant"
    for epoch, step, indices, ends_epoch in schedule(len(x), config):
        if epoch > config.epochs:
            break
        if scheduled:
            optimizer.learning_rate = config.rate(epoch)
        if views:
            xb, tb, batch = views[(step - 1) % len(views)]
        else:
            xb, tb = x[indices], t[indices]
            batch = trainer.prepare(xb, tb)
        losses = trainer.step(batch, want_losses=want_losses)
        history.steps_run = step
        if on_step is not None:
            done = len(indices) if done >= len(x) else done + len(indices)
            on_step(epoch, done, len(x), losses, trainer.last_output, tb)
        batch_sum = None
        if losses is not None:
            batch_sum = float(losses.sum()) if isinstance(losses, np.ndarray) else math.fsum(losses)
            epoch_sum += batch_sum
            epoch_count += len(losses)
        if losses is None and (ends_epoch or step % 64 == 0):
            trainer.sync()
        if (losses is not None or ends_epoch or step % 64 == 0) and not _finite_parameters(network, batch_sum):
            loss = network.dataset_loss(x[indices], t[indices], config.reduction)
            raise TrainingDiverged(diverged_message(f"epoch {epoch}, step {step}", loss, config.learning_rate))
        if not ends_epoch:
            continue
        if not by_batches or len(x_val) or callback:
            trainer.sync()
        if by_batches:
            loss = epoch_sum / (1 if config.reduction == "sum" else epoch_count)
        else:
            loss = network.dataset_loss(x, t, config.reduction)
        epoch_sum, epoch_count = 0.0, 0
        if not math.isfinite(loss):
            raise TrainingDiverged(diverged_message(f"epoch {epoch} (after step {step})", loss, config.learning_rate))
        history.loss_history.append(loss)
        history.epochs_run = epoch
        if callback:
            callback(epoch, loss)
        if len(x_val):
            validation = network.dataset_loss(x_val, t_val, config.reduction)
            history.validation_loss_history.append(validation)
            if validation < best[0] - config.min_delta:
                best = (validation, [p.copy() for p in network.parameters()])
                history.best_epoch = epoch
            elif epoch - history.best_epoch >= config.patience:
                history.stopped_because = "validation"
                break
        if config.stop_below is not None and loss < config.stop_below:
            history.stopped_because = "loss_below"
            break
        if config.stop_change_below is not None and abs(previous - loss) < config.stop_change_below:
            history.stopped_because = "loss_change_below"
            break
        previous = loss
    trainer.sync()
    if best[1] is not None:     # early stopping keeps the parameters of the best validation loss
        for p, saved in zip(network.parameters(), best[1]):
            p[...] = saved
    return history


def _contiguous(indices: np.ndarray) -> bool:
    """Whether a batch is a run of consecutive rows (then a view, not a copy, of the data)."""
    return len(indices) > 0 and indices[-1] - indices[0] == len(indices) - 1 and (
        len(indices) < 3 or bool(np.all(np.diff(indices) == 1)))


def _finite_parameters(network: Network, batch_sum) -> bool:
    """Cheap check after a step: the batch's summed loss (when computed), else the last layer's weights, finite."""
    if batch_sum is not None:
        return math.isfinite(batch_sum)
    return math.isfinite(network.layers[-1].weights.sum())
