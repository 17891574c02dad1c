"""Tables of numbers: CSV with a header and target columns, one-hot classes, standardisation
fitted on the training rows only, and a seeded train/test split."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def one_hot(labels, classes: int | None = None, dtype=np.float64) -> np.ndarray:
    """Rows of 0/1 with a 1 in each label's column: labels 0…k−1 → (n, k)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise ValueError(f"labels: expected a list of integers ≥ 0, got {labels.dtype} of shape {labels.shape}")
    k = int(labels.max()) + 1 if classes is None else classes
    if labels.size and labels.max() >= k:
        raise ValueError(f"labels: expected values below {k} classes, got {int(labels.max())}")
    out = np.zeros((len(labels), k), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


@dataclass
class Standardizer:
    """x ↦ (x − mean)/std per column, with mean and std of the rows it was fitted on."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x) -> "Standardizer":
        x = np.asarray(x, dtype=float)
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))

    def transform(self, x) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.mean) / self.std


def train_test_split(n_samples: int, test_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices), shuffled by ``seed``."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: expected a number in (0, 1), got {test_fraction!r}")
    n_test = int(round(n_samples * test_fraction))
    if not 1 <= n_test < n_samples:
        raise ValueError(f"test_fraction: expected a split leaving rows on both sides of {n_samples}, got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n_samples)
    return order[n_test:], order[:n_test]


def load_csv(path: str | Path, target: str, classes: bool = True, delimiter: str = ","):
    """(x, t, names): the numeric columns other than ``target`` as inputs; the target one-hot when
    ``classes`` (its distinct values in sorted order are the classes), else as one numeric column."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the CSV file: {exc}") from None
    if len(rows) < 2:
        raise ValueError(f"{path}: expected a header and at least one row, got {len(rows)} lines")
    header = [h.strip() for h in rows[0]]
    if target not in header:
        raise ValueError(f"{path}:1: expected a column named {target!r}, got columns {', '.join(header)}")
    k = header.index(target)
    inputs, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}:{line}: expected {len(header)} values, got {len(row)}")
        values = []
        for name, cell in zip(header, row):
            if name == target:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise ValueError(f"{path}:{line}: column {name}: expected a number, got {cell!r}") from None
        inputs.append(values)
        labels.append(row[k].strip())
    x = np.array(inputs, dtype=float)
    if classes:
        names = sorted(set(labels))
        t = one_hot(np.array([names.index(v) for v in labels]), len(names))
        return x, t, names
    try:
        return x, np.array([[float(v)] for v in labels]), [target]
    except ValueError:
        raise ValueError(f"{path}: column {target}: expected numbers (or classes=True), got {labels[0]!r}") from None
