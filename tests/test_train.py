"""Training: batching, reduction, stopping rules, frozen parameters, and tracing that changes nothing."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.layers import Dense
from chainrule import Network
from chainrule.training.train import TrainingConfig, epoch_batches


def small_problem(seed=0, n=10):
    rng = np.random.default_rng(seed)
    net = Network([Dense(rng.normal(size=(4, 3)), rng.normal(size=4), activation="tanh"),
                      Dense(rng.normal(size=(2, 4)), 0.1, activation="sigmoid", bias_mode="shared")], "mse")
    return net, rng.normal(size=(n, 3)), rng.uniform(size=(n, 2))


def test_batches_cover_every_sample_once_per_epoch():
    rng = np.random.default_rng(0)
    for batch, sizes in [("online", [1] * 7), ("full", [7]), (3, [3, 3, 1])]:
        config = TrainingConfig(batch=batch, shuffle=True)
        parts = epoch_batches(7, config, rng)
        assert [len(p) for p in parts] == sizes
        assert sorted(np.concatenate(parts).tolist()) == list(range(7))


def test_reduction_mean_is_sum_divided_by_batch_size():
    net, x, t = small_problem()
    _, _, g_sum = net.backprop(x, t, "sum")
    _, _, g_mean = net.backprop(x, t, "mean")
    for a, b in zip(g_sum, g_mean):
        np.testing.assert_allclose(a / len(x), b, rtol=1e-14)


def test_online_training_is_a_sequence_of_single_sample_steps():
    net, x, t = small_problem()
    twin, _, _ = small_problem()
    cr.fit(net, x, t, TrainingConfig(learning_rate=0.3, batch="online", epochs=2))
    for _ in range(2):
        for i in range(len(x)):   # by hand: one SGD step per sample, in order
            _, _, grads = twin.backprop(x[i:i + 1], t[i:i + 1])
            for p, g in zip(twin.parameters(), grads):
                p -= 0.3 * g
    for a, b in zip(net.parameters(), twin.parameters()):   # the fast path folds η: equal to rounding
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("batch", ["online", "full", 3])
def test_traced_steps_and_the_fast_path_give_the_same_parameters_to_rounding(batch):
    config = TrainingConfig(learning_rate=0.2, batch=batch, epochs=2, shuffle=True, seed=4)
    traced, x, t = small_problem()
    plain, _, _ = small_problem()
    steps = 2 * len(range(0, len(x), config.batch_size(len(x))))
    cr.trace_steps(traced, x, t, config, steps)
    cr.fit(plain, x, t, config)
    for a, b in zip(traced.parameters(), plain.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_frozen_parameters_never_move():
    net, x, t = small_problem()
    w_before = net.layers[0].weights.copy()
    cr.fit(net, x, t, TrainingConfig(learning_rate=0.5, epochs=3, frozen=("w1", "w5", "b5")))
    assert net.layers[0].weights[0, 0] == w_before[0, 0]
    assert net.layers[0].weights[1, 1] == w_before[1, 1]   # w5 is row 2, column 2
    assert float(net.layers[1].bias) == 0.1                # b5: the shared output bias
    assert net.layers[0].weights[0, 1] != w_before[0, 1]


def test_stopping_rules():
    net, x, t = small_problem()
    h = cr.fit(net, x, t, TrainingConfig(learning_rate=0.5, epochs=500, stop_change_below=1e-4))
    assert h.stopped_because == "loss_change_below" and h.epochs_run < 500
    assert abs(h.loss_history[-1] - h.loss_history[-2]) < 1e-4
    net, x, t = small_problem()
    first = cr.fit(small_problem()[0], x, t, TrainingConfig(learning_rate=0.5, epochs=1)).loss_history[0]
    h = cr.fit(net, x, t, TrainingConfig(learning_rate=0.5, epochs=500, stop_below=first))
    assert h.stopped_because == "loss_below" and h.loss_history[-1] < first
    h = cr.fit(small_problem()[0], x, t, TrainingConfig(learning_rate=0.5, epochs=4))
    assert h.stopped_because == "epochs" and h.epochs_run == 4 and len(h.loss_history) == 4


def test_epoch_loss_is_the_dataset_loss_after_the_epoch():
    net, x, t = small_problem()
    h = cr.fit(net, x, t, TrainingConfig(learning_rate=0.5, epochs=1, batch=4, reduction="mean"))
    assert h.loss_history[0] == net.dataset_loss(x, t, "mean")


def test_config_validation():
    for bad in [dict(learning_rate=-1), dict(batch=0), dict(batch="half"), dict(reduction="max"),
                dict(epochs=-1), dict(stop_below=float("nan"))]:
        with pytest.raises(ValueError):
            TrainingConfig(**bad)


def _calls_made(function) -> int:
    """Python and C function calls made while ``function()`` runs: work counted, not timed."""
    import sys
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("example, options", [("mazur", {}), ("xor", {"epochs": 3000, "stop_below": None}),
                                              ("mazur", {"optimizer": "adam", "batch": 1, "shuffle": True})])
def test_the_command_lines_per_epoch_work_does_not_grow_with_the_epochs(tmp_path, example, options):
    """`chainrule train`'s path (progress lines, a checkpoint kept for Ctrl-C at every epoch, written every 50
    epochs) does the same work in epoch 2,000 as in epoch 200: the calls made by the last n epochs of 4n equal
    those of the first n.  (Keeping the run by copying its history each epoch made them grow with it.)"""
    from dataclasses import replace

    from chainrule import runs
    spec = cr.load(example)
    spec = replace(spec, training=spec.training.replace(**options))

    def calls(epochs: int) -> int:
        config = spec.training.replace(epochs=epochs)
        return _calls_made(lambda: runs.train(spec, config, show=False, checkpoint=str(tmp_path / "ck.json"),
                                              checkpoint_every=epochs, interrupted_to=str(tmp_path / "i.json")))

    n = 500
    one, four = calls(n), calls(4 * n)
    per_epoch_late = (four - one) / (3 * n)
    per_epoch_early = (one - calls(0)) / n
    assert per_epoch_late <= 1.02 * per_epoch_early, (per_epoch_early, per_epoch_late)
