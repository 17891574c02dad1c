"""Head-to-head training speed, every competitor in this one process, in interleaved rounds.

    python benchmarks/run.py [--rounds 5] [--only mnist|tiny|small|threads|cli|accuracy|memory|recipe] [--long]

1. MNIST MLP 784-256-128-10 (ReLU, softmax cross-entropy, batch 128, plain SGD η = 0.1, one epoch of
   60,000 samples, same initial weights and batch order), float32 and float64: chainrule, PyTorch 2.13
   (2 threads), scikit-learn's MLPClassifier (one partial_fit epoch; for float32 also given the
   float64 arrays most scikit-learn code passes it, X / 255.0), JAX compiled by XLA (a jitted step per
   batch, and the whole epoch as one lax.scan), and the floor: NumPy's matrix products alone (the 8 GEMMs
   of each step, nothing else).
2. The 2-2-2 example (seed 001's network), 10,000 online iterations: chainrule, PyTorch autograd,
   a straightforward NumPy loop and pure-Python loops.
3. A small net, 2-16-16-1 (tanh, MSE) on 1,000 points, batch 10, one epoch: per-step overhead; and
   scikit-learn's digits on 64-100-10 at 1 and 2 BLAS threads and as chosen by the work, idle and beside a
   process keeping one core busy.
4. `chainrule train NAME` for every example and MNIST against the same training from Python.
5. Accuracy: `chainrule train --data mnist --layers 256,128 --epochs 5`, test accuracy (≥ 97% expected).
6. Memory (benchmarks/memory.py): peak resident memory of an MNIST epoch, chainrule and PyTorch each in a
   fresh process, and the resident memory after epoch 1 against after the last (no per-epoch growth).
7. With --long (make bench-long): the MNIST recipe, specs/mnist-best.toml, trained as written; its time, and
   its test error after each epoch, asserted at most 1.5% at the end.

The machine's speed drifts by tens of percent within seconds, so only ratios within one round are
compared: each round runs every competitor once (in a rotated order), and the report gives each
one's median time, min–max, and the median of its per-round ratio to the reference.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import chainrule as cr                                     # noqa: E402
from chainrule.datasets import load_mnist, one_hot         # noqa: E402
from chainrule.training.train import TrainingConfig        # noqa: E402

try:
    import torch
    torch.set_num_threads(2)
except ImportError:                                        # pragma: no cover
    torch = None
try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)              # float64 where asked (float32 arrays stay float32)
except ImportError:                                        # pragma: no cover
    jax = None
try:
    from sklearn.neural_network import MLPClassifier
except ImportError:                                        # pragma: no cover
    MLPClassifier = None


def rounds(competitors: dict, n: int, pause: float = 0.5) -> dict:
    """Time each competitor once per round, rotating the order; {name: [seconds per round]}.
    The pause before each run lets the previous competitor's idle OpenMP/BLAS threads stop spinning."""
    times = {name: [] for name in competitors}
    names = list(competitors)
    for r in range(n):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            prepare, run = competitors[name]
            state = prepare()
            time.sleep(pause)
            start = time.perf_counter()
            run(state)
            times[name].append(time.perf_counter() - start)
    return times


def per_round(times: dict, a: str, b: str) -> str:
    """a's time over b's, median of the rounds' ratios (and their min–max): both measured moments apart."""
    ratios = [ta / tb for ta, tb in zip(times[a], times[b])]
    return f"{statistics.median(ratios):.3g}× ({min(ratios):.3g}–{max(ratios):.3g})"


def report(title: str, times: dict, reference: str) -> None:
    print(f"\n{title}")
    width = max(28, *map(len, times))
    print(f"  {'':{width}} {'median':>10} {'min–max':>19}   ratio to {reference} (median of rounds, min–max)")
    for name, ts in times.items():
        print(f"  {name:{width}} {statistics.median(ts):9.3f}s {min(ts):8.3f}s–{max(ts):7.3f}s   "
              f"{per_round(times, name, reference)}")


# ---- 1. MNIST ---------------------------------------------------------------------------------------------

def mnist(n_rounds: int) -> None:
    x64, y, _, _ = load_mnist(dtype=np.float64)
    sizes, batch, rate = [784, 256, 128, 10], 128, 0.1
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, math.sqrt(2 / a), (b, a)) for a, b in zip(sizes, sizes[1:])]
    for dtype in (np.float32, np.float64):
        x, t = x64.astype(dtype), one_hot(y, 10, dtype)
        name = np.dtype(dtype).name

        def chainrule_prepare():
            layers = [cr.Dense(w, np.zeros(len(w)), dtype=dtype, activation="relu" if k < 2 else "softmax")
                      for k, w in enumerate(weights)]
            return cr.Network(layers, "cross_entropy")

        config = TrainingConfig(learning_rate=rate, batch=batch, reduction="mean", epochs=1, epoch_loss="batches")
        competitors = {f"chainrule {name}": (chainrule_prepare, lambda net: cr.fit(net, x, t, config))}

        if torch is not None:
            tdtype = torch.float32 if dtype == np.float32 else torch.float64
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)

            def torch_prepare():
                model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                            torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(tdtype)
                with torch.no_grad():
                    for linear, w in zip(model[::2], weights):
                        linear.weight.copy_(torch.from_numpy(w))
                        linear.bias.zero_()
                return model, torch.optim.SGD(model.parameters(), lr=rate)

            def torch_run(state):
                model, optimizer = state
                for start in range(0, len(xt), batch):
                    optimizer.zero_grad()
                    loss = torch.nn.functional.cross_entropy(model(xt[start:start + batch]), yt[start:start + batch])
                    loss.backward()
                    optimizer.step()

            competitors[f"PyTorch {torch.__version__.split('+')[0]}"] = (torch_prepare, torch_run)

        if jax is not None:
            competitors.update(jax_competitors(x, y, weights, dtype, batch, rate))

        if MLPClassifier is not None:
            def sklearn(data, data_dtype):
                """MLPClassifier computes in the dtype of the arrays it is given."""
                def prepare():
                    model = MLPClassifier(hidden_layer_sizes=(256, 128), solver="sgd", learning_rate_init=rate,
                                          momentum=0.0, alpha=0.0, batch_size=batch, shuffle=False, max_iter=1)
                    model.partial_fit(data[:batch], y[:batch], classes=np.arange(10))
                    model.coefs_ = [w.T.astype(data_dtype).copy() for w in weights]
                    model.intercepts_ = [np.zeros(len(w), data_dtype) for w in weights]
                    return model
                return prepare, lambda model: model.partial_fit(data, y)

            competitors["scikit-learn MLPClassifier"] = sklearn(x, dtype)
            if dtype == np.float32:     # as most scikit-learn code feeds it: X / 255.0 is float64
                competitors["scikit-learn, float64 input"] = sklearn(x64, np.float64)

        def floor_run(_):
            ws = [w.astype(dtype) for w in weights]
            for start in range(0, len(x), batch):
                xb = x[start:start + batch]
                a1 = xb @ ws[0].T
                a2 = a1 @ ws[1].T
                z = a2 @ ws[2].T
                d2 = z @ ws[2]
                d1 = d2 @ ws[1]
                _ = z.T @ a2, d2.T @ a1, d1.T @ xb

        competitors["floor: NumPy GEMMs only"] = (lambda: None, floor_run)
        reference = f"PyTorch {torch.__version__.split('+')[0]}" if torch is not None else f"chainrule {name}"
        times = rounds(competitors, n_rounds)
        report(f"MNIST 784-256-128-10, {name}, batch {batch}, SGD, one epoch of {len(x):,} samples "
               f"({n_rounds} rounds)", times, reference)
        ours, floor = f"chainrule {name}", "floor: NumPy GEMMs only"
        print(f"  chainrule / PyTorch {per_round(times, ours, reference)}, "
              f"chainrule / floor {per_round(times, ours, floor)}")
        for form in ("jit per step", "lax.scan epoch"):
            if jax is not None:
                print(f"  chainrule / JAX {form} {per_round(times, ours, f'JAX {jax.__version__} {form}')}")
        if MLPClassifier is not None:
            same, wide = "scikit-learn MLPClassifier", "scikit-learn, float64 input"
            print(f"  chainrule / scikit-learn {per_round(times, ours, same)}, "
                  f"scikit-learn / floor {per_round(times, same, floor)}")
            if wide in times:
                print(f"  chainrule / scikit-learn given float64 arrays {per_round(times, ours, wide)}; "
                      f"that scikit-learn / PyTorch {per_round(times, wide, reference)}")


def jax_competitors(x, y, weights, dtype, batch: int, rate: float) -> dict:
    """JAX on the CPU, compiled by XLA (compilation done before the clock starts): one jitted step per batch,
    and the whole epoch as one compiled lax.scan over the full batches (then one step for the last, shorter one)."""
    def loss(params, xb, yb):
        h = xb
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w.T + b)
        w, b = params[-1]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(h @ w.T + b), yb[:, None], axis=1))

    @jax.jit
    def step(params, xb, yb):
        return jax.tree_util.tree_map(lambda p, g: p - rate * g, params, jax.grad(loss)(params, xb, yb))

    full = len(x) // batch * batch
    xs, ys = jnp.asarray(x[:full].reshape(-1, batch, x.shape[1])), jnp.asarray(y[:full].reshape(-1, batch))
    x_rest, y_rest = jnp.asarray(x[full:]), jnp.asarray(y[full:])
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    @jax.jit
    def scanned(params, xs, ys):
        return jax.lax.scan(lambda p, b: (step(p, *b), None), params, (xs, ys))[0]

    def prepare():
        params = [(jnp.asarray(w.astype(dtype)), jnp.zeros(len(w), dtype)) for w in weights]
        jax.block_until_ready(scanned(step(params, x_rest, y_rest), xs, ys))     # compiled now, not timed
        jax.block_until_ready(step(params, xj[:batch], yj[:batch]))
        return params

    def per_step(params):
        for start in range(0, len(x), batch):
            params = step(params, xj[start:start + batch], yj[start:start + batch])
        jax.block_until_ready(params)

    def whole_epoch(params):
        jax.block_until_ready(step(scanned(params, xs, ys), x_rest, y_rest))

    version = jax.__version__
    return {f"JAX {version} jit per step": (prepare, per_step), f"JAX {version} lax.scan epoch": (prepare, whole_epoch)}


# ---- 2. the 2-2-2 example -----------------------------------------------------------------------------------

def tiny(n_rounds: int, iterations: int = 10_000) -> None:
    spec = cr.load("mazur-code")
    x, t = spec.require_data()
    from dataclasses import replace
    config = replace(spec.training, epochs=iterations, epoch_loss="batches")
    after = replace(config, epoch_loss="dataset")      # the default: E over the data after each epoch
    competitors = {"chainrule": (spec.build_network, lambda net: cr.fit(net, x, t, config)),
                   "chainrule, loss after each epoch": (spec.build_network, lambda net: cr.fit(net, x, t, after))}

    if torch is not None:
        def torch_prepare():
            w1 = torch.tensor([[.15, .2], [.25, .3]], dtype=torch.float64, requires_grad=True)
            w2 = torch.tensor([[.4, .45], [.5, .55]], dtype=torch.float64, requires_grad=True)
            return w1, w2, torch.optim.SGD([w1, w2], lr=0.5)

        xt, tt = torch.tensor(x[0]), torch.tensor(t[0])

        def torch_run(state):
            w1, w2, optimizer = state
            for _ in range(iterations):
                optimizer.zero_grad()
                out = torch.sigmoid(w2 @ torch.sigmoid(w1 @ xt + 0.35) + 0.6)
                (0.5 * ((tt - out) ** 2).sum()).backward()
                optimizer.step()

        competitors["PyTorch autograd"] = (torch_prepare, torch_run)

    def numpy_run(_):
        w1, w2 = np.array([[.15, .2], [.25, .3]]), np.array([[.4, .45], [.5, .55]])
        for _ in range(iterations):
            h = 1 / (1 + np.exp(-(x @ w1.T + 0.35)))
            o = 1 / (1 + np.exp(-(h @ w2.T + 0.6)))
            _ = 0.5 * ((t - o) ** 2).sum()
            d2 = (o - t) * o * (1 - o)
            d1 = (d2 @ w2) * h * (1 - h)
            w2 -= 0.5 * (d2.T @ h)
            w1 -= 0.5 * (d1.T @ x)

    def python_run(_):      # seed 001's way: lists and loops
        w = [[[.15, .2], [.25, .3]], [[.4, .45], [.5, .55]]]
        b = [.35, .6]
        xs, ts = list(x[0]), list(t[0])
        for _ in range(iterations):
            outs = [xs]
            for l in range(2):
                outs.append([1 / (1 + math.exp(-(sum(wi * a for wi, a in zip(row, outs[-1])) + b[l])))
                             for row in w[l]])
            _ = sum(0.5 * (tk - ok) ** 2 for tk, ok in zip(ts, outs[2]))
            d2 = [(ok - tk) * ok * (1 - ok) for ok, tk in zip(outs[2], ts)]
            d1 = [sum(d2[k] * w[1][k][j] for k in range(2)) * outs[1][j] * (1 - outs[1][j]) for j in range(2)]
            for l, d in ((1, d2), (0, d1)):
                for j in range(2):
                    for i in range(2):
                        w[l][j][i] -= 0.5 * d[j] * outs[l][i]

    competitors["straightforward NumPy loop"] = (lambda: None, numpy_run)
    competitors["pure-Python loops"] = (lambda: None, python_run)
    reference = "PyTorch autograd" if torch is not None else "chainrule"
    times = rounds(competitors, n_rounds, pause=0.1)
    report(f"The 2-2-2 example, {iterations:,} online iterations ({n_rounds} rounds)", times, reference)
    print(f"  chainrule / {reference} {per_round(times, 'chainrule', reference)}, "
          f"chainrule / NumPy loop {per_round(times, 'chainrule', 'straightforward NumPy loop')}, "
          f"chainrule / pure Python {per_round(times, 'chainrule', 'pure-Python loops')}")
    print(f"  chainrule with the loss after each epoch (the default) / pure Python "
          f"{per_round(times, 'chainrule, loss after each epoch', 'pure-Python loops')}")


# ---- 3. a small net ---------------------------------------------------------------------------------------------

def small_net(n_rounds: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (1000, 2))
    t = np.sin(3 * x[:, :1]) * x[:, 1:]
    sizes = [2, 16, 16, 1]
    weights = [rng.normal(0, 0.5, (b, a)) for a, b in zip(sizes, sizes[1:])]
    config = TrainingConfig(learning_rate=0.05, batch=10, reduction="mean", epochs=1, epoch_loss="batches")

    def chainrule_prepare():
        return cr.Network([cr.Dense(w, np.zeros(len(w)), activation="tanh" if k < 2 else "identity")
                              for k, w in enumerate(weights)], "mse")

    competitors = {"chainrule": (chainrule_prepare, lambda net: cr.fit(net, x, t, config))}
    if torch is not None:
        xt, tt = torch.from_numpy(x), torch.from_numpy(t)

        def torch_prepare():
            model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                                        torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
            with torch.no_grad():
                for linear, w in zip(model[::2], weights):
                    linear.weight.copy_(torch.from_numpy(w))
                    linear.bias.zero_()
            return model, torch.optim.SGD(model.parameters(), lr=0.05)

        def torch_run(state):
            model, optimizer = state
            for start in range(0, 1000, 10):
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(model(xt[start:start + 10]), tt[start:start + 10]).backward()
                optimizer.step()

        competitors["PyTorch"] = (torch_prepare, torch_run)
    reference = "PyTorch" if torch is not None else "chainrule"
    report(f"2-16-16-1 tanh on 1,000 points, batch 10, one epoch ({n_rounds} rounds)",
           rounds(competitors, n_rounds, pause=0.1), reference)


# ---- threads: a small network at 1 and 2 BLAS threads, with and without a busy core ----------------------------

def threads(n_rounds: int) -> None:
    """scikit-learn's digits on 64-100-10 (ReLU, softmax, Adam, batch 200 as MLPClassifier's default), 10 epochs,
    at threads=1, threads=2 and chosen by the work — on an idle machine and beside a process that keeps one core
    busy (what a cross-validation on a loaded machine meets)."""
    import subprocess
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x, t = x / 16.0, one_hot(y, 10, np.float64)

    def competitor(threads):
        return (lambda: cr.mlp([64, 100, 10], "relu", loss="cross_entropy", init="he", seed=0),
                lambda net: cr.fit(net, x, t, epochs=10, batch=200, optimizer="adam", learning_rate=0.001,
                                   reduction="mean", epoch_loss="batches", threads=threads))

    competitors = {"threads=1": competitor(1), "threads=2": competitor(2), "chosen by the work": competitor(None)}
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            times = rounds(competitors, n_rounds)      # the default pause: OpenBLAS's threads of a threads=2
        finally:                                    # run spin on after it, and with a core busy a short pause
            if spinner is not None:                 # made whichever ran next (mostly "chosen") pay for them
                spinner.kill()
                spinner.wait()
        report(f"digits 64-100-10, batch 200, Adam, 10 epochs, {'one core busy' if busy else 'idle'} "
               f"({n_rounds} rounds)", times, "threads=1")


# ---- 4. the command line against the same training from Python ------------------------------------------------

def command_line(n_rounds: int) -> None:
    """`chainrule train NAME` (progress on stderr, a Ctrl-C checkpoint kept every epoch, the report) against the
    same spec trained from Python; the command's own fixed cost (argument parser, report) is in its time."""
    import contextlib
    import io
    from chainrule.cli import main as cli
    from chainrule.formats.examples import names

    def python(spec_name, epochs=None):
        def run(_):
            spec = cr.load(spec_name)
            x, t = spec.require_data()
            network = spec.build_network()
            for config in [phase.training for phase in spec.phases] or [spec.training]:
                cr.fit(network, x, t, config if epochs is None else config.replace(epochs=epochs))
        return lambda: None, run

    def command(args):
        def run(_):
            with contextlib.redirect_stderr(io.StringIO()):
                cli(["train", *args], out=io.StringIO())
        return lambda: None, run

    print(f"\nchainrule train NAME against the same training from Python ({n_rounds} rounds, {10 * n_rounds} for runs under "
          f"10 ms; ratio: command / Python)")
    mnist_spec = os.path.join(os.path.dirname(__file__), "..", "specs", "mnist.toml")
    cases = [(name, name, n_rounds) for name in names()] + [("MNIST, 1 epoch (specs/mnist.toml)", mnist_spec, 2)]
    for label, spec_name, n in cases:
        extra = ["--epochs", "1"] if spec_name == mnist_spec else []
        competitors = {"python": python(spec_name, 1 if extra else None),
                       "command": command([spec_name, *extra])}
        start = time.perf_counter()
        competitors["python"][1](None)
        if time.perf_counter() - start < 0.01:      # a run of a few milliseconds: its ratio varies from round to
            n *= 10                                 # round by ±30% (the machine's noise), so ten times the rounds
        times = rounds(competitors, n, pause=0.05)
        print(f"  {label:36} Python {statistics.median(times['python']):8.4f}s   command "
              f"{statistics.median(times['command']):8.4f}s   {per_round(times, 'command', 'python')}")


def accuracy() -> None:
    import io
    import json
    from chainrule.cli import main as cli
    out = io.StringIO()
    cli(["train", "--data", "mnist", "--layers", "256,128", "--epochs", "5", "--json", "--quiet"], out=out)
    result = json.loads(out.getvalue())
    print(f"\nMNIST 784-256-128-10, 5 epochs (chainrule train --data mnist defaults): "
          f"test accuracy {100 * result['test_accuracy']:.2f}%, train (last epoch, as trained) {100 * result['last_epoch_accuracy']:.2f}%, "
          f"{result['seconds']:.1f} s ({result['samples_per_second']:,.0f} samples/s)")


def recipe(path: str | None = None, curve: str | None = None) -> None:
    """The long mode (make bench-long): specs/mnist-best.toml trained as written, the test error measured after
    every epoch (its time left out of the training time), asserting the last one is at most 1.5%."""
    import json
    from chainrule.core.metrics import network_accuracy
    path = path or os.path.join(os.path.dirname(__file__), "..", "specs", "mnist-best.toml")
    spec = cr.load(path)
    x, t = spec.require_data()
    network = spec.build_network()
    errors: list = []
    measuring = [0.0]

    def epoch_ended(epoch: int, loss: float) -> None:
        start = time.perf_counter()
        n = len(spec.test_inputs)       # counted in images: 150 of 10,000 wrong is 1.5% exactly
        wrong = n - round(network_accuracy(network, spec.test_inputs, spec.test_targets) * n)
        errors.append(100 * wrong / n)
        measuring[0] += time.perf_counter() - start
        print(f"  epoch {epoch:3d}  training loss {loss:.5f}  test error {errors[-1]:.2f}%", flush=True)

    print(f"\n{spec.name}: {network.shape_text()}, {spec.training.epochs} epochs ({path})")
    start, cpu = time.perf_counter(), time.process_time()
    history = cr.fit(network, x, t, spec.training, callback=epoch_ended)
    seconds, cpu = time.perf_counter() - start - measuring[0], time.process_time() - cpu
    print(f"  {spec.name}: test error {errors[-1]:.2f}% after {history.epochs_run} epochs, training time "
          f"{seconds:.0f} s ({seconds / 60:.1f} min; the test error's measuring, {measuring[0]:.0f} s, left out), "
          f"CPU time {cpu:.0f} s on {os.cpu_count()} CPUs")
    if curve:
        with open(curve, "w") as f:
            json.dump({"spec": spec.name, "seconds": seconds, "loss": history.loss_history, "test_error": errors}, f)
        draw_curve(curve, os.path.splitext(curve)[0] + ".png")
    assert errors[-1] <= 1.5, f"{spec.name}: expected a test error of at most 1.5%, got {errors[-1]:.2f}%"


def draw_curve(curve: str, png: str) -> None:
    """The recipe's curve (written by --curve) as a PNG: test error and training loss by epoch (extra: plot)."""
    import json
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(curve) as f:
        c = json.load(f)
    epochs = range(1, len(c["test_error"]) + 1)
    fig, error = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    error.plot(epochs, c["test_error"], "o-", color="tab:blue", markersize=3, label="test error (%)")
    error.axhline(1.5, color="tab:blue", linestyle=":", linewidth=1)
    error.annotate("1.5%", (1, 1.5), xytext=(2, 3), textcoords="offset points", color="tab:blue", fontsize=8)
    error.set_xlabel("epoch")
    error.set_ylabel("test error (%)", color="tab:blue")
    error.set_ylim(0, max(3.5, max(c["test_error"]) * 1.05))
    loss = error.twinx()
    loss.semilogy(epochs, c["loss"], color="tab:orange", linewidth=1.2, label="training loss (batches' mean)")
    loss.set_ylabel("training loss", color="tab:orange")
    error.set_title(f"{c['spec']}: {c['test_error'][-1]:.2f}% test error after {len(c['test_error'])} epochs, "
                    f"{c['seconds'] / 60:.1f} min", fontsize=10)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("mnist", "tiny", "small", "threads", "cli", "accuracy", "memory", "recipe"))
    parser.add_argument("--long", action="store_true",
                        help="train specs/mnist-best.toml (minutes) and check its test error is at most 1.5%%")
    parser.add_argument("--curve", metavar="FILE", help="with --long or --only recipe: write the recipe's per-epoch curve as JSON, and drawn beside it as .png")
    args = parser.parse_args()
    print(f"chainrule {cr.__version__}, NumPy {np.__version__}, "
          f"PyTorch {torch.__version__ if torch else 'not installed'}, {os.cpu_count()} CPUs")
    if args.only in (None, "tiny"):
        tiny(args.rounds)
    if args.only in (None, "small"):
        small_net(args.rounds)
    if args.only in (None, "threads"):
        threads(args.rounds)
    if args.only in (None, "cli"):
        command_line(args.rounds)
    if args.only in (None, "mnist"):
        mnist(args.rounds)
    if args.only in (None, "memory"):
        from memory import memory
        memory()
    if args.only in (None, "accuracy"):
        accuracy()
    if args.long or args.only == "recipe":
        recipe(curve=args.curve)


if __name__ == "__main__":
    main()
