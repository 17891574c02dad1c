"""Optimisers: they see parameter arrays, gradients and their own state — never the model."""

from __future__ import annotations

import numpy as np


class SGD:
    """Plain gradient descent:  p ← p − η·∂E/∂p  for every trainable entry.

    ``masks`` hold 1 where a parameter is trained and 0 where it is frozen.
    """

    def __init__(self, learning_rate: float):
        if not np.isfinite(learning_rate) or learning_rate < 0:
            raise ValueError(f"learning_rate: expected a finite number ≥ 0, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)

    def step(self, parameters, gradients, masks=None) -> None:
        for i, (p, g) in enumerate(zip(parameters, gradients)):
            update = self.learning_rate * g
            if masks is not None:
                update = update * masks[i]
            p -= update
