"""Run: where a training run stands, beside its network — made by ``fit`` (``network.run``), saved with the
network in a model file (``formats/serialize.py``: ``run_to_document``, ``run_from_document``) and gone on
from by ``fit(…, resume=run)``, ``Network.fit`` and ``chainrule train MODEL``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass
class Run:
    """Where a training run stands, beside its network: what ``chainrule train MODEL`` and a resumed
    checkpoint go on from. ``optimizer`` carries its step count and per-parameter state (momentum,
    Adam's moments); ``rng`` is the batch-shuffling generator's state (numpy's plain-data form);
    ``best`` the parameters of the best validation loss so far (early stopping); ``data`` the spec's
    ``[data]`` table the run trains on (paths absolute), so that ``chainrule train MODEL`` finds it."""

    training: Any                    # TrainingConfig; its epochs: those the run is to have in all
    history: Any = None              # History: the whole run's
    optimizer: Any = None            # optim.Optimizer
    epoch: int = 0                   # epochs run so far
    rng: Mapping[str, Any] | None = None
    best: list | None = None         # arrays like the network's parameters()
    data: dict | None = None
    name: str = ""                   # the model's name (its file's "name")

    def remaining(self) -> int:
        """The epochs still to run: those planned but not run by a run that was interrupted or saved at a
        checkpoint; 0 for one that ended (its epochs run, or a stopping rule)."""
        going = self.history is None or self.history.stopped_because in ("interrupted", "checkpoint")
        return max(self.training.epochs - self.epoch, 0) if going else 0
