"""Optimisers: they see parameter arrays, gradients and their own state — never the model.

Each computes the update of one parameter array from its gradient g and applies it in place,
with the same rules (and the same order of floating-point operations, where it matters) as
PyTorch's ``torch.optim.SGD`` and ``torch.optim.Adam``.  ``masks`` hold 1 where a parameter is
trained and 0 where it is frozen: a frozen entry never moves, whatever the rule.

Learning-rate schedules give the learning rate of each epoch (counted from 1).
"""

from __future__ import annotations

import math

import numpy as np


def _check_rate(learning_rate: float) -> float:
    if not isinstance(learning_rate, (int, float)) or not math.isfinite(learning_rate) or learning_rate < 0:
        raise ValueError(f"learning_rate: expected a finite number ≥ 0, got {learning_rate!r}")
    return float(learning_rate)


class Optimizer:
    """What every rule shares: one step updates each parameter array from its gradient, by ``update``."""

    def begin_step(self) -> None:
        pass

    def step(self, parameters, gradients, masks=None) -> None:
        self.begin_step()
        for i, (p, g) in enumerate(zip(parameters, gradients)):
            self.update(i, p, g, None if masks is None else masks[i])


class SGD(Optimizer):
    """Gradient descent, with optional L2 weight decay λ, momentum μ and Nesterov momentum:

        g ← ∂E/∂p + λ·p
        v ← g (first step),  v ← μ·v + g (after)          (only with momentum)
        d ← g + μ·v (Nesterov),  v (momentum),  g (plain)
        p ← p − η·d
    """

    def __init__(self, learning_rate: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        self.learning_rate = _check_rate(learning_rate)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov: expected momentum > 0 with Nesterov momentum, got momentum 0")
        if not math.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay: expected a finite number ≥ 0, got {weight_decay!r}")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)
        self.velocity: dict[int, np.ndarray] = {}

    @property
    def plain(self) -> bool:
        """p ← p − η·g exactly: the fast path may fold η into the deltas."""
        return self.momentum == 0 and self.weight_decay == 0

    def update(self, index: int, p: np.ndarray, g: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Apply one step to parameter ``index`` (its position in ``Network.parameters()``)."""
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            v = self.velocity.get(index)
            if v is None:
                v = self.velocity[index] = np.array(g, copy=True)
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        step = self.learning_rate * g
        p -= step if mask is None else step * mask

    def describe(self) -> dict:
        """The rule's settings, as plain data (for a step's trace)."""
        return {"name": "sgd", "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def state(self, index: int) -> dict:
        """Parameter ``index``'s state: its velocity v once there is one."""
        return {"v": self.velocity[index].copy()} if index in self.velocity else {}


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional L2 weight decay λ added to the gradient:

        g ← ∂E/∂p + λ·p
        m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
        p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
    """

    plain = False

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0):
        self.learning_rate = _check_rate(learning_rate)
        for name, value in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= value < 1:
                raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")
        if not eps > 0:
            raise ValueError(f"eps: expected a number > 0, got {eps!r}")
        if not math.isfinite(weight_decay) or weight_decay < 0:
            raise ValueError(f"weight_decay: expected a finite number ≥ 0, got {weight_decay!r}")
        self.beta1, self.beta2, self.eps, self.weight_decay = float(beta1), float(beta2), float(eps), float(weight_decay)
        self.t = 0
        self.moments: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def begin_step(self) -> None:
        self.t += 1

    def update(self, index: int, p: np.ndarray, g: np.ndarray, mask: np.ndarray | None = None) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if index not in self.moments:
            self.moments[index] = (np.zeros_like(p), np.zeros_like(p))
        m, v = self.moments[index]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        denominator = np.sqrt(v) / math.sqrt(correction2) + self.eps
        step = (self.learning_rate / correction1) * (m / denominator)
        p -= step if mask is None else step * mask

    def describe(self) -> dict:
        return {"name": "adam", "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay, "t": self.t}

    def state(self, index: int) -> dict:
        """Parameter ``index``'s moments m and v (zero before its first step)."""
        if index not in self.moments:
            return {}
        m, v = self.moments[index]
        return {"m": m.copy(), "v": v.copy()}


OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "step", "exponential", "inverse_scaling")


def scheduled_rate(base: float, schedule: str, epoch: int, step_size: int = 1, gamma: float = 0.1,
                   power: float = 0.5) -> float:
    """The learning rate of ``epoch`` (from 1):

    constant          η
    step              η·γ^⌊(epoch − 1)/step_size⌋     (PyTorch StepLR)
    exponential       η·γ^(epoch − 1)                 (PyTorch ExponentialLR)
    inverse_scaling   η / epoch^power                 (scikit-learn's invscaling, by epoch)
    """
    if schedule == "constant":
        return base
    if schedule == "step":
        return base * gamma ** ((epoch - 1) // step_size)
    if schedule == "exponential":
        return base * gamma ** (epoch - 1)
    if schedule == "inverse_scaling":
        return base / epoch ** power
    raise ValueError(f"schedule: expected one of {', '.join(SCHEDULES)}, got {schedule!r}")
