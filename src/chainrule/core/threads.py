"""How many threads the BLAS runs chainrule's matrix products on, chosen by the size of the work.

A product of a small network (the 2-2-2 example, scikit-learn's digits at 64-100-10) takes microseconds;
handing it to a second thread costs more than it saves, and on a machine whose other core is busy the
second thread waits for that core — a run takes twice as long.  Large products (MNIST's 784-256 layer on a
batch of 128) gain from every core.  So ``fit`` runs on one thread when its largest product per step is
below ``SMALL`` multiply-adds and leaves the BLAS as it is otherwise; ``threads=n`` says the number.

The limit holds inside chainrule's call only (threadpoolctl's limit, undone when the call returns): the
user's own setting of the BLAS is never changed.  threadpoolctl is the ``threads`` extra; without it the
automatic choice leaves the BLAS as it is, and an explicit ``threads=`` is refused with what to install.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from .settings import ConfigError, is_integer

SMALL = 1 << 22         # multiply-adds of a step's largest product below which one thread is faster


def by_work(network, batch_size: int) -> int | None:
    """One thread when the largest product of a training step, batch × fan-in × units, is small; else None
    (the BLAS's own number, every core)."""
    largest = max(batch_size * layer.fan_in * len(layer.weights) for layer in network.layers)
    return 1 if largest < SMALL else None


def check(threads) -> int | None:
    """``threads`` as ``fit`` takes it: None (chosen by the work) or an integer ≥ 1 — with threadpoolctl there
    to set it."""
    if threads is not None and not (is_integer(threads) and threads >= 1):
        raise ConfigError("threads", "an integer ≥ 1 (BLAS threads; None: chosen by the size of the work)", threads)
    if threads is not None and _controller() is None:
        raise ConfigError("threads", "threadpoolctl installed to set the BLAS's threads (pip install "
                          "'chainrule[threads]')", threads)
    return threads


@contextlib.contextmanager
def limited(threads: int | None) -> Iterator[None]:
    """The BLAS on at most ``threads`` threads inside the block (None, or no threadpoolctl: as it is), as it was
    after it."""
    controller = None if threads is None else _controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=threads, user_api="blas"):
        yield


_made: dict = {}


def _controller():
    """threadpoolctl's view of the BLAS libraries loaded (NumPy's; SciPy's once the arrays engine has loaded it),
    made again when SciPy's has been loaded since; None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:
        return None
    key = "scipy.linalg.blas" in sys.modules
    if key not in _made:
        _made.clear()
        _made[key] = ThreadpoolController()
    return _made[key]
