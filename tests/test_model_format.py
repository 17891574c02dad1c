"""The model format, version 2: a network with its run (training settings, history, optimiser state,
epochs run, RNG state) in JSON, .npz or .safetensors; bit-exact round trips; a table of malformed
files, each refused in one line that names the file and the key, changing no file; SIGKILL during a
write leaves the previous file loadable."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.formats import io as model_io
from chainrule.core.build import network_to_table
from chainrule.formats.serialize import FORMAT, VERSION
from chainrule.training.run import Run

SUFFIXES = [".json", ".npz", ".safetensors"]
SRC = Path(__file__).parent.parent / "src"


def trained_run(optimizer="adam") -> cr.Network:
    """A 2-3-2 network after 3 shuffled epochs of Adam (or SGD with momentum), with its run attached."""
    rng = np.random.default_rng(11)
    net = cr.mlp([2, 3, 2], activation="tanh", loss="cross_entropy", seed=4, bias_mode=["shared", "per_neuron"])
    x, labels = rng.normal(size=(12, 2)), rng.integers(0, 2, 12)
    settings = {"adam": dict(optimizer="adam", learning_rate=0.01, beta1=0.8),
                "sgd": dict(optimizer="sgd", learning_rate=0.05, momentum=0.9, nesterov=True)}[optimizer]
    config = cr.TrainingConfig(epochs=3, batch=4, shuffle=True, seed=3, **settings)
    optimizer_state = config.build_optimizer()
    history = cr.fit(net, x, labels, config, resume=optimizer_state)
    net.run = Run(config, history, optimizer_state, 3, np.random.default_rng(9).bit_generator.state)
    return net


def snapshot(directory: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in directory.iterdir()}


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_round_trip_is_bit_exact(tmp_path, suffix, optimizer):
    net = trained_run(optimizer)
    path = tmp_path / f"model{suffix}"
    net.save(path, "run")
    back = cr.load_model(path)
    assert network_to_table(back) == network_to_table(net)                         # the spec, every value
    for p, q in zip(net.parameters(), back.parameters()):
        assert p.dtype == q.dtype and np.array_equal(p, q)
    run, saved = back.run, net.run
    assert run.training == saved.training and run.epoch == 3 and run.rng == saved.rng
    assert asdict(run.history) == asdict(saved.history)
    assert run.optimizer.name == saved.optimizer.name and run.optimizer.t == saved.optimizer.t > 0
    assert sorted(run.optimizer.states) == sorted(saved.optimizer.states)
    for i in saved.optimizer.states:
        for name, array in saved.optimizer.state(i).items():
            assert np.array_equal(run.optimizer.state(i)[name], array)
            assert run.optimizer.state(i)[name].dtype == array.dtype


def early_stopped_checkpoint(directory: Path, suffix: str) -> Path:
    """A checkpoint after epoch 4 of a run with early stopping: it holds the best parameters so far."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    net = cr.mlp([1, 4, 1], activation="tanh", loss="mse", seed=2)
    net.fit(x, np.sin(3 * x), epochs=50, learning_rate=0.05, optimizer="adam", batch=5, validation_fraction=0.25,
            checkpoint=lambda n: n.save(directory / f"ck{n.run.epoch}{suffix}") if n.run.epoch == 4 else None,
            checkpoint_every=4)
    return directory / f"ck4{suffix}"


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_early_stoppings_best_parameters_round_trip(tmp_path, suffix):
    path = early_stopped_checkpoint(tmp_path, suffix)
    first = cr.load_model(path)
    assert first.run.best is not None and first.run.history.best_epoch is not None
    first.save(tmp_path / f"again{suffix}")
    again = cr.load_model(tmp_path / f"again{suffix}")
    assert len(again.run.best) == len(first.parameters())
    for p, q, r in zip(first.run.best, again.run.best, first.parameters()):
        assert np.array_equal(p, q) and p.shape == r.shape and p.dtype == q.dtype


@pytest.mark.parametrize("suffix, key, spoil, message", [
    (".npz", "best_0", lambda a: np.zeros((2, 2)), "best_0: expected finite numbers of shape (4, 1), got shape (2, 2)"),
    (".npz", "best_1", None, "best_1: missing; expected the best parameters"),
    (".json", "best", lambda a: a[:1], "best: expected 4 arrays (one per parameter)"),
    (".json", "best_epoch", None, "best: unexpected; expected best parameters only with a history.best_epoch"),
])
def test_malformed_best_parameters_are_refused_in_one_line(tmp_path, suffix, key, spoil, message):
    path = early_stopped_checkpoint(tmp_path, suffix)
    if suffix == ".npz":
        edit_npz(**{key: spoil})(path)
    elif key == "best":
        edit_json(lambda d: d.update(best=spoil(d["best"])))(path)
    else:
        edit_json(lambda d: d["history"].update(best_epoch=None))(path)
    with pytest.raises(cr.SpecError) as error:
        cr.load_model(path)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_network_alone_has_no_run_and_says_who_wrote_it(tmp_path, suffix):
    net = cr.mlp([2, 2, 1], seed=0)
    path = tmp_path / f"m{suffix}"
    net.save(path)
    assert cr.load_model(path).run is None
    if suffix == ".json":
        document = json.loads(path.read_text())
        assert (document["format"], document["version"], document["chainrule"]) == (FORMAT, VERSION, cr.__version__)


def test_an_unknown_suffix_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cr.ConfigError, match=r"^path: expected a model file name ending in \.json, \.npz, "
                                             r"\.safetensors, got 'model\.pt'$"):
        cr.mlp([2, 1]).save("model.pt")
    assert not list(tmp_path.iterdir())
    (tmp_path / "model.pt").write_text("{}")
    with pytest.raises(cr.SpecError, match=r"model\.pt: path: expected a model file name ending in"):
        cr.load_model(tmp_path / "model.pt")


# ---- malformed files: (name, suffix, how to spoil a good file, what the message says) -----------------------

def edit_json(change):
    def spoil(path: Path):
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document))
    return spoil


def edit_npz(change=None, **arrays):
    def spoil(path: Path):
        with np.load(path, allow_pickle=False) as archive:
            content = {name: archive[name] for name in archive.files}
        document = json.loads(str(content["model"]))
        if change:
            change(document)
        content["model"] = np.array(json.dumps(document))
        for name, value in arrays.items():
            if value is None:
                content.pop(name)
            else:
                content[name] = value(content[name]) if callable(value) else value
        with open(path, "wb") as handle:
            np.savez(handle, **content)
    return spoil


def edit_safetensors(change=None, **arrays):
    def spoil(path: Path):
        from safetensors.numpy import load, save
        data = path.read_bytes()
        header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
        document = json.loads(header["__metadata__"]["chainrule-model"])
        if change:
            change(document)
        content = load(data)
        for name, value in arrays.items():
            if value is None:
                content.pop(name)
            else:
                content[name] = value(content[name]) if callable(value) else value
        path.write_bytes(save(content, metadata={"chainrule-model": json.dumps(document)}))
    return spoil


def truncate(path: Path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def set_state_json(value):
    def change(d):
        d["optimizer"]["state"]["0"]["m"] = value
    return change


CASES = [
    ("truncated json", ".json", truncate, "expected a chainrule model (JSON), got invalid JSON"),
    ("truncated npz", ".npz", truncate, "expected a chainrule model (.npz), got an unreadable file"),
    ("truncated safetensors", ".safetensors", truncate, "expected a chainrule model (.safetensors)"),
    ("newer version json", ".json", edit_json(lambda d: d.update(version=99)), "version: expected 2 or lower, got 99"),
    ("newer version npz", ".npz", edit_npz(lambda d: d.update(version=99)), "version: expected 2 or lower, got 99"),
    ("newer version safetensors", ".safetensors", edit_safetensors(lambda d: d.update(version=99)),
     "version: expected 2 or lower, got 99"),
    ("missing format", ".json", edit_json(lambda d: d.pop("format")), "format: expected 'chainrule-model'"),
    ("missing weights npz", ".npz", edit_npz(weights_1=None), "layers[2].weights: missing"),
    ("missing weights safetensors", ".safetensors", edit_safetensors(weights_1=None), "layers[2].weights: missing"),
    ("missing training", ".json", edit_json(lambda d: d.pop("training")), "training: missing"),
    ("missing state array", ".npz", edit_npz(state_0_m=None), "state_0_m: missing; expected adam's"),
    ("wrong state shape npz", ".npz", edit_npz(state_0_m=np.zeros((2, 2))),
     "state_0_m: expected shape (3, 2) (parameter 0), got shape (2, 2)"),
    ("wrong state shape json", ".json", edit_json(set_state_json([[0.0, 0.0]])),
     "state_0_m: expected shape (3, 2) (parameter 0), got shape (1, 2)"),
    ("integer state npz", ".npz", edit_npz(state_0_m=np.zeros((3, 2), dtype=np.int64)),
     "state_0_m: expected float64 numbers, got a int64 array"),
    ("integer weights safetensors", ".safetensors", edit_safetensors(weights_0=lambda a: a.astype(np.int32)),
     "weights"),
    ("NaN state", ".safetensors", edit_safetensors(state_0_m=lambda a: np.full_like(a, np.nan)),
     "state_0_m: expected finite numbers, got NaN or infinity"),
    ("NaN weight json", ".json", edit_json(lambda d: d["network"]["layers"][0]["weights"][0].__setitem__(0, float("nan"))),
     "got invalid JSON: NaN (JSON has no such number"),
    ("NaN loss history", ".json", edit_json(lambda d: d["history"]["loss_history"].__setitem__(0, float("nan"))),
     "got invalid JSON: NaN (JSON has no such number"),
    ("unknown history key", ".json", edit_json(lambda d: d["history"].update(bogus=1)), "history: expected a table of"),
    ("bad training setting", ".json", edit_json(lambda d: d["training"].update(learning_rate=-1)),
     "training.learning_rate: expected a finite number ≥ 0, got -1"),
    ("optimizer unlike training", ".json", edit_json(lambda d: d["optimizer"].update(name="sgd")),
     "optimizer.name: expected 'adam' (training.optimizer), got 'sgd'"),
    ("negative step count", ".npz", edit_npz(lambda d: d["optimizer"].update(t=-3)), "optimizer.t: expected an integer ≥ 0"),
    ("unknown state name", ".npz", edit_npz(state_0_velocity=np.zeros((3, 2))), "state_0_velocity: unexpected"),
    ("state of no parameter", ".npz", edit_npz(state_9_exp_avg=np.zeros(1)), "state_9_exp_avg: unexpected"),
    ("bad rng", ".json", edit_json(lambda d: d.update(rng={"bit_generator": "nope"})), "rng: expected numpy's state"),
    ("negative epoch", ".json", edit_json(lambda d: d.update(epoch=-1)), "epoch: expected an integer ≥ 0, got -1"),
    ("pickled object array", ".npz", edit_npz(weights_0=np.array([{"a": 1}], dtype=object)),
     "weights_0: expected a numeric array, got an unreadable one: Object arrays cannot be loaded"),
    ("no document in safetensors", ".safetensors",
     lambda p: p.write_bytes(__import__("safetensors.numpy").numpy.save({"weights_0": np.zeros((3, 2))})),
     "chainrule-model: missing; expected the model document"),
    ("not a model at all", ".json", lambda p: p.write_text("[1, 2]"), "format: expected a chainrule-model document"),
]


@pytest.mark.parametrize("name, suffix, spoil, message", CASES, ids=[c[0] for c in CASES])
def test_a_malformed_model_is_refused_in_one_line_changing_no_file(tmp_path, name, suffix, spoil, message):
    path = tmp_path / f"model{suffix}"
    trained_run().save(path)
    spoil(path)
    before = snapshot(tmp_path)
    with pytest.raises(cr.SpecError) as error:
        cr.load_model(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and "\n" not in text and message in text, text
    assert snapshot(tmp_path) == before


WRITER = """
import sys, numpy as np, chainrule as cr
net = cr.mlp([400, 400, 10], seed=1)
path = sys.argv[1]
print("ready", flush=True)
while True:
    for layer in net.layers:
        layer.weights += 1.0
    net.save(path, "big")
"""


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_sigkill_during_a_write_leaves_the_previous_file_loadable(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    cr.mlp([400, 400, 10], seed=1).save(path, "first")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    for delay in (0.3, 0.55, 0.8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, env=env)
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        loaded = cr.load_model(path)                      # whole: the old file or a new one, never half of one
        assert loaded.shape_text() == "400-400-10"
