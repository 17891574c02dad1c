"""Faults (issue 14): a process killed (SIGKILL) in the middle of any write leaves the previous file
whole; a full disk is one line naming the user's file, with the previous file as it was and no temporary
file left; a diverging run stops with advice and its checkpoint still loads and trains on."""

import errno
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from conftest import DIVERGES
from test_bad_input import snapshot

WRITER = """
import sys, numpy as np, chainrule as cr
from chainrule.formats.io import write_atomically
path, kind = sys.argv[1], sys.argv[2]
spec = cr.loads('[network]\\ninputs = 300\\n[[network.layers]]\\nunits = 300\\n[[network.layers]]\\nunits = 2\\n')
network = spec.build_network()
print("ready", flush=True)
i = 1
while True:                        # version i: every parameter equal to i
    for layer in network.layers:
        layer.weights[...] = i
        layer.bias[...] = i
    if kind == "text":
        write_atomically(path, f"version {i}\\n" * 200_000)
    else:
        cr.save_model(network, path)
    i += 1
"""


def version(path: Path, kind: str) -> int:
    """The one version a file holds whole (fails on a torn or mixed file)."""
    if kind == "text":
        lines = set(path.read_text().splitlines())
        assert len(lines) == 1 and len(path.read_text()) == len(next(iter(lines))) * 200_000 + 200_000
        return int(next(iter(lines)).split()[1])
    network = cr.load_model(path)
    values = np.concatenate([np.ravel(a) for layer in network.layers for a in (layer.weights, layer.bias)])
    assert values.size == 300 * 300 + 300 + 2 * 300 + 2 and np.all(values == values[0])
    return int(values[0])


@pytest.mark.parametrize("suffix", [".json", ".npz", ".safetensors", ".txt"])
def test_a_kill_during_a_write_leaves_a_whole_file(tmp_path, suffix):
    """A writer saving 90,902-parameter models (or a 2 MB text, as plots and answers are written) over and
    over is killed at 8 random moments: each time the file is one whole version, never a torn one."""
    kind = "text" if suffix == ".txt" else "model"
    path = tmp_path / f"m{suffix}"
    chance = random.Random(suffix)
    seen = []
    for _ in range(8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), kind], stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 20
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(chance.uniform(0.0, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=20)
        seen.append(version(path, kind))
    assert all(v >= 1 for v in seen)
    print(f"{suffix}: versions {seen}, {len(list(tmp_path.glob('.*')))} kills mid-write")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    assert all(name.startswith(f".{path.name}.") for name in leftovers)   # a killed writer's temporary, hidden


def full_disk(*_):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("argv, target", [
    (["train", "mazur", "--epochs", "1", "--save", "m.json"], "m.json"),
    (["train", "mazur", "--epochs", "1", "--save", "m.npz"], "m.npz"),
    (["train", "mazur", "--epochs", "1", "--save", "m.safetensors"], "m.safetensors"),
    (["train", "mazur", "--epochs", "3", "--checkpoint", "m.json", "--checkpoint-every", "1"], "m.json"),
])
def test_a_full_disk_is_one_line_and_the_previous_file_stays(tmp_path, monkeypatch, capsys, argv, target):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "mazur", "--epochs", "2", "--save", target], out=io.StringIO()) == 0
    capsys.readouterr()
    before = snapshot(tmp_path)
    monkeypatch.setattr(os, "fsync", full_disk)             # the disk fills as the file is flushed
    assert main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err == (f"chainrule: error: {target}: expected to write the file, got No space left on device; "
                   "the previous file is as it was\n")
    assert snapshot(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == [target]


def test_a_full_disk_on_a_new_file_leaves_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "fsync", full_disk)
    assert main(["train", "mazur", "--epochs", "1", "--save", "new.npz"], out=io.StringIO()) == 2
    assert capsys.readouterr().err == "chainrule: error: new.npz: expected to write the file, got No space left on device\n"
    assert list(tmp_path.iterdir()) == []


def test_a_diverging_run_stops_with_advice_and_its_checkpoint_goes_on(tmp_path, monkeypatch, capsys):
    """w' = w − η·∂E/∂w on inputs of 100 with η = 10 grows 10⁶-fold an epoch: the loss is inf within 30
    epochs. The run stops there with advice; the checkpoint holds the last finite weights and resumes."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.toml").write_text(DIVERGES)
    assert main(["train", "d.toml", "--checkpoint", "ck.json", "--checkpoint-every", "1"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "the loss became inf" in err and "Try a lower learning_rate (now 10)" in err and err.count("\n") == 1
    network = cr.load_model("ck.json")
    assert all(np.isfinite(layer.weights).all() for layer in network.layers)
    out = io.StringIO()
    assert main(["train", "--resume", "ck.json", "--learning-rate", "1e-9", "--epochs", "2"], out=out) == 0
    assert "input (100) → output" in out.getvalue()
