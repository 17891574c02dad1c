"""Weight initialisers.  Each draws a (units, fan_in) matrix, row by row.

* ``constant(value)``          every weight = value
* ``uniform(low, high)``       U[low, high)
* ``normal(mean, std)``        N(mean, std²)
* ``xavier``                   U[−a, a),  a = √(6 / (fan_in + units))   (Glorot & Bengio)
* ``he``                       N(0, 2 / fan_in)                          (He et al.)

Random draws come from a numpy ``Generator``.  ``legacy_seed = N`` instead reproduces
``np.random.seed(N)`` followed by successive ``np.random.normal``/``uniform`` calls:
all layers naming the same legacy seed share one ``RandomState`` and draw in label
order (w1, w2, …), so seed 004's w1..w4 come out exactly.  The global numpy state is
never touched.
"""

from __future__ import annotations

import numpy as np

from .settings import ConfigError, is_integer, is_number

KINDS = ("constant", "uniform", "normal", "xavier", "he")
PARAMETERS = {"constant": ("value",), "uniform": ("low", "high"), "normal": ("mean", "std"),
              "xavier": (), "he": ()}
SOURCES = ("seed", "legacy_seed")     # the generator: its own seed, or numpy's legacy sequence


def checked(init) -> dict:
    """An init table checked: ``"he"`` or ``{"kind": "normal", "std": 0.5, "legacy_seed": 42}``.
    Raises ConfigError with the key inside the table (``kind``, ``std``, …)."""
    table = {"kind": init} if isinstance(init, str) else init
    if not isinstance(table, dict):
        raise ConfigError("", f"an initialiser name ({', '.join(KINDS)}) or a table with its kind", init)
    kind = table.get("kind")
    if kind not in KINDS:
        raise ConfigError("kind", f"one of {', '.join(KINDS)}", kind) if "kind" in table else \
            ConfigError("kind", f"one of {', '.join(KINDS)}", shown=False)
    for name, value in table.items():
        if name == "kind":
            continue
        if name in SOURCES:
            limit = 2 ** 32 if name == "legacy_seed" else None
            if not (is_integer(value) and value >= 0 and (limit is None or value < limit)):
                raise ConfigError(name, "an integer ≥ 0" + (" and < 2**32 (numpy's legacy seed range)" if limit else ""),
                                  value)
        elif name not in PARAMETERS[kind]:
            takes = ", ".join(PARAMETERS[kind]) or "no parameters"
            raise ConfigError(name, f"a setting of init kind {kind!r}, which takes {takes}", shown=False)
        elif not is_number(value) or (name == "std" and value < 0):
            raise ConfigError(name, "a finite number" + (" ≥ 0" if name == "std" else ""), value)
    if kind == "uniform" and table.get("low", 0.0) >= table.get("high", 1.0):
        raise ConfigError("high", f"a number > low ({table.get('low', 0.0)})", table.get("high", 1.0))
    if "seed" in table and "legacy_seed" in table:
        raise ConfigError("", "either seed or legacy_seed, not both", shown=False)
    return dict(table)


def draw_weights(kind: str, units: int, fan_in: int, *, rng=None, order: str = "row",
                 mean: float = 0.0, std: float = 1.0, low: float = 0.0, high: float = 1.0,
                 value: float = 0.0):
    """A (units, fan_in) matrix from the named initialiser, drawn in label ``order``.

    ``rng`` is a ``np.random.Generator`` or a legacy ``np.random.RandomState``; both
    have ``normal(loc, scale, size)`` and ``uniform(low, high, size)``.  With
    ``order="column"`` the draws fill the matrix column by column.
    """
    if kind == "constant":
        return np.full((units, fan_in), float(value))
    size = (units, fan_in) if order == "row" else (fan_in, units)
    if kind == "uniform":
        drawn = rng.uniform(low, high, size=size)
    elif kind == "normal":
        drawn = rng.normal(mean, std, size=size)
    elif kind == "xavier":
        a = np.sqrt(6.0 / (fan_in + units))
        drawn = rng.uniform(-a, a, size=size)
    elif kind == "he":
        drawn = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=size)
    else:
        raise ValueError(f"init kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    return drawn if order == "row" else drawn.T


class RandomSources:
    """The generators of one network build: one seeded Generator, plus one
    RandomState per legacy seed, shared by every layer that names it."""

    def __init__(self, seed: int = 0):
        self.default = np.random.default_rng(seed)
        self._legacy: dict[int, np.random.RandomState] = {}
        self._seeded: dict[int, np.random.Generator] = {}

    def legacy(self, seed: int) -> np.random.RandomState:
        return self._legacy.setdefault(seed, np.random.RandomState(seed))

    def seeded(self, seed: int) -> np.random.Generator:
        return self._seeded.setdefault(seed, np.random.default_rng(seed))

    def draw(self, init: dict, units: int, fan_in: int, order: str = "row") -> np.ndarray:
        """A layer's weights from its init table ({"kind": "normal", "std": 0.5, "legacy_seed": 42}):
        from the legacy seed's RandomState, the table's own seed, or this build's generator."""
        settings = dict(init)
        kind = settings.pop("kind")
        rng: np.random.RandomState | np.random.Generator
        if "legacy_seed" in settings:
            rng = self.legacy(settings.pop("legacy_seed"))
        elif "seed" in settings:
            rng = self.seeded(settings.pop("seed"))
        else:
            rng = self.default
        return draw_weights(kind, units, fan_in, rng=rng, order=order,
                            **{key: float(value) for key, value in settings.items()})
