"""Memory of MNIST training, each competitor in its own fresh process (run by benchmarks/run.py):

    python benchmarks/memory.py [EPOCHS]

the peak resident memory of the first epoch above what the process held with the data loaded and the model
built (Linux's VmHWM, reset just before), and the resident memory after epoch 1 against after the last epoch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import chainrule as cr                                     # noqa: E402
from chainrule.datasets import load_mnist, one_hot         # noqa: E402
from chainrule.training.train import TrainingConfig        # noqa: E402


def _resident_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in KiB, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    """Linux (≥ 4.0): writing 5 to clear_refs resets VmHWM to the current RSS."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def memory_child(competitor: str, dtype_name: str, epochs: int) -> None:
    """Run in a fresh process: the MNIST data loaded and the model built, then epochs of training; prints one
    JSON line {before, peak, after: [RSS after each epoch]} in KiB — peak is VmHWM over the first epoch.  Each
    competitor first takes one step on a spare model (or a backward pass), so the imports done at first use and
    the BLAS's buffers are in 'before', not in the epoch's peak."""
    dtype = np.dtype(dtype_name).type
    x, y, _, _ = load_mnist(dtype=dtype)
    t = one_hot(y, 10, dtype)
    sizes, batch, rate = [784, 256, 128, 10], 128, 0.1
    after: list = []
    marks: dict = {}

    def epoch_ended(*_):
        if not after:
            marks["peak"] = _resident_kib("VmHWM")
        after.append(_resident_kib("VmRSS"))

    if competitor == "chainrule":
        network = cr.mlp(sizes, "relu", loss="cross_entropy", output_activation="softmax", init="he", seed=0,
                         dtype=dtype)
        config = TrainingConfig(learning_rate=rate, batch=batch, reduction="mean", epochs=epochs, shuffle=True,
                                epoch_loss="batches")
        warm_up = cr.mlp(sizes, "relu", loss="cross_entropy", output_activation="softmax", dtype=dtype)
        cr.fit(warm_up, x[:batch], t[:batch], config.replace(epochs=1))     # lazy imports, BLAS buffers
        _reset_peak()
        marks["before"] = _resident_kib("VmRSS")
        cr.fit(network, x, t, config, callback=epoch_ended)
    else:
        import torch
        torch.set_num_threads(2)
        tdtype = torch.float32 if dtype == np.float32 else torch.float64
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(tdtype)
        optimizer = torch.optim.SGD(model.parameters(), lr=rate)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
        generator = torch.Generator().manual_seed(0)
        torch.nn.functional.cross_entropy(model(xt[:batch]), yt[:batch]).backward()     # not a step: no update
        model.zero_grad()
        _reset_peak()
        marks["before"] = _resident_kib("VmRSS")
        for _ in range(epochs):
            order = torch.randperm(len(xt), generator=generator)
            for start in range(0, len(xt), batch):
                rows = order[start:start + batch]
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(xt[rows]), yt[rows]).backward()
                optimizer.step()
            epoch_ended()
    print(json.dumps({**marks, "after": after}))


def memory(epochs: int = 3) -> None:
    """Each competitor in its own fresh process (so neither sees the other's allocations): the peak resident
    memory of the first MNIST epoch above what the process held with the data loaded and the model built, and
    the resident memory after epoch 1 against after epoch ``epochs`` (growth would mean per-epoch work kept)."""
    print(f"\nMemory of MNIST 784-256-128-10 training, batch 128, SGD, shuffled, {epochs} epochs, each competitor "
          f"in its own process (MiB; data and model already in memory before 'peak')")
    print(f"  {'':22} {'held before':>12} {'epoch 1 peak':>13} {'after epoch 1':>14} {f'after epoch {epochs}':>15}"
          f" {'growth':>8}")
    competitors = ["chainrule"] + (["PyTorch"] if importlib.util.find_spec("torch") else [])
    for dtype_name in ("float32", "float64"):
        for competitor in competitors:
            out = subprocess.run([sys.executable, __file__, "--child", competitor, dtype_name, str(epochs)],
                                 capture_output=True, text=True, check=True).stdout
            m = json.loads(out.strip().splitlines()[-1])
            mib = [v / 1024 for v in (m["before"], m["peak"] - m["before"], m["after"][0], m["after"][-1])]
            print(f"  {competitor + ' ' + dtype_name:22} {mib[0]:11.1f}  {mib[1]:+12.1f}  {mib[2]:13.1f}  "
                  f"{mib[3]:14.1f}  {mib[3] - mib[2]:+7.1f}")
            growth = (mib[3] - mib[2]) / max(epochs - 1, 1)
            if competitor == "chainrule":       # a float of history per epoch; 1 MiB an epoch would be kept work
                assert growth < 1, f"chainrule {dtype_name}: resident memory grew {growth:.1f} MiB per epoch"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        memory_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        memory(*(int(a) for a in sys.argv[1:2]))
