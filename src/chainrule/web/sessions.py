"""The web page's server-side state: one Session per visitor set-up, isolated, bounded and expiring.

Everything a session computes comes from the engine (trace, fit, explain); the browser only shows it.
"""

from __future__ import annotations

import copy
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass, fields

import numpy as np

from ..core import files
from ..formats import examples
from ..datasets import one_hot
from ..datasets.tabular import numbers, read_rows
from ..datasets.toy import FEATURES, GENERATORS, REGRESSIONS, features, planar, regression
from ..explain import explain_step
from ..explain.chains import sample_terms
from ..explain.derive import MAX_SAMPLES, chains_as_data, parameter_count
from ..explain.html import document_html
from ..check import Checker, ClaimsError, report_json
from ..check.claims import Claim, kind_of, parse_name
from ..core.build import network_to_table
from ..training.run import Run
from ..core.settings import show
from ..formats.spec import Phase, SpecError, from_dict
from ..training.trace import Tracer
from ..training.train import (History, TrainingConfig, TrainingDiverged, _optimizer_going_on, diverged_message, fit,
                     schedule, shuffling, validation_split)


@dataclass(frozen=True)
class Limits:
    layers: int = 8
    units: int = 64
    rows: int = 5_000
    epochs_per_call: int = 1_000
    seconds_per_call: float = 5.0
    sessions: int = 500
    idle_seconds: float = 1_800.0
    steps_kept: int = 500
    csv_bytes: int = 200_000
    resolution: int = 100
    chain_terms: int = 500      # parameters × samples in a step beyond which its chains are not sent
                                # (2-4-4-1 on 160 samples sent 5 MB; 2-8-8-1 on a batch of 10 took 0.2 s);
                                # explain gives one parameter's, and "terms" each sample's share
    sample_terms: int = 16_000  # parameters × shown samples beyond which the samples' shares are not sent


class BadRequest(ValueError):
    """A request the API refuses (HTTP 4xx) with a one-line message."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _data_from_generator(table: dict, limits: Limits) -> dict:
    """Generated data (a 2-D classification or a 1- or 2-input regression), split into training and test
    rows: {"raw", "targets", "raw_test", "targets_test", "kind": "classes" | "values"}."""
    kind = table.get("generator")
    if not isinstance(kind, str) or (kind not in GENERATORS and kind not in REGRESSIONS):
        raise BadRequest(f"data.generator: expected one of {', '.join([*GENERATORS, *REGRESSIONS])}, got {show(kind)}")
    samples, noise = table.get("samples", 200), table.get("noise", 0.0)
    test_fraction, seed = table.get("test_fraction", 0.0), table.get("seed", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or not 4 <= samples <= limits.rows:
        raise BadRequest(f"data.samples: expected an integer from 4 to {limits.rows}, got {show(samples)}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise BadRequest(f"data.noise: expected a number from 0 to 1, got {show(noise)}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 <= test_fraction <= 0.9:
        raise BadRequest(f"data.test_fraction: expected a number from 0 to 0.9, got {show(test_fraction)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2 ** 32:
        raise BadRequest(f"data.seed: expected an integer from 0 to 2³² − 1, got {show(seed)}")
    if kind in GENERATORS:
        x, y = planar(kind, samples, float(noise), seed)
    else:
        x, y = regression(kind, samples, float(noise), seed)
    n_test = int(round(samples * test_fraction))
    return {"raw": x[n_test:], "targets": y[n_test:], "raw_test": x[:n_test], "targets_test": y[:n_test],
            "kind": "classes" if kind in GENERATORS else "values"}


def _features(table: dict, raw_inputs: int) -> list[str]:
    """The input features a generated data set is shown to the network as (default: the raw inputs)."""
    names = table.get("features", ["x1", "x2"][:raw_inputs])
    allowed = [name for name in FEATURES if raw_inputs == 2 or "x2" not in name]
    if not isinstance(names, list) or not 1 <= len(names) <= len(allowed) or len(set(map(str, names))) != len(names) \
            or any(name not in allowed for name in names):
        raise BadRequest(f"data.features: expected 1 to {len(allowed)} different names of {', '.join(allowed)}, "
                         f"got {show(names)}")
    return names


def _data_from_csv(text: str, outputs: int, limits: Limits) -> tuple[list, list]:
    """Rows of numbers; the last ``outputs`` columns are the targets (a header row is skipped)."""
    if not isinstance(text, str) or len(text.encode()) > limits.csv_bytes:
        raise BadRequest(f"data.csv_text: expected CSV text of at most {limits.csv_bytes} bytes",
                         413 if isinstance(text, str) else 422)
    try:
        _, rows = read_rows(text, source="data.csv_text")
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if not rows or len(rows) > limits.rows:
        raise BadRequest(f"data.csv_text: expected 1 to {limits.rows} data rows, got {len(rows)}")
    try:
        values = numbers(rows, "data.csv_text")
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if values.shape[1] <= outputs:
        raise BadRequest(f"data.csv_text: expected more than {outputs} columns, got {values.shape[1]}")
    return values[:, :-outputs].tolist(), values[:, -outputs:].tolist()


def check_document(document, limits: Limits) -> dict:
    """A spec document from the page, its sizes bounded and its data in memory; raises BadRequest."""
    if not isinstance(document, dict):
        raise BadRequest("spec: expected a JSON object (a spec document)")
    network = document.get("network")
    if not isinstance(network, dict) or not isinstance(network.get("layers"), list):
        raise BadRequest("spec.network.layers: expected a list of layers")
    layers = network["layers"]
    if not 1 <= len(layers) <= limits.layers:
        raise BadRequest(f"spec.network.layers: expected 1 to {limits.layers} layers, got {len(layers)}")
    for k, layer in enumerate(layers, start=1):
        units = layer.get("units") if isinstance(layer, dict) else None
        if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= limits.units:
            raise BadRequest(f"spec.network.layers[{k}].units: expected an integer from 1 to {limits.units}, "
                             f"got {show(units)}")
    inputs = network.get("inputs")
    if not isinstance(inputs, int) or isinstance(inputs, bool) or not 1 <= inputs <= limits.units:
        raise BadRequest(f"spec.network.inputs: expected an integer from 1 to {limits.units}, got {show(inputs)}")
    data = document.get("data")
    if not isinstance(data, dict):
        raise BadRequest("spec.data: expected a data table (inputs and targets, a generator, or csv_text)")
    for key in data:
        if key not in WEB_DATA:     # csv, idx, dataset: the page reads no file of the server's disk
            shown = key if key.isprintable() and len(key) <= 40 else show(key)[:40]
            raise BadRequest(f"spec.data.{shown}: expected one of {', '.join(sorted(WEB_DATA))} "
                             "(the page reads no files; send a CSV's text as data.csv_text)")
    return document


# what a web spec's data may hold: numbers, a generator and its settings, or a CSV's text — never a path
WEB_DATA = {"inputs", "targets", "generator", "samples", "noise", "test_fraction", "seed", "csv_text",
            "features"}


class Session:
    """One visitor's set-up: the spec, its network and the run of the spec as ``chainrule train`` runs it —
    its epochs, stopping rules, validation and phases — taken a traced step or a few epochs at a time."""

    def __init__(self, document: dict, limits: Limits):
        self.limits = limits
        self.document = document
        self.lock = threading.Lock()
        self.touched = time.monotonic()
        self.raw: np.ndarray | None = None          # the data's own inputs (before features), for the plots
        self.raw_test: np.ndarray | None = None
        self.x_test: np.ndarray | None = None
        self.t_test: np.ndarray | None = None
        self.partial_rng: np.random.Generator | None = None
        spec_document = self._spec_document(document)
        try:
            self.spec = from_dict(spec_document, "spec")
        except SpecError as exc:
            raise BadRequest(str(exc)) from None
        self.x, self.t = self.spec.require_data()
        if len(self.x) > limits.rows:
            raise BadRequest(f"spec.data: expected at most {limits.rows} rows, got {len(self.x)}")
        if self.feature_names is None and np.isin(self.t, (0.0, 1.0)).all():
            self.kind = "classes"          # targets of 0 and 1: a classifier's (xor), drawn as regions
        if self.raw is None:
            self.raw = self.x if self.x.shape[1] <= 2 else None
        self.phases = list(self.spec.phases) or [Phase("", self.spec.training)]
        self.network = self.spec.build_network()
        self.seconds_per_epoch = 1e-4
        self._begin()

    def _begin(self) -> None:
        """The run at its start: the first phase, no epoch run, nothing traced."""
        self.phase = 0                 # the phase being trained (an index of self.phases)
        self.ended: list[dict] = []    # each phase run to its end: name, epochs_run, stopped_because
        self.finished: str | None = None     # why the spec's run ended (its last phase's stop reason)
        self.beyond = 0                # epochs trained past the spec's end ("train more")
        self.epochs = 0                # epochs of the whole run (every phase), by training or traced steps
        self.updates = 0               # every step, traced or trained: the next step's number is updates + 1
        self.steps_taken = 0
        self.traces: list[dict] = []
        self.partial: Tracer | None = None    # traced steps inside an epoch of several batches
        self.loss_history: list = []
        self.test_loss_history: list = []
        self.phase_starts = [0]        # the epoch each phase began after

    def _spec_document(self, document: dict) -> dict:
        """The document as the spec validator takes it: generated or uploaded data put in place."""
        doc = {k: v for k, v in document.items() if k != "data"}
        data = dict(document["data"])
        layers = document["network"]["layers"]
        outputs = layers[-1]["units"]
        self.feature_names: list[str] | None = None
        self.kind = "values"
        if "generator" in data:
            made = _data_from_generator(data, self.limits)
            self.kind = made["kind"]
            names = _features(data, made["raw"].shape[1])
            if document["network"].get("inputs") != len(names):
                raise BadRequest(f"spec.network.inputs: expected {len(names)} (the features {', '.join(names)}), "
                                 f"got {show(document['network'].get('inputs'))}")
            if self.kind == "classes":
                if outputs > 2:
                    raise BadRequest(f"spec.network.layers[-1].units: expected 1 or 2 outputs for a 2-D "
                                     f"classification problem, got {outputs}")
                encode = (lambda ls: one_hot(np.asarray(ls, dtype=int), outputs)) if outputs > 1 \
                    else (lambda ls: np.asarray(ls, dtype=float)[:, None])
            else:
                if outputs != 1:
                    raise BadRequest(f"spec.network.layers[-1].units: expected 1 output for a regression, got {outputs}")
                encode = lambda ys: np.asarray(ys, dtype=float)[:, None]     # noqa: E731
            self.raw, self.raw_test, self.feature_names = made["raw"], made["raw_test"], names
            data = {"inputs": features(made["raw"], names).tolist(), "targets": encode(made["targets"]).tolist()}
            if len(made["raw_test"]):
                self.x_test = features(made["raw_test"], names)
                self.t_test = encode(made["targets_test"])
        elif "features" in data:
            raise BadRequest("spec.data.features: expected only with a generator (features of generated inputs)")
        elif "csv_text" in data:
            x, t = _data_from_csv(data["csv_text"], outputs, self.limits)
            data = {"inputs": x, "targets": t}
        doc["data"] = data
        return doc

    # ---- where the run stands ------------------------------------------------------------------------------
    def config(self) -> TrainingConfig:
        """The settings the next epoch runs with: the phase's, or — past the spec's end — the last phase's
        without its stopping rules."""
        if self.finished is None:
            return self.phases[self.phase].training
        return self.phases[-1].training.replace(stop_below=None, stop_change_below=None, validation_fraction=0.0)

    def phase_epoch(self) -> int:
        return self.network.run.epoch if self.network.run is not None else 0

    def training_rows(self):
        """The samples the run trains on (without a validation split's)."""
        kept, _ = validation_split(len(self.x), self.config())
        return self.x[kept], self.t[kept]

    def steps_per_epoch(self) -> int:
        n = len(self.training_rows()[0])
        return -(-n // self.config().batch_size(n))

    def run_state(self) -> dict:
        """The spec's run: its phases (each planned, run, stopped), the one being trained, why it ended."""
        phases = []
        for k, phase in enumerate(self.phases):
            done = self.ended[k] if k < len(self.ended) else None
            phases.append({"name": phase.name, "summary": phase.summary() if phase.name else "",
                           "epochs": phase.training.epochs,
                           "epochs_run": done["epochs_run"] if done else (self.phase_epoch() if k == self.phase else 0),
                           "stopped_because": done["stopped_because"] if done else None})
        config = self.phases[self.phase].training       # its stopping rules, also once the run has ended
        return {"phase": self.phase, "phases": phases, "finished": self.finished, "beyond": self.beyond,
                "phase_epoch": self.phase_epoch(), "phase_starts": self.phase_starts,
                "stop_below": config.stop_below, "stop_change_below": config.stop_change_below,
                "validation_fraction": config.validation_fraction, "patience": config.patience}

    # ---- what the page shows -----------------------------------------------------------------------------
    def state(self, history: bool = False) -> dict:
        net, config = self.network, self.config()
        first = self.x[:MAX_SAMPLES]
        values = net.forward(first)
        result = {
            "name": self.spec.name,
            "description": self.spec.description if hasattr(self.spec, "description") else "",
            "network": network_to_table(net),
            "labels": {label: {"layer": ref.layer, "kind": ref.kind, "index": list(ref.index)}
                       for label, ref in net.labels.items()},
            "parameters": dict(net.labels.numbers()),
            "training": {"learning_rate": config.learning_rate, "batch": config.batch,
                         "reduction": config.reduction, "optimizer": config.optimizer,
                         "epochs": config.epochs, "steps_per_epoch": self.steps_per_epoch()},
            "samples": len(self.x), "test_samples": 0 if self.x_test is None else len(self.x_test),
            "inputs_2d": self.plot_kind() in ("classes", "surface"),
            "plot": self.plot_kind(), "features": self.feature_names,
            "steps_taken": self.steps_taken, "updates": self.updates, "epochs": self.epochs,
            "run": self.run_state(),
            "loss": net.dataset_loss(self.x, self.t, config.reduction),
            "test_loss": self.test_loss(),
            "history_length": len(self.loss_history),
            "forward": [{"net": v.net[0].tolist(), "out": v.out[0].tolist()} for v in values],
            "forward_samples": [{"input": first[s].tolist(), "target": self.t[s].tolist(),
                                 "layers": [{"net": v.net[s].tolist(), "out": v.out[s].tolist()} for v in values]}
                                for s in range(len(first))],
            "first_sample": {"input": self.x[0].tolist(), "target": self.t[0].tolist()},
            "document": self.document,
        }
        if history:
            result.update(loss_history=self.loss_history, test_loss_history=self.test_loss_history)
        return result

    def plot_kind(self) -> str | None:
        """What the output panel draws: a decision boundary, a fitted curve, a fitted surface, or nothing."""
        if self.raw is None or self.raw.shape[1] not in (1, 2) or (self.raw.shape[1] == 2 and len(self.raw) < 4):
            return None            # a plane around one sample (seed 000's) says nothing
        if self.raw.shape[1] == 1:
            return "curve" if self.network.outputs == 1 else None
        return "classes" if self.kind == "classes" else "surface"

    def test_loss(self):
        if self.x_test is None or self.t_test is None or not len(self.x_test):
            return None
        return self.network.dataset_loss(self.x_test, self.t_test, self.config().reduction)

    # ---- a traced step -----------------------------------------------------------------------------------
    def step(self) -> dict:
        """The run's next step, traced.  An epoch of one step is run by the training code itself (so that
        its stopping rules and phases apply) and traced beside it on a copy from the same state."""
        config = self.config()
        x, t = self.training_rows()
        before = self._saved()
        phase = self.phases[self.phase].name
        if self.steps_per_epoch() == 1:
            twin = copy.deepcopy(self.network)
            tracer = self._tracer(twin, x, t, config)
            with np.errstate(over="ignore", invalid="ignore"):
                trace = tracer.next()
            if math.isfinite(trace.loss_after):
                self.train(1, more=self.finished is not None, traced=True)
        else:
            if self.partial is None:
                self.partial = self._tracer(self.network, x, t, config)
            with np.errstate(over="ignore", invalid="ignore"):
                trace = self.partial.next()
            if math.isfinite(trace.loss_after) and self._finite():
                self.updates += 1
                if (trace.step - self.partial.steps_before) % self.steps_per_epoch() == 0:
                    self._epoch_of_steps(config, x, t)
        if not (math.isfinite(trace.loss_after) and self._finite()):
            self._restore(before)
            raise BadRequest(diverged_message(f"step {trace.step}", trace.loss_after, trace.learning_rate)
                             + " The step was undone.")
        self.steps_taken += 1
        record = trace.as_dict()
        record["phase"] = phase
        record["run_epoch"] = self.epochs
        # every gradient's chain, for steps small enough to send whole (else one at a time: explain), and
        # each shown sample's share of every gradient
        parameters, shown = parameter_count(trace), min(len(trace.samples), MAX_SAMPLES)
        record["chains"] = chains_as_data(trace) if parameters * len(trace.samples) <= self.limits.chain_terms else None
        record["terms"] = sample_terms(trace, shown) if parameters * shown <= self.limits.sample_terms else None
        # a large batch's values stay here (explain reads them); the page is sent the first few samples
        record["samples_in_step"] = len(trace.samples)
        record["samples"] = record["samples"][:MAX_SAMPLES]
        record["_trace"] = trace
        self.traces.append(record)
        if len(self.traces) > self.limits.steps_kept:
            self.traces.pop(0)
        return record

    def _tracer(self, network, x, t, config) -> Tracer:
        """A tracer going on where the run stands: its optimiser state, shuffling, step and epoch numbers."""
        run = network.run
        tracer = Tracer(network, x, t, config, _optimizer_going_on(config, run), steps_before=self.updates,
                        epochs_before=self.phase_epoch())
        self.partial_rng = shuffling(config, run.rng if run is not None else None)
        tracer.schedule = schedule(len(x), config, self.partial_rng, first=self.phase_epoch())
        return tracer

    def _epoch_of_steps(self, config, x, t) -> None:
        """An epoch ended by traced steps (several batches): the run goes on from it as from a trained one
        (its stopping rules are read when training goes on)."""
        assert self.partial is not None and self.partial_rng is not None
        loss = self.network.dataset_loss(x, t, config.reduction)
        run, epoch = self.network.run, self.phase_epoch() + 1
        steps = self.steps_per_epoch()
        done = History(initial_loss=None, loss_history=[loss], epochs_run=1, steps_run=steps,
                       stopped_because="checkpoint", start_epoch=epoch - 1)
        whole = run.history.then(done) if run is not None and run.history is not None else done
        self.network.run = Run(config.replace(epochs=epoch), whole, copy.deepcopy(self.partial.optimizer), epoch,
                               self.partial_rng.bit_generator.state, run.best if run is not None else None)
        self.partial = None
        self._record([loss], [] if self.x_test is None else [self.test_loss()])
        if self.finished is not None:
            self.beyond += 1
        elif epoch >= config.epochs:
            self._end_phase("epochs")

    def trace(self, step: int) -> dict:
        for record in self.traces:
            if record["step"] == step:
                return record
        kept = f"{self.traces[0]['step']}–{self.traces[-1]['step']}" if self.traces else "none yet"
        raise BadRequest(f"step: expected a step taken and kept ({kept}), got {step}", 404)

    def explain(self, step: int, parameter: str) -> str:
        record = self.trace(step)
        try:
            document = explain_step(record["_trace"], self.spec.name, parameter)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return document_html(document, with_diagram=False)

    # ---- training: the spec's run, a few epochs a call -------------------------------------------------------
    def train(self, epochs: int, more: bool = False, seconds: float | None = None, traced: bool = False) -> dict:
        """Up to ``epochs`` more epochs of the spec's run, exactly as ``chainrule train`` runs them: its
        epochs, stopping rules, validation and phases, the same engine and numbers.  A run that ended goes
        on only with ``more`` (then the last phase, without its stopping rules).  Stops at the call's time
        limit after a whole epoch."""
        if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= self.limits.epochs_per_call:
            raise BadRequest(f"epochs: expected an integer from 1 to {self.limits.epochs_per_call}, got {show(epochs)}")
        if not isinstance(more, bool):
            raise BadRequest(f"more: expected true or false, got {show(more)}")
        limit = self.limits.seconds_per_call
        if seconds is not None:
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0.01 <= seconds <= limit:
                raise BadRequest(f"seconds: expected a number from 0.01 to {limit:g}, got {show(seconds)}")
            limit = float(seconds)
        deadline = time.monotonic() + limit
        self.partial = None            # steps inside an unfinished epoch stay as edits of the weights
        losses: list = []
        tests: list = []
        while len(losses) < epochs and (self.finished is None or more):
            config = self.config()
            left = config.epochs - self.phase_epoch() if self.finished is None else epochs
            if left <= 0:
                self._end_phase("epochs")
                continue
            if not traced and time.monotonic() > deadline:
                break
            budget = max(deadline - time.monotonic(), 0.0)
            n = min(epochs - len(losses), left, max(1, int(0.5 * budget / self.seconds_per_epoch)))
            started = time.perf_counter()
            history, test = self._fit(config.replace(epochs=n))
            self.seconds_per_epoch = max((time.perf_counter() - started) / max(history.epochs_run, 1), 1e-6)
            losses += history.loss_history
            tests += test
            self.updates += history.steps_run
            if self.finished is not None:
                self.beyond += history.epochs_run
            elif history.stopped_because != "epochs" or self.phase_epoch() >= config.epochs:
                self._end_phase(history.stopped_because)
        return {"epochs": len(losses), "loss_history": losses, "test_loss_history": tests,
                "test_loss": self.test_loss(), "stopped": self.finished}

    def _fit(self, config: TrainingConfig) -> tuple[History, list]:
        """One call of ``fit`` going on from the run, with the test loss of every epoch.  Where the run goes
        on after it, the parameters are those of its last epoch (fit puts early stopping's best back at the
        end of every call; an unbroken run has them only at its end)."""
        before = self._saved()
        tests: list = []
        last = self.phase_epoch() + config.epochs
        latest: list = []

        def each_epoch(epoch, loss):
            if self.x_test is not None and self.t_test is not None and len(self.x_test):
                tests.append(self.network.dataset_loss(self.x_test, self.t_test, config.reduction))
            if epoch == last and config.validation_fraction:
                latest[:] = [p.copy() for p in self.network.parameters()]

        try:
            history = fit(self.network, self.x, self.t, config, callback=each_epoch, resume=self.network.run)
        except TrainingDiverged as exc:     # the weights go back to where this call began: the session goes on
            self._restore(before)
            raise BadRequest(f"{exc} The weights are as they were before this call.") from None
        ended = history.stopped_because != "epochs" or self.phase_epoch() >= self.phases[self.phase].training.epochs
        if latest and not (ended and self.finished is None):
            for p, value in zip(self.network.parameters(), latest):
                p[...] = value
        self._record(history.loss_history, tests)
        return history, tests

    def _record(self, losses: list, tests: list) -> None:
        self.epochs += len(losses)
        self.loss_history.extend(losses)
        self.test_loss_history.extend(tests)

    def _end_phase(self, reason: str) -> None:
        """The phase being trained has ended: the next one starts (a new run from these weights, as
        ``chainrule train`` runs phases), or the spec's run has ended."""
        self.ended.append({"name": self.phases[self.phase].name, "epochs_run": self.phase_epoch(),
                           "stopped_because": reason})
        if self.phase + 1 < len(self.phases):
            self.phase += 1
            self.network.run = None
            self.phase_starts.append(self.epochs)
        else:
            self.finished = reason

    def reset(self) -> None:
        """Back to the spec's starting weights and the run's start."""
        self.network = self.spec.build_network()
        self._begin()

    def _saved(self):
        """The weights and the run (optimiser state, history), to go back to when a step or a call diverges."""
        return ([p.copy() for p in self.network.parameters()], copy.deepcopy(self.network.run),
                {k: copy.copy(v) for k, v in vars(self).items() if k in _COUNTERS})

    def _restore(self, saved) -> None:
        parameters, run, counters = saved
        for p, value in zip(self.network.parameters(), parameters):
            p[...] = value
        self.network.run = run
        for k, v in counters.items():
            setattr(self, k, v)
        self.partial = None

    def _finite(self) -> bool:
        return all(np.isfinite(p).all() for p in self.network.parameters())

    def set_parameters(self, values) -> None:
        """Set parameters by label: every label and value is checked before any is set (all or none)."""
        labels = self.network.labels
        if not isinstance(values, dict) or not 1 <= len(values) <= len(labels):
            raise BadRequest(f"values: expected an object of 1 to {len(labels)} parameter label → number, "
                             f"got {show(values)}")
        for label, value in values.items():
            if not isinstance(label, str) or label not in labels:
                raise BadRequest(f"label: expected one of {labels.summary()}, got {show(label)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or abs(value) > 1e6:
                raise BadRequest(f"{label}: expected a finite number of magnitude ≤ 1e6, got {show(value)}")
        for label, value in values.items():     # the run goes on: the next step starts from the new values
            labels[label].set(self.network, value)
        self.partial = None

    # ---- the plane: decision boundary, fitted curve or surface, each neuron's output ------------------------
    def check_resolution(self, resolution) -> None:
        if not isinstance(resolution, int) or isinstance(resolution, bool) or not 4 <= resolution <= self.limits.resolution:
            raise BadRequest(f"resolution: expected an integer from 4 to {self.limits.resolution}, got {show(resolution)}")

    def check_view(self, view: dict) -> None:
        """What a train call is to send back ({"boundary": r, "heatmaps": r}), checked before it trains."""
        for name, resolution in view.items():
            self.check_resolution(resolution)
            if self.plot_kind() is None or (name == "heatmaps" and self.plot_kind() not in ("classes", "surface")):
                raise BadRequest(f"view.{name}: expected a network whose data has "
                                 f"{'2 inputs' if name == 'heatmaps' else '1 or 2 inputs'}, got {self.network.inputs}")

    def _grid(self, resolution: int):
        self.check_resolution(resolution)
        assert self.raw is not None
        raw = self.raw if self.raw_test is None or not len(self.raw_test) else np.vstack([self.raw, self.raw_test])
        low, high = raw.min(axis=0), raw.max(axis=0)
        pad = np.maximum(0.1 * (high - low), 0.1)
        axes = [np.linspace(lo, hi, resolution) for lo, hi in zip(low - pad, high + pad)]
        if len(axes) == 1:
            grid = axes[0][:, None]
        else:
            grid = np.array([[a, b] for b in axes[1] for a in axes[0]])
        inputs = grid if self.feature_names is None else features(grid, self.feature_names)
        return axes, grid, inputs

    def boundary(self, resolution: int) -> dict:
        """The output over the inputs' plane (2 inputs: a grid, row by row from the lowest x2) or line
        (1 input), with the training and test points."""
        self.check_resolution(resolution)
        if self.plot_kind() is None:
            raise BadRequest("boundary: expected a network whose data has 1 or 2 inputs (before features), "
                             f"got {self.network.inputs} inputs")
        axes, _, inputs = self._grid(resolution)
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.network.predict(inputs)
        if out.shape[1] == 1 or self.plot_kind() != "classes":
            value = out[:, -1]
        elif out.shape[1] == 2:
            value = out[:, 1]
        else:
            value = out.argmax(axis=1) / (out.shape[1] - 1)
        assert self.raw is not None
        result = {"kind": self.plot_kind(), "x": axes[0].tolist(), "values": _rounded(value),
                  "points": self.raw.tolist(), "labels": self.t[:, -1].tolist(),
                  "test_points": [] if self.raw_test is None else self.raw_test.tolist(),
                  "test_labels": [] if self.t_test is None else self.t_test[:, -1].tolist()}
        if len(axes) == 2:
            result["y"] = axes[1].tolist()
            result["values"] = np.asarray(result["values"]).reshape(resolution, resolution).tolist()
        return result

    def heatmaps(self, resolution: int) -> dict:
        """Each neuron's output over the plane of a 2-input data set (Playground's small maps), inputs
        (features) included: {"inputs": [grid], "layers": [[grid per neuron]]}, grids row by row from the
        lowest x2."""
        self.check_resolution(resolution)
        if self.plot_kind() not in ("classes", "surface"):
            raise BadRequest("heatmaps: expected a network whose data has 2 inputs, got "
                             f"{'none' if self.raw is None else self.raw.shape[1]}")
        axes, _, inputs = self._grid(resolution)
        with np.errstate(over="ignore", invalid="ignore"):
            values = self.network.forward(inputs)
        shape = (resolution, resolution)
        return {"x": axes[0].tolist(), "y": axes[1].tolist(),
                "inputs": [np.asarray(_rounded(inputs[:, i])).reshape(shape).tolist() for i in range(inputs.shape[1])],
                "layers": [[np.asarray(_rounded(v.out[:, j])).reshape(shape).tolist() for j in range(v.out.shape[1])]
                           for v in values]}

    # ---- worksheet mode: a learner's numbers for a step, checked as `chainrule check` does --------------------
    def check(self, step: int, claims, sample) -> dict:
        record = self.trace(step)
        trace = record["_trace"]
        if not isinstance(claims, dict) or not 1 <= len(claims) <= 500:
            raise BadRequest(f"claims: expected an object of 1 to 500 claim name → number, got {show(claims)}")
        if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= len(trace.samples):
            raise BadRequest(f"sample: expected an integer from 1 to {len(trace.samples)}, got {show(sample)}")
        if trace.optimizer is not None and any(part for layer in trace.optimizer["before"] for part in layer.values()):
            raise BadRequest("check: expected a step whose optimiser carries no state from earlier steps (plain SGD, "
                             "or the first step of momentum or Adam); check later steps with chainrule check")
        spec = self._step_spec(trace)
        listed = []
        for key, value in claims.items():
            literal = value.strip() if isinstance(value, str) else value
            try:
                number = float(literal) if isinstance(literal, (str, int, float)) and not isinstance(literal, bool) \
                    else math.nan
            except ValueError:
                number = math.nan
            if not isinstance(key, str) or not key or len(key) > 60 or not math.isfinite(number):
                raise BadRequest(f"claims.{show(key)}: expected a number such as 0.3775, got {show(value)}")
            name = parse_name(key)
            kind, _ = kind_of(name)
            if kind is None:
                raise BadRequest(f"claims.{show(key)}: expected a claim name such as net_h1, out_o1, E_total, "
                                 f"delta_h1, dE_dw5, w5_after")
            listed.append(Claim(key, name, 1, sample, str(literal), number, None, "page"))
        try:
            verdicts = Checker(spec, listed).run()
        except ClaimsError as exc:
            raise BadRequest(str(exc).replace("page: ", "claims: ")) from None
        return report_json(verdicts)

    def _step_spec(self, trace):
        """A spec whose first step is ``trace``'s step: the parameters before it, its samples as the data
        (one full batch) and its learning rate."""
        twin = copy.deepcopy(self.network)
        for layer, values in zip(twin.layers, trace.parameters_before):
            layer.weights[...] = values["weights"]
            if layer.bias is not None:
                layer.bias[...] = values["bias"]
        config = self.config()
        training = {key: value for key, value in config.settings().items() if value is not None}
        training.update(learning_rate=trace.learning_rate, schedule="constant", batch="full", epochs=1, shuffle=False,
                        validation_fraction=0.0, frozen=list(trace.frozen))
        training = {k: list(v) if isinstance(v, tuple) else v for k, v in training.items()}
        document = {"name": self.spec.name, "network": network_to_table(twin), "training": training,
                    "data": {"inputs": [s.input for s in trace.samples], "targets": [s.target for s in trace.samples]}}
        try:
            return from_dict(document, "step")
        except SpecError as exc:
            raise BadRequest(str(exc)) from None

    def spec_toml(self) -> str:
        return to_toml(self.spec.name, self.network, self.spec.training, self.x, self.t)


_COUNTERS = ("phase", "ended", "finished", "beyond", "epochs", "updates", "steps_taken", "loss_history",
             "test_loss_history", "phase_starts")


def _rounded(values) -> list:
    """Values sent for drawing: 4 significant digits are plenty for a colour, and keep the answer small."""
    return [float(f"{v:.4g}") if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def to_toml(name: str, network, training, x, t) -> str:
    """The session's set-up as a spec file, with the current weights and the data."""
    table = network_to_table(network)
    lines = [f"name = {_toml_value(name)}", "", "[network]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in table.items() if key != "layers"]
    for layer in table["layers"]:
        lines += ["", "[[network.layers]]", *(f"{key} = {_toml_value(value)}" for key, value in layer.items())]
    lines += ["", "[training]"]
    defaults = TrainingConfig()
    names = [f.name for f in fields(TrainingConfig) if f.name != "options"]
    for name in names + list(training.optimizer_settings):   # every setting; defaults too where usual
        value = getattr(training, name)
        if value is None or (value == getattr(defaults, name, None) and name not in _ALWAYS_WRITTEN):
            continue
        lines.append(f"{name} = {_toml_value(value)}")
    lines += ["", "[data]", f"inputs = {x.tolist()!r}", f"targets = {t.tolist()!r}", ""]
    return "\n".join(lines)


_ALWAYS_WRITTEN = ("learning_rate", "batch", "reduction", "epochs")


def _toml_value(value) -> str:
    """A setting as TOML: true/false, a quoted string, a list of strings (frozen labels), or a number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)        # a TOML basic string: quotes and backslashes escaped
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


class Store:
    """Sessions by unguessable id; idle ones expire; at most ``limits.sessions`` at once."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()

    def create(self, body) -> tuple[str, Session]:
        document = self.document_from(body)
        session = Session(document, self.limits)
        with self.lock:
            self.expire()
            if len(self.sessions) >= self.limits.sessions:
                raise BadRequest(f"sessions: at most {self.limits.sessions} at once; try again later", 429)
            key = secrets.token_urlsafe(12)
            self.sessions[key] = session
        return key, session

    def document_from(self, body) -> dict:
        if not isinstance(body, dict):
            raise BadRequest("body: expected a JSON object with example, spec or spec_toml", 400)
        if "example" in body:
            name = body["example"]
            if name not in examples.names():
                raise BadRequest(f"example: expected one of {', '.join(examples.names())}, got {show(name)}")
            import tomllib
            return tomllib.loads(examples.path(name).read_text(encoding="utf-8"))
        if "spec_toml" in body:
            text = body["spec_toml"]
            if not isinstance(text, str):
                raise BadRequest("spec_toml: expected the text of a spec file")
            try:
                document = files.toml_document(text, "spec_toml")
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
            return check_document(document, self.limits)
        if "spec" in body:
            return check_document(body["spec"], self.limits)
        raise BadRequest("body: expected one of the keys example, spec, spec_toml", 400)

    def get(self, key: str) -> Session:
        with self.lock:
            session = self.sessions.get(key)
            if session is None:
                raise BadRequest(f"session: expected the id of a live session, got {key[:40]!r} "
                                 f"(unknown or expired)", 404)
            session.touched = time.monotonic()
            return session

    def live(self) -> int:
        """How many sessions are held, the idle ones dropped first."""
        with self.lock:
            self.expire()
            return len(self.sessions)

    def expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self.sessions.items() if now - s.touched > self.limits.idle_seconds]:
            del self.sessions[key]
