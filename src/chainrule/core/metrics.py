"""Classification accuracy: the share of rows whose largest output is at the target class.

Targets are one-hot rows (n, k) or class labels (n,); outputs are (n, k) scores or probabilities.
"""

from __future__ import annotations

import numpy as np

# rows run forward at a time over large data (network_accuracy, BaseNetwork.dataset_loss, the arrays engine's
# dataset loss): bounded memory, and on MNIST's 60,000 rows twice as fast in float64 as one pass over them all
# (0.37 s against 0.81 s; 4,096 rows measured the same)
CHUNK = 1024


def classes(outputs) -> np.ndarray:
    """The class of each row of outputs: the column of the largest, or for a single output 1 where it is
    ≥ 0.5 (a sigmoid's probability, or a regressor fitted to 0/1 targets) and 0 elsewhere."""
    outputs = np.asarray(outputs)
    return (outputs[:, 0] >= 0.5).astype(np.int64) if outputs.shape[1] == 1 else outputs.argmax(axis=1)


def target_classes(targets) -> np.ndarray:
    """The class of each target: a one-hot row's largest entry (a single 0/1 column: its value), or the label."""
    targets = np.asarray(targets)
    return classes(targets) if targets.ndim == 2 else targets


def correct(outputs, targets) -> int:
    """How many rows have their class (``classes``) at their target class."""
    return int(np.sum(classes(outputs) == target_classes(targets)))


def r2(outputs, targets) -> float:
    """The coefficient of determination per output, 1 − Σ(t − out)² / Σ(t − t̄)², averaged over the
    outputs as scikit-learn's r2_score does (an output whose targets are all equal scores 1 when fitted
    exactly, else 0)."""
    outputs, targets = np.asarray(outputs, dtype=float), np.asarray(targets, dtype=float)
    residual = np.sum((targets - outputs) ** 2, axis=0)
    total = np.sum((targets - targets.mean(axis=0)) ** 2, axis=0)
    safe = np.where(total > 0, total, 1.0)
    scores = np.where(total > 0, 1.0 - residual / safe, np.where(residual == 0, 1.0, 0.0))
    return float(scores.mean())


def accuracy(outputs, targets) -> float:
    """The share of rows whose largest output is at their target class (one-hot or label targets)."""
    outputs = np.asarray(outputs)
    if len(outputs) != len(targets):
        raise ValueError(f"targets: expected one per output row ({len(outputs)}), got {len(targets)}")
    return correct(outputs, targets) / len(outputs) if len(outputs) else float("nan")


def network_accuracy(network, inputs, targets, chunk: int = CHUNK) -> float:
    """The accuracy of ``network`` on (inputs, targets), run forward ``chunk`` rows at a time."""
    hits = sum(correct(network.predict(inputs[k:k + chunk]), targets[k:k + chunk])
               for k in range(0, len(inputs), chunk))
    return hits / len(inputs) if len(inputs) else float("nan")
