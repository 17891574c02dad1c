"""Classification accuracy: the share of rows whose largest output is at the target class.

Targets are one-hot rows (n, k) or class labels (n,); outputs are (n, k) scores or probabilities.
"""

from __future__ import annotations

import numpy as np

CHUNK = 10_000      # rows run forward at a time by network_accuracy (bounded memory on large data)


def target_classes(targets) -> np.ndarray:
    """The class of each target: the column of a one-hot row's largest entry, or the label itself."""
    targets = np.asarray(targets)
    return targets.argmax(axis=1) if targets.ndim == 2 else targets


def correct(outputs, targets) -> int:
    """How many rows have their largest output at their target class."""
    return int(np.sum(np.asarray(outputs).argmax(axis=1) == target_classes(targets)))


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


def split_accuracies(network, x, t, config, x_test=None, t_test=None) -> dict:
    """{train_accuracy, validation_accuracy (when ``config`` holds rows out), test_accuracy (when given)}:
    train on the rows trained on, validation on the rows held out, as ``fit`` split them."""
    from .train import validation_split
    trained, validated = validation_split(len(x), config)
    result = {"train_accuracy": network_accuracy(network, x[trained], t[trained])}
    if len(validated):
        result["validation_accuracy"] = network_accuracy(network, x[validated], t[validated])
    if x_test is not None:
        result["test_accuracy"] = network_accuracy(network, x_test, t_test)
    return result
