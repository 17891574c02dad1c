"""Example: a built-in example ready to use — its network (freshly built), data and training settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._network import Network, built
from .core.settings import ConfigError
from .explain import Explanation
from .formats.examples import names, summary
from .formats.spec import load
from .training.train import History, TrainingConfig


@dataclass
class Example:
    """A built-in example ready to use: its network (freshly built), data and training settings.
    ``ex.explain()`` and ``ex.fit()`` run them as ``chainrule explain NAME`` and ``chainrule train NAME`` do."""

    name: str
    description: str
    network: Network
    x: Any
    t: Any
    config: TrainingConfig

    def explain(self, steps: int = 1, **settings) -> Explanation:
        """The first ``steps`` steps of its training, traced (the network is left as it is)."""
        return self.network.explain(self.x, self.t, self.config, steps=steps, **settings)

    def fit(self, **settings) -> History:
        """Train its network in place with its settings (keywords replace them)."""
        return self.network.fit(self.x, self.t, self.config, **settings)

    def __repr__(self) -> str:
        return (f"<Example {self.name!r}: {self.network.shape_text()} network, {len(self.x)} "
                f"sample{'s' * (len(self.x) != 1)}, {summary(self.name) or self.description[:60]}>")


def example(name: str) -> Example:
    """The built-in example called ``name`` (``names()`` lists them): ``chainrule.example("mazur")``."""
    if name not in names():
        raise ConfigError("name", f"one of {', '.join(names())}", name)
    spec = load(name)
    x, t = spec.require_data()
    return Example(spec.name, spec.description, built(spec.build_network()), x, t, spec.training)
