"""``chainrule`` — run, explain and train the networks of spec files.

main(argv) -> exit code: 0 success, 2 bad input (one line on stderr; --traceback for the trace).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from . import __version__, examples, gradcheck, optim
from .settings import ConfigError
from .explain import FORMATS, render, too_large
from .check import ClaimsError, report_json, report_text
from .check import check as check_claims
from .io import load_model, save_model
from .spec import SpecError, load
from .trace import trace_steps
from .train import TrainingDiverged, fit


MAX_LISTED = 100        # parameters and samples listed one per line by `train`


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="chainrule", description="Backpropagation you can see, check and explain.")
    p.add_argument("--version", action="version", version=f"chainrule {__version__}")
    p.add_argument("--traceback", action="store_true", help="print the full traceback on errors")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    sub.add_parser("examples", help="list the built-in examples")

    e = sub.add_parser("explain", help="explain training steps number by number")
    e.add_argument("spec", nargs="?", default="mazur", help="built-in example name or spec file (default: mazur)")
    e.add_argument("--steps", type=int, default=1, help="how many steps to explain, from the first (default 1)")
    e.add_argument("--step", type=int, metavar="K", help="explain only step K of the run")
    e.add_argument("--format", choices=FORMATS, default="text")
    e.add_argument("--matrix", action="store_true", help="the step in matrix form (seed 000's linear algebra)")
    e.add_argument("--param", metavar="LABEL", help="explain one parameter's gradient and update (e.g. w1)")
    e.add_argument("--colour", choices=("auto", "always", "never"), default="auto",
                   help="colour in text output (default: when writing to a terminal)")

    t = sub.add_parser("train", help="train a network and report the loss (or MNIST with --data mnist)")
    t.add_argument("spec", nargs="?", help="built-in example name or spec file (not with --data)")
    t.add_argument("--epochs", type=int, help="override the spec's number of epochs")
    t.add_argument("--json", action="store_true", help="print the result as JSON")
    t.add_argument("--save", metavar="FILE", help="save the trained model (.json, or .npz for large models)")
    t.add_argument("--quiet", action="store_true", help="no progress display")
    t.add_argument("--data", metavar="mnist|DIR",
                   help="train a classifier on MNIST (from `make data`) or on the four IDX files in DIR, "
                        "plain or .gz, named as MNIST's (Fashion-MNIST, KMNIST)")
    t.add_argument("--layers", default="256,128", help="--data: hidden layer sizes (default 256,128)")
    t.add_argument("--activation", default="relu", help="--data: hidden activation (default relu)")
    t.add_argument("--batch", type=int, default=128, help="--data: batch size (default 128)")
    t.add_argument("--learning-rate", type=float,
                   help="--data: learning rate (default 0.05 for sgd, 0.001 for adam)")
    t.add_argument("--optimizer", choices=optim.NAMES, default="sgd")
    t.add_argument("--momentum", type=float, help="--data: momentum μ (default 0.9 where the optimiser takes it)")
    t.add_argument("--nesterov", action="store_true", help="--data: Nesterov momentum")
    t.add_argument("--weight-decay", type=float, help="--data: L2 weight decay λ (default 0)")
    t.add_argument("--validation-fraction", type=float, default=0.0,
                   help="--data: hold out this share of the training images and stop early on their loss")
    t.add_argument("--patience", type=int, default=3,
                   help="--data: epochs without a better validation loss before stopping (default 3)")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, help="--data: train on the first N samples only")

    g = sub.add_parser("gradcheck", help="compare every backprop gradient with finite differences")
    g.add_argument("spec", nargs="?", help="built-in example name or spec file (not needed with --cost)")
    g.add_argument("--json", action="store_true")
    g.add_argument("--cost", action="store_true",
                   help="time backprop and finite differences on networks of 10² to 10⁵ parameters")
    g.add_argument("--max-parameters", type=int, default=2_000,
                   help="compare at most this many parameters, chosen at random beyond it (default 2000)")
    g.add_argument("--max-samples", type=int, default=100,
                   help="on at most the first this many samples of the data (default 100)")

    w = sub.add_parser("serve", help="serve the web page (extra: web) until Ctrl-C")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8000)
    w.add_argument("--open", action="store_true", help="open the page in the default browser")

    c = sub.add_parser("check", help="check hand-computed numbers (a claims file, or seed:000 … seed:004)")
    c.add_argument("claims", help="claims TOML file, or seed:NNN for a seed's own printed numbers")
    c.add_argument("--format", choices=("text", "json"), default="text")

    r = sub.add_parser("predict", help="run a saved model (or a spec's network) forward")
    r.add_argument("model", help="model .json or .npz file saved by train --save, a spec file or an example name")
    source = r.add_mutually_exclusive_group(required=True)
    source.add_argument("--inputs",
                        help="input rows: numbers separated by commas, rows by semicolons, e.g. '0.05,0.1;1,0'")
    source.add_argument("--csv", metavar="FILE", help="input rows from a CSV file (a header row is skipped)")
    r.add_argument("--json", action="store_true")
    return p


def _fmt(value: float) -> str:
    return f"{value:.9g}"


def cmd_examples(args, out) -> int:
    width = max(len(n) for n in examples.names())
    for name in examples.names():
        print(f"{name:<{width}}  {examples.summary(name)}", file=out)
    return 0


def cmd_explain(args, out) -> int:
    if args.steps < 1:
        raise UsageError(f"explain --steps: expected an integer ≥ 1, got {args.steps}")
    if args.step is not None and args.step < 1:
        raise UsageError(f"explain --step: expected an integer ≥ 1, got {args.step}")
    spec = load(args.spec)
    x, t = spec.require_data()
    network = spec.build_network()
    large = too_large(sum(p.size for p in network.parameters()), min(spec.training.batch_size(len(x)), len(x)))
    if large and (args.param is None or args.matrix):
        what = "the matrix form" if args.matrix else "a whole derivation"
        raise UsageError(f"explain: {what}: {large}; explain one parameter with --param LABEL (e.g. --param w1)")
    traces = trace_steps(network, x, t, spec.training, args.step or args.steps)
    if args.step is not None:
        if len(traces) < args.step:
            raise UsageError(f"explain --step: expected at most {len(traces)} (the steps this spec's training "
                             f"runs), got {args.step}")
        traces = traces[-1:]
    colour = args.colour == "always" or (args.colour == "auto" and args.format == "text" and out.isatty())
    try:
        text = render(traces, args.format, spec.name, args.param, args.matrix, colour)
    except ValueError as error:
        raise UsageError(f"explain {error}") from None
    out.write(text)
    if args.format == "json":
        out.write("\n")
    return 0


class _Progress:
    """Progress on stderr for long runs: at most a few lines a second, only after 1 s."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, epoch: int, loss: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < (0.2 if self.tty else 2.0) or now - self.start < 1.0:
            return
        self.last = now
        line = f"epoch {epoch}/{self.total} ({100 * epoch / self.total:.0f}%)  loss {_fmt(loss)}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty and self.last != self.start:
            print(file=sys.stderr)


def cmd_train(args, out) -> int:
    if args.data:
        if args.spec:
            raise UsageError("train: expected a spec file or --data, got both")
        return train_dataset(args, out)
    if not args.spec:
        raise UsageError("train: expected a spec file or example name (or --data mnist), got neither")
    spec = load(args.spec)
    x, t = spec.require_data()
    config = spec.training
    if args.epochs is not None:
        if args.epochs < 0:
            raise UsageError(f"train --epochs: expected an integer ≥ 0, got {args.epochs}")
        from dataclasses import replace
        config = replace(config, epochs=args.epochs)
    network = spec.build_network()
    show = not (args.quiet or args.json)
    large = len(x) >= 5_000          # a bar within each epoch; small data gets a line per epoch at most
    progress = _Progress(config.epochs, show and not large)
    try:
        history = fit(network, x, t, config, callback=progress, on_step=_Bar(config.epochs, show) if large else None)
    finally:
        progress.close()
    accuracy = {} if spec.test_inputs is None else _accuracies(network, x, t, config, spec.test_inputs,
                                                               spec.test_targets)
    if args.save:
        save_model(network, args.save, spec.name)
    if args.json:
        result = history.as_dict()
        result["parameters"] = network.parameters_as_data()
        result.update(accuracy)
        json.dump(result, out)
        out.write("\n")
        return 0
    final = history.loss_history[-1] if history.loss_history else history.initial_loss
    print(f"{spec.name}: network {network.shape_text()}, loss {network.loss.name} ({config.reduction} over "
          f"{len(x)} sample{'s' if len(x) != 1 else ''}), learning rate {_fmt(config.learning_rate)}", file=out)
    start = "" if history.initial_loss is None else f"{_fmt(history.initial_loss)} → "
    print(f"loss {start}{_fmt(final)} after {history.epochs_run} epoch"
          f"{'s' if history.epochs_run != 1 else ''} ({history.steps_run} steps); stopped because: "
          f"{history.stopped_because}", file=out)
    if accuracy:
        print("accuracy: " + ", ".join(f"{k.split('_')[0]} {100 * v:.2f}%" for k, v in accuracy.items()), file=out)
    if len(network.labels) <= MAX_LISTED:
        print("parameters:", file=out)
        for label, ref in network.labels.items():
            print(f"  {label} = {_fmt(ref.get(network))}", file=out)
    else:
        print(f"parameters: {len(network.labels):,} (save them with --save)", file=out)
    if len(x) <= MAX_LISTED:
        print("outputs on the training data:", file=out)
        for xi, ti, oi in zip(x, t, network.predict(x)):
            print(f"  input {_vec(xi)} → output {_vec(oi)}  (target {_vec(ti)})", file=out)
    if args.save:
        print(f"saved the model to {args.save}", file=out)
    return 0


class _Bar:
    """A one-line progress bar on stderr: epoch, samples, samples/s, running loss and accuracy."""

    def __init__(self, epochs: int, enabled: bool):
        self.epochs, self.enabled = epochs, enabled
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.reset()

    def reset(self):
        self.start = time.monotonic()
        self.loss_sum = self.correct = self.seen = 0

    def __call__(self, epoch, done, total, losses, outputs, targets):
        if done == len(targets) and self.seen:
            self.reset()
        self.loss_sum += float(np.sum(losses))
        self.correct += int(np.sum(outputs.argmax(axis=1) == targets.argmax(axis=1)))
        self.seen += len(targets)
        now = time.monotonic()
        if not self.enabled or (done < total and (not self.tty or now - self.last < 0.2)):
            return
        self.last = now
        rate = self.seen / max(now - self.start, 1e-9)
        width = 24
        filled = int(width * done / total)
        line = (f"epoch {epoch}/{self.epochs} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  "
                f"{rate:,.0f} samples/s  loss {self.loss_sum / self.seen:.4f}  accuracy {100 * self.correct / self.seen:.2f}%")
        print(("\r" + line) if self.tty else line, end="" if self.tty and done < total else "\n",
              file=sys.stderr, flush=True)


def train_dataset(args, out) -> int:
    """A classifier on MNIST or another IDX data set: inputs → hidden layers → softmax, cross-entropy,
    He initialisation."""
    from .datasets import load_idx_directory, load_mnist, one_hot
    from .init import draw_weights
    from .layers import Dense
    from .network import Network
    from .train import TrainingConfig, validation_split
    dtype = np.float32 if args.dtype == "float32" else np.float64
    try:
        hidden = [int(n) for n in args.layers.split(",") if n.strip()]
    except ValueError:
        raise UsageError(f"train --layers: expected sizes separated by commas such as 256,128, got {args.layers!r}")
    if not hidden or any(n < 1 or n > 100_000 for n in hidden):
        raise UsageError(f"train --layers: expected sizes from 1 to 100000, got {args.layers!r}")
    if args.data == "mnist":
        name, (x, y, x_test, y_test) = "mnist", load_mnist(dtype=dtype)
    elif Path(args.data).is_dir():
        name, (x, y, x_test, y_test) = Path(args.data).resolve().name, load_idx_directory(args.data, dtype)
    else:
        raise UsageError(f"train --data: expected mnist or a directory of IDX files, got {args.data!r}")
    classes = int(max(y.max(), y_test.max())) + 1
    if classes < 2:
        raise UsageError(f"train --data {args.data}: expected labels of at least 2 classes, got only class 0")
    if args.limit is not None:
        if args.limit < 1:
            raise UsageError(f"train --limit: expected an integer ≥ 1, got {args.limit}")
        x, y = x[:args.limit], y[:args.limit]
    t = one_hot(y, classes, dtype)
    rng = np.random.default_rng(args.seed)
    sizes = [x.shape[1], *hidden, classes]
    layers = [Dense(draw_weights("he", b, a, rng=rng), np.zeros(b), dtype=dtype,
                    activation=args.activation if k < len(hidden) else "softmax")
              for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    network = Network(sizes[0], layers, "cross_entropy")
    epochs = 5 if args.epochs is None else args.epochs
    if args.learning_rate is None:
        args.learning_rate = optim.default_rate(args.optimizer)
    try:
        takes = optim.settings_of(args.optimizer)
        options = {"momentum": 0.9} if "momentum" in takes else {}       # the --data preset
        given = {"momentum": args.momentum, "nesterov": args.nesterov or None, "weight_decay": args.weight_decay}
        options.update({key: value for key, value in given.items() if value is not None})
        config = TrainingConfig(learning_rate=args.learning_rate, batch=args.batch, reduction="mean", epochs=epochs,
                                shuffle=True, seed=args.seed, optimizer=args.optimizer, **options,
                                validation_fraction=args.validation_fraction, patience=args.patience,
                                epoch_loss="batches")
        held = len(validation_split(len(x), config)[1])
    except ConfigError as exc:
        raise UsageError(exc.message(f"train --{exc.key.replace('_', '-')}")) from None
    except ValueError as exc:
        raise UsageError(f"train --{str(exc).split(':')[0].replace('_', '-')}: {str(exc).split(': ', 1)[1]}") from None
    bar = _Bar(epochs, not (args.quiet or args.json))
    start = time.perf_counter()
    history = fit(network, x, t, config, on_step=bar)
    seconds = time.perf_counter() - start

    accuracy = _accuracies(network, x, t, config, x_test, one_hot(y_test, classes, dtype))
    if args.save:
        save_model(network, args.save, f"{name}-{'-'.join(map(str, sizes))}")
    result = {"data": name, "network": network.shape_text(), "epochs_run": history.epochs_run,
              "loss_history": history.loss_history, **accuracy,
              "seconds": seconds, "samples_per_second": (len(x) - held) * history.epochs_run / seconds}
    if held:
        result.update(validation_loss_history=history.validation_loss_history, best_epoch=history.best_epoch,
                      stopped_because=history.stopped_because)
    if args.json:
        json.dump(result, out)
        out.write("\n")
        return 0
    print(f"{name}: network {network.shape_text()} ({args.activation}, softmax, cross-entropy), {args.dtype}, "
          f"{args.optimizer} η = {_fmt(args.learning_rate)}, batch {args.batch}, {len(x) - held} training samples"
          + (f" + {held} for validation" if held else ""), file=out)
    print(f"{history.epochs_run} epoch{'s' * (history.epochs_run != 1)} in {seconds:.1f} s ({result['samples_per_second']:,.0f} samples/s); "
          f"loss per epoch: {', '.join(f'{v:.4f}' for v in history.loss_history)}", file=out)
    if held:
        print(f"validation loss per epoch: {', '.join(f'{v:.4f}' for v in history.validation_loss_history)}; "
              f"kept the parameters of epoch {history.best_epoch}"
              + (" (stopped early)" if history.stopped_because == "validation" else ""), file=out)
    print("accuracy: " + ", ".join(f"{k.split('_')[0]} {100 * v:.2f}%" for k, v in accuracy.items())
          + f" ({len(x_test):,} test images)", file=out)
    if args.save:
        print(f"saved the model to {args.save}", file=out)
    return 0


def _classified(network, inputs, targets) -> float:
    """The share of rows whose largest output is at their target's largest entry."""
    predictions = np.concatenate([network.predict(inputs[k:k + 10_000]).argmax(axis=1)
                                  for k in range(0, len(inputs), 10_000)])
    return float(np.mean(predictions == targets.argmax(axis=1)))


def _accuracies(network, x, t, config, x_test, t_test) -> dict:
    """Train (the rows trained on), validation (when held out) and test accuracy of a classifier."""
    from .train import validation_split
    trained, validated = validation_split(len(x), config)
    accuracy = {"train_accuracy": _classified(network, x[trained], t[trained])}
    if len(validated):
        accuracy["validation_accuracy"] = _classified(network, x[validated], t[validated])
    accuracy["test_accuracy"] = _classified(network, x_test, t_test)
    return accuracy


def _vec(values) -> str:
    return "(" + ", ".join(_fmt(v) for v in values) + ")"


def _parse_rows(text: str, width: int) -> np.ndarray:
    rows = []
    for r, chunk in enumerate(text.split(";"), start=1):
        cells = [c for c in chunk.replace(" ", ",").split(",") if c]
        try:
            row = [float(c) for c in cells]
        except ValueError:
            raise UsageError(f"predict --inputs row {r}: expected numbers, got {chunk.strip()!r}") from None
        if len(row) != width or not all(math.isfinite(v) for v in row):
            raise UsageError(f"predict --inputs row {r}: expected {width} finite numbers, got {chunk.strip()!r}")
        rows.append(row)
    return np.array(rows)


def _read_csv_inputs(path: str, width: int) -> np.ndarray:
    from .datasets.tabular import numbers, read_rows
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"predict --csv: cannot read {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"predict --csv: expected a UTF-8 text file, got undecodable bytes in {path!r}") from None
    _, rows = read_rows(text)
    if not rows:
        raise UsageError(f"predict --csv: expected rows of {width} numbers in {path}, got none")
    return numbers(rows, path, width)


def cmd_predict(args, out) -> int:
    model = args.model
    network = load_model(model) if model.endswith((".json", ".npz")) else load(model).build_network()
    x = _parse_rows(args.inputs, network.inputs) if args.inputs is not None else _read_csv_inputs(args.csv,
                                                                                                network.inputs)
    y = network.predict(x)
    classes = y.argmax(axis=1) if not network.layers[-1].activation.elementwise else None
    if args.json:
        result = {"inputs": x.tolist(), "outputs": y.tolist()}
        if classes is not None:
            result["classes"] = classes.tolist()
        json.dump(result, out)
        out.write("\n")
    elif len(x) > 20 or network.inputs > 8:     # wide rows: the outputs (and class) only, one line per row
        for r, yi in enumerate(y):
            print(f"row {r + 1}: {_vec(yi)}" + ("" if classes is None else f"  class {classes[r]}"), file=out)
    else:
        for r, (xi, yi) in enumerate(zip(x, y)):
            print(f"{_vec(xi)} → {_vec(yi)}" + ("" if classes is None else f"  class {classes[r]}"), file=out)
    return 0


GRADCHECK_TOLERANCE = 1e-7


def cmd_serve(args, out) -> int:
    try:
        from .web.server import serve
    except ImportError as exc:
        raise UsageError(f"serve: expected the web extra (pip install 'chainrule[web]'), got: {exc}") from None
    if not 0 < args.port < 65536:
        raise UsageError(f"serve --port: expected 1 to 65535, got {args.port}")
    serve(args.host, args.port, args.open)
    return 0


def cmd_check(args, out) -> int:
    """Exit 0 when every claim holds, 1 when some are wrong, 2 for a file that cannot be checked."""
    title, verdicts = check_claims(args.claims)
    if args.format == "json":
        json.dump(report_json(verdicts), out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        out.write(report_text(title, verdicts))
    return 1 if any(not v.ok for v in verdicts) else 0


def cmd_cost(args, out) -> int:
    rows = gradcheck.cost()
    if args.json:
        json.dump({"rows": [{"parameters": r.parameters, "backprop_seconds": r.backprop_seconds,
                             "finite_difference_seconds": r.finite_difference_seconds, "ratio": r.ratio,
                             "measured_parameters": r.measured_parameters} for r in rows],
                   "backprop_growth": gradcheck.growth(rows, "backprop_seconds"),
                   "finite_difference_growth": gradcheck.growth(rows, "finite_difference_seconds")}, out)
        out.write("\n")
        return 0
    print("Backprop against finite differences: one gradient of a 16-m-10 tanh network, batch 16", file=out)
    print(f"{'parameters W':>13}  {'backprop':>11}  {'finite diff.':>13}  {'ratio':>9}", file=out)
    for r in rows:
        note = "" if r.measured_parameters == r.parameters else f"  (timed on {r.measured_parameters}, scaled by W)"
        print(f"{r.parameters:>13,}  {r.backprop_seconds * 1e3:>9.3f}ms  {r.finite_difference_seconds:>12.3f}s  "
              f"{r.ratio:>9,.0f}×{note}", file=out)
    b, f = gradcheck.growth(rows, "backprop_seconds"), gradcheck.growth(rows, "finite_difference_seconds")
    print(f"measured growth over the two largest: backprop time ∝ W^{b:.2f}, finite differences ∝ W^{f:.2f} "
          f"(theory: W and W²)", file=out)
    return 0


def cmd_gradcheck(args, out) -> int:
    """Exit 0 when every layer's gradients agree with finite differences to 1e-7, 1 otherwise."""
    if args.cost:
        return cmd_cost(args, out)
    if args.spec is None:
        raise UsageError("gradcheck: expected a spec file or example name (or --cost), got neither")
    for name in ("max_parameters", "max_samples"):
        if getattr(args, name) < 1:
            raise UsageError(f"gradcheck --{name.replace('_', '-')}: expected an integer ≥ 1, got {getattr(args, name)}")
    spec = load(args.spec)
    x, t = spec.require_data()
    x, t = x[:args.max_samples], t[:args.max_samples]
    network = spec.build_network()
    layers = gradcheck.check(network, x, t, spec.training.reduction, max_parameters=args.max_parameters)
    ok = all(layer.max_relative_error < GRADCHECK_TOLERANCE for layer in layers)
    if args.json:
        json.dump({"layers": [vars(layer) for layer in layers], "tolerance": GRADCHECK_TOLERANCE, "ok": ok}, out)
        out.write("\n")
        return 0 if ok else 1
    available = len(spec.require_data()[0])
    samples = f"the {len(x)} sample{'s' if len(x) != 1 else ''}" if len(x) == available else \
        f"the first {len(x):,} of {available:,} samples"
    dtype = "" if network.dtype == np.float64 else f", in float64 (the network is {np.dtype(network.dtype).name})"
    print(f"{spec.name}: backprop against central finite differences (4th order, h = {gradcheck.STEP:g}) on "
          f"{samples} of the spec, loss {network.loss.name}, reduction {spec.training.reduction}{dtype}", file=out)
    for layer in layers:
        checked = "" if layer.checked == layer.parameters else f" ({layer.checked:,} checked, chosen at random)"
        kinks = "" if not layer.at_kinks else (f"; {layer.at_kinks:,} left out, a ReLU kink lying within ±2h "
                                               "of them (no derivative there)")
        print(f"  layer {layer.layer}: {layer.parameters:,} parameters{checked}, max relative error "
              f"{layer.max_relative_error:.2e}{kinks}", file=out)
    print(f"{'all layers agree' if ok else 'MISMATCH: some layer differs'} (tolerance {GRADCHECK_TOLERANCE:g})",
          file=out)
    return 0 if ok else 1


COMMANDS = {"examples": cmd_examples, "explain": cmd_explain, "train": cmd_train, "predict": cmd_predict,
            "gradcheck": cmd_gradcheck, "check": cmd_check, "serve": cmd_serve}


def main(argv=None, out=None) -> int:
    out = out or sys.stdout
    argv = sys.argv[1:] if argv is None else list(argv)
    show_trace = "--traceback" in argv
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            args = _parser().parse_args(["explain", *argv])
        return COMMANDS[args.command](args, out)
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (UsageError, SpecError, ClaimsError, TrainingDiverged, ValueError, OSError) as exc:
        if show_trace:
            traceback.print_exc()
        print(f"chainrule: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line, with the way to see more
        if show_trace:
            traceback.print_exc()
        else:
            print(f"chainrule: internal error: {type(exc).__name__}: {exc} (run with --traceback for details)",
                  file=sys.stderr)
        return 2
