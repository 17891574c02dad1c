"""Learning-rate schedules: the rate of each epoch, one class each.

As PyTorch keeps ``lr_scheduler`` apart from its optimisers, a schedule here knows nothing of the
optimiser: it turns the base rate η and the epoch (from 1) into that epoch's rate, and the fit loop
hands the optimiser that rate at the start of each epoch.  Each class names the training settings it
reads (``READS``); those settings are declared once, in ``SETTINGS``.

    constant          η
    step              η·γ^⌊(epoch − 1)/step_size⌋     (PyTorch StepLR)
    exponential       η·γ^(epoch − 1)                 (PyTorch ExponentialLR)
    inverse_scaling   η / epoch^power                 (scikit-learn's invscaling, by epoch)

Adding a schedule is adding a class here (with its settings in ``SETTINGS`` if it needs new ones).
"""

from __future__ import annotations

from typing import ClassVar

from .settings import ConfigError, Setting, is_integer, number_in

# The settings schedules read, with their defaults (training settings, as the spec's [training] keys).
SETTINGS = {s.name: s for s in (
    Setting("step_size", 1, lambda v: is_integer(v) and v >= 1, "an integer ≥ 1"),
    Setting("gamma", 0.1, number_in(0, 1, low_open=True), "a number in (0, 1]"),
    Setting("power", 0.5, number_in(0), "a finite number ≥ 0"),
)}

_SCHEDULES: dict[str, type["Schedule"]] = {}


class Schedule:
    """The learning rate of each epoch from the base rate η."""

    name: ClassVar[str]
    READS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _SCHEDULES[cls.name] = cls

    def __init__(self, **settings):
        for key in self.READS:
            setattr(self, key, SETTINGS[key].check(settings.get(key, SETTINGS[key].default)))

    def rate(self, base: float, epoch: int) -> float:
        raise NotImplementedError


class Constant(Schedule):
    name = "constant"

    def rate(self, base, epoch):
        return base


class Step(Schedule):
    name = "step"
    READS = ("step_size", "gamma")
    step_size: int
    gamma: float

    def rate(self, base, epoch):
        return base * self.gamma ** ((epoch - 1) // self.step_size)


class Exponential(Schedule):
    name = "exponential"
    READS = ("gamma",)
    gamma: float

    def rate(self, base, epoch):
        return base * self.gamma ** (epoch - 1)


class InverseScaling(Schedule):
    name = "inverse_scaling"
    READS = ("power",)
    power: float

    def rate(self, base, epoch):
        return base / epoch ** self.power


SCHEDULES = tuple(_SCHEDULES)


def get_schedule(name: str, **settings) -> Schedule:
    """The schedule called ``name``, reading the settings it needs from ``settings`` (others are ignored:
    a run's configuration carries every schedule's settings)."""
    if name not in _SCHEDULES:
        raise ConfigError("schedule", f"one of {', '.join(SCHEDULES)}", name)
    return _SCHEDULES[name](**settings)
