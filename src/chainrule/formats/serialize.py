"""A model document: the network as its spec form — the ``[network]`` table of a spec file, written by
``core/build.py``'s ``network_to_table``, the one serialisation of a network — and the run beside it.

Reading goes the other way through one validator: ``network_from_document`` checks a model
document's format and version, requires every layer's parameters to be given, and builds the
network with ``spec.from_dict`` — the validator of spec files — so a JSON model and an .npz model
(whose weights and biases are arrays in the archive) are refused for the same mistakes, each
with one line naming the file and the key.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict
from typing import Any

import numpy as np

from .._version import __version__
from ..core.build import network_to_table
from ..core.settings import show
from ..training.run import Run

FORMAT = "chainrule-model"
VERSION = 2          # 2: a run's training settings, history, optimiser state, epoch and RNG state beside the network

# the keys of a model document that hold a run (version 2), beside format, version, chainrule, name, network
RUN_KEYS = ("training", "history", "optimizer", "epoch", "rng", "best", "data")

def model_document(network, name: str = "model", values: bool = True, run: "Run | None" = None) -> dict:
    """A model file's content: format, version, the chainrule that wrote it, name, the network table and,
    for a run that can go on, ``run_to_document``'s training state (without ``values``, the optimiser's
    state arrays are left out too: ``run_arrays`` holds them)."""
    document = {"format": FORMAT, "version": VERSION, "chainrule": __version__, "name": name,
                "network": network_to_table(network, values)}
    if run is not None:
        document.update(run_to_document(run, values))
    return document


def network_arrays(network) -> dict[str, np.ndarray]:
    """The parameters as an .npz holds them: weights_0, bias_0, weights_1, … (absent biases left out)."""
    arrays = {}
    for l, layer in enumerate(network.layers):
        arrays[f"weights_{l}"] = layer.weights
        if layer.bias is not None:
            arrays[f"bias_{l}"] = layer.bias
    return arrays


def network_from_document(document, source: str, arrays: dict[str, np.ndarray] | None = None):
    """The network of a model document, validated like a spec; ``arrays`` (from an .npz) are the
    weights and biases the document's table leaves out.  Raises SpecError: ``source: key: …``."""
    from ..core.settings import Described, show
    from .spec import SpecError, _layer_key, from_dict

    def fail(key: str, message: str) -> SpecError:
        return SpecError(f"{source}: {key}: {message}")

    if not isinstance(document, dict):
        raise fail("format", f"expected a {FORMAT} document (an object), got {type(document).__name__}")
    if document.get("format") != FORMAT:
        raise fail("format", f"expected {FORMAT!r}, got {show(document.get('format'))}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail("version", f"expected an integer from 1 to {VERSION}, got {show(version)}")
    if version > VERSION:
        raise fail("version", f"expected {VERSION} or lower, got {version}: written by a newer chainrule "
                              f"(this one reads model versions up to {VERSION})")
    body = {k: v for k, v in document.items() if k not in ("format", "version", "chainrule", *RUN_KEYS)}
    if "chainrule" in document and not isinstance(document["chainrule"], str):
        raise fail("chainrule", f"expected the version of chainrule that wrote the file, got {show(document['chainrule'])}")
    network = body.get("network")
    layers = network.get("layers") if isinstance(network, dict) else None
    if arrays is not None and isinstance(network, dict) and isinstance(layers, list):
        arrays = dict(arrays)
        body["network"] = network = dict(network, layers=[dict(t) if isinstance(t, dict) else t for t in layers])
        layers = network["layers"]
        for l, table in enumerate(layers):
            if not isinstance(table, dict):
                continue
            for kind in ("weights", "bias"):
                name = f"{kind}_{l}"
                if name in arrays:
                    if kind in table:
                        raise fail(_layer_key(l + 1, kind), f"given twice: in the table and as the array {name}")
                    table[kind] = arrays.pop(name)
        if arrays:
            name = min(arrays)
            raise fail(name, f"unexpected array; expected model and weights_L, bias_L for the "
                             f"{len(layers)} layers, got {Described(name)}")
    if isinstance(layers, list):       # a saved model gives every parameter: nothing initialised at random
        for l, table in enumerate(layers, start=1):
            if not isinstance(table, dict):
                continue
            if "init" in table:
                raise fail(_layer_key(l, "init"), "not in a saved model; expected explicit weights")
            if "activation" not in table:     # a spec's default (sigmoid) would silently stand in for it
                raise fail(_layer_key(l, "activation"), "missing; expected the layer's activation (a saved model "
                                                        "names every layer's)")
            if "weights" not in table:
                where = f" (the array weights_{l - 1})" if arrays is not None else ""
                raise fail(_layer_key(l, "weights"), f"missing; expected the layer's weights{where}")
            if "bias" not in table and table.get("bias_mode", "per_neuron") != "none":
                where = f" (the array bias_{l - 1})" if arrays is not None else ""
                raise fail(_layer_key(l, "bias"), f"missing; expected the layer's bias{where}")
    return from_dict(body, source).build_network()


# ---- a run that can go on (training/run.py): its settings, history, optimiser state, epochs run, RNG ----

def run_to_document(run: Run, values: bool = True) -> dict:
    """The ``training``, ``history``, ``optimizer``, ``epoch`` and ``rng`` keys of a model document."""
    document: dict[str, Any] = {"training": _plain(run.training.settings()), "epoch": run.epoch}
    if run.history is not None:
        document["history"] = _plain(asdict(run.history))
    if run.optimizer is not None:
        optimizer = {"name": run.optimizer.name, "t": run.optimizer.t}
        if values:
            optimizer["state"] = {str(i): {k: v.tolist() for k, v in run.optimizer.state(i).items()}
                                  for i in sorted(run.optimizer.states)}
        document["optimizer"] = optimizer
    if run.rng is not None:
        document["rng"] = _plain(run.rng)
    if run.best is not None and values:
        document["best"] = [p.tolist() for p in run.best]
    if run.data is not None:
        document["data"] = _plain(run.data)
    return document


def run_arrays(run: Run | None) -> dict[str, np.ndarray]:
    """The optimiser's state and the best parameters as arrays of an .npz or .safetensors file:
    state_<parameter>_<name>, best_<parameter>."""
    if run is None:
        return {}
    arrays = {} if run.optimizer is None else {f"state_{i}_{k}": v for i in sorted(run.optimizer.states)
                                               for k, v in run.optimizer.state(i).items()}
    arrays.update({f"best_{i}": p for i, p in enumerate(run.best or ())})
    return arrays


def _plain(value):
    """JSON's kinds only (tuples → lists), exactly: floats through repr, ints of any size."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _count(value, most: int, key: str, fail, what: str = "") -> int:
    """A count read from a file: an integer from 0 to ``most`` (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(key, f"expected an integer ≥ 0{what}, got {show(value)}")
    if value > most:
        raise fail(key, f"expected an integer from 0 to {most:,}{what}, got {show(value)}")
    return value


def run_from_document(document: dict, network, source: str, arrays: dict[str, np.ndarray] | None = None) -> Run | None:
    """The run of a version-2 model document (None when it holds a network alone), every part checked
    against the network: the settings by TrainingConfig, the history's numbers, the optimiser's state
    arrays (shapes of the parameters, float, finite). Raises SpecError: ``source: key: …``."""
    from dataclasses import fields

    from ..core.optim import NAMES, get_optimizer
    from ..core.settings import ConfigError, Described, show
    from .spec import SpecError
    from ..training.train import MAX_EPOCHS, History, TrainingConfig

    def fail(key: str, message: str) -> SpecError:
        return SpecError(f"{source}: {key}: {message}")

    arrays = dict(arrays or {})
    best = _best(document, network, {k: arrays.pop(k) for k in list(arrays) if k.startswith("best_")}, fail)
    if "training" not in document:
        if any(k in document for k in RUN_KEYS) or arrays:
            raise fail("training", "missing; expected the run's training settings beside its history and state")
        return None
    settings = document["training"]
    if not isinstance(settings, dict):
        raise fail("training", f"expected a table of training settings, got {show(settings)}")
    try:
        training = TrainingConfig(**settings)
    except ConfigError as error:
        raise fail(f"training.{error.key}", error.message(""))
    except TypeError as error:
        raise fail("training", f"expected training settings, got {error}")
    epoch = _count(document.get("epoch", 0), MAX_EPOCHS, "epoch", fail)
    history = None
    if document.get("history") is not None:
        table = document["history"]
        known = {f.name for f in fields(History)}
        if not isinstance(table, dict) or not set(table) <= known or "initial_loss" not in table:
            extra = sorted(set(table) - known) if isinstance(table, dict) else []
            raise fail("history", f"expected a table of {', '.join(sorted(known))}, got "
                                  f"{show(extra[0]) if extra else show(table)}")
        for key in ("loss_history", "validation_loss_history"):
            values = table.get(key, [])
            if not isinstance(values, list) or not all(_finite(v) for v in values):
                raise fail(f"history.{key}", f"expected a list of finite numbers, got {show(values)}")
        _check_history(table, epoch, fail)
        history = History(**table)
    optimizer = None
    if document.get("optimizer") is not None:
        table = document["optimizer"]
        if not isinstance(table, dict) or table.get("name") not in NAMES:
            raise fail("optimizer.name", f"expected one of {', '.join(NAMES)}, got "
                                         f"{show(table.get('name') if isinstance(table, dict) else table)}")
        if table["name"] != training.optimizer:
            raise fail("optimizer.name", f"expected {training.optimizer!r} (training.optimizer), got {table['name']!r}")
        t = _count(table.get("t", 0), MAX_STEPS_TAKEN, "optimizer.t", fail, " (steps taken)")
        optimizer = get_optimizer(training.optimizer, training.rate(epoch + 1), **dict(training.options))
        optimizer.t = t
        given = table.get("state", {})
        if not isinstance(given, dict):
            raise fail("optimizer.state", f"expected a table of state per parameter, got {show(given)}")
        for index, state in given.items():
            if not isinstance(state, dict):
                raise fail(f"optimizer.state.{index}", f"expected a table of {', '.join(optimizer.STATE)}, got {show(state)}")
            for name, value in state.items():
                arrays[f"state_{index}_{name}"] = value
        parameters = network.parameters()
        for key in sorted(arrays):
            match = re.fullmatch(r"state_(\d+)_(\w+)", key)
            if not match or int(match.group(1)) >= len(parameters) or match.group(2) not in optimizer.STATE:
                raise fail(key, f"unexpected; expected state_<0…{len(parameters) - 1}>_<{'|'.join(optimizer.STATE)}> "
                                f"for {optimizer.name}, got {Described(key)}")
            index, name = int(match.group(1)), match.group(2)
            p = parameters[index]
            array = _float_array(key, arrays[key], p, fail)
            if array.shape != p.shape:
                raise fail(key, f"expected shape {p.shape} (parameter {index}), got shape {array.shape}")
            if not np.all(np.isfinite(array)):
                raise fail(key, "expected finite numbers, got NaN or infinity")
            optimizer.zeros(index, p)[name] = np.array(array, dtype=p.dtype)
        for index in optimizer.states:
            missing = [k for k in optimizer.STATE if f"state_{index}_{k}" not in arrays]
            if missing:
                raise fail(f"state_{index}_{missing[0]}", f"missing; expected {optimizer.name}'s "
                                                          f"{', '.join(optimizer.STATE)} for parameter {index}")
    elif arrays:
        raise fail(min(arrays), "unexpected; expected no optimiser state without an optimizer table")
    rng = document.get("rng")
    if rng is not None:
        try:
            if not isinstance(rng, dict) or rng.get("bit_generator") != "PCG64":
                raise ValueError("not a PCG64 state")
            generator = np.random.default_rng()
            generator.bit_generator.state = rng
        except (TypeError, ValueError, KeyError, OverflowError, AttributeError) as error:
            raise fail("rng", f"expected numpy's state of a PCG64 generator, got {show(rng)} ({error})") from None
    data = document.get("data")
    if data is not None and not isinstance(data, dict):
        raise fail("data", f"expected the spec's [data] table, got {show(data)}")
    if best is not None and (history is None or history.best_epoch is None):
        raise fail("best", "unexpected; expected best parameters only with a history.best_epoch")
    name = document.get("name")
    return Run(training, history, optimizer, epoch, rng, best, data, name if isinstance(name, str) else "")


MAX_STEPS_TAKEN = 10 ** 15      # an optimiser's step count: far beyond any run, and β**t stays a float
STOPPED = ("epochs", "validation", "loss_below", "loss_change_below", "interrupted", "checkpoint")


def _check_history(table: dict, epoch: int, fail) -> None:
    """Every field of a saved History of a run of ``epoch`` epochs: its type and range, best_epoch an epoch
    whose validation loss was recorded (1 … len(validation_loss_history); 0 is not "the last")."""
    from ..core.settings import show
    from ..training.train import MAX_EPOCHS

    def count(key: str, most: int | None = None) -> None:
        value = table.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (most is not None and value > most):
            bound = f"from 0 to {most:,}" if most is not None else "≥ 0"
            raise fail(f"history.{key}", f"expected an integer {bound}, got {show(value)}")
    count("epochs_run", epoch)
    count("steps_run", MAX_STEPS_TAKEN)
    count("start_epoch", epoch)
    initial = table.get("initial_loss")
    if initial is not None and not _finite(initial):
        raise fail("history.initial_loss", f"expected a finite number (or null), got {show(initial)}")
    for key, default, accepted in (("stopped_because", "epochs", STOPPED), ("engine", "", None)):
        value = table.get(key, default)
        if not isinstance(value, str) or (accepted is not None and value not in accepted):
            expected = f"one of {', '.join(accepted)}" if accepted else "a string"
            raise fail(f"history.{key}", f"expected {expected}, got {show(value)}")
    best = table.get("best_epoch")
    validations = len(table.get("validation_loss_history", []))
    if best is not None and (isinstance(best, bool) or not isinstance(best, int) or not 1 <= best <= validations):
        raise fail("history.best_epoch", f"expected an epoch from 1 to {validations} (one with a validation loss), "
                                         f"or null, got {show(best)}" if validations else
                   f"expected null (no validation loss was recorded), got {show(best)}")
    if len(table.get("loss_history", [])) > MAX_EPOCHS:
        raise fail("history.loss_history", f"expected at most {MAX_EPOCHS:,} losses, got {len(table['loss_history']):,}")


def _float_array(key: str, value, p: np.ndarray, fail) -> np.ndarray:
    """An array shaped like parameter ``p`` as a model file holds it: numbers in JSON lists, or an
    archive's array, whose dtype must be a float one (shape and finiteness are the caller's to check)."""
    from ..core.settings import show
    if isinstance(value, list):
        try:
            return np.array(value, dtype=p.dtype)
        except (TypeError, ValueError):
            raise fail(key, f"expected numbers of shape {p.shape}, got {show(value)}") from None
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise fail(key, f"expected {p.dtype} numbers, got a {array.dtype} array")
    return array


def _best(document: dict, network, arrays: dict, fail) -> list | None:
    """The best parameters of a run: ``best`` (JSON lists) or best_0, best_1, … arrays, shaped as the network's."""
    from ..core.settings import show
    given = document.get("best")
    if given is None and not arrays:
        return None
    parameters = network.parameters()
    if given is not None:
        if arrays or not isinstance(given, list) or len(given) != len(parameters):
            raise fail("best", f"expected {len(parameters)} arrays (one per parameter), got {show(given)}")
        arrays = {f"best_{i}": value for i, value in enumerate(given)}
    best = []
    for i, p in enumerate(parameters):
        key = f"best_{i}"
        if key not in arrays:
            raise fail(key, f"missing; expected the best parameters, one array per parameter ({len(parameters)})")
        array = _float_array(key, arrays.pop(key), p, fail)
        if array.shape != p.shape or not np.all(np.isfinite(array)):
            raise fail(key, f"expected finite numbers of shape {p.shape}, got shape {array.shape}")
        best.append(np.array(array, dtype=p.dtype))
    if arrays:
        raise fail(min(arrays), f"unexpected; expected best_0 … best_{len(parameters) - 1}")
    return best


def _finite(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))          # an int beyond float's range is not a finite float
    except OverflowError:
        return False
