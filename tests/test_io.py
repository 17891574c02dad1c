"""Saved models: .npz and .json files load back with the same dtype and values."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.io  # noqa: F401  (`import chainrule` alone does not load cr.io)
from conftest import random_network


@pytest.mark.parametrize("suffix", ["npz", "json"])
def test_model_round_trip_keeps_dtype_and_values(tmp_path, suffix):
    rng = np.random.default_rng(0)
    network = random_network(rng, [3, 5, 2], "relu", "softmax", "cross_entropy", dtype=np.float32)
    cr.io.save_model(network, tmp_path / f"m.{suffix}")
    back = cr.io.load_model(tmp_path / f"m.{suffix}")
    for a, b in zip(network.parameters(), back.parameters()):
        assert b.dtype == np.float32 and np.array_equal(a, b)
    if suffix == "npz":
        with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
            assert "model" in archive
