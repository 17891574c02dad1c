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

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterator, Optional

import numpy as np

from ..core import data
from . import engines
from .run import Run
from ..core import threads as blas_threads
from .engines import take_step  # noqa: F401  (re-exported: a traced step runs it)
from ..core.network import REDUCTIONS, BaseNetwork
from ..core.optim import ALL_SETTINGS as ALL_OPTIMIZER_SETTINGS
from ..core.optim import LEARNING_RATE, OPTIMIZERS, Optimizer, get_optimizer
from ..core.schedules import SCHEDULES, get_schedule
from ..core.schedules import SETTINGS as SCHEDULE_SETTINGS
from ..core.settings import ConfigError, Setting, boolean, is_integer, number_in


class TrainingDiverged(ArithmeticError):
    """The loss or the parameters stopped being finite numbers."""


def _batch(value) -> bool:
    return value in ("online", "full") or (is_integer(value) and value >= 1)


def _labels(value) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(label, str) for label in value)


def _optional(accepts):
    return lambda value: value is None or accepts(value)


MAX_EPOCHS = 10_000_000    # a run's bound (ten million epochs of the 2-2-2 example take a few minutes)

# Every training setting but the optimiser's own (those are declared by each optimiser in optim.py).
SETTINGS = {s.name: s for s in (
    LEARNING_RATE,
    Setting("batch", "full", _batch, "'online', 'full' or an integer ≥ 1"),
    Setting("reduction", "sum", lambda v: v in REDUCTIONS, "'sum' or 'mean'"),
    Setting("epochs", 1, lambda v: is_integer(v) and 0 <= v <= MAX_EPOCHS, f"an integer from 0 to {MAX_EPOCHS:,}"),
    Setting("frozen", (), _labels, 'a list of parameter labels such as ["b1", "b2"]'),
    Setting("seed", 0, lambda v: is_integer(v) and v >= 0, "an integer ≥ 0"),
    Setting("shuffle", False, boolean, "true or false"),
    Setting("stop_below", None, _optional(number_in(0)), "a finite number ≥ 0"),
    Setting("stop_change_below", None, _optional(number_in(0)), "a finite number ≥ 0"),
    Setting("optimizer", "sgd", lambda v: v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
    Setting("schedule", "constant", lambda v: v in SCHEDULES, f"one of {', '.join(SCHEDULES)}"),
    *SCHEDULE_SETTINGS.values(),
    Setting("validation_fraction", 0.0, number_in(0, 1, high_open=True), "a number in [0, 1)"),
    Setting("patience", 5, lambda v: is_integer(v) and v >= 1, "an integer ≥ 1"),
    Setting("min_delta", 0.0, number_in(0), "a finite number ≥ 0"),
    Setting("epoch_loss", "dataset", lambda v: v in ("dataset", "batches"), "'dataset' or 'batches'"),
)}


@dataclass(frozen=True, init=False)
class TrainingConfig:
    """Every setting of a run, checked when made: ``TrainingConfig(learning_rate=0.5, optimizer="adam",
    beta1=0.8)``.  The optimiser's own settings (momentum, beta1, alpha, …) are keyword arguments too;
    they are checked by the optimiser named (a setting it does not take is refused) and read back as
    attributes (``config.beta1``; None for a setting the optimiser does not take)."""

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
    schedule: str = "constant"
    step_size: int = 1
    gamma: float = 0.1
    power: float = 0.5
    validation_fraction: float = 0.0
    patience: int = 5
    min_delta: float = 0.0
    epoch_loss: str = "dataset"
    options: tuple = ()          # the optimiser's settings as given: ((key, value), …)

    def __init__(self, **settings):
        options = dict(settings.pop("options", ()))
        for name, setting in SETTINGS.items():
            value = setting.check(settings.pop(name, setting.default))
            if name == "frozen":
                value = tuple(value)
            elif isinstance(setting.default, float) and value is not None:
                value = float(value)
            object.__setattr__(self, name, value)
        unknown = [key for key in settings if key not in ALL_OPTIMIZER_SETTINGS]
        if unknown:
            names = [*SETTINGS, *ALL_OPTIMIZER_SETTINGS]
            close = difflib.get_close_matches(unknown[0], names, n=1)
            raise ConfigError(unknown[0], (f"{close[0]!r}, or another " if close else "") + "training setting ("
                              + ", ".join(names) + ")", shown=False)
        options.update(settings)
        self.build_optimizer(options)       # the optimiser checks its own settings
        object.__setattr__(self, "options", tuple(options.items()))

    def __getattr__(self, name: str):
        if name in ALL_OPTIMIZER_SETTINGS:
            return self.optimizer_settings.get(name)
        raise AttributeError(name)

    @property
    def optimizer_settings(self) -> dict:
        """The chosen optimiser's settings, defaults filled in."""
        return dict(self.build_optimizer().settings)

    def settings(self) -> dict:
        """The settings as keyword arguments that make this configuration again (the optimiser's as given)."""
        return {**{name: getattr(self, name) for name in SETTINGS}, **dict(self.options)}

    def replace(self, **changes) -> "TrainingConfig":
        """A copy with some settings changed (checked as when made)."""
        return TrainingConfig(**{**self.settings(), **changes})

    def batch_size(self, n_samples: int) -> int:
        """Samples per batch: a batch larger than the data is simply the full batch."""
        if isinstance(self.batch, int):
            return max(1, min(self.batch, n_samples))
        return 1 if self.batch == "online" else n_samples

    def build_optimizer(self, options: dict | None = None):
        """The optimiser this configuration names, at the first epoch's learning rate."""
        return get_optimizer(self.optimizer, self.rate(1), **(dict(self.options) if options is None else options))

    def rate(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (from 1), by the schedule."""
        return get_schedule(self.schedule, **{key: getattr(self, key) for key in SCHEDULE_SETTINGS}).rate(
            self.learning_rate, epoch)


def training_config(config: "TrainingConfig | None", settings: dict) -> TrainingConfig:
    """The configuration of a call such as ``net.fit(x, t, config, epochs=5)``: ``config`` (default:
    every setting's default) with the keyword settings given in the call replacing its values."""
    if config is None:
        return TrainingConfig(**settings)
    if not isinstance(config, TrainingConfig):
        raise ConfigError("config", "a TrainingConfig (or settings as keyword arguments)", type(config).__name__)
    return config.replace(**settings) if settings else config


def epoch_batches(n_samples: int, config: TrainingConfig, rng: np.random.Generator) -> list[np.ndarray]:
    """The index arrays of one epoch's batches, in order (shuffled when asked)."""
    order = rng.permutation(n_samples) if config.shuffle else np.arange(n_samples)
    size = config.batch_size(n_samples)
    return [order[start:start + size] for start in range(0, n_samples, size)]


def shuffling(config: TrainingConfig, state: dict | None = None) -> np.random.Generator:
    """The generator that shuffles the batches: drawn from the seed, or going on from a saved ``state``."""
    rng = np.random.default_rng((config.seed, 1))
    if state is not None:
        rng.bit_generator.state = state
    return rng


def schedule(n_samples: int, config: TrainingConfig, rng: np.random.Generator | None = None,
             first: int = 0, last: float = math.inf) -> Iterator[tuple[int, int, np.ndarray, bool]]:
    """(epoch, step, indices, ends_epoch) for every step of training: epochs counted on from ``first``
    (the epochs run before) up to ``last``, steps from 1; ``rng`` shuffles (default: ``shuffling(config)``),
    drawing each epoch's order as it begins (so its state after epoch k is where epoch k + 1 starts)."""
    rng = shuffling(config) if rng is None else rng
    step = 0
    epoch = first
    fixed = None if config.shuffle else epoch_batches(n_samples, config, rng)    # the same every epoch
    while epoch < last:
        epoch += 1
        batches = fixed or epoch_batches(n_samples, config, rng)
        for number, indices in enumerate(batches, start=1):
            step += 1
            yield epoch, step, indices, number == len(batches)


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
    best_epoch: Optional[int] = None     # counted from the run's first epoch
    engine: str = ""                     # the implementation that ran the steps (engines.ENGINES)
    start_epoch: int = 0                 # the epochs run before this call (a run going on)

    def then(self, later: "History") -> "History":
        """This history followed by a later call's: the run's whole history."""
        return History(self.initial_loss, [*self.loss_history, *later.loss_history],
                       self.epochs_run + later.epochs_run, self.steps_run + later.steps_run, later.stopped_because,
                       [*self.validation_loss_history, *later.validation_loss_history],
                       later.best_epoch if later.best_epoch is not None else self.best_epoch, later.engine,
                       self.start_epoch)

    def __repr__(self) -> str:
        first = self.initial_loss if self.initial_loss is not None else (self.loss_history or [None])[0]
        last = self.loss_history[-1] if self.loss_history else None
        loss = f", loss {first:.6g} → {last:.6g}" if first is not None and last is not None else ""
        engine = f", engine {self.engine}" if self.engine else ""
        return f"<History: {self.epochs_run} epoch{'s' * (self.epochs_run != 1)}{loss}, stopped: {self.stopped_because}{engine}>"

    # Its pictures are drawn by the faces above training (explain/display.py, plot.py), which _network.py
    # names here when the package is imported: "html" and "plot", functions of the history.
    drawn: ClassVar[dict[str, Callable]] = {}

    def _repr_html_(self) -> str:
        return History.drawn["html"](self)

    def plot(self, ax=None, **options):
        """The loss curve with matplotlib (the plot extra): ``chainrule.plot.loss(self, ax, **options)``."""
        return History.drawn["plot"](self, ax, **options)

    def as_dict(self) -> dict:
        result = {"initial_loss": self.initial_loss, "loss_history": list(self.loss_history),
                  "epochs_run": self.epochs_run, "stopped_because": self.stopped_because}
        if self.validation_loss_history:
            result["validation_loss_history"] = list(self.validation_loss_history)
            result["best_epoch"] = self.best_epoch
        if self.start_epoch:
            result["start_epoch"] = self.start_epoch        # a run gone on with: the epochs before this call's
        return result


def fit(network: BaseNetwork, x, t, config: TrainingConfig | None = None,
        callback: Callable[[int, float], None] | None = None, on_step: Callable | None = None,
        resume=None, engine: str = "auto", checkpoint: Callable[[BaseNetwork], None] | None = None,
        checkpoint_every: int = 0, threads: int | None = None, **settings) -> History:
    """Train ``network`` in place on (x, t) as ``config`` says — or as the keyword settings say
    (``fit(net, x, t, epochs=100, learning_rate=0.5)``; given with ``config`` they replace its
    values) — and return the History of this call.  ``network.run`` is then where the run stands
    (``Run``: settings, the whole history, optimiser state, epochs run, the shuffling RNG),
    saved with the network and gone on from by ``resume``.

    Stops after ``config.epochs`` epochs, or earlier when the epoch loss falls below
    ``stop_below`` or changes by less than ``stop_change_below`` from the epoch before.
    ``callback(epoch, loss)`` is called after every epoch (progress display), with the network's
    parameters as they stand then (a callback with ``reads_network = False`` is not given them: the
    float engine then skips writing its parameters back each epoch), and
    ``on_step(epoch, done, total, losses, outputs, targets)`` after every step with the batch's
    losses and outputs before its update (``done`` samples of ``total`` in this epoch).
    ``resume`` goes on from an earlier run: a ``Run`` (``network.run``) — its epochs counted
    on, its shuffling generator, history and best validation parameters carried on, its optimiser's
    state too when the optimiser is of the same kind; ``config.epochs`` more epochs are run, so that
    two calls of k and n − k epochs end exactly where one of n does.  (An optimiser, as
    ``config.build_optimizer()`` makes it, also works: its state goes on and is updated in place.)
    ``checkpoint(network)`` is called with ``network.run`` set every ``checkpoint_every`` epochs, at
    the end, and on Ctrl-C — then with the network put back as it was after its last whole epoch,
    before the KeyboardInterrupt goes on up.
    ``engine`` says which implementation of the step runs (``engines.ENGINES``; "auto": the float
    engine for tiny networks with plain SGD, else the fast one); ``History.engine`` says which ran.
    ``threads`` is the number of BLAS threads of this call (None: one for small products, else every core;
    threads.py); the user's own BLAS setting is as it was afterwards.
    """
    engines.check(engine)
    config = training_config(config, settings)
    for name, function in (("callback", callback), ("on_step", on_step), ("checkpoint", checkpoint)):
        if function is not None and not callable(function):
            raise ConfigError(name, "a function (or None)", function)
    if not (is_integer(checkpoint_every) and checkpoint_every >= 0):
        raise ConfigError("checkpoint_every", "an integer ≥ 0 (epochs between checkpoints; 0: none)", checkpoint_every)
    if resume is not None and not isinstance(resume, (Run, Optimizer)):
        raise ConfigError("resume", "a run to go on from (network.run) or an optimiser", type(resume).__name__)
    blas_threads.check(threads)
    x, t = data.samples(x, t, network.inputs, network.outputs, network.dtype, network.loss)
    # Overflow while diverging is reported once, by TrainingDiverged, not as numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        return _fit(network, x, t, config, callback, on_step, resume, engine,
                    _Checkpoints(network, checkpoint, checkpoint_every), threads)


def validation_split(n_samples: int, config: TrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """(training indices, validation indices): a random ``validation_fraction`` held out, from the seed."""
    n_validation = int(round(n_samples * config.validation_fraction))
    if config.validation_fraction and not 1 <= n_validation < n_samples:
        raise ConfigError("validation_fraction", "a fraction leaving at least one sample on each side of "
                          f"{n_samples} sample{'s' * (n_samples != 1)}", config.validation_fraction)
    if not n_validation:
        return np.arange(n_samples), np.arange(0)
    order = np.random.default_rng((config.seed, 2)).permutation(n_samples)
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def _optimizer_going_on(config: TrainingConfig, start) -> Optimizer:
    """The optimiser of a run going on from ``start`` (a Run or None): ``config``'s, with the
    step count and state of the run's optimiser when it is of the same kind (a copy: ``start`` is kept)."""
    optimizer = config.build_optimizer()
    earlier = start.optimizer if start is not None else None
    if earlier is not None and earlier.name == optimizer.name:
        optimizer.t = earlier.t
        optimizer.states = {i: {k: v.copy() for k, v in state.items()} for i, state in earlier.states.items()}
    return optimizer


def _fit(network, x, t, config, callback, on_step, resume, engine, checkpoints, threads=None) -> History:
    start = resume if isinstance(resume, Run) else None
    train, held = validation_split(len(x), config)
    x_val, t_val = x[held], t[held]
    if len(held):
        x, t = x[train], t[train]
    optimizer = resume if isinstance(resume, Optimizer) else _optimizer_going_on(config, start)
    masks = network.trainable_masks(config.frozen) if config.frozen else None
    sums = np.einsum("ij->i", t)        # the rows' sums (3× faster than t.sum(axis=1) on a few columns)
    sums_to_one = bool(np.allclose(sums, 1.0))
    # class targets, as one_hot makes them: as many nonzeros as rows and each row summing to exactly 1 leave one
    # nonzero in each row, and it is 1 (targets in [0, 1] checked)
    one_hot = network.loss.probabilities and np.count_nonzero(t) == len(t) and bool(np.all(sums == 1))
    chosen, trainer = engines.trainer(engine, network, optimizer, config.reduction, masks,
                                      config.batch_size(len(x)), sums_to_one, one_hot)
    run = _Going(config, optimizer, start, _Stopping(network, x_val, t_val, config, start))
    if threads is None and chosen != "floats":      # (the float engine makes no matrix products)
        threads = blas_threads.by_work(network, config.batch_size(len(x)))
    try:
        with blas_threads.limited(threads):
            history = _epochs(network, x, t, config, optimizer, trainer, callback, on_step, run, checkpoints)
    except KeyboardInterrupt:
        checkpoints.interrupted()
        raise
    except BaseException:
        trainer.sync()      # the network shows where training stopped
        raise
    history.engine = chosen
    network.run = run.now(history)
    checkpoints.save(network.run)
    return history


def _epochs(network, x, t, config, optimizer, trainer, callback, on_step, run, checkpoints) -> History:
    by_batches = config.epoch_loss == "batches"
    # with batch losses (large data), no extra pass over the data: the initial loss is not computed
    initial = math.nan if by_batches else trainer.dataset_loss(x, t, config.reduction)
    if not (by_batches or math.isfinite(initial)):
        raise TrainingDiverged(diverged_message("before training", initial, config.learning_rate))
    history = History(initial_loss=None if by_batches else initial, start_epoch=run.first)
    previous = run.prior.loss_history[-1] if run.prior and run.prior.loss_history else initial
    checkpoints.begin(run, history, trainer)
    if config.epochs == 0:
        return history
    want_losses = by_batches or on_step is not None
    epoch_sum, epoch_count, done = 0.0, 0, 0
    stopping = run.stopping
    views = None if config.shuffle else _fixed_batches(x, t, config, trainer)
    scheduled = config.schedule != "constant"
    # the network given the parameters after each epoch: for validation, and for a callback that reads it
    sync_each_epoch = bool(len(stopping.x_val)) or bool(callback and getattr(callback, "reads_network", True))
    for epoch, step, indices, ends_epoch in schedule(len(x), config, run.rng, run.first, run.first + config.epochs):
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
        if (losses is not None or ends_epoch or step % 64 == 0) and not (
                math.isfinite(batch_sum) if batch_sum is not None else trainer.finite()):
            trainer.sync()
            loss = network.dataset_loss(x[indices], t[indices], config.reduction)
            raise TrainingDiverged(diverged_message(f"epoch {epoch}, step {step}", loss, config.learning_rate))
        if not ends_epoch:
            continue
        if sync_each_epoch:
            trainer.sync()
        if by_batches:
            loss = epoch_sum / (1 if config.reduction == "sum" else epoch_count)
        else:               # by the engine, as it holds the parameters (the float engine: on floats, small data)
            loss = trainer.dataset_loss(x, t, config.reduction)
        epoch_sum, epoch_count = 0.0, 0
        if not math.isfinite(loss):
            raise TrainingDiverged(diverged_message(f"epoch {epoch} (after step {step})", loss, config.learning_rate))
        history.loss_history.append(loss)
        history.epochs_run = epoch - run.first
        reason = stopping.reason(history, epoch, loss, previous)
        history.best_epoch = stopping.best_epoch
        if checkpoints.wanted and not reason:
            checkpoints.epoch_ended(epoch - run.first, history)
        if callback:
            callback(epoch, loss)
        if reason:
            history.stopped_because = reason
            break
        previous = loss
    trainer.sync()
    stopping.restore_best()
    return history


class _Going:
    """A run going on from ``start`` (a Run, or None for a fresh one): the epochs before,
    their history and shuffling generator; ``now(history)`` is the Run as it stands."""

    def __init__(self, config: TrainingConfig, optimizer, start, stopping: "_Stopping"):
        self.config, self.optimizer, self.stopping = config, optimizer, stopping
        self.first = start.epoch if start is not None else 0
        self.prior: History | None = start.history if start is not None else None
        self.rng = shuffling(config, start.rng if start is not None else None)
        self.data = start.data if start is not None else None

    def now(self, history: History, status: str | None = None):
        """The run after ``history`` (this call's so far), as a checkpoint holds it: every array copied."""
        import copy

        whole = self.prior.then(history) if self.prior is not None else copy.deepcopy(history)
        if status:
            whole.stopped_because = status
        best = self.stopping.best_parameters
        return Run(self.config.replace(epochs=self.first + self.config.epochs), whole, copy.deepcopy(self.optimizer),
                   self.first + history.epochs_run, self.rng.bit_generator.state,
                   None if best is None else [p.copy() for p in best], self.data)


class _Checkpoints:
    """``checkpoint(network)`` every ``every`` epochs and at the end; on Ctrl-C, the network put back as it
    was after its last whole epoch.  What that takes is kept at each epoch's end (only when checkpoints are
    wanted) without copying the run: the parameters and the optimiser's state copied into arrays allocated
    once, the history's lengths, the shuffling generator's state — the same work at epoch 10 as at epoch
    10,000.  The Run itself (history and all) is made only when a checkpoint is saved."""

    def __init__(self, network: BaseNetwork, checkpoint: Callable[[BaseNetwork], None] | None, every: int):
        self.network, self.checkpoint, self.every = network, checkpoint, every
        self.wanted = checkpoint is not None
        self.kept: _LastEpoch | None = None

    def begin(self, run: "_Going", history: History, trainer) -> None:
        """Training of ``history`` (this call's, appended to in place) by ``trainer`` is about to start."""
        self.trainer = trainer
        if self.wanted:
            self.kept = _LastEpoch(self.network, run, history, trainer)

    def epoch_ended(self, epochs: int, history: History) -> None:
        kept = self.kept
        assert kept is not None         # (made by begin when wanted)
        kept.keep()
        if self.every and epochs % self.every == 0:
            self.trainer.sync()             # the network saved as the trainer holds it
            self.save(kept.run.now(history, "checkpoint"))

    def save(self, run) -> None:
        if self.wanted:
            self.network.run = run
            self.checkpoint(self.network)     # type: ignore[misc]

    def interrupted(self) -> None:
        if self.kept is not None:
            self.save(self.kept.restore())


class _LastEpoch:
    """What puts a run back as it was after its last whole epoch, kept in place at each epoch's end:
    O(parameters) copies into arrays allocated once and a few numbers, never the history (its lengths)."""

    def __init__(self, network: BaseNetwork, run: "_Going", history: History, trainer):
        self.network, self.run, self.history = network, run, history
        # the trainer copies the parameters in the form it holds them (arrays; the float engine's lists)
        self.trainer, self.copied = trainer, None
        self.copy_parameters = trainer.copy_parameters
        self.optimizer, self.stopping = run.optimizer, run.stopping       # the run's own, all along
        self.optimizer_state: dict[int, dict[str, np.ndarray]] = {}
        self.shuffled = run.config.shuffle
        self.rng: Any = None
        self.keep()

    def keep(self) -> None:
        """At an epoch's end (its cost is paid every epoch: a few copies and one tuple)."""
        self.copied = self.copy_parameters(self.copied)
        optimizer, history, stopping = self.optimizer, self.history, self.stopping
        states = optimizer.states
        if states or self.optimizer_state:                 # plain SGD keeps none
            if states.keys() != self.optimizer_state.keys():     # state made at the first step (momentum, Adam)
                self.optimizer_state = {i: {k: v.copy() for k, v in state.items()} for i, state in states.items()}
            else:
                for i, state in states.items():
                    for k, v in state.items():
                        np.copyto(self.optimizer_state[i][k], v)
        # best_parameters is replaced, never changed in place: keeping the reference is enough
        self.marks = (optimizer.t, len(history.loss_history), len(history.validation_loss_history), history.epochs_run,
                      history.steps_run, history.best_epoch, stopping.best_loss, stopping.best_epoch,
                      stopping.best_parameters)
        if self.shuffled:   # without shuffling the generator is never drawn from: its state stays where the run began
            self.rng = self.run.rng.bit_generator.state

    def restore(self):
        """The network, optimiser, history and generator put back as kept; the Run as it then stands."""
        self.trainer.write_parameters(self.copied)
        optimizer, history, stopping = self.optimizer, self.history, self.stopping
        (optimizer.t, losses, validation_losses, history.epochs_run, history.steps_run, history.best_epoch,
         stopping.best_loss, stopping.best_epoch, stopping.best_parameters) = self.marks
        optimizer.states = {i: {k: v.copy() for k, v in state.items()} for i, state in self.optimizer_state.items()}
        del history.loss_history[losses:], history.validation_loss_history[validation_losses:]
        if self.rng is not None:
            self.run.rng.bit_generator.state = self.rng
        return self.run.now(history, "interrupted")


def _fixed_batches(x, t, config: TrainingConfig, trainer) -> list:
    """Unshuffled batches are the same every epoch: (x, t, prepared) each, views of the data — runs of
    consecutive rows, as ``epoch_batches`` cuts them without shuffling."""
    size = config.batch_size(len(x))
    batches = ((x[start:start + size], t[start:start + size]) for start in range(0, len(x), size))
    return [(xb, tb, trainer.prepare(xb, tb)) for xb, tb in batches]


class _Stopping:
    """The stopping rules read after each epoch: early stopping on a validation split (keeping the best
    parameters seen), a loss below ``stop_below``, a change below ``stop_change_below``."""

    def __init__(self, network: BaseNetwork, x_val, t_val, config: TrainingConfig, start=None):
        self.network, self.x_val, self.t_val, self.config = network, x_val, t_val, config
        self.best_loss = math.inf
        self.best_epoch: int | None = None            # counted from the run's first epoch
        self.best_parameters: list[np.ndarray] | None = None
        earlier = start.history if start is not None else None
        if earlier is not None and earlier.best_epoch is not None and start.best is not None:   # a run going on
            self.best_epoch, self.best_parameters = earlier.best_epoch, [p.copy() for p in start.best]
            self.best_loss = earlier.validation_loss_history[earlier.best_epoch - 1]

    def reason(self, history: History, epoch: int, loss: float, previous: float) -> str | None:
        config = self.config
        if len(self.x_val):
            validation = self.network.dataset_loss(self.x_val, self.t_val, config.reduction)
            history.validation_loss_history.append(validation)
            if validation < self.best_loss - config.min_delta:
                self.best_loss, self.best_parameters = validation, [p.copy() for p in self.network.parameters()]
                self.best_epoch = epoch
            elif epoch - (self.best_epoch or 0) >= config.patience:      # (no best yet: a NaN validation loss)
                return "validation"
        if config.stop_below is not None and loss < config.stop_below:
            return "loss_below"
        if config.stop_change_below is not None and abs(previous - loss) < config.stop_change_below:
            return "loss_change_below"
        return None

    def restore_best(self) -> None:
        """Early stopping keeps the parameters of the best validation loss."""
        if self.best_parameters is not None:
            for p, saved in zip(self.network.parameters(), self.best_parameters):
                p[...] = saved
