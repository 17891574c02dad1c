"""Continuing and resuming runs (issue 13, item 2): a run interrupted and resumed ends with exactly the
parameters of one that was not — same seed, same batch order, same optimiser state — in memory, through
every model format, and from the command line; Ctrl-C saves a checkpoint and exits cleanly.

The oracle is the uninterrupted run: the property is that interruption changes nothing."""

import io
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import train as train_module
from chainrule.cli import main

OPTIMIZERS = {
    "sgd-momentum": dict(optimizer="sgd", learning_rate=0.05, momentum=0.9),
    "adam": dict(optimizer="adam", learning_rate=0.01),
}
RNG = np.random.default_rng(3)
X, LABELS = RNG.normal(size=(14, 2)), RNG.integers(0, 3, 14)


def network():
    return cr.mlp([2, 4, 3], activation="tanh", loss="cross_entropy", seed=1)


def same(a: cr.Network, b: cr.Network) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("suffix", [".json", ".npz", ".safetensors"])
@pytest.mark.parametrize("engine", ["reference", "arrays"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_run_saved_after_two_epochs_and_continued_equals_the_run_of_six(tmp_path, optimizer, engine, suffix):
    settings = dict(batch=4, shuffle=True, seed=5, engine=engine, **OPTIMIZERS[optimizer])
    whole, part = network(), network()
    whole.fit(X, LABELS, epochs=6, **settings)
    part.fit(X, LABELS, epochs=2, **settings)
    assert not same(whole, part)
    part.save(tmp_path / f"m{suffix}")

    going = cr.load_model(tmp_path / f"m{suffix}")
    assert going.run.epoch == 2 and going.run.optimizer.t == part.run.optimizer.t > 0
    history = going.fit(X, LABELS, epochs=4, engine=engine)     # the run's own settings: seed, batch, optimiser

    assert same(going, whole)
    assert history.start_epoch == 2 and going.run.epoch == 6
    assert going.run.history.loss_history == whole.run.history.loss_history


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_an_interrupted_run_keeps_its_last_whole_epoch_and_resumes_to_the_same_end(tmp_path, optimizer, monkeypatch):
    settings = dict(batch=4, shuffle=True, seed=7, **OPTIMIZERS[optimizer])
    whole = network()
    whole.fit(X, LABELS, epochs=6, **settings)

    ended = train_module._Checkpoints.epoch_ended

    def interrupt_after_three(self, epochs, run):
        ended(self, epochs, run)
        if epochs == 3:
            raise KeyboardInterrupt

    saved = []
    monkeypatch.setattr(train_module._Checkpoints, "epoch_ended", interrupt_after_three)
    interrupted = network()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, LABELS, epochs=6, checkpoint=lambda net: (net.save(tmp_path / "ck.npz"), saved.append(1)),
                        **settings)
    monkeypatch.undo()

    kept = cr.load_model(tmp_path / "ck.npz")
    assert saved and kept.run.epoch == 3 and kept.run.history.stopped_because == "interrupted"
    assert kept.run.remaining() == 3
    kept.fit(X, LABELS)                                           # the 3 epochs left
    assert same(kept, whole) and kept.run.epoch == 6


@pytest.mark.parametrize("batch, output", [(1, "softmax"), (4, "softmax"), (1, "sigmoid"), (4, "sigmoid")])
def test_the_float_engine_interrupted_mid_epoch_keeps_its_last_whole_epoch(tmp_path, batch, output, monkeypatch):
    """The float engine keeps a copy of its own lists after each epoch (not the network's arrays, which it
    writes only when asked): the outer lists, since its steps replace rows and bias lists, never change one in
    place — the loop forms (a batch of 4; one row through softmax) and the written-out online step (one row
    through sigmoid).  A Ctrl-C in the middle of epoch 4 saves the run after epoch 3, which resumes to the
    uninterrupted run's end, bit for bit."""
    settings = dict(batch=batch, shuffle=True, seed=7, learning_rate=0.1, engine="floats")
    from chainrule.training import floats
    monkeypatch.setattr(floats, "WRITE_OUT_AFTER", 20)       # the loop form for 20 steps, then written out

    def network():
        return cr.mlp([2, 4, 3], activation="tanh", output_activation=output,
                      loss="cross_entropy" if output == "softmax" else "mse", seed=1)
    whole = network()
    whole.fit(X, LABELS, epochs=6, **settings)

    steps, per_epoch = [], -(-len(X) // batch)
    step = floats.FloatTrainer.step

    def interrupt(self, *args, **kwargs):       # Ctrl-C half-way through epoch 4, its first steps taken
        steps.append(1)
        if len(steps) > 3 * per_epoch + per_epoch // 2:
            raise KeyboardInterrupt
        return step(self, *args, **kwargs)

    monkeypatch.setattr(floats.FloatTrainer, "step", interrupt)
    interrupted = network()
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, LABELS, epochs=6, checkpoint=lambda net: net.save(tmp_path / "ck.json"), **settings)
    monkeypatch.undo()
    kept = cr.load_model(tmp_path / "ck.json")
    assert kept.run.epoch == 3 and kept.run.history.stopped_because == "interrupted" and kept.run.remaining() == 3
    assert kept.fit(X, LABELS, engine="floats").engine == "floats"
    assert same(kept, whole) and kept.run.epoch == 6


def test_periodic_checkpoints_hold_the_run_after_each_nth_epoch(tmp_path):
    settings = dict(batch=4, shuffle=True, seed=2, **OPTIMIZERS["adam"])
    epochs_seen = []

    def checkpoint(net):
        epochs_seen.append(net.run.epoch)
        net.save(tmp_path / f"ck{net.run.epoch}.json")

    network().fit(X, LABELS, epochs=7, checkpoint=checkpoint, checkpoint_every=3, **settings)
    assert epochs_seen == [3, 6, 7]                                # every 3rd epoch and the end
    four_more = cr.load_model(tmp_path / "ck3.json")
    assert four_more.run.history.stopped_because == "checkpoint" and four_more.run.remaining() == 4
    four_more.fit(X, LABELS)
    assert same(four_more, cr.load_model(tmp_path / "ck7.json"))


def test_early_stopping_resumed_keeps_its_best_epoch_and_patience(tmp_path):
    x = np.linspace(-2, 2, 40).reshape(-1, 1)
    t = np.sin(2 * x) + 0.3 * np.cos(7 * x)
    settings = dict(epochs=200, learning_rate=0.05, batch=8, shuffle=True, seed=4, optimizer="adam",
                    validation_fraction=0.25, patience=4)
    whole = cr.mlp([1, 8, 1], activation="tanh", loss="mse", seed=3)
    whole.fit(x, t, **settings)
    stopped = whole.run.history.stopped_because
    assert "validation" in stopped and whole.run.epoch < 200       # the rule did stop it

    part = cr.mlp([1, 8, 1], activation="tanh", loss="mse", seed=3)
    part.fit(x, t, checkpoint=lambda net: net.save(tmp_path / f"ck{net.run.epoch}.npz"), checkpoint_every=3,
             **settings)
    going = cr.load_model(tmp_path / "ck3.npz")                   # as if the process had died after epoch 3
    assert going.run.best is not None and going.run.remaining() == 197
    going.fit(x, t)
    assert going.run.history.stopped_because == stopped and going.run.epoch == whole.run.epoch
    assert going.run.history.loss_history == whole.run.history.loss_history
    assert same(going, whole)


def test_fit_refuses_what_it_cannot_go_on_from():
    net = network()
    with pytest.raises(cr.ConfigError, match="resume"):
        net.fit(X, LABELS, epochs=1, resume="ck.json")
    with pytest.raises(cr.ConfigError, match="checkpoint_every"):
        net.fit(X, LABELS, epochs=1, checkpoint=lambda n: None, checkpoint_every=-1)
    net.fit(X, LABELS, epochs=2)
    with pytest.raises(cr.ConfigError, match="epochs"):
        net.fit(X, LABELS)                                         # the run has ended: how many more?


# ---- the command line ---------------------------------------------------------------------------------------

SPEC = """
[network]
inputs = 2
loss = "cross_entropy"
[[network.layers]]
units = 4
activation = "tanh"
init = {{ kind = "xavier", seed = 3 }}
[[network.layers]]
units = 3
activation = "softmax"
init = {{ kind = "xavier", seed = 4 }}
[training]
epochs = {epochs}
batch = 3
shuffle = true
seed = 11
{optimizer}
[data]
inputs = {inputs}
targets = {targets}
"""
CLI_OPTIMIZERS = {"sgd-momentum": 'optimizer = "sgd"\nlearning_rate = 0.05\nmomentum = 0.9',
                  "adam": 'optimizer = "adam"\nlearning_rate = 0.01'}


def write_spec(directory: Path, optimizer: str, epochs: int = 6) -> Path:
    spec = directory / "run.toml"
    spec.write_text(SPEC.format(epochs=epochs, optimizer=CLI_OPTIMIZERS[optimizer], inputs=X.round(3).tolist(),
                                targets=np.eye(3)[LABELS].tolist()))
    return spec


def cli(*argv):
    out = io.StringIO()
    return main([str(a) for a in argv], out=out), out.getvalue()


def parameters(path: Path) -> list:
    return json.loads(path.read_text())["network"]["layers"]


@pytest.mark.parametrize("optimizer", CLI_OPTIMIZERS)
def test_cli_interrupted_and_resumed_equals_uninterrupted(tmp_path, optimizer, monkeypatch, capsys):
    spec = write_spec(tmp_path, optimizer)
    assert cli("train", spec, "--quiet", "--save", tmp_path / "whole.json")[0] == 0

    ended = train_module._Checkpoints.epoch_ended

    def interrupt_after_four(self, epochs, run):
        ended(self, epochs, run)
        if epochs == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module._Checkpoints, "epoch_ended", interrupt_after_four)
    code, _ = cli("train", spec, "--quiet", "--checkpoint", tmp_path / "ck.json", "--checkpoint-every", 2)
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 130 and "interrupted; saved the run as it was after epoch 4" in err
    assert f"chainrule train --resume {tmp_path / 'ck.json'}" in err

    assert cli("train", "--resume", tmp_path / "ck.json", "--quiet", "--save", tmp_path / "resumed.json")[0] == 0
    assert parameters(tmp_path / "resumed.json") == parameters(tmp_path / "whole.json")


def test_cli_train_model_goes_on_for_more_epochs(tmp_path, capsys):
    write_spec(tmp_path, "adam", epochs=6)
    assert cli("train", tmp_path / "run.toml", "--quiet", "--save", tmp_path / "six.npz")[0] == 0
    write_spec(tmp_path, "adam", epochs=2)
    assert cli("train", tmp_path / "run.toml", "--quiet", "--save", tmp_path / "two.npz")[0] == 0

    code, _ = cli("train", tmp_path / "two.npz", "--quiet")
    assert code == 2 and "expected --epochs N (how many more), got a run that has ended after 2 epochs" in \
        capsys.readouterr().err
    code, text = cli("train", tmp_path / "two.npz", "--epochs", 4, "--json", "--save", tmp_path / "two+4.npz")
    assert code == 0 and json.loads(text)["epochs_run"] == 4 and json.loads(text)["start_epoch"] == 2
    assert same(cr.load_model(tmp_path / "two+4.npz"), cr.load_model(tmp_path / "six.npz"))


def test_cli_train_model_without_a_run_or_data_is_refused(tmp_path, capsys):
    network().save(tmp_path / "bare.json")
    code, _ = cli("train", tmp_path / "bare.json", "--epochs", 1)
    err = capsys.readouterr().err
    assert code == 2 and "bare.json" in err and err.count("\n") == 1

    trained = network()
    trained.fit(X, LABELS, epochs=1)                      # a run, but trained from Python: no [data] to find
    trained.save(tmp_path / "python.json")
    code, _ = cli("train", tmp_path / "python.json", "--epochs", 1)
    err = capsys.readouterr().err
    assert code == 2 and "python.json" in err and "data" in err and err.count("\n") == 1


@pytest.mark.parametrize("flag", ["--save", "--checkpoint"])
@pytest.mark.parametrize("path, message", [
    ("model.txt", "expected a model file name ending in .json, .npz, .safetensors, got 'model.txt'"),
    ("missing/model.json", "directory"),
    ("", "got ''"),
    ("out.json", "a directory"),                                  # made a directory below
    ("run.toml/model.json", "not a directory"),
])
def test_a_bad_output_path_is_refused_before_training_naming_the_option(tmp_path, monkeypatch, capsys, flag, path,
                                                                        message):
    spec = write_spec(tmp_path, "adam")
    (tmp_path / "out.json").mkdir()
    monkeypatch.chdir(tmp_path)
    trained = []
    monkeypatch.setattr(train_module, "_fit", lambda *a, **k: trained.append(1))
    before = sorted(os.listdir(tmp_path))
    code, _ = cli("train", spec, "--quiet", flag, path)
    err = capsys.readouterr().err
    assert code == 2 and flag in err and message in err and err.count("\n") == 1, err
    assert not trained and sorted(os.listdir(tmp_path)) == before


def test_checkpoint_every_needs_a_checkpoint_file(tmp_path, capsys):
    code, _ = cli("train", write_spec(tmp_path, "adam"), "--checkpoint-every", 2)
    assert code == 2 and "--checkpoint-every: expected --checkpoint FILE with it" in capsys.readouterr().err


def test_ctrl_c_in_a_real_process_saves_a_checkpoint_and_exits_130(tmp_path):
    spec = write_spec(tmp_path, "sgd-momentum", epochs=10_000_000)
    checkpoint = tmp_path / "ck.npz"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "train", str(spec), "--quiet",
                                "--checkpoint", str(checkpoint), "--checkpoint-every", "200"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert checkpoint.exists(), process.communicate()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted; saved the run as it was after epoch" in err
    kept = cr.load_model(checkpoint)
    assert kept.run.history.stopped_because == "interrupted" and kept.run.epoch >= 200
    assert kept.run.remaining() == 10_000_000 - kept.run.epoch
    assert not list(tmp_path.glob("*.tmp*"))                       # no half-written file left beside it
