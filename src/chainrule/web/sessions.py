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
from dataclasses import dataclass, fields, replace

import numpy as np

from .. import examples, files
from ..datasets import one_hot
from ..datasets.tabular import numbers, read_rows
from ..datasets.toy import GENERATORS, planar
from ..explain import explain_step
from ..explain.derive import MAX_SAMPLES, chains_as_data, parameter_count
from ..explain.html import document_html
from ..serialize import network_to_table
from ..settings import show
from ..spec import SpecError, from_dict
from ..trace import Tracer
from ..train import TrainingConfig, TrainingDiverged, diverged_message, fit


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
    chain_terms: int = 2_000    # parameters × samples in a step beyond which its chains are not sent
                                # (2-4-4-1 on 160 samples sent 5 MB); explain gives one parameter's


class BadRequest(ValueError):
    """A request the API refuses (HTTP 4xx) with a one-line message."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _data_from_generator(table: dict, limits: Limits) -> tuple[list, list, list, list]:
    kind = table.get("generator")
    if kind not in GENERATORS:
        raise BadRequest(f"data.generator: expected one of {', '.join(GENERATORS)}, got {show(kind)}")
    samples, noise = table.get("samples", 200), table.get("noise", 0.0)
    test_fraction, seed = table.get("test_fraction", 0.0), table.get("seed", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or not 4 <= samples <= limits.rows:
        raise BadRequest(f"data.samples: expected an integer from 4 to {limits.rows}, got {show(samples)}")
    if not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise BadRequest(f"data.noise: expected a number from 0 to 1, got {show(noise)}")
    if not isinstance(test_fraction, (int, float)) or not 0 <= test_fraction <= 0.9:
        raise BadRequest(f"data.test_fraction: expected a number from 0 to 0.9, got {show(test_fraction)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise BadRequest(f"data.seed: expected an integer ≥ 0, got {show(seed)}")
    x, labels = planar(kind, samples, float(noise), seed)
    n_test = int(round(samples * test_fraction))
    return x[n_test:].tolist(), labels[n_test:].tolist(), x[:n_test].tolist(), labels[:n_test].tolist()


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
            raise BadRequest(f"spec.data.{key[:40]}: expected one of {', '.join(sorted(WEB_DATA))} "
                             "(the page reads no files; send a CSV's text as data.csv_text)")
    return document


# what a web spec's data may hold: numbers, a generator and its settings, or a CSV's text — never a path
WEB_DATA = {"inputs", "targets", "generator", "samples", "noise", "test_fraction", "seed", "csv_text"}


class Session:
    def __init__(self, document: dict, limits: Limits):
        self.limits = limits
        self.document = document
        self.lock = threading.Lock()
        self.touched = time.monotonic()
        self.x_test = self.t_test = None
        spec_document, (x_test, t_test) = self._spec_document(document)
        try:
            self.spec = from_dict(spec_document, "spec")
        except SpecError as exc:
            raise BadRequest(str(exc)) from None
        self.x, self.t = self.spec.require_data()
        if len(self.x) > limits.rows:
            raise BadRequest(f"spec.data: expected at most {limits.rows} rows, got {len(self.x)}")
        if x_test:
            self.x_test, self.t_test = np.array(x_test, dtype=float), np.array(t_test, dtype=float)
        self.network = self.spec.build_network()
        self.optimizer = self.spec.training.build_optimizer()    # its state carries over steps and calls
        self.traces: list[dict] = []
        self.steps_taken = 0           # traced steps (the step button)
        self.epochs_trained = 0        # epochs run by the train button
        self.updates = 0               # every step, traced or trained: the next step's number is updates + 1
        self.epoch = 0                 # the epoch of the latest step
        self.tracer = self._tracer()
        self.loss_history: list = []
        self.test_loss_history: list = []

    def _spec_document(self, document: dict):
        """The document as the spec validator takes it: generated or uploaded data put in place."""
        doc = {k: v for k, v in document.items() if k != "data"}
        data = dict(document["data"])
        outputs = document["network"]["layers"][-1]["units"]
        x_test: list = []
        t_test: list = []
        if "generator" in data:
            x, labels, x_test, labels_test = _data_from_generator(data, self.limits)
            encode = (lambda ls: one_hot(np.array(ls, dtype=int), outputs).tolist()) if outputs > 1 \
                else (lambda ls: [[float(v)] for v in ls])
            if outputs > 2:
                raise BadRequest(f"spec.network.layers[-1].units: expected 1 or 2 outputs for a 2-D "
                                 f"classification problem, got {outputs}")
            data = {"inputs": x, "targets": encode(labels)}
            t_test = encode(labels_test) if labels_test else []
        elif "csv_text" in data:
            x, t = _data_from_csv(data["csv_text"], outputs, self.limits)
            data = {"inputs": x, "targets": t}
        doc["data"] = data
        return doc, (x_test, t_test)

    # ---- what the page shows -----------------------------------------------------------------------------
    def state(self) -> dict:
        net = self.network
        return {
            "name": self.spec.name,
            "network": network_to_table(net),
            "labels": {label: {"layer": ref.layer, "kind": ref.kind, "index": list(ref.index)}
                       for label, ref in net.labels.items()},
            "parameters": {label: ref.get(net) for label, ref in net.labels.items()},
            "training": {"learning_rate": self.spec.training.learning_rate, "batch": self.spec.training.batch,
                         "reduction": self.spec.training.reduction},
            "samples": len(self.x), "test_samples": 0 if self.x_test is None else len(self.x_test),
            "inputs_2d": net.inputs == 2,
            "steps_taken": self.steps_taken, "epochs_trained": self.epochs_trained,
            "loss": net.dataset_loss(self.x, self.t, self.spec.training.reduction),
            "test_loss": self.test_loss(),
            "loss_history": self.loss_history, "test_loss_history": self.test_loss_history,
            "forward": [{"net": v.net[0].tolist(), "out": v.out[0].tolist()} for v in net.forward(self.x[:1])],
            "first_sample": {"input": self.x[0].tolist(), "target": self.t[0].tolist()},
            "document": self.document,
        }

    def test_loss(self):
        if self.x_test is None or self.t_test is None or not len(self.x_test):
            return None
        return self.network.dataset_loss(self.x_test, self.t_test, self.spec.training.reduction)

    def step(self) -> dict:
        before = self._saved()
        with np.errstate(over="ignore", invalid="ignore"):
            trace = self.tracer.next()
        if not (math.isfinite(trace.loss_after) and self._finite()):
            self._restore(before)
            self.tracer = self._tracer()
            raise BadRequest(diverged_message(f"step {trace.step}", trace.loss_after, trace.learning_rate)
                             + " The step was undone.")
        self.steps_taken += 1
        self.updates, self.epoch = trace.step, trace.epoch
        record = trace.as_dict()
        # every gradient's chain, for steps small enough to send whole (else one at a time: explain)
        terms = parameter_count(trace) * len(trace.samples)
        record["chains"] = chains_as_data(trace) if terms <= self.limits.chain_terms else None
        # a large batch's values stay here (explain reads them); the page is sent the first few samples
        record["samples_in_step"] = len(trace.samples)
        record["samples"] = record["samples"][:MAX_SAMPLES]
        record["_trace"] = trace
        self.traces.append(record)
        if len(self.traces) > self.limits.steps_kept:
            self.traces.pop(0)
        return record

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

    def train(self, epochs: int) -> dict:
        if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= self.limits.epochs_per_call:
            raise BadRequest(f"epochs: expected an integer from 1 to {self.limits.epochs_per_call}, got {show(epochs)}")
        config = replace(self.spec.training, epochs=epochs, seed=self.spec.training.seed + self.epochs_trained,
                         stop_below=None, stop_change_below=None)
        deadline = time.monotonic() + self.limits.seconds_per_call
        done = 0
        before = self._saved()

        def callback(epoch, loss):
            nonlocal done
            done = epoch
            if time.monotonic() > deadline:
                raise _TimeUp

        try:
            # the engine every step of the page runs (traced steps run it too): the same numbers, exactly
            history = fit(self.network, self.x, self.t, config, callback=callback, resume=self.optimizer,
                          engine="reference")
            losses = history.loss_history
        except _TimeUp:        # a call never holds the session longer than seconds_per_call
            losses = self._losses_after_timeout(done)
        except TrainingDiverged as exc:     # the weights go back to where this call began: the session goes on
            self._restore(before)
            self.tracer = self._tracer()
            raise BadRequest(f"{exc} The weights are as they were before this call.") from None
        self.epochs_trained += len(losses)
        self.updates += len(losses) * -(-len(self.x) // config.batch_size(len(self.x)))
        self.epoch += len(losses)
        self.loss_history.extend(losses)
        test = self.test_loss()
        if test is not None:
            self.test_loss_history.extend([test] * len(losses))
        self.tracer = self._tracer()   # steps go on from here
        return {"epochs": len(losses), "loss_history": losses, "test_loss": test}

    def _tracer(self) -> Tracer:
        return Tracer(self.network, self.x, self.t, self.spec.training, self.optimizer,
                      steps_before=self.updates, epochs_before=self.epoch)

    def _saved(self):
        """The weights and the optimiser's state, to go back to when a step or a call diverges."""
        return [(layer.weights.copy(), None if layer.bias is None else layer.bias.copy())
                for layer in self.network.layers], copy.deepcopy(self.optimizer)

    def _restore(self, saved) -> None:
        arrays, optimizer = saved
        for layer, (weights, bias) in zip(self.network.layers, arrays):
            layer.weights[...] = weights
            if layer.bias is not None:
                layer.bias[...] = bias
        self.optimizer = optimizer

    def _finite(self) -> bool:
        return all(np.isfinite(layer.weights).all() and (layer.bias is None or np.isfinite(layer.bias).all())
                   for layer in self.network.layers)

    def _losses_after_timeout(self, done: int) -> list:
        loss = self.network.dataset_loss(self.x, self.t, self.spec.training.reduction)
        return [loss] * max(done, 1)

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
        for label, value in values.items():     # the tracer goes on: the next step starts from the new values
            labels[label].set(self.network, value)

    def boundary(self, resolution: int) -> dict:
        if self.network.inputs != 2:
            raise BadRequest("boundary: expected a network with 2 inputs, got "
                             f"{self.network.inputs}")
        if not isinstance(resolution, int) or not 4 <= resolution <= self.limits.resolution:
            raise BadRequest(f"resolution: expected an integer from 4 to {self.limits.resolution}, got {show(resolution)}")
        points = self.x if self.x_test is None else np.vstack([self.x, self.x_test])
        low, high = points.min(axis=0) - 0.1, points.max(axis=0) + 0.1
        gx, gy = np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
        grid = np.array([[a, b] for b in gy for a in gx])
        out = self.network.predict(grid)
        value = out[:, -1] if out.shape[1] <= 2 else out.argmax(axis=1) / (out.shape[1] - 1)
        return {"x": gx.tolist(), "y": gy.tolist(), "values": value.reshape(resolution, resolution).tolist(),
                "points": self.x.tolist(), "labels": self.t[:, -1].tolist()}

    def spec_toml(self) -> str:
        return to_toml(self.spec.name, self.network, self.spec.training, self.x, self.t)


class _TimeUp(Exception):
    pass


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
