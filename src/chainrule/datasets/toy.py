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
