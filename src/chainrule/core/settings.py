"""The one validation layer: settings declared once, checked once, errors that name their key.

Library code raises ``ConfigError(key, expected, got)``; whoever knows more about where the
value came from re-keys it — the spec loader to ``file:line: training.momentum``, the CLI to its
flag ``--momentum``, the web API to its JSON field — with ``ConfigError.under(prefix)`` or by
reading ``key``, ``expected`` and ``got``, never by cutting the message apart.

A ``Setting`` declares one named parameter of an activation or an optimiser: its default, the
values it accepts, and the symbol explanations write it with.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable


def show(value: Any, limit: int = 60) -> str:
    """A value as a message shows it: its repr (a numpy number's as the Python number's), cut to ``limit``
    characters."""
    if isinstance(value, (numbers.Number)) and type(value).__module__ == "numpy":
        value = value.item()            # type: ignore[attr-defined]
    text = value if isinstance(value, Described) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "…"


def memory(n_bytes: float) -> str:
    """A number of bytes as a message shows it: 381 MB, 15 GB (powers of 1024)."""
    k, unit = next((k, unit) for k, unit in ((4, "TB"), (3, "GB"), (2, "MB"), (1, "kB"), (0, "B"))
                   if n_bytes >= 1024 ** k or k == 0)
    value = n_bytes / 1024 ** k
    whole = value >= 10 or round(value, 1) == round(value)     # 1.1 GB is not "1 GB" next to a 1 GB limit
    return f"{value:,.0f} {unit}" if whole else f"{value:.1f} {unit}"


class Described(str):
    """A description of what was got (e.g. "3 rows"), shown as it is, not quoted."""

    def __repr__(self) -> str:
        return str(self)


class ConfigError(ValueError):
    """A value that cannot be used: ``key: expected …, got …`` (``got`` omitted when None)."""

    def __init__(self, key: str, expected: str, got: Any = None, *, shown: bool = True):
        self.key, self.expected, self.got, self.shown = key, expected, got, shown
        super().__init__(self.message())

    def message(self, key: str | None = None) -> str:
        key = self.key if key is None else key
        got = f", got {show(self.got)}" if self.shown else ""
        return f"{key}: expected {self.expected}{got}" if key else f"expected {self.expected}{got}"

    def under(self, prefix: str) -> "ConfigError":
        """The same error with its key inside ``prefix`` (training → training.momentum)."""
        key = f"{prefix}.{self.key}" if prefix and self.key else (prefix or self.key)
        return ConfigError(key, self.expected, self.got, shown=self.shown)


def _numpy_bool(value) -> bool:
    return type(value).__name__ == "bool" and type(value).__module__ == "numpy"


def is_number(value) -> bool:
    """A finite real number: a Python int or float, or a numpy one (np.float32(0.1), np.int64(3))."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool) and not _numpy_bool(value)
            and math.isfinite(value))


def is_integer(value) -> bool:
    """An integer: a Python int or a numpy one (np.int64(3)); not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and not _numpy_bool(value)


def plain(value: Any) -> Any:
    """A numpy number as the Python number it is (int or float), anything else as it is."""
    if isinstance(value, numbers.Number) and type(value).__module__ == "numpy":
        return value.item()             # type: ignore[attr-defined]
    return value


@dataclass(frozen=True)
class Setting:
    """One named parameter: default, accepted values (``accepts``, described by ``expected``) and the
    symbol explanations write it with (μ, λ, β₁ …; empty when it has none)."""

    name: str
    default: Any
    accepts: Callable[[Any], bool]
    expected: str
    symbol: tuple = ()          # (base, subscript) of its Sym, e.g. ("β", "1")

    def check(self, value) -> Any:
        if not self.accepts(value):
            raise ConfigError(self.name, self.expected, value)
        value = plain(value)
        return float(value) if isinstance(self.default, float) and value is not None else value


def number_in(low: float = 0.0, high: float = math.inf, *, low_open: bool = False,
              high_open: bool = False) -> Callable[[Any], bool]:
    """A finite number in the interval [low, high], either end open when asked."""
    def accepts(value) -> bool:
        return is_number(value) and (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high)
    return accepts


def boolean(value) -> bool:
    return isinstance(value, bool)


def checked_settings(owner: str, declared: dict[str, Setting], given: dict) -> dict:
    """Every declared setting: the given value checked, or its default; an unknown one refused."""
    for name in given:
        if name not in declared:
            takes = ", ".join(declared) or "no settings"
            raise ConfigError(name, f"no {name} with {owner}, which takes {takes}", given[name])
    return {name: setting.check(given[name]) if name in given else setting.default
            for name, setting in declared.items()}
