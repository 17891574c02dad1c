"""A training run of a spec, as ``chainrule train`` makes it: a fresh network fitted with a progress
display on stderr, its accuracy on a data set's splits, the saved model, and the run's reports —
one for any spec, one for a classifier trained on a data set (``train --data``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .formats.io import load_model, save_model
from .core.build import network_to_table
from .core.metrics import correct, network_accuracy
from .core.network import BaseNetwork
from .formats.spec import Spec
from .training.train import History, TrainingConfig, fit, validation_split

MAX_LISTED = 100        # parameters and samples listed one per line by the spec report
LARGE = 5_000           # samples from which progress is a bar within each epoch


def fmt(value: float | None) -> str:
    """A loss as reports write it; "n/a" where none was computed (no epoch run, with epoch_loss = "batches")."""
    return "n/a" if value is None else f"{value:.9g}"


def vec(values) -> str:
    return "(" + ", ".join(fmt(v) for v in values) + ")"


class EpochLines:
    """Progress on stderr for long runs: at most a few lines a second, only after 1 s."""

    reads_network = False       # fit need not write the parameters back into the network for it each epoch

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.every = 0.2 if self.tty else 2.0      # seconds between lines
        self.next = self.start + max(1.0, self.every)     # the first line's earliest time

    def __call__(self, epoch: int, loss: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self.next:         # (called after every epoch: one clock reading and one comparison)
            return
        self.last, self.next = now, now + self.every
        line = f"epoch {epoch}/{self.total} ({100 * epoch / self.total:.0f}%)  loss {fmt(loss)}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty and self.last != self.start:
            print(file=sys.stderr)


class StepBar:
    """A one-line progress bar on stderr: epoch, samples, samples/s, running loss and accuracy."""

    def __init__(self, epochs: int, enabled: bool):
        self.epochs, self.enabled = epochs, enabled
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.reset()

    def reset(self):
        self.start = time.monotonic()
        self.loss_sum, self.correct, self.seen = 0.0, 0, 0

    def epoch_accuracy(self) -> float | None:
        """The accuracy over the batches of the epoch running (or last run), as they were trained."""
        return self.correct / self.seen if self.seen else None

    def __call__(self, epoch, done, total, losses, outputs, targets):
        if done == len(targets) and self.seen:
            self.reset()
        self.loss_sum += float(np.sum(losses))
        self.correct += correct(outputs, targets)
        self.seen += len(targets)
        now = time.monotonic()
        if not self.enabled or (done < total and (not self.tty or now - self.last < 0.2)):
            return
        self.last = now
        rate = self.seen / max(now - self.start, 1e-9)
        width = 24
        filled = int(width * done / total)
        line = (f"epoch {epoch}/{self.epochs} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  "
                f"{rate:,.0f} samples/s  loss {self.loss_sum / self.seen:.4f}  accuracy {100 * self.correct / self.seen:.2f}%")
        print(("\r" + line) if self.tty else line, end="" if self.tty and done < total else "\n",
              file=sys.stderr, flush=True)


@dataclass
class Trained:
    """A spec trained as ``chainrule train`` trains it: its network (whose ``run`` is where training stands),
    the settings and History of the call, its time, the samples held out and the accuracy by split."""

    spec: Spec
    network: BaseNetwork
    config: TrainingConfig
    history: History
    seconds: float          # in fit
    held: int               # samples held out for validation
    accuracy: dict          # {} unless the spec's data set has a test split
    phases: list = field(default_factory=list)   # (Phase, History) of a run in phases, in turn; history: the last

    @property
    def trained(self) -> int:
        return len(self.spec.require_data()[0]) - self.held


def train(spec: Spec, config: TrainingConfig | None = None, *, show: bool = True, bar: bool = False,
          save: str | None = None, save_name: Callable[[BaseNetwork], str] | None = None,
          network: BaseNetwork | None = None, checkpoint: str | None = None, checkpoint_every: int = 0,
          interrupted_to: str | None = None, threads: int | None = None) -> Trained:
    """Fit a fresh network of ``spec`` — or go on with ``network``'s run — as ``config`` (default: the
    spec's training) says, showing progress (``bar``: a bar within each epoch, as for any data of LARGE
    samples or more), then measure the accuracy on a data set's splits and save the model to ``save``,
    named ``save_name(network)`` (default: the spec's name).  With ``checkpoint``, the run is saved there
    every ``checkpoint_every`` epochs, at the end and on Ctrl-C (as it was after its last whole epoch);
    without, a Ctrl-C saves it to ``interrupted_to`` (when given); ``threads``: the BLAS threads (None: by the work)."""
    x, t = spec.require_data()
    if config is None and network is None and len(spec.phases) > 1:
        return _in_phases(spec, show=show, bar=bar, save=save, save_name=save_name, interrupted_to=interrupted_to,
                          threads=threads)
    config = config or spec.training
    held = len(validation_split(len(x), config)[1])
    network = network or spec.build_network()
    first = network.run.epoch if network.run is not None else 0
    bar = bar or len(x) >= LARGE        # small data gets a line per epoch at most
    lines = None if bar else EpochLines(first + config.epochs, show)
    name = save_name(network) if save_name else spec.name

    def keep(trained: BaseNetwork) -> None:
        assert trained.run is not None
        trained.run.data, trained.run.name = spec.data, name
        path = checkpoint or (interrupted_to if trained.run.history.stopped_because == "interrupted" else None)
        if path:
            save_model(trained, path, name)

    steps = StepBar(first + config.epochs, show) if bar else None
    start = time.perf_counter()
    try:
        history = fit(network, x, t, config, callback=lines, on_step=steps,
                      resume=network.run, checkpoint=keep if checkpoint or interrupted_to else None,
                      checkpoint_every=checkpoint_every, threads=threads)
    finally:
        if lines:
            lines.close()
    seconds = time.perf_counter() - start
    assert network.run is not None
    network.run.data, network.run.name = spec.data, name
    # large data: the training rows' accuracy as the bar counted it over the last epoch (Keras's figure), not
    # a forward pass over them all again — unless early stopping went back to an earlier epoch's parameters
    ended_with = history.start_epoch + history.epochs_run
    counted = steps.epoch_accuracy() if steps and history.best_epoch in (None, ended_with) else None
    accuracy = {} if spec.test_inputs is None else split_accuracies(network, x, t, config, spec.test_inputs,
                                                                    spec.test_targets, counted)
    if save:
        save_model(network, save, name)
    return Trained(spec, network, config, history, seconds, held, accuracy)


def _in_phases(spec: Spec, *, save: str | None, **options) -> Trained:
    """A spec's [[training.phases]] in turn, each a run of its own (a fresh optimiser) from the weights
    the phase before left; the model saved holds the last phase's run."""
    network, phases, seconds = spec.build_network(), [], 0.0
    for phase in spec.phases:
        network.run = None
        done = train(spec, phase.training, network=network, **options)
        phases.append((phase, done.history))
        seconds += done.seconds
    if save:
        save_model(network, save, network.run.name if network.run else spec.name)
    return replace(done, seconds=seconds, phases=phases)


def split_accuracies(network, x, t, config, x_test=None, t_test=None, counted: float | None = None) -> dict:
    """{train_accuracy, validation_accuracy (when ``config`` holds rows out), test_accuracy (when given)}:
    train on the rows trained on, validation on the rows held out, as ``fit`` split them.  With ``counted``
    (the accuracy over the last epoch's batches, as they were trained), that is given as
    last_epoch_accuracy in place of a pass over the training rows."""
    trained, validated = validation_split(len(x), config)
    if counted is not None:
        result = {"last_epoch_accuracy": counted}
    else:
        rows = slice(None) if len(trained) == len(x) else trained        # all rows: no copy of the data
        result = {"train_accuracy": network_accuracy(network, x[rows], t[rows])}
    if len(validated):
        result["validation_accuracy"] = network_accuracy(network, x[validated], t[validated])
    if x_test is not None:
        result["test_accuracy"] = network_accuracy(network, x_test, t_test)
    return result


def going_on(path: str) -> tuple[Spec, BaseNetwork]:
    """The spec and network of a model saved with its run (``chainrule train --save`` or ``--checkpoint``):
    its network with the run, the run's settings and the data its ``[data]`` table names, read again."""
    from .formats.spec import SpecError, from_dict
    network = load_model(path)
    run = network.run
    if run is None:
        raise SpecError(f"{path}: training: missing; expected a model saved with its run (chainrule train --save "
                        "or --checkpoint), got a network alone")
    if run.data is None:
        raise SpecError(f"{path}: data: missing; expected the run's [data] table (saved by chainrule train), got a "
                        "run trained from Python: go on there with net.fit(x, t)")
    document = {"name": run.name or Path(path).stem, "network": network_to_table(network),
                "training": {k: list(v) if isinstance(v, tuple) else v for k, v in run.training.settings().items()
                             if v is not None}, "data": run.data}
    return from_dict(document, str(path)), network


ACCURACY_NAMES = {"train_accuracy": "train", "last_epoch_accuracy": "train (last epoch's batches, as trained)",
                  "validation_accuracy": "validation", "test_accuracy": "test"}


def accuracy_text(accuracy: dict) -> str:
    return "accuracy: " + ", ".join(f"{ACCURACY_NAMES[k]} {100 * v:.2f}%" for k, v in accuracy.items())


def spec_data(run: Trained) -> dict:
    """The JSON report of a run: its History, the parameters and any accuracy."""
    changed = {"changed": list(run.spec.changed)} if run.spec.changed else {}
    phases = {"phases": [{"name": phase.name, **history.as_dict()} for phase, history in run.phases]} \
        if run.phases else {}
    return {**run.history.as_dict(), "parameters": run.network.parameters_as_data(), **run.accuracy, **changed,
            **phases}


def _loss_line(history: History) -> str:
    final = history.loss_history[-1] if history.loss_history else history.initial_loss
    start = "" if history.initial_loss is None else f"{fmt(history.initial_loss)} → "
    return (f"loss {start}{fmt(final)} after {history.epochs_run}{' more' * bool(history.start_epoch)} "
            f"epoch{'s' if history.epochs_run != 1 else ''} ({history.steps_run} steps"
            + (f"; epochs {history.start_epoch + 1}–{history.start_epoch + history.epochs_run} of the run"
               if history.start_epoch and history.epochs_run else "") + f"); stopped because: {history.stopped_because}")


def spec_text(run: Trained) -> str:
    """The text report of a run: network, loss before and after, accuracy, parameters and outputs
    (one a line up to MAX_LISTED)."""
    network, history, config, (x, t) = run.network, run.history, run.config, run.spec.require_data()
    rate = "learning rate " + fmt(config.learning_rate) if not run.phases else f"{len(run.phases)} phases"
    lines = [f"{run.spec.name}: network {network.shape_text()}, loss {network.loss.name} ({config.reduction} over "
             f"{len(x)} sample{'s' if len(x) != 1 else ''}), {rate}"]
    for phase, phase_history in run.phases or [(None, history)]:
        lines.append((f"{phase.summary()}\n  " if phase else "") + _loss_line(phase_history))
    if run.spec.changed:
        lines.insert(1, f"changed from the command line: {'; '.join(run.spec.changed)}")
    if run.accuracy:
        lines.append(accuracy_text(run.accuracy))
    if len(network.labels) <= MAX_LISTED:
        lines += ["parameters:", *(f"  {label} = {fmt(value)}" for label, value in network.labels.numbers())]
    else:
        lines.append(f"parameters: {len(network.labels):,} (save them with --save)")
    if len(x) <= MAX_LISTED:
        # the spec has checked its data: the outputs by the forward pass, without predict's checks again
        outputs = network.forward(x.astype(network.dtype, copy=False))[-1].out
        lines.append("outputs on the training data:")
        lines += [f"  input {vec(xi)} → output {vec(oi)}  (target {vec(ti)})"
                  for xi, ti, oi in zip(x.tolist(), t.tolist(), outputs.tolist())]
    return "\n".join(lines) + "\n"


def dataset_data(run: Trained) -> dict:
    """The JSON report of a classifier's run on a data set: loss per epoch, accuracy, speed."""
    history = run.history
    result = {"data": run.spec.name, "network": run.network.shape_text(), "epochs_run": history.epochs_run,
              "loss_history": history.loss_history, **run.accuracy, "seconds": run.seconds,
              "samples_per_second": run.trained * history.epochs_run / run.seconds}
    if run.held:
        result.update(validation_loss_history=history.validation_loss_history, best_epoch=history.best_epoch,
                      stopped_because=history.stopped_because)
    return result


def dataset_text(run: Trained) -> str:
    network, history, config, held = run.network, run.history, run.config, run.held
    hidden = network.layers[0].activation.name
    lines = [f"{run.spec.name}: network {network.shape_text()} ({hidden}, softmax, cross-entropy), "
             f"{np.dtype(network.dtype).name}, {config.optimizer} η = {fmt(config.learning_rate)}, batch "
             f"{config.batch}, {run.trained} training samples" + (f" + {held} for validation" if held else ""),
             f"{history.epochs_run} epoch{'s' * (history.epochs_run != 1)} in {run.seconds:.1f} s "
             f"({dataset_data(run)['samples_per_second']:,.0f} samples/s); "
             f"loss per epoch: {', '.join(f'{v:.4f}' for v in history.loss_history)}"]
    if held:
        lines.append(f"validation loss per epoch: {', '.join(f'{v:.4f}' for v in history.validation_loss_history)}; "
                     f"kept the parameters of epoch {history.best_epoch}"
                     + (" (stopped early)" if history.stopped_because == "validation" else ""))
    tested = 0 if run.spec.test_inputs is None else len(run.spec.test_inputs)
    lines.append(accuracy_text(run.accuracy) + f" ({tested:,} test images)")
    return "\n".join(lines) + "\n"
