"""Two-dimensional problems in [-1, 1]² (as in TensorFlow Playground), labelled 0 or 1."""

from __future__ import annotations

import numpy as np

GENERATORS = ("xor", "circle", "gauss", "spiral")


def planar(kind: str, samples: int = 200, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, 2), labels (n,)): xor — the sign of x·y; circle — inside radius 0.5; gauss — two blobs;
    spiral — two interleaved arms.  ``noise`` is the standard deviation added to each coordinate."""
    if kind not in GENERATORS:
        raise ValueError(f"generator: expected one of {', '.join(GENERATORS)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    if kind == "xor":
        x = rng.uniform(-1, 1, (samples, 2))
        labels = (x[:, 0] * x[:, 1] > 0).astype(int)
    elif kind == "circle":
        radius = np.concatenate([rng.uniform(0, 0.45, samples // 2), rng.uniform(0.6, 1.0, samples - samples // 2)])
        angle = rng.uniform(0, 2 * np.pi, samples)
        x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
        labels = (radius < 0.5).astype(int)
    elif kind == "gauss":
        labels = rng.integers(0, 2, samples)
        centres = np.where(labels[:, None] == 1, 0.5, -0.5)
        x = centres + rng.normal(0, 0.2, (samples, 2))
    else:
        labels = np.arange(samples) % 2
        r = np.linspace(0.05, 1.0, samples)
        angle = 3.5 * np.pi * r + np.pi * labels
        x = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    x = x + rng.normal(0, noise, x.shape) if noise else x
    return x, labels


REGRESSIONS = {"sine": 1, "bump": 1, "saddle": 2, "ripple": 2}     # generator → inputs


def regression(kind: str, samples: int = 200, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, inputs), y (n,)): sine — y = sin(πx) on [−1, 1]; bump — seed 004's dosage shape, low, high,
    low on [0, 1]; saddle — y = x1·x2; ripple — y = sin(2·x1)·cos(2·x2), on [−1, 1]².  ``noise`` is the
    standard deviation added to y."""
    if kind not in REGRESSIONS:
        raise ValueError(f"generator: expected one of {', '.join(REGRESSIONS)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    if kind == "sine":
        x = np.sort(rng.uniform(-1, 1, (samples, 1)), axis=0)
        y = np.sin(np.pi * x[:, 0])
    elif kind == "bump":
        x = np.sort(rng.uniform(0, 1, (samples, 1)), axis=0)
        y = 1.0 + 2.0 * np.exp(-((x[:, 0] - 0.5) / 0.15) ** 2)
    else:
        x = rng.uniform(-1, 1, (samples, 2))
        y = x[:, 0] * x[:, 1] if kind == "saddle" else np.sin(2 * x[:, 0]) * np.cos(2 * x[:, 1])
    y = y + rng.normal(0, noise, y.shape) if noise else y
    return x, y


# Playground's input features: each a function of the raw inputs (x1, x2), by name
FEATURES = {
    "x1": lambda x: x[:, 0], "x2": lambda x: x[:, 1],
    "x1^2": lambda x: x[:, 0] ** 2, "x2^2": lambda x: x[:, 1] ** 2, "x1*x2": lambda x: x[:, 0] * x[:, 1],
    "sin(x1)": lambda x: np.sin(x[:, 0]), "sin(x2)": lambda x: np.sin(x[:, 1]),
}


def features(x: np.ndarray, names) -> np.ndarray:
    """The columns ``names`` (of FEATURES) computed from raw inputs x (n, 1 or 2)."""
    return np.column_stack([FEATURES[name](x) for name in names]) if len(names) else np.zeros((len(x), 0))
