"""A training run of a spec, as ``chainrule train`` makes it: a fresh network fitted with a progress
display on stderr, its accuracy on a data set's splits, the saved model, and the run's reports —
one for any spec, one for a classifier trained on a data set (``train --data``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .io import save_model
from .metrics import correct, split_accuracies
from .network import Network
from .spec import Spec
from .train import History, TrainingConfig, fit, validation_split

MAX_LISTED = 100        # parameters and samples listed one per line by the spec report
LARGE = 5_000           # samples from which progress is a bar within each epoch


def fmt(value: float | None) -> str:
    """A loss as reports write it; "n/a" where none was computed (no epoch run, with epoch_loss = "batches")."""
    return "n/a" if value is None else f"{value:.9g}"


def vec(values) -> str:
    return "(" + ", ".join(fmt(v) for v in values) + ")"


class EpochLines:
    """Progress on stderr for long runs: at most a few lines a second, only after 1 s."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, epoch: int, loss: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < (0.2 if self.tty else 2.0) or now - self.start < 1.0:
            return
        self.last = now
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
class Run:
    spec: Spec
    network: Network
    config: TrainingConfig
    history: History
    seconds: float          # in fit
    held: int               # samples held out for validation
    accuracy: dict          # {} unless the spec's data set has a test split

    @property
    def trained(self) -> int:
        return len(self.spec.require_data()[0]) - self.held


def train(spec: Spec, config: TrainingConfig | None = None, *, show: bool = True, bar: bool = False,
          save: str | None = None, save_name: Callable[[Network], str] | None = None) -> Run:
    """Fit a fresh network of ``spec`` as ``config`` (default: the spec's training) says, showing progress
    (``bar``: a bar within each epoch, as for any data of LARGE samples or more), then measure the accuracy
    on a data set's splits and save the model to ``save``, named ``save_name(network)`` (default: the spec's name)."""
    x, t = spec.require_data()
    config = config or spec.training
    held = len(validation_split(len(x), config)[1])
    network = spec.build_network()
    bar = bar or len(x) >= LARGE        # small data gets a line per epoch at most
    lines = None if bar else EpochLines(config.epochs, show)
    start = time.perf_counter()
    try:
        history = fit(network, x, t, config, callback=lines, on_step=StepBar(config.epochs, show) if bar else None)
    finally:
        if lines:
            lines.close()
    seconds = time.perf_counter() - start
    accuracy = {} if spec.test_inputs is None else split_accuracies(network, x, t, config, spec.test_inputs,
                                                                    spec.test_targets)
    if save:
        save_model(network, save, save_name(network) if save_name else spec.name)
    return Run(spec, network, config, history, seconds, held, accuracy)


def accuracy_text(accuracy: dict) -> str:
    return "accuracy: " + ", ".join(f"{k.split('_')[0]} {100 * v:.2f}%" for k, v in accuracy.items())


def spec_data(run: Run) -> dict:
    """The JSON report of a run: its History, the parameters and any accuracy."""
    return {**run.history.as_dict(), "parameters": run.network.parameters_as_data(), **run.accuracy}


def spec_text(run: Run) -> str:
    """The text report of a run: network, loss before and after, accuracy, parameters and outputs
    (one a line up to MAX_LISTED)."""
    network, history, config, (x, t) = run.network, run.history, run.config, run.spec.require_data()
    final = history.loss_history[-1] if history.loss_history else history.initial_loss
    start = "" if history.initial_loss is None else f"{fmt(history.initial_loss)} → "
    lines = [f"{run.spec.name}: network {network.shape_text()}, loss {network.loss.name} ({config.reduction} over "
             f"{len(x)} sample{'s' if len(x) != 1 else ''}), learning rate {fmt(config.learning_rate)}",
             f"loss {start}{fmt(final)} after {history.epochs_run} epoch{'s' if history.epochs_run != 1 else ''} "
             f"({history.steps_run} steps); stopped because: {history.stopped_because}"]
    if run.accuracy:
        lines.append(accuracy_text(run.accuracy))
    if len(network.labels) <= MAX_LISTED:
        lines += ["parameters:", *(f"  {label} = {fmt(ref.get(network))}" for label, ref in network.labels.items())]
    else:
        lines.append(f"parameters: {len(network.labels):,} (save them with --save)")
    if len(x) <= MAX_LISTED:
        lines.append("outputs on the training data:")
        lines += [f"  input {vec(xi)} → output {vec(oi)}  (target {vec(ti)})"
                  for xi, ti, oi in zip(x, t, network.predict(x))]
    return "\n".join(lines) + "\n"


def dataset_data(run: Run) -> dict:
    """The JSON report of a classifier's run on a data set: loss per epoch, accuracy, speed."""
    history = run.history
    result = {"data": run.spec.name, "network": run.network.shape_text(), "epochs_run": history.epochs_run,
              "loss_history": history.loss_history, **run.accuracy, "seconds": run.seconds,
              "samples_per_second": run.trained * history.epochs_run / run.seconds}
    if run.held:
        result.update(validation_loss_history=history.validation_loss_history, best_epoch=history.best_epoch,
                      stopped_because=history.stopped_because)
    return result


def dataset_text(run: Run) -> str:
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
