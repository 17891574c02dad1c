"""The built-in worked examples, one TOML spec file each (see ``chainrule examples``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...explain import Explanation
    from ...core.network import Network
    from ...training.train import History, TrainingConfig

_HERE = Path(__file__).parent
ORDER = ("mazur", "mazur-code", "worksheet", "visual", "xor", "softplus")


def names() -> list[str]:
    found = {p.stem for p in _HERE.glob("*.toml")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def path(name: str) -> Path:
    return _HERE / f"{name}.toml"


def description(name: str) -> str:
    """The example's whole description: what it is and where it departs from its seed."""
    return tomllib.loads(path(name).read_text(encoding="utf-8")).get("description", "").strip()


def summary(name: str) -> str:
    """The first line of the example's description."""
    text = description(name)
    return text.splitlines()[0] if text else ""


def claims_path(seed: str) -> Path:
    """The built-in claims file of a seed ('000' … '004'): every number that seed prints."""
    found = _HERE / "claims" / f"seed-{seed}.toml"
    if not found.is_file():
        available = sorted(p.stem.removeprefix("seed-") for p in (_HERE / "claims").glob("seed-*.toml"))
        raise ValueError(f"seed:{seed}: expected one of {', '.join('seed:' + a for a in available)}, got seed:{seed}")
    return found


@dataclass
class Example:
    """A built-in example ready to use: its network (freshly built), data and training settings.
    ``ex.explain()`` and ``ex.fit()`` run them as ``chainrule explain NAME`` and ``chainrule train NAME`` do."""

    name: str
    description: str
    network: "Network"
    x: Any
    t: Any
    config: "TrainingConfig"

    def explain(self, steps: int = 1, **settings) -> "Explanation":
        """The first ``steps`` steps of its training, traced (the network is left as it is)."""
        return self.network.explain(self.x, self.t, self.config, steps=steps, **settings)

    def fit(self, **settings) -> "History":
        """Train its network in place with its settings (keywords replace them)."""
        return self.network.fit(self.x, self.t, self.config, **settings)

    def __repr__(self) -> str:
        return (f"<Example {self.name!r}: {self.network.shape_text()} network, {len(self.x)} "
                f"sample{'s' * (len(self.x) != 1)}, {summary(self.name) or self.description[:60]}>")


def example(name: str) -> Example:
    """The built-in example called ``name`` (``names()`` lists them): ``chainrule.example("mazur")``."""
    from ...core.settings import ConfigError
    from ..spec import load
    if name not in names():
        raise ConfigError("name", f"one of {', '.join(names())}", name)
    spec = load(name)
    x, t = spec.require_data()
    return Example(spec.name, spec.description, spec.build_network(), x, t, spec.training)
