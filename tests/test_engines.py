"""The fast training path against the traced one, on every engine (floats, SciPy's gemm, NumPy), float32,
and a loss that diverges."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, example, given, settings, strategies as st

import chainrule as cr
from chainrule.core import activations, losses
from chainrule.training.train import TrainingConfig, TrainingDiverged
from conftest import random_network


def targets(rng, loss, n, k):
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.uniform(0.05, 0.95, (n, k))


OUTPUT = {"cross_entropy": "softmax", "bce": "sigmoid"}


HIDDEN = [name for name in activations.NAMES if cr.get_activation(name).elementwise]


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.sampled_from(HIDDEN), loss=st.sampled_from(losses.NAMES),
       bias_mode=st.sampled_from(["per_neuron", "shared", "none"]), reduction=st.sampled_from(["sum", "mean"]),
       batch=st.sampled_from(["online", "full", 3]), optimizer=st.sampled_from(["sgd", "momentum", "adam", "rmsprop"]),
       frozen=st.booleans(), engine=st.sampled_from(["floats", "arrays", "arrays-numpy"]))
def test_fast_path_gives_the_traced_paths_parameters(seed, hidden, loss, bias_mode, reduction, batch, optimizer,
                                                       frozen, engine):
    """Every engine gives the reference engine's (a traced step's) parameters to 1e-11; no torch needed."""
    assume(engine != "floats" or optimizer == "sgd")        # the float engine runs plain SGD only
    check_fast_against_traced(seed, hidden, loss, bias_mode, reduction, batch, optimizer, frozen, engine)


def test_the_engine_is_an_argument_and_reported():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(4, 2)), rng.uniform(size=(4, 1))
    chosen = {}
    for engine in ("auto", "reference", "arrays", "arrays-numpy", "floats"):
        network = random_network(np.random.default_rng(0), [2, 3, 1], "tanh", "sigmoid", "mse")
        chosen[engine] = cr.fit(network, x, t, TrainingConfig(epochs=2), engine=engine).engine
    assert chosen == {"auto": "floats", "reference": "reference", "arrays": "arrays", "arrays-numpy": "arrays-numpy",
                      "floats": "floats"}
    with pytest.raises(ValueError, match="engine: expected one of auto, reference"):
        cr.fit(network, x, t, TrainingConfig(), engine="gpu")
    with pytest.raises(ValueError, match="engine: expected 'floats' only for plain SGD"):
        cr.fit(network, x, t, TrainingConfig(optimizer="adam"), engine="floats")


def test_scipy_gemm_is_used_when_installed():
    pytest.importorskip("scipy")
    from chainrule.training import arrays
    assert all(f is not None for dtype in (np.float32, np.float64) for f in arrays._scipy_blas(dtype))


def check_fast_against_traced(seed, hidden, loss, bias_mode, reduction, batch, optimizer, frozen, engine):
    rng = np.random.default_rng(seed)
    sizes = [3, 4, 3, 2]
    x, t = rng.normal(size=(7, 3)), targets(rng, loss, 7, 2)
    options = {"sgd": {}, "momentum": {"momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
               "adam": {"optimizer": "adam", "learning_rate": 0.01},
               "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.01, "momentum": 0.5, "weight_decay": 0.01}}[optimizer]
    config = TrainingConfig(**{"learning_rate": 0.05, "batch": batch, "reduction": reduction, "epochs": 2,
                               "shuffle": True, "seed": seed, "frozen": ("w1", "w7") if frozen else (), **options})
    fast = random_network(np.random.default_rng(seed), sizes, hidden, OUTPUT.get(loss, "sigmoid"), loss,
                          bias_mode=bias_mode)
    traced = random_network(np.random.default_rng(seed), sizes, hidden, OUTPUT.get(loss, "sigmoid"), loss,
                            bias_mode=bias_mode)
    assert cr.fit(fast, x, t, config, engine=engine).engine == engine
    steps = 2 * len(range(0, 7, config.batch_size(7)))
    cr.trace_steps(traced, x, t, config, steps)
    for a, b in zip(fast.parameters(), traced.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    if frozen:
        assert fast.labels["w1"].get(fast) == random_network(np.random.default_rng(seed), sizes, hidden,
                                                             OUTPUT.get(loss, "sigmoid"), loss,
                                                             bias_mode=bias_mode).labels["w1"].get(fast)


@pytest.mark.parametrize("engine", ["arrays", "arrays-numpy"])
def test_parameters_not_c_ordered_are_updated_where_they_are(engine):
    """SciPy's in-place update (W ← W − δᵀx inside the gemm, b ← b − δᵀ1 by gemv) writes into a copy of an
    array not C-ordered; such a network still trains as the traced step does, in its own arrays."""
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(9, 3)), np.eye(2)[rng.integers(0, 2, 9)]
    config = TrainingConfig(learning_rate=0.2, batch=4, reduction="mean", epochs=3)
    fast, traced = (random_network(np.random.default_rng(3), [3, 5, 2], "relu", "softmax", "cross_entropy")
                    for _ in range(2))
    fast.layers[0].weights = np.asfortranarray(fast.layers[0].weights)
    kept = fast.layers[0].weights
    cr.fit(fast, x, t, config, engine=engine)
    cr.trace_steps(traced, x, t, config, 3 * 3)
    assert fast.layers[0].weights is kept
    for a, b in zip(fast.parameters(), traced.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_fast_path_in_float32_stays_float32_and_close_to_float64():
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(50, 3)).astype(np.float32), np.eye(2, dtype=np.float32)[rng.integers(0, 2, 50)]
    nets = [random_network(np.random.default_rng(1), [3, 8, 2], "relu", "softmax", "cross_entropy", dtype=d)
            for d in (np.float32, np.float64)]
    config = TrainingConfig(learning_rate=0.1, batch=10, reduction="mean", epochs=3)
    for net in nets:
        cr.fit(net, x, t, config)
    for a, b in zip(*(net.parameters() for net in nets)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_non_finite_loss_stops_with_advice_and_no_warnings():
    rng = np.random.default_rng(0)
    network = random_network(rng, [2, 4, 1], "relu", "identity", "sse")
    x, t = rng.normal(size=(20, 2)) * 1e3, rng.normal(size=(20, 1)) * 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged, match=r"epoch \d+, step \d+: the loss became .*lower learning_rate"):
            cr.fit(network, x, t, TrainingConfig(learning_rate=10.0, batch=4, epochs=50))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "softplus", "elu"])
@pytest.mark.parametrize("bias_mode, frozen", [("per_neuron", ("w1", "b2")), ("shared", ("b1",)), ("none", ())])
def test_the_written_out_online_step_is_the_loop_form_bit_for_bit(activation, bias_mode, frozen, monkeypatch):
    """The float engine's online step, written out for the network's shape (floats.written_out_online_step), does
    the loop form's operations in its order: the same parameters and batch losses exactly (the reference engine
    is the oracle of both, above)."""
    from chainrule.training import floats
    monkeypatch.setattr(floats, "WRITE_OUT_AFTER", 0)       # written out from the first step
    rng = np.random.default_rng(5)
    x, t = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))

    def trained():
        net = cr.mlp([3, 4, 3, 2], activation=activation, output_activation="sigmoid", seed=1,
                     bias=None if bias_mode == "none" else 0.1, bias_mode=bias_mode)
        history = cr.fit(net, x, t, batch="online", epochs=4, learning_rate=0.3, epoch_loss="batches", frozen=frozen,
                         engine="floats")
        return net.parameters(), history.loss_history

    written_out = trained()
    monkeypatch.setattr(floats, "written_out_online_step", lambda trainer: None)
    loops = trained()
    assert all(np.array_equal(a, b) for a, b in zip(written_out[0], loops[0])) and written_out[1] == loops[1]


@pytest.mark.parametrize("rows, output, loss, batch", [(1, "sigmoid", "mse", "full"), (4, "sigmoid", "bce", "full"),
                                                      (1, "softmax", "cross_entropy", "online"), (5, "sigmoid", "mse", 2)])
def test_full_batch_float_training_makes_one_forward_pass_an_epoch(rows, output, loss, batch, monkeypatch):
    """With the whole data as every epoch's one batch, the forward pass that gives an epoch's loss is the next
    step's: the float engine's step starts from it (written-out online step, online loop form, batch loop form) —
    one pass an epoch, not two — and trains as the reference engine does.  Mini-batches (5 rows in batches of 2)
    make their own."""
    from chainrule.training import floats
    rng = np.random.default_rng(rows)
    x = rng.normal(size=(rows, 3))
    t = np.eye(2)[rng.integers(0, 2, rows)] if loss == "cross_entropy" else rng.uniform(size=(rows, 2))
    passes = {"rows": 0}
    loop_forward, write_out = floats.FloatTrainer._forward, floats.written_out_online_step

    def counted_forward(self, row):
        passes["rows"] += 1
        return loop_forward(self, row)

    def counted_write_out(trainer):
        step = write_out(trainer)
        if step is None:
            return None

        def counted(*args):
            passes["rows"] += args[-1] is None      # the step makes the row's forward values itself
            return step(*args)

        def forward(row):
            passes["rows"] += 1
            return step.forward(row)
        counted.forward = forward
        return counted

    monkeypatch.setattr(floats.FloatTrainer, "_forward", counted_forward)
    monkeypatch.setattr(floats, "written_out_online_step", counted_write_out)
    monkeypatch.setattr(floats, "WRITE_OUT_AFTER", 2)       # two steps in the loop form, then written out
    config = TrainingConfig(learning_rate=0.5, batch=batch, reduction="mean", epochs=6)
    networks = [cr.mlp([3, 4, 2], activation="tanh", output_activation=output, loss=loss, seed=3) for _ in range(2)]
    ours = cr.fit(networks[0], x, t, config, engine="floats")
    counted = dict(passes)
    theirs = cr.fit(networks[1], x, t, config, engine="reference")
    for a, b in zip(*(n.parameters() for n in networks)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose([ours.initial_loss, *ours.loss_history], [theirs.initial_loss, *theirs.loss_history],
                               rtol=1e-11)
    steps_a_epoch = len(range(0, rows, config.batch_size(rows)))
    # the loss before training and after each epoch; with mini-batches each step makes its own too
    assert counted == {"rows": rows * 7 + (0 if steps_a_epoch == 1 else rows * 6)}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.sampled_from(HIDDEN), loss=st.sampled_from(losses.NAMES),
       bias_mode=st.sampled_from(["per_neuron", "shared", "none"]), reduction=st.sampled_from(["sum", "mean"]),
       rows=st.sampled_from([1, 5, 70]))
def test_the_float_engines_dataset_loss_is_the_networks(seed, hidden, loss, bias_mode, reduction, rows):
    """The float engine gives the per-epoch loss by its own forward pass on floats (up to MAX_LOSS_ROWS rows; the
    network's beyond): the network's dataset loss, to float rounding, without writing the parameters back."""
    from chainrule.training import floats
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=(rows, 3)), targets(rng, loss, rows, 2)
    network = random_network(rng, [3, 4, 2], hidden, OUTPUT.get(loss, "sigmoid"), loss, bias_mode=bias_mode)
    trainer = floats.FloatTrainer(network, cr.TrainingConfig(learning_rate=0.1).build_optimizer(), reduction)
    trainer.step(trainer.prepare(x[:1], t[:1]))          # the trainer's floats move on; the network's arrays stay
    before = [p.copy() for p in network.parameters()]
    ours = trainer.dataset_loss(x, t, reduction)
    if rows <= floats.MAX_LOSS_ROWS:
        assert all(np.array_equal(a, b) for a, b in zip(before, network.parameters()))
    trainer.sync()
    np.testing.assert_allclose(ours, network.dataset_loss(x, t, reduction), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [1.0, 300.0])
def test_batch_losses_of_one_hot_targets_read_at_the_class_are_the_log_softmax_ones(dtype, scale):
    """With one-hot targets the arrays engine reads each sample's cross-entropy off the softmax output at its
    class, −ln out_c; oracle: the reference engine's −Σ_k t_k·ln softmax_k(net), from net. Weights ×300 make
    target outputs underflow to 0: then the engine computes it from net too — a large loss, not inf."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(30, 4)).astype(dtype)
    t = np.eye(3, dtype=dtype)[rng.integers(0, 3, 30)]
    histories, outputs = [], None
    for engine in ("arrays", "reference"):
        network = random_network(np.random.default_rng(11), [4, 6, 3], "relu", "softmax", "cross_entropy", dtype=dtype)
        for layer in network.layers:
            layer.weights *= scale
        outputs = network.predict(x)
        config = TrainingConfig(learning_rate=1e-9, batch=10, epochs=2, epoch_loss="batches", reduction="mean")
        histories.append(cr.fit(network, x, t, config, engine=engine).loss_history)
    assert (np.sum(outputs * t, axis=1) == 0).any() == (scale > 1)
    assert np.all(np.isfinite(histories[0]))
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-12 if dtype == np.float64 else 1e-5)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.sampled_from(HIDDEN), loss=st.sampled_from(losses.NAMES),
       bias_mode=st.sampled_from(["per_neuron", "shared", "none"]), reduction=st.sampled_from(["sum", "mean"]),
       rows=st.sampled_from([1, 7, 1024, 2500]), batch=st.sampled_from([1, 16, 3000]), blas=st.sampled_from(["auto", "numpy"]))
@example(seed=233, hidden="elu", loss="cross_entropy", bias_mode="per_neuron", reduction="sum", rows=1, batch=1, blas="auto")
def test_the_arrays_engines_dataset_loss_is_the_networks(seed, hidden, loss, bias_mode, reduction, rows, batch, blas):
    """The arrays engine takes the per-epoch loss by its own forward pass, a block of rows at a time in buffers
    of its own (one-hot targets read at their class); oracle: the network's dataset loss on the whole data.
    −ln out_c, read off a softmax output near 1, is as exact as out_c is: a few 1e-17 from the network's
    −ln softmax_c(net) when the loss is as small as 1e-6 (seed 233, elu) — an absolute tolerance of 1e-15 a row."""
    from chainrule.training import arrays
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=(rows, 3)), targets(rng, loss, rows, 2)
    network = random_network(rng, [3, 4, 2], hidden, OUTPUT.get(loss, "sigmoid"), loss, bias_mode=bias_mode)
    one_hot = loss == "cross_entropy"
    trainer = arrays.ArrayTrainer(network, cr.TrainingConfig(learning_rate=0.1).build_optimizer(), reduction,
                                  batch_size=min(batch, rows), blas=blas, one_hot=one_hot)
    np.testing.assert_allclose(trainer.dataset_loss(x, t, reduction), network.dataset_loss(x, t, reduction),
                               rtol=1e-12, atol=1e-15 * (rows if reduction == "sum" else 1))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_the_networks_dataset_loss_on_large_data_runs_in_blocks_and_is_the_whole_datas(reduction):
    """Beyond metrics.CHUNK rows the network runs forward a block at a time; oracle: the loss of all 9,000 rows
    written out here in NumPy (tanh hidden layer, softmax, cross-entropy)."""
    from chainrule.core import metrics
    rng = np.random.default_rng(8)
    x, t = rng.normal(size=(9000, 3)), np.eye(3)[rng.integers(0, 3, 9000)]
    assert len(x) > 2 * metrics.CHUNK
    network = random_network(rng, [3, 5, 3], "tanh", "softmax", "cross_entropy")
    (w1, b1), (w2, b2) = ((layer.weights, layer.bias) for layer in network.layers)
    z = np.tanh(x @ w1.T + b1) @ w2.T + b2
    per_sample = -np.sum(t * (z - z.max(axis=1, keepdims=True)
                              - np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))), axis=1)
    expected = per_sample.sum() if reduction == "sum" else per_sample.mean()
    np.testing.assert_allclose(network.dataset_loss(x, t, reduction), expected, rtol=1e-12)
