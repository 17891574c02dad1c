"""Tables of numbers: CSV with a header and target columns, one-hot classes, standardisation
fitted on the training rows only, and a seeded train/test split."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import files
from ..core.data import one_hot
from ..core.settings import show


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


def is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def read_rows(text: str, delimiter: str = ",", header: bool | None = None, source: str = "CSV"):
    """(column names or None, [(line number, cells)]) of CSV text; blank lines are skipped and a
    first row that is not all numbers is taken as the header unless ``header`` says otherwise."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [(n, [c.strip() for c in row]) for n, row in enumerate(reader, start=1) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise ValueError(f"{source}:{reader.line_num}: expected CSV cells, got {exc}") from None
    if header is None:
        header = bool(rows) and not all(is_number(c) for c in rows[0][1])
    return (rows[0][1] if header and rows else None), (rows[1:] if header else rows)


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 CSV file (a byte-order mark dropped), read by files.read_text's bounds;
    ValueError "path: …" otherwise."""
    return files.read_text(path, files.MAX_DATA, "CSV file")


def read_matrix(path: str | Path, width: int) -> np.ndarray:
    """The rows of a CSV file of numbers (a header row skipped), ``width`` in each.  A file that cannot
    be used raises "csv: …"; a bad row raises "file:line: …" (``numbers``)."""
    try:
        text = read_text(path)
    except ValueError as exc:
        raise ValueError(f"csv: {exc}") from None
    _, rows = read_rows(text, source=str(path))
    if not rows:
        raise ValueError(f"csv: expected rows of {width} numbers in {path}, got none")
    return numbers(rows, str(path), width)


def numbers(rows, source: str, width: int | None = None) -> np.ndarray:
    """The rows as a matrix of finite numbers; errors name source:line and the column (from 1)."""
    width = width if width is not None else (len(rows[0][1]) if rows else 0)
    values = np.empty((len(rows), width))
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"{source}:{line}: expected {width} columns, got {len(row)}")
        for c, cell in enumerate(row):
            if not is_number(cell):
                raise ValueError(f"{source}:{line}: column {c + 1}: expected a finite number, got {show(cell)}")
            values[r, c] = float(cell)
    return values


def load_csv(path: str | Path, target: str, classes: bool = True, delimiter: str = ","):
    """(x, t, names): the numeric columns other than ``target`` as inputs; the target one-hot when
    ``classes`` (its distinct values in sorted order are the classes), else as one numeric column."""
    path = Path(path)
    text = read_text(path)
    header, rows = read_rows(text, delimiter, header=True, source=str(path))
    if header is None or not rows:
        raise ValueError(f"{path}: expected a header and at least one row, got {len(rows)} rows")
    if target not in header:
        raise ValueError(f"{path}:1: expected a column named {target!r}, got columns {', '.join(header)}")
    k = header.index(target)
    x = numbers([(line, row[:k] + row[k + 1:]) for line, row in rows], str(path), len(header) - 1)
    labels = [row[k] for _, row in rows]
    if classes:
        names = sorted(set(labels))
        return x, one_hot(np.array([names.index(v) for v in labels]), len(names)), names
    return x, numbers([(line, [row[k]]) for line, row in rows], str(path), 1), [target]
