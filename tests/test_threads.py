"""BLAS threads chosen by the work (issue 28, item 2): one thread inside ``fit`` for a small network, the
BLAS as it was for a large one, ``threads=`` and ``--threads`` to say the number — and the user's own
setting as it was after every call.  The oracle is threadpoolctl's report of the BLAS's threads."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import threads as blas_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_now() -> set:
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


def threads_inside_fit(network, x, t, **options) -> set:
    seen: set = set()
    cr.fit(network, x, t, epochs=2, callback=lambda epoch, loss: seen.update(blas_now()), **options)
    return seen


def test_a_small_network_trains_on_one_thread_and_the_users_setting_is_kept():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(200, 64)), rng.uniform(size=(200, 10))
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert threads_inside_fit(cr.mlp([64, 100, 10], seed=0), x, t, batch=200) == {1}
        assert blas_now() == {2}


def test_a_large_product_leaves_the_blas_as_the_user_set_it():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(256, 784)), rng.uniform(size=(256, 10))
    network = cr.mlp([784, 256, 10], seed=0)
    assert blas_threads.by_work(network, 256) is None
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert threads_inside_fit(network, x, t, batch=256) == {2}


def test_threads_says_the_number_for_the_call_only():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(8, 3)), rng.uniform(size=(8, 2))
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert threads_inside_fit(cr.mlp([3, 4, 2], seed=0), x, t, threads=2) == {2}
        assert blas_now() == {1}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_threads_must_be_a_positive_integer(bad):
    network = cr.mlp([2, 2, 1], seed=0)
    with pytest.raises(ValueError, match=r"threads: expected an integer ≥ 1 \(BLAS threads; None: chosen by the size"):
        network.fit(np.zeros((2, 2)), np.zeros((2, 1)), threads=bad)
