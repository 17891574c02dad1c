"""The TOML network spec: load, validate every key with a clear message, build.

A spec file says everything about a run: the network (layers, weights or their
initialiser, biases, loss), the training (learning rate, batching, reduction,
epochs, frozen parameters, stopping rules) and the data.  Every mistake is
reported as ``file:line: key: expected …, got …`` (line where it can be found).
Layers are counted from 1 in keys: ``network.layers[2].weights``.
"""

from __future__ import annotations

import copy
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..core import activations, build, init, losses, optim
from ..core import files
from . import examples
from ..training import train
from ..datasets.tabular import numbers, read_rows, read_text
from ..core.layers import BIAS_MODES, check_size
from ..core.network import WEIGHT_LABELS, BaseNetwork
from ..core.settings import ConfigError, Described, show
from ..training.train import TrainingConfig, validation_split


class SpecError(ValueError):
    """A spec (or model) file that cannot be used, with file, line and key."""


MAX_NAME = 200            # characters in a spec's or a phase's name


def one_line_name(text) -> bool:
    """A name as specs and model files hold it: a string of one line, printable, at most MAX_NAME characters."""
    return isinstance(text, str) and len(text) <= MAX_NAME and not any(
        unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text)
_TOP = {"name", "description", "network", "training", "data"}
_NETWORK = {"inputs", "loss", "weight_labels", "layers", "dtype", "input_names"}
_LAYER = {"units", "activation", "weights", "init", "bias", "bias_mode", "names", *activations.ALL_SETTINGS}
_TRAINING = set(train.SETTINGS) | set(optim.ALL_SETTINGS)
_PHASE = _TRAINING | {"name", "train_only"}
_DATA = {"inputs", "targets", "csv", "target_columns", "header", "delimiter", "dataset", "idx", "limit"}
DATASETS = ("mnist",)


class _Validator:
    """Checks values against expectations and reports them with file, line and key."""

    def __init__(self, source_name: str, text: str | None):
        self.source_name = source_name
        self.lines = text.splitlines() if text else []

    # where a key is written in the file (best effort, for the message)
    def line_of(self, key: str) -> Optional[int]:
        if not self.lines:
            return None
        parts = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\[\d+\]", key)
        table, n_layer, leaf = None, None, None
        names = [p for p in parts if not p.startswith("[")]
        if names and names[0] in ("network", "training", "data"):
            table = names[0]
            if len(names) > 1 and names[1] == "layers" and any(p.startswith("[") for p in parts):
                n_layer = int(next(p for p in parts if p.startswith("["))[1:-1])
                leaf = names[2] if len(names) > 2 else None
            else:
                leaf = names[1] if len(names) > 1 else None
        else:
            leaf = names[0] if names else None
        header = None
        start = 0
        if n_layer is not None:
            seen = 0
            for number, line in enumerate(self.lines):
                if re.match(r"\s*\[\[\s*network\.layers\s*\]\]", line):
                    seen += 1
                    if seen == n_layer:
                        header, start = number, number + 1
                        break
            if header is None:
                return None
        elif table:
            for number, line in enumerate(self.lines):
                if re.match(rf"\s*\[\s*{table}\s*\]", line):
                    header, start = number, number + 1
                    break
        if leaf is None:
            return None if header is None else header + 1
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if re.match(r"\s*\[\[?\s*[A-Za-z_]", line):  # the next table header
                break
            if re.match(rf"\s*{leaf}\s*=", line):
                return number + 1
        if table and header is None:  # dotted keys at top level, e.g. training.learning_rate = …
            for number, line in enumerate(self.lines):
                if re.match(rf"\s*{table}\.{leaf}\s*=", line):
                    return number + 1
        return None if header is None else header + 1

    def error(self, key: str, message: str) -> SpecError:
        line = self.line_of(key)
        where = f"{self.source_name}:{line}" if line else self.source_name
        return SpecError(f"{where}: {key}: {message}")

    def config(self, exc: ConfigError, prefix: str) -> SpecError:
        """A library ConfigError at its key inside ``prefix`` (network.layers[2] → network.layers[2].slope)."""
        key = exc.under(prefix).key
        return self.error(key, exc.message(""))

    def fail(self, key: str, expected: str, got: Any) -> SpecError:
        return self.error(key, f"expected {expected}, got {show(got)}")

    # typed getters -------------------------------------------------------------
    def table(self, value, key: str, allowed: set) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        for name in value:
            if name not in allowed:
                prefix = f"{key}." if key else ""
                shown = name if isinstance(name, str) and name.isprintable() and len(name) <= 60 else show(name)[:60]
                raise self.error(f"{prefix}{shown}", f"unknown key; expected one of {', '.join(sorted(allowed))}")
        return value

    def number(self, value, key: str, *, minimum=None, positive=False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number", value)
        if not math.isfinite(value):
            raise self.fail(key, "a finite number", value)
        if positive and value <= 0:
            raise self.fail(key, "a number > 0", value)
        if minimum is not None and value < minimum:
            raise self.fail(key, f"a number ≥ {minimum:g}", value)
        return float(value)

    def integer(self, value, key: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"an integer ≥ {minimum}", value)
        return value

    def choice(self, value, key: str, options) -> str:
        if value not in options:
            raise self.fail(key, "one of " + ", ".join(repr(o) for o in options), value)
        return value

    def string(self, value, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, "a string", value)
        return value

    def title(self, value, key: str) -> str:
        """A one-line name (titles, file names, download headers): printable, at most MAX_NAME characters."""
        text = self.string(value, key)
        if not one_line_name(text):
            raise self.fail(key, f"one line of at most {MAX_NAME} printable characters", value)
        return text

    def array(self, value: np.ndarray, key: str, shape: tuple, what: str, dtype: str | None = None) -> np.ndarray:
        """An array (read from an .npz model) of ``shape``, in a float dtype (``dtype`` when given), all finite."""
        got = Described(f"a {value.dtype} array of shape {value.shape}")
        if value.dtype.kind != "f":
            raise self.fail(key, "floating-point numbers (float32 or float64)", got)
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise self.fail(key, f"{dtype} numbers (network.dtype is {dtype})", got)
        if value.shape != tuple(shape):
            raise self.fail(key, f"shape {tuple(shape)} ({what})", got)
        bad = np.argwhere(~np.isfinite(value))
        if bad.size:
            names = ("row", "column") if value.ndim == 2 else ("item",)
            where = "".join(f" {name} {i + 1}" for name, i in zip(names, bad[0]))
            raise self.fail(key + where, "a finite number", value[tuple(bad[0])].item())
        return value

    def matrix(self, value, key: str, rows: Optional[int], cols: int, what: str,
               dtype: str | None = None) -> np.ndarray:
        """A list of ``rows`` lists of ``cols`` finite numbers (a flat list when cols == 1),
        or an array of that shape in a float dtype (``dtype`` when given)."""
        if isinstance(value, np.ndarray) and rows is not None:
            return self.array(value, key, (rows, cols), what, dtype)
        if not isinstance(value, list):
            raise self.fail(key, f"a list of rows ({what})", value)
        if cols == 1 and all(not isinstance(v, list) for v in value):
            value = [[v] for v in value]
        if rows is not None and len(value) != rows:
            raise self.fail(key, f"{rows} rows ({what}) of {cols} numbers", Described(f"{len(value)} rows"))
        if not value:
            raise self.fail(key, f"at least one row ({what})", value)
        for r, row in enumerate(value, start=1):
            if not isinstance(row, list):
                raise self.fail(f"{key} row {r}", f"a list of {cols} numbers", row)
            if len(row) != cols:
                raise self.fail(f"{key} row {r}", f"{cols} numbers ({what})", Described(f"{len(row)} numbers: {show(row)}"))
            for c, item in enumerate(row, start=1):
                self.number(item, f"{key} row {r} column {c}")
        return np.array(value, dtype=np.float64)


@dataclass(frozen=True)
class Phase:
    """One phase of a run in phases ([[training.phases]]): its name and its whole training settings."""

    name: str
    training: TrainingConfig

    def summary(self) -> str:
        c = self.training
        trained = "all parameters" if not c.frozen else f"{len(c.frozen)} frozen ({', '.join(c.frozen)})"
        return f"{self.name}: {trained}, η = {c.learning_rate:g}, up to {c.epochs} epochs"


@dataclass
class Spec:
    """A validated spec: build a fresh network from it as often as needed."""

    name: str
    description: str
    network_table: dict
    training: TrainingConfig
    inputs: Optional[np.ndarray]
    targets: Optional[np.ndarray]
    source: str
    _validator: _Validator
    test_inputs: Optional[np.ndarray] = None      # a data set's own test split (data.dataset)
    test_targets: Optional[np.ndarray] = None
    data: Optional[dict] = None                   # the [data] table, its paths made absolute (a saved run's data)
    parameters: dict = field(default_factory=dict)   # label → value, set over the drawn or written ones
    changed: tuple = ()                           # what overridden() changed: ("learning_rate = 0.1", "w1 = 0.2", …)
    phases: tuple = ()                            # Phase each, run in turn; training is then the first one's

    _built: Optional[BaseNetwork] = field(default=None, repr=False, compare=False)   # see build_network

    def build_network(self, dtype=None) -> BaseNetwork:
        """A fresh network, in ``dtype`` or the spec's network.dtype (float64 by default).  The first call
        takes the network built when the spec was checked (and passed on by ``overridden``), so that a
        command builds its network once; later calls build anew."""
        network, self._built = self._built, None
        if network is None or (dtype is not None and np.dtype(dtype) != network.dtype):
            network = self._build(dtype)
        return network

    @property
    def widths(self) -> tuple[int, int]:
        """(inputs, outputs) of its network, as its table says."""
        return self.network_table["inputs"], self.network_table["layers"][-1]["units"]

    def _build(self, dtype=None) -> BaseNetwork:
        try:
            network = build.network(self.network_table, self.training.seed, dtype)
        except ConfigError as exc:
            raise self._validator.config(exc, "network") from None
        for label, value in self.parameters.items():
            network.labels[label].set(network, value)
        return network

    def _held(self) -> BaseNetwork:
        """The network built when the spec was checked (built now if none is held): shapes, labels, loss."""
        if self._built is None:
            self._built = self._build()
        return self._built

    def overridden(self, training: dict | None = None, parameters: dict | None = None, inputs=None, targets=None,
                   train_only=None, dtype: str | None = None) -> "Spec":
        """A copy with some of it changed — what the command line's overrides do: ``training`` settings
        (checked as TrainingConfig checks them), ``parameters`` by label ({"w1": 0.2}), the data's
        ``inputs``/``targets`` (rows as the network takes them), ``train_only`` (labels: every other
        parameter frozen) and the network's ``dtype``. Each mistake is a ConfigError naming its key."""
        if not (training or parameters or train_only is not None or dtype is not None or inputs is not None
                or targets is not None):
            # nothing changed: no network to build to check a change against; a network held moves to the copy
            spec, self._built = copy.copy(self), None
            return spec
        training, parameters = dict(training or {}), dict(parameters or {})
        changed = [*self.changed, *(f"{key} = {show(value)}" for key, value in training.items())]
        network_table = dict(self.network_table)
        if dtype is not None:
            if dtype not in ("float32", "float64"):
                raise ConfigError("dtype", "float32 or float64", dtype)
            network_table["dtype"] = dtype
            changed.append(f"dtype = {dtype}")
        network = self._held()
        labels = network.labels
        for label, value in parameters.items():
            if label not in labels:
                raise ConfigError("set", f"labels of this network's parameters ({labels.summary()})", label)
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ConfigError("set", "a finite number for " + label, value)
            changed.append(f"{label} = {show(value)}")
        if train_only is not None:
            training["frozen"] = network.frozen_except(train_only)
            changed.append(f"trained: {', '.join(train_only)} only")
        if "frozen" in training and len(self.phases) > 1:
            # each phase says what it trains: one set for all would silently replace every phase's own
            raise ConfigError("train_only" if train_only is not None else "frozen",
                              "a spec without phases (each phase of [[training.phases]] says what it trains: "
                              "change it there)", Described(f"a spec of {len(self.phases)} phases"))
        config = self.training.replace(**training)
        network.trainable_masks(config.frozen)          # a label that is not the network's: named here
        phases = tuple(Phase(p.name, p.training.replace(**training)) for p in self.phases)
        spec = replace(self, network_table=network_table, training=config, parameters={**self.parameters,
                       **parameters}, changed=tuple(changed), phases=phases, _built=None)
        if dtype is None and config.seed == self.training.seed:      # the same weights: the network goes on
            self._built, spec._built = None, network
            for label, value in parameters.items():
                network.labels[label].set(network, value)
        for key, rows, width in (("inputs", inputs, network.inputs), ("targets", targets, network.outputs)):
            if rows is None:
                continue
            rows = np.asarray(rows, dtype=np.float64)
            if rows.ndim != 2 or rows.shape[1] != width or not np.isfinite(rows).all():
                raise ConfigError(key, f"rows of {width} finite numbers (the network's {key})",
                                  Described(f"shape {rows.shape}"))
            if key == "targets":
                network.loss.check_targets(rows, "targets")     # named as the flag that gave them
            setattr(spec, key, rows)
            changed.append(f"{key} = {rows.tolist()}")
        n_inputs, n_targets = (None if a is None else len(a) for a in (spec.inputs, spec.targets))
        if n_inputs != n_targets:
            raise ConfigError("targets", f"as many rows as the inputs ({n_inputs or 0})", Described(
                "none" if n_targets is None else f"{n_targets} row{'s' * (n_targets != 1)}"))
        if n_inputs and config.validation_fraction:
            validation_split(n_inputs, config)      # a split leaving no rows on a side: refused before any work
        spec.changed = tuple(changed)
        return spec

    def require_data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.inputs is None or self.targets is None:
            raise SpecError(f"{self.source}: data: expected a [data] table with inputs and targets, got none")
        return self.inputs, self.targets


def _layer_key(number: int, name: str = "") -> str:
    return f"network.layers[{number}]" + (f".{name}" if name else "")


def _check_network(table, v: _Validator) -> dict:
    net = v.table(table, "network", _NETWORK)
    if "inputs" not in net:
        raise v.error("network.inputs", "missing; expected the number of input features")
    v.integer(net["inputs"], "network.inputs", 1)
    v.choice(net.get("loss", "half_sse"), "network.loss", losses.NAMES)
    v.choice(net.get("weight_labels", "row"), "network.weight_labels", WEIGHT_LABELS)
    dtype = v.choice(net.get("dtype", "float64"), "network.dtype", ("float64", "float32"))
    layers = net.get("layers")
    if not isinstance(layers, list) or not layers:
        raise v.fail("network.layers", "at least one [[network.layers]] table", layers)
    fan_in = net["inputs"]
    sizes = [fan_in]
    for number, layer in enumerate(layers, start=1):
        key = _layer_key(number)
        v.table(layer, key, _LAYER)
        if "units" not in layer:
            raise v.error(_layer_key(number, "units"), "missing; expected the number of neurons")
        units = v.integer(layer["units"], _layer_key(number, "units"), 1)
        sizes.append(units)
        try:
            check_size(sizes, "network", 4 if dtype == "float32" else 8)     # before any weight is read or drawn
        except ConfigError as exc:
            raise v.config(exc, "") from None
        activation = v.choice(layer.get("activation", "sigmoid"), _layer_key(number, "activation"),
                              activations.NAMES)
        try:
            activations.get_activation(activation, **activations.activation_params(layer))
        except ConfigError as exc:
            raise v.config(exc, _layer_key(number)) from None
        if "weights" in layer and "init" in layer:
            raise v.error(key, "give either weights or init, not both")
        if "weights" in layer:
            v.matrix(layer["weights"], _layer_key(number, "weights"), units, fan_in,
                     f"one row per neuron, {fan_in} weights each = the previous layer's units", dtype)
        if "init" in layer:
            _check_init(layer["init"], _layer_key(number, "init"), v)
        mode = v.choice(layer.get("bias_mode", "per_neuron"), _layer_key(number, "bias_mode"), BIAS_MODES)
        if "bias" in layer:
            _check_bias(layer["bias"], _layer_key(number, "bias"), mode, units, v, dtype)
        fan_in = units
    return net


def _check_init(table, key: str, v: _Validator) -> None:
    """An init table, checked by the initialisers' own rules (init.checked)."""
    v.table(table, key, {"kind", *init.SOURCES, *(p for ps in init.PARAMETERS.values() for p in ps)})
    try:
        init.checked(table)
    except ConfigError as exc:
        raise v.config(exc, key) from None


def _check_bias(value, key: str, mode: str, units: int, v: _Validator, dtype: str | None = None) -> None:
    if isinstance(value, np.ndarray):       # from an .npz model: one number (shared) or one per neuron
        shape = () if mode == "shared" else (units,)
        v.array(value, key, shape if mode != "none" else value.shape,
                "one number" if mode == "shared" else "one number per neuron", dtype)
    elif isinstance(value, list):
        if mode == "shared":
            raise v.fail(key, "one number (bias_mode is shared)", value)
        if len(value) != units:
            raise v.fail(key, f"a number or a list of {units} numbers (one per neuron)",
                         Described(f"{len(value)} numbers"))
        for j, item in enumerate(value, start=1):
            v.number(item, f"{key} item {j}")
    else:
        v.number(value, key)
    if mode == "none" and np.any(np.asarray(value, dtype=float) != 0):
        raise v.fail(key, "no bias (bias_mode is none)", value)


def _check_training(table, v: _Validator) -> TrainingConfig:
    """The [training] table, checked by TrainingConfig and the optimiser it names (one place for each rule)."""
    settings = dict(v.table(table, "training", _TRAINING | {"phases"}))
    settings.pop("phases", None)
    try:
        return TrainingConfig(**settings)
    except ConfigError as exc:
        raise v.config(exc, "training") from None


def _check_phases(table, base: TrainingConfig, network: BaseNetwork, v: _Validator) -> tuple:
    """[[training.phases]]: each phase the [training] settings with its own changed (learning rate,
    epochs, stopping rule, trainable set: ``frozen``, or ``train_only`` = every other label frozen)."""
    phases = table.get("phases") if isinstance(table, dict) else None
    if phases is None:
        return ()
    if not (isinstance(phases, list) and phases and all(isinstance(p, dict) for p in phases)):
        raise v.fail("training.phases", "a list of tables ([[training.phases]]), one per phase", phases)
    found = []
    for k, phase in enumerate(phases, start=1):
        key = f"training.phases[{k}]"
        settings = dict(v.table(phase, key, _PHASE))
        name = v.title(settings.pop("name", f"phase {k}"), f"{key}.name")
        if "train_only" in settings and "frozen" in settings:
            raise v.error(f"{key}.train_only", "give either frozen or train_only, not both")
        try:
            if "train_only" in settings:
                settings["frozen"] = network.frozen_except(settings.pop("train_only"))
            config = base.replace(**settings)
            network.trainable_masks(config.frozen)
        except ConfigError as exc:
            raise v.config(exc, key) from None
        found.append(Phase(name, config))
    return tuple(found)


def _load_dataset(d: dict, v: _Validator, n_in: int, n_out: int, base: Path, dtype):
    """(x, t, x_test, t_test) of MNIST from the local cache (``chainrule data mnist``, data.dataset = "mnist"), or
    of the IDX files in a directory (data.idx, relative to the spec file: Fashion-MNIST and the like),
    in the network's dtype (pixels scaled in it, as fit would use them)."""
    if "dataset" in d and "idx" in d:
        raise v.error("data.idx", "give either data.dataset or data.idx, not both")
    key = "data.dataset" if "dataset" in d else "data.idx"
    for name in ("inputs", "targets", "csv"):
        if name in d:
            raise v.error(f"data.{name}", f"give either {key} or your own data, not both")
    limit = v.integer(d["limit"], "data.limit", 1) if "limit" in d else None
    from ..datasets import load_idx_directory, load_mnist, one_hot
    if "dataset" in d:
        v.choice(d["dataset"], "data.dataset", DATASETS)
    else:
        directory = base / v.string(d["idx"], "data.idx")
        if not directory.is_dir():
            raise v.error(key, f"expected a directory of IDX files, got {str(directory)!r}, which is not one")
    try:
        if "dataset" in d:
            x, y, x_test, y_test = load_mnist(dtype=dtype)
        else:
            x, y, x_test, y_test = load_idx_directory(directory, dtype=dtype)
    except ValueError as exc:
        raise v.error(key, str(exc)) from None
    classes = int(max(y.max(), y_test.max())) + 1
    if (n_in, n_out) != (x.shape[1], classes):
        raise v.error(key, f"expected network.inputs = {x.shape[1]} (pixels per image) and {classes} output units "
                           f"(classes), got {n_in} and {n_out}")
    x, y = x[:limit], y[:limit]
    return x, one_hot(y, classes, dtype), x_test, one_hot(y_test, classes, dtype)


def _check_data(table, v: _Validator, n_in: int, n_out: int, base: Path, dtype=np.float64) -> tuple:
    d = v.table(table, "data", _DATA)
    if "dataset" in d or "idx" in d:
        return _load_dataset(d, v, n_in, n_out, base, dtype)
    if "limit" in d:
        raise v.error("data.limit", "applies only with data.dataset or data.idx")
    if "csv" in d:
        for name in ("inputs", "targets"):
            if name in d:
                raise v.error(f"data.{name}", "give either csv or inputs/targets, not both")
        return _read_csv(d, v, n_in, n_out, base)
    for name in ("target_columns", "header", "delimiter"):
        if name in d:
            raise v.error(f"data.{name}", "applies only with data.csv")
    for name in ("inputs", "targets"):
        if name not in d:
            raise v.error(f"data.{name}", "missing; expected a list of rows (or data.csv)")
    x = v.matrix(d["inputs"], "data.inputs", None, n_in, f"{n_in} inputs per sample = network.inputs")
    t = v.matrix(d["targets"], "data.targets", len(x), n_out,
                 f"one per input row, {n_out} targets each = the output layer's units")
    return x, t


def _read_csv(d: dict, v: _Validator, n_in: int, n_out: int, base: Path) -> tuple[np.ndarray, np.ndarray]:
    path = base / v.string(d["csv"], "data.csv")
    delimiter = v.string(d.get("delimiter", ","), "data.delimiter")
    if len(delimiter) != 1:
        raise v.fail("data.delimiter", "one character", delimiter)
    try:
        text = read_text(path)
    except ValueError as exc:
        raise v.error("data.csv", str(exc)) from None
    header = d.get("header")
    if header is not None and not isinstance(header, bool):
        raise v.fail("data.header", "true or false", header)
    try:
        names, body = read_rows(text, delimiter, header, str(path))
    except ValueError as exc:
        raise v.error("data.csv", str(exc)) from None
    first = names if names is not None else (body[0][1] if body else None)
    if first is None:
        raise v.error("data.csv", f"{path}: expected rows of numbers, got an empty file")
    names = names or []
    width = len(first)
    columns = d.get("target_columns", [width - 1])
    if not isinstance(columns, list) or not columns:
        raise v.fail("data.target_columns", "a list of column names or 0-based indices", columns)
    target_idx = []
    for c in columns:
        if isinstance(c, str):
            if c not in names:
                raise v.fail("data.target_columns", f"column names from the header {names}", c)
            target_idx.append(names.index(c))
        elif isinstance(c, int) and not isinstance(c, bool) and 0 <= c < width:
            target_idx.append(c)
        else:
            raise v.fail("data.target_columns", f"a column name or an index 0..{width - 1}", c)
    input_idx = [i for i in range(width) if i not in target_idx]
    if len(input_idx) != n_in or len(target_idx) != n_out:
        raise v.error("data.csv", f"{path.name}: expected {n_in} input and {n_out} target columns, "
                                  f"got {len(input_idx)} and {len(target_idx)}")
    if not body:
        raise v.error("data.csv", f"{path}: expected at least one data row, got none")
    try:
        values = numbers(body, str(path), width)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return values[:, input_idx], values[:, target_idx]


def from_dict(document: dict, source_name: str = "<spec>", text: str | None = None,
              base: Path | None = None) -> Spec:
    """Validate a parsed spec document; ``text`` (the file's source) lets errors name lines."""
    v = _Validator(source_name, text)
    v.table(document, "", _TOP)
    if "network" not in document:
        raise v.error("network", "missing; expected a [network] table")
    net = _check_network(document["network"], v)
    training = _check_training(document.get("training", {}), v)
    name = v.title(document.get("name", Path(source_name).stem), "name")
    description = v.string(document.get("description", ""), "description")
    spec = Spec(name, description, net, training, None, None, source_name, v)
    network = spec._held()  # every shape and combination checked here, once: the network the spec then holds
    try:
        network.trainable_masks(training.frozen)
    except ConfigError as exc:
        raise v.config(exc, "training") from None
    spec.phases = _check_phases(document.get("training", {}), training, network, v)
    if spec.phases:
        spec.training = spec.phases[0].training
    if "data" in document:
        data = _check_data(document["data"], v, network.inputs, network.outputs, base or Path("."),
                           network.dtype.type)
        spec.inputs, spec.targets = data[:2]
        if len(data) == 4:
            spec.test_inputs, spec.test_targets = data[2:]
        for targets, key in ((spec.targets, "data.targets"), (spec.test_targets, "data.test targets")):
            if targets is not None:
                try:
                    network.loss.check_targets(np.asarray(targets), key)
                except ConfigError as exc:
                    raise v.config(exc, "") from None
        spec.data = {key: str((base or Path(".")).joinpath(value).resolve()) if key in ("csv", "idx") else value
                     for key, value in document["data"].items()}
    return spec


def loads(text: str, source_name: str = "<spec>", base: Path | None = None) -> Spec:
    try:
        document = files.toml_document(text, source_name)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return from_dict(document, source_name, text, base)


def load(name_or_path: str | Path) -> Spec:
    """A spec from a file path, or a built-in example by name."""
    path = Path(name_or_path)
    if os.path.lexists(path) and not (str(name_or_path) in examples.names() and not path.is_file()):
        try:
            text = files.read_text(path, files.MAX_TEXT, "spec file")
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        return loads(text, str(path), path.parent)
    if str(name_or_path) in examples.names():
        example = examples.path(str(name_or_path))
        return loads(example.read_text(encoding="utf-8"), f"{name_or_path} (built-in)", example.parent)
    raise SpecError(f"{name_or_path}: expected a spec file or a built-in example "
                    f"({', '.join(examples.names())}), got neither")
