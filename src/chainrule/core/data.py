"""The arrays a user hands in, checked once at every public entry point (``fit``, ``predict``,
``score``, ``explain``, tracing): inputs ``x`` of shape (n, inputs) and targets ``t`` of shape
(n, outputs) — or class labels (n,) that are one-hot encoded here.

Accepted shorthands, and nothing else:

* ``x`` one-dimensional: n samples when the network has one input, else one sample;
* ``t`` one-dimensional: n targets when the network has one output; one target row when there is
  one sample; else n class labels 0 … k−1 of a k-output network (one-hot encoded).

Everything else is refused with ``ConfigError(argument, expected, got)``: the wrong width, a count
of targets that differs from the inputs', no samples, text or complex numbers, NaN or infinity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .settings import ConfigError, Described

Array = np.ndarray


def numbers(values: Any, name: str, dtype) -> Array:
    """``values`` as a float array of ``dtype``, or a ConfigError naming what they were."""
    try:
        array = np.asarray(values)
    except ValueError:          # ragged nested lists
        raise ConfigError(name, "rows of equal length", Described("rows of different lengths")) from None
    if array.dtype.kind not in "biuf":
        what = {"c": "complex numbers", "U": "text", "S": "bytes", "O": "objects (ragged rows or None?)",
                "M": "dates", "m": "time spans"}.get(array.dtype.kind, str(array.dtype))
        raise ConfigError(name, "real numbers", Described(what))
    if array.dtype.kind == "f" and np.dtype(dtype).itemsize < array.dtype.itemsize and array.size:
        finite = np.isfinite(array)
        limit = float(np.finfo(dtype).max)
        beyond = finite & (np.abs(array) > limit)
        if beyond.any():
            bad = array.flat[int(np.flatnonzero(beyond)[0])]
            raise ConfigError(name, f"numbers within {np.dtype(dtype).name}'s range (±{limit:.4g})", Described(f"{bad:g}"))
    with np.errstate(over="ignore", invalid="ignore"):
        array = np.asarray(array, dtype=dtype)
    if array.size and not all_finite(array):
        row = int(np.argwhere(~np.isfinite(array))[0][0]) if array.ndim else 0
        bad = array.flat[int(np.flatnonzero(~np.isfinite(array))[0])]
        raise ConfigError(name, "finite numbers", Described(f"{bad} in row {row}"))
    return array


def all_finite(array: Array) -> bool:
    """Whether every entry of a float array is finite, by one sum where it can: a NaN or ±inf entry makes
    the sum NaN or ±inf, so a finite sum answers yes without an array of flags as large as the data (an MNIST
    training set's is 45 MiB); a sum that overflows is answered entry by entry."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(array)):
            return True
    return bool(np.isfinite(array).all())


def _shape(array: Array) -> Described:
    return Described(f"shape {array.shape}")


def inputs(x: Any, n_inputs: int, dtype=np.float64, name: str = "x") -> Array:
    """Inputs as an (n, n_inputs) array of ``dtype``."""
    array = numbers(x, name, dtype)
    wanted = f"an array of shape (n, {n_inputs}): n samples of the network's {n_inputs} input" + \
        "s" * (n_inputs != 1)
    if array.ndim == 1:
        if n_inputs == 1:
            array = array.reshape(-1, 1)
        elif len(array) == n_inputs:
            array = array.reshape(1, -1)
        else:
            raise ConfigError(name, wanted, Described(f"{len(array)} numbers"))
    if array.ndim != 2:
        hint = " (flatten images first: x.reshape(len(x), -1))" if array.ndim > 2 else ""
        raise ConfigError(name, wanted + hint, _shape(array))
    if array.shape[1] != n_inputs:
        raise ConfigError(name, wanted, _shape(array))
    if len(array) == 0:
        raise ConfigError(name, "at least one sample", _shape(array))
    return array


def targets(t: Any, n_outputs: int, n_samples: int, dtype=np.float64, name: str = "t") -> Array:
    """Targets as an (n_samples, n_outputs) array of ``dtype``; class labels are one-hot encoded (read in
    float64, so that a label is whole in the precision it was given)."""
    raw = numbers(t, name, dtype if isinstance(t, np.ndarray) and t.ndim == 2 else np.float64)
    wanted = f"{n_samples} target row{'s' * (n_samples != 1)} of the network's {n_outputs} output" + \
        "s" * (n_outputs != 1)
    if raw.ndim == 1:
        if n_outputs == 1:
            raw = raw.reshape(-1, 1)
        elif n_samples == 1 and len(raw) == n_outputs:
            raw = raw.reshape(1, -1)
        elif len(raw) == n_samples:
            return one_hot(raw, n_outputs, dtype, name)
        else:
            raise ConfigError(name, f"{wanted}, or {n_samples} class labels", Described(f"{len(raw)} numbers"))
    if raw.ndim != 2 or raw.shape != (n_samples, n_outputs):
        raise ConfigError(name, f"{wanted}: shape ({n_samples}, {n_outputs})", _shape(raw))
    return raw if raw.dtype == dtype else numbers(raw, name, dtype)


def one_hot(labels: Any, classes: int | None = None, dtype=np.float64, name: str = "labels") -> Array:
    """Rows of 0/1 with a 1 in each label's column: labels 0 … classes−1 → (n, classes)
    (``classes`` defaults to the largest label + 1)."""
    labels = numbers(labels, name, np.float64) if np.asarray(labels).dtype.kind not in "iu" else np.asarray(labels)
    if labels.ndim != 1:
        raise ConfigError(name, "one class label per sample (a flat list)", _shape(labels))
    whole = labels.astype(np.int64)
    if classes is None:
        classes = int(whole.max()) + 1 if whole.size else 0
    if labels.dtype.kind == "f" and not np.array_equal(whole, labels):
        k = int(np.flatnonzero(whole != labels)[0])
        raise ConfigError(name, f"class labels: whole numbers 0 … {classes - 1}", Described(f"{labels[k]} in row {k}"))
    outside = np.flatnonzero((whole < 0) | (whole >= classes))
    if len(outside):
        k = int(outside[0])
        raise ConfigError(name, f"class labels 0 … {classes - 1} (one per output)", Described(f"{whole[k]} in row {k}"))
    out = np.zeros((len(whole), classes), dtype=dtype)
    out[np.arange(len(whole)), whole] = 1
    return out


def samples(x: Any, t: Any, n_inputs: int, n_outputs: int, dtype=np.float64, loss=None) -> tuple[Array, Array]:
    """(x, t) checked against each other, the network's sizes and its ``loss``'s domain of targets."""
    xs = inputs(x, n_inputs, dtype)
    ts = targets(t, n_outputs, len(xs), dtype)
    if loss is not None:
        loss.check_targets(ts)
    return xs, ts
