"""The bad-input corpus (issue 14): one case per line, each a hostile or malformed input to one surface,
with the one-line message it must get (what was expected, what was got, where), exit 2, no file of the
working directory changed, and never an internal error, a traceback or a hang (each run is timed out)."""

import gzip
import hashlib
import io
import os
import signal
from pathlib import Path

import pytest

from chainrule.cli import main

MAZUR = (Path(__file__).parents[1] / "src/chainrule/formats/examples/mazur.toml").read_text()
NET = '[network]\ninputs = 2\n[[network.layers]]\nunits = 1\n'
DATA = '[data]\ninputs = [[0.1, 0.2]]\ntargets = [[0.5]]\n'
BCE = '[network]\ninputs = 2\nloss = "bce"\n[[network.layers]]\nunits = 1\nactivation = "sigmoid"\n[data]\ninputs = [[0.1, 0.2]]\n'


OVERFLOWING = ('[network]\ninputs = 1\n[[network.layers]]\nunits = 2\nactivation = "identity"\nweights = [[1e200], [1e200]]\n'
               '[[network.layers]]\nunits = 1\nactivation = "identity"\nweights = [[1e200, 1e200]]\n'
               '[data]\ninputs = [[1.0]]\ntargets = [[1.0]]\n')


def idx(dims: bytes, body: bytes = b"") -> bytes:
    return bytes([0, 0, 8, len(dims) // 4]) + dims + body


# name: (files to write {name: text or bytes}, argv, fragment of the one-line message)
CASES = {
    # ---- spec files ------------------------------------------------------------------------------------
    "spec missing":            ({}, ["train", "nope.toml"], "nope.toml: expected a spec file or a built-in example"),
    "spec a directory":        ({"d/x": ""}, ["train", "d"], "d: expected a regular file or a pipe, got a directory"),
    "spec /dev/zero":          ({}, ["train", "/dev/zero"], "/dev/zero: expected a regular file or a pipe, got a character device"),
    "spec /dev/urandom":       ({}, ["explain", "/dev/urandom"], "expected a regular file or a pipe, got a character device"),
    "spec not utf-8":          ({"s.toml": b"\xff\xfe[network]"}, ["train", "s.toml"], "s.toml: expected a UTF-8 text spec file"),
    "spec bad toml":           ({"s.toml": "[network\n"}, ["train", "s.toml"], "s.toml:1: invalid TOML"),
    "spec deep nesting":       ({"s.toml": "a = " + "[" * 5000 + "]" * 5000}, ["train", "s.toml"], "nested at most 32 deep"),
    "spec 40 deep":            ({"s.toml": "a = " + "[" * 40 + "]" * 40}, ["train", "s.toml"], "nested at most 32 deep"),
    "spec 5000 digits":        ({"s.toml": "[network]\ninputs = " + "9" * 5000}, ["train", "s.toml"], "integer of at most 4,300 digits"),
    "spec huge inputs":        ({"s.toml": "[network]\ninputs = 1000000000\n[[network.layers]]\nunits = 2\n"},
                                ["train", "s.toml"], "network: expected a network of at most 50,000,000 parameters"),
    "spec huge layers":        ({"s.toml": "[network]\ninputs = 2\n[[network.layers]]\nunits = 100000\n[[network.layers]]\nunits = 100000\n"},
                                ["train", "s.toml"], "got 10,000,400,000 parameters (75 GB) for layers 2-100000-100000"),
    "spec no network":         ({"s.toml": "[training]\nepochs = 1\n"}, ["train", "s.toml"], "network: missing"),
    "spec unknown key":        ({"s.toml": NET + "colour = 1\n" + DATA}, ["train", "s.toml"], "colour"),
    "spec zero units":         ({"s.toml": "[network]\ninputs = 2\n[[network.layers]]\nunits = 0\n"}, ["train", "s.toml"], "units"),
    "spec bool inputs":        ({"s.toml": "[network]\ninputs = true\n[[network.layers]]\nunits = 1\n"}, ["train", "s.toml"], "network.inputs"),
    "spec nan weight":         ({"s.toml": NET + "weights = [[nan, 1]]\n" + DATA}, ["train", "s.toml"], "expected a finite number"),
    "spec inf target":         ({"s.toml": NET + "[data]\ninputs = [[0.1, 0.2]]\ntargets = [[inf]]\n"}, ["train", "s.toml"], "finite"),
    "spec bce target 2":       ({"s.toml": BCE + "targets = [[2.0]]\n"}, ["train", "s.toml"],
                                "data.targets: expected targets in [0, 1] for loss bce"),
    "spec bce target -1":      ({"s.toml": NET.replace("inputs = 2\n", 'inputs = 2\nloss = "bce"\n') + 'activation = "sigmoid"\n'
                                 + "[data]\ninputs = [[0.1, 0.2]]\ntargets = [[-1.0]]\n"}, ["explain", "s.toml"], "got -1.0"),
    "spec ce target 3":        ({"s.toml": '[network]\ninputs = 2\nloss = "cross_entropy"\n[[network.layers]]\nunits = 2\n'
                                 'activation = "softmax"\n[data]\ninputs = [[0.1, 0.2]]\ntargets = [[3.0, -2.0]]\n'},
                                ["train", "s.toml"], "for loss cross_entropy"),
    "spec csv missing":        ({"s.toml": NET + '[data]\ncsv = "none.csv"\n'}, ["train", "s.toml"], "none.csv: cannot read"),
    "spec csv /dev/zero":      ({"s.toml": NET + '[data]\ncsv = "/dev/zero"\n'}, ["train", "s.toml"], "got a character device"),
    "spec csv long field":     ({"s.toml": NET + '[data]\ncsv = "d.csv"\n', "d.csv": "a,b,y\n1,2," + "x" * 200000 + "\n"},
                                ["train", "s.toml"], "d.csv:2: expected CSV cells, got field larger than field limit"),
    "spec csv long cell":      ({"s.toml": NET + '[data]\ncsv = "d.csv"\n', "d.csv": "a,b,y\n1,2," + "3" * 100000 + "x\n"},
                                ["train", "s.toml"], "column 3: expected a finite number, got '3333"),
    "spec csv text cell":      ({"s.toml": NET + '[data]\ncsv = "d.csv"\n', "d.csv": "a,b,y\n1,2,three\n"}, ["train", "s.toml"],
                                "d.csv:2: column 3: expected a finite number, got 'three'"),
    "spec csv ragged":         ({"s.toml": NET + '[data]\ncsv = "d.csv"\n', "d.csv": "1,2,3\n1,2\n"}, ["train", "s.toml"], "d.csv"),
    "spec csv empty":          ({"s.toml": NET + '[data]\ncsv = "d.csv"\n', "d.csv": ""}, ["train", "s.toml"], "d.csv"),
    "spec csv dup targets":    ({"s.toml": NET + '[data]\ncsv = "d.csv"\ntarget_columns = ["y", "y"]\n', "d.csv": "a,b,y\n1,2,3\n"},
                                ["train", "s.toml"], "data.csv"),
    "spec idx negative dims":  ({"s.toml": NET + '[data]\nidx = { images = "i.idx", labels = "l.idx" }\n',
                                 "i.idx": idx(b"\xff\xff\xff\xff\x00\x00\x00\x02"), "l.idx": idx(b"\x00\x00\x00\x01", b"\x00")},
                                ["train", "s.toml"], "i.idx"),
    "spec idx bad magic":      ({"s.toml": NET + '[data]\nidx = { images = "i.idx", labels = "l.idx" }\n',
                                 "i.idx": b"PK\x03\x04", "l.idx": idx(b"\x00\x00\x00\x01", b"\x00")},
                                ["train", "s.toml"], "i.idx"),
    "spec idx gzip bomb":      ({"s.toml": NET + '[data]\nidx = { images = "i.idx.gz", labels = "l.idx" }\n',
                                 "i.idx.gz": gzip.compress(idx(b"\x7f\xff\xff\xff\x7f\xff\xff\xff") + b"\x00" * 1_000_000),
                                 "l.idx": idx(b"\x00\x00\x00\x01", b"\x00")}, ["train", "s.toml"], "i.idx.gz"),
    # ---- claims files ----------------------------------------------------------------------------------
    "claims missing":          ({}, ["check", "none.toml"], "none.toml: cannot read"),
    "claims /dev/zero":        ({}, ["check", "/dev/zero"], "/dev/zero: expected a regular file or a pipe"),
    "claims directory":        ({"d/x": ""}, ["check", "d"], "d: expected a regular file or a pipe, got a directory"),
    "claims deep":             ({"c.toml": 'spec = "mazur"\nx = ' + "[" * 3000 + "]" * 3000}, ["check", "c.toml"], "nested at most 32 deep"),
    "claims digits":           ({"c.toml": 'spec = "mazur"\n[[claims]]\nout_o1 = ' + "1" * 5000}, ["check", "c.toml"], "4,300 digits"),
    "claims no spec":          ({"c.toml": "[[claims]]\nout_o1 = 0.7\n"}, ["check", "c.toml"], "spec: missing"),
    "claims unknown neuron":   ({"c.toml": 'spec = "mazur"\n[[claims]]\nout_i0 = 0.5\n'}, ["check", "c.toml"], "out_i0: expected a name of this network"),
    "claims unknown name":     ({"c.toml": 'spec = "mazur"\n[[claims]]\nfoo = 0.5\n'}, ["check", "c.toml"], "foo: expected a claim name"),
    "claims text value":       ({"c.toml": 'spec = "mazur"\n[[claims]]\nout_o1 = "x"\n'}, ["check", "c.toml"], "expected a number"),
    "claims step 0":           ({"c.toml": 'spec = "mazur"\n[[claims]]\nstep = 0\nout_o1 = 0.5\n'}, ["check", "c.toml"], "step: expected an integer from 1"),
    "claims step huge":        ({"c.toml": 'spec = "mazur"\n[[claims]]\nstep = 1000000000\nout_o1 = 0.5\n'}, ["check", "c.toml"], "step"),
    "claims spec /dev/zero":   ({"c.toml": 'spec = "/dev/zero"\n[[claims]]\nout_o1 = 0.5\n'}, ["check", "c.toml"], "/dev/zero"),
    # ---- model files -----------------------------------------------------------------------------------
    "model missing":           ({}, ["predict", "m.json", "--inputs", "1,2"], "m.json: cannot read"),
    "model /dev/zero":         ({}, ["predict", "/dev/zero", "--inputs", "1,2"], "character device"),
    "model empty json":        ({"m.json": ""}, ["predict", "m.json", "--inputs", "1,2"], "m.json: expected a chainrule model (JSON), got invalid JSON"),
    "model deep json":         ({"m.json": "[" * 100000 + "]" * 100000}, ["predict", "m.json", "--inputs", "1,2"], "nested more than 32 deep"),
    "model digits json":       ({"m.json": "9" * 5000}, ["predict", "m.json", "--inputs", "1,2"], "4,300 digits"),
    "model list json":         ({"m.json": "[]"}, ["predict", "m.json", "--inputs", "1,2"], "m.json"),
    "model bad npz":           ({"m.npz": b"not a zip"}, ["predict", "m.npz", "--inputs", "1,2"], "m.npz: expected a chainrule model (.npz)"),
    "model bad suffix":        ({"m.pkl": b"x"}, ["predict", "m.pkl", "--inputs", "1,2"], "m.pkl"),
    # ---- command-line arguments ------------------------------------------------------------------------
    "seed -1":                 ({}, ["train", "mazur", "--seed", "-1"], "train --seed: expected an integer ≥ 0, got -1"),
    "epochs -1":               ({}, ["train", "mazur", "--epochs", "-1"], "--epochs: expected an integer from 0 to 10,000,000, got -1"),
    "threads 0":               ({}, ["train", "mazur", "--threads", "0"], "train --threads: expected an integer ≥ 1 (BLAS threads), got 0"),
    "threads abc":             ({}, ["train", "mazur", "--threads", "abc"], "argument --threads: invalid int value: 'abc'"),
    "save empty":              ({}, ["train", "mazur", "--save", ""], "train --save: expected a model file name"),
    "save missing dir":        ({}, ["train", "mazur", "--save", "no/dir/m.json"], "train --save: expected a model file in a directory"),
    "save under a file":       ({"f": "x"}, ["train", "mazur", "--save", "f/m.json"], "'f' is not a directory"),
    "save bad suffix":         ({}, ["train", "mazur", "--save", "m.txt"], "train --save"),
    "explain step 1e9":        ({}, ["explain", "mazur", "--step", "1000000000"], "explain --step: expected an integer from 1 to 10,000"),
    "explain steps 1e9":       ({}, ["explain", "mazur", "--steps", "1000000000"], "explain --steps: expected an integer from 1 to 100"),
    "explain step beyond run": ({}, ["explain", "visual", "--step", "2"], "expected an integer from 1 to 1 (the steps this spec's training runs)"),
    "worksheet step 1e9":      ({}, ["worksheet", "mazur", "--step", "1000000000"], "worksheet --step"),
    "explain width 10":        ({}, ["explain", "mazur", "--width", "10"], "explain --width"),
    "explain param unknown":   ({}, ["explain", "mazur", "--param", "w99"], "--param: expected one of"),
    "set bad":                 ({}, ["train", "mazur", "--set", "w1=abc"], "train --set: expected LABEL=NUMBER"),
    "set unknown":             ({}, ["train", "mazur", "--set", "w99=1"], "train --set: expected labels"),
    "set nan":                 ({}, ["train", "mazur", "--set", "w1=nan"], "train --set"),
    "inputs wrong width":      ({}, ["train", "mazur", "--inputs", "1,2,3"], "train --inputs row 1: expected 2 finite numbers"),
    "inputs inf":              ({}, ["train", "mazur", "--inputs", "inf,1"], "train --inputs"),
    "learning rate -2":        ({}, ["train", "mazur", "--learning-rate", "-2"], "train --learning-rate: expected a finite number ≥ 0"),
    "batch 3x":                ({}, ["train", "mazur", "--batch", "3x"], "train --batch"),
    "freeze unknown":          ({}, ["train", "mazur", "--freeze", "q1"], "train --freeze"),
    "port 0":                  ({}, ["serve", "--port", "0"], "serve --port: expected 1 to 65535"),
    "serve change no spec":    ({}, ["serve", "--learning-rate", "1"], "serve --learning-rate: applies to a spec"),
    "predict csv fifo-free":   ({}, ["predict", "mazur", "--csv", "/dev/zero"], "/dev/zero"),
    "predict wide row":        ({}, ["predict", "mazur", "--inputs", "1,2,3"], "row 1: expected 2 finite numbers"),
    "check answers seed":      ({}, ["check", "seed:000", "--answers"], "check --answers: expected a claims file with blanks"),
    "unknown command":         ({}, ["frobnicate"], "invalid choice"),
    # ---- issue 29: overrides, phases, answers, plots, outputs (each kind: silent meanings, hangs, echoes) ----
    "set twice in one":        ({}, ["train", "mazur", "--set", "w1=0.2,w1=0.3"], "train --set: expected each label once, got w1 twice"),
    "set twice in two":        ({}, ["train", "mazur", "--set", "w1=0.2", "--set", "w1=0.3"], "got w1 twice (0.2 and 0.3)"),
    "set twice explain":       ({}, ["explain", "mazur", "--set", "b1=1", "--set", "b1=1"], "explain --set: expected each label once"),
    "set long value":          ({}, ["train", "mazur", "--set", "w1=" + "x" * 5000], "train --set: expected LABEL=NUMBER"),
    "set inf":                 ({}, ["train", "mazur", "--set", "w1=inf"], "train --set"),
    "inputs empty field":      ({}, ["train", "mazur", "--inputs", "1,,2"], "train --inputs row 1: expected numbers separated by commas, got an empty field (field 2)"),
    "inputs trailing comma":   ({}, ["train", "mazur", "--inputs", "1,2,"], "got an empty field (field 3)"),
    "inputs leading comma":    ({}, ["predict", "mazur", "--inputs", ",1,2"], "predict --inputs row 1: expected numbers separated by commas"),
    "inputs empty second row": ({}, ["predict", "mazur", "--inputs", "1,2;3,,4"], "row 2: expected numbers separated by commas"),
    "inputs 10000 columns":    ({}, ["predict", "mazur", "--inputs", ",".join(["1"] * 10000)], "row 1: expected 2 finite numbers, got '1,1,1"),
    "inputs 10000 long text":  ({}, ["predict", "mazur", "--inputs", "x" * 10000], "row 1: expected numbers, got 'xxx"),
    "targets empty field":     ({}, ["train", "mazur", "--targets", "0.1,,0.9"], "train --targets row 1: expected numbers separated by commas"),
    "targets bce 2":           ({"s.toml": BCE + "targets = [[1.0]]\n"}, ["train", "s.toml", "--targets", "2"],
                                "train --targets: expected targets in [0, 1] for loss bce"),
    "targets bce -1 explain":  ({"s.toml": BCE + "targets = [[1.0]]\n"}, ["explain", "s.toml", "--targets", "-1"], "explain --targets"),
    "gradcheck bce targets 2": ({"s.toml": BCE + "targets = [[1.0]]\n"}, ["gradcheck", "s.toml", "--targets", "2"],
                                "gradcheck --targets: expected targets in [0, 1]"),
    "freeze with phases":      ({}, ["train", "softplus", "--freeze", "w1"], "train --freeze: expected a spec without phases"),
    "train-only with phases":  ({}, ["train", "softplus", "--train-only", "b3"], "train --train-only: expected a spec without phases"),
    "freeze with phases explain": ({}, ["explain", "softplus", "--freeze", "w1"], "explain --freeze: expected a spec without phases"),
    "epochs 10**12 train":     ({}, ["train", "mazur", "--epochs", str(10**12)], "train --epochs: expected an integer from 0 to 10,000,000"),
    "epochs 10**12 explain":   ({}, ["explain", "mazur", "--epochs", str(10**12)], "explain --epochs: expected an integer from 0 to 10,000,000"),
    "epochs 10**30 plot":      ({}, ["plot", "loss", "mazur", "--epochs", str(10**30), "--out", "p.png"], "plot --epochs: expected an integer from 0 to 10,000,000"),
    "epochs 10**12 spec":      ({"s.toml": MAZUR.replace("epochs = 10000", "epochs = 1000000000000")}, ["train", "s.toml"],
                                "training.epochs: expected an integer from 0 to 10,000,000"),
    "answers empty name":      ({"c.toml": 'spec = "mazur"\n[[claims]]\nout_o1 = "?"\n'}, ["check", "c.toml", "--answers", ""],
                                "check --answers: expected a file name to write the answers to"),
    "plot confusion regressor": ({}, ["plot", "confusion", "softplus", "--epochs", "2", "--out", "c.png"],
                                 "plot confusion: t: expected class targets (0 or 1, one-hot rows, or labels)"),
    "plot regions regressor":  ({"s.toml": NET + "activation = \"identity\"\n[data]\ninputs = [[0.1, 0.2], [0.3, 0.4]]\ntargets = [[0.3], [2.5]]\n"},
                                ["plot", "regions", "s.toml", "--epochs", "1", "--out", "r.png"], "got real-valued targets such as 0.3"),
    "predict overflow":        ({"s.toml": '[network]\ninputs = 1\n[[network.layers]]\nunits = 1\nactivation = "identity"\nweights = [[1e200]]\n'},
                                ["predict", "s.toml", "--inputs", "1e200"], "predict: expected outputs that are finite numbers, got inf in row 1"),
    "predict overflow json":   ({"s.toml": '[network]\ninputs = 1\n[[network.layers]]\nunits = 1\nactivation = "identity"\nweights = [[-1e200]]\n'},
                                ["predict", "s.toml", "--inputs", "1e200", "--json"], "got -inf in row 1"),
    "serve validation split":  ({}, ["serve", "mazur", "--validation-fraction", "0.5"], "serve --validation-fraction: expected a fraction leaving at least one sample"),
    "train validation split":  ({}, ["train", "mazur", "--validation-fraction", "0.5"], "train --validation-fraction"),
    "model run best_epoch 0":  ({"m.json": "RUN:best_epoch=0"}, ["train", "m.json", "--epochs", "1"], "history.best_epoch: expected an epoch from 1"),
    "model run t huge":        ({"m.json": "RUN:t=" + "9" * 20}, ["predict", "m.json", "--inputs", "1,2"], "optimizer.t: expected an integer from 0"),
    "model run rng text":      ({"m.json": "RUN:rng=x"}, ["predict", "m.json", "--inputs", "1,2"], "rng: expected numpy's state"),
    "model run epochs_run text": ({"m.json": "RUN:epochs_run=x"}, ["train", "m.json", "--epochs", "1"], "history.epochs_run: expected an integer"),
    "model run steps_run float": ({"m.json": "RUN:steps_run=1.5"}, ["train", "m.json", "--epochs", "1"], "history.steps_run"),
    "model run no activation": ({"m.json": "RUN:activation=none"}, ["predict", "m.json", "--inputs", "1,2"],
                                "network.layers[1].activation: missing"),
    "spec 400-digit weight":   ({"s.toml": NET + "weights = [[" + "9" * 400 + ", 1]]\n" + DATA}, ["train", "s.toml"],
                                "s.toml: invalid TOML: expected numbers within a float's range (±1.8e308), got an integer of 400 digits"),
    "spec 400-digit momentum": ({"s.toml": NET + DATA + "[training]\nmomentum = -" + "9" * 400 + "\n"}, ["train", "s.toml"],
                                "got an integer of 400 digits"),
    "claims 400-digit value":  ({"c.toml": 'spec = "mazur"\n[[claims]]\nout_o1 = ' + "9" * 400 + "\n"}, ["check", "c.toml"],
                                "c.toml: invalid TOML: expected numbers within a float's range"),
    "model 400-digit weight":  ({"m.json": "RUN:weight=" + "9" * 400}, ["predict", "m.json", "--inputs", "1,2"],
                                "got invalid JSON: an integer of 400 digits (beyond a float's range"),
    "model 400-digit state":   ({"m.json": "RUN:state=" + "9" * 400}, ["train", "m.json", "--epochs", "1"], "an integer of 400 digits"),
    "gradcheck overflow":      ({"s.toml": OVERFLOWING}, ["gradcheck", "s.toml"],
                                "gradcheck: expected a finite loss and gradients to compare, got loss inf"),
    "train overflow json":     ({"s.toml": OVERFLOWING}, ["train", "s.toml", "--json"], "before training: the loss became inf"),
    "idx NaN images":          ({"s.toml": '[network]\ninputs = 4\n[[network.layers]]\nunits = 2\nactivation = "softmax"\n[data]\nidx = "d"\n',
                                 **{f"d/{kind}-{what}": (bytes([0, 0, 0x0D, 3]) + bytes([0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]) + b"\x7f\xc0\x00\x00" * 8
                                                         if what.startswith("images") else bytes([0, 0, 8, 1, 0, 0, 0, 2, 0, 1]))
                                    for kind in ("train", "t10k") for what in ("images-idx3-ubyte", "labels-idx1-ubyte")}},
                                ["train", "s.toml"], "d/train-images-idx3-ubyte: expected finite values, got nan"),
}


def _run_model(change: str) -> str:
    """A saved run (JSON) of a 2-3-1 network with every part, one field of it changed as ``change`` says
    ("best_epoch=0": the history's; "t=…": the optimiser's; "rng=x"; "activation=none": the first layer's
    removed): the model-file-of-a-run cases of the corpus, made when the case runs."""
    import json
    import numpy as np
    import chainrule as cr
    x = np.random.default_rng(0).normal(size=(12, 2))
    net = cr.mlp([2, 3, 1], activation="tanh", seed=0)
    net.fit(x, np.c_[x[:, 0]], epochs=3, optimizer="adam", learning_rate=0.01, validation_fraction=0.25, patience=10)
    buffer = io.StringIO()
    from chainrule.formats.serialize import model_document
    document = model_document(net, "run", run=net.run)
    key, _, value = change.partition("=")
    if key == "t":
        document["optimizer"]["t"] = int(value)
    elif key == "rng":
        document["rng"] = value
    elif key == "activation":
        del document["network"]["layers"][0]["activation"]
    elif key == "weight":
        text = json.dumps(document)
        return text.replace(json.dumps(document["network"]["layers"][0]["weights"][0][0]), value, 1)
    elif key == "state":
        document["optimizer"]["state"]["0"]["m"][0][0] = 0.125
        return json.dumps(document).replace("0.125", value, 1)
    else:
        document["history"][key] = json.loads(value) if value[:1].isdigit() else value
    json.dump(document, buffer)
    return buffer.getvalue()


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class _Hang(Exception):
    pass


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_one_line_naming_what_was_expected_and_changes_no_file(name, tmp_path, monkeypatch, capsys):
    written, argv, fragment = CASES[name]
    for relative, content in written.items():
        if isinstance(content, str) and content.startswith("RUN:"):
            content = _run_model(content[4:])
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)

    def hang(*_):
        raise _Hang(name)
    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)                        # a case that hangs fails here instead of stalling the suite
    try:
        code = main(argv, out=io.StringIO())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("chainrule: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    assert fragment in err, err
    assert len(err) < 400, f"{len(err)} characters"
    assert snapshot(tmp_path) == before


def test_the_corpus_covers_every_surface_with_enough_cases():
    """With the web half (tests/test_bad_web.py): at least 200 cases over every surface."""
    from test_bad_web import CASES as WEB
    surfaces = {name.split()[0] for name in CASES}
    assert {"spec", "claims", "model", "save", "explain", "serve", "predict"} <= surfaces
    methods = {method for method, *_ in WEB.values()}
    web = {name.split()[0] for name in WEB}
    assert {"body", "spec", "data", "csv", "training", "train", "parameters", "step", "boundary", "content-length",
            "static"} <= web and {"GET", "POST", "PUT", "DELETE"} <= methods
    assert any("?" in path for _, path, *_ in WEB.values())          # query strings
    assert len(CASES) + len(WEB) >= 200


def test_a_fifo_nobody_writes_to_reads_as_empty_instead_of_hanging(tmp_path, monkeypatch, capsys):
    os.mkfifo(tmp_path / "f")
    monkeypatch.chdir(tmp_path)
    for argv in (["check", "f"], ["train", "f"], ["predict", "f", "--inputs", "1,2"]):
        signal.alarm(20)
        try:
            assert main(argv, out=io.StringIO()) == 2
        finally:
            signal.alarm(0)
        err = capsys.readouterr().err
        assert err.startswith("chainrule: error: f: ") and err.count("\n") == 1, err


def test_process_substitution_still_reads_a_spec(tmp_path):
    """`chainrule train <(cat mazur.toml)`: a pipe with a writer is read, not refused."""
    import subprocess
    import sys
    (tmp_path / "m.toml").write_text(MAZUR)
    command = f'"{sys.executable}" -m chainrule train <(cat "{tmp_path / "m.toml"}") --epochs 1'
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "w5 = 0.35891648" in result.stdout


def test_serve_on_a_port_in_use_is_one_line_before_announcing_the_page(capsys):
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        signal.alarm(20)
        try:
            code = main(["serve", "--port", str(port)], out=io.StringIO())
        finally:
            signal.alarm(0)
    captured = capsys.readouterr()
    assert code == 2 and "serving" not in captured.out, captured
    assert captured.err == (f"chainrule: error: serve --host/--port: expected an address free to listen on, "
                            f"got 127.0.0.1:{port} (Address already in use)\n")


def test_an_npz_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch, capsys):
    """5 MB on disk, 1.1 GB unpacked: refused from the archive's directory, before any member is read."""
    import zipfile
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("model.npy", "w", force_zip64=True) as member:
            for _ in range(17):
                member.write(bytes(1 << 26))
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "bomb.npz", "--inputs", "1,2"], out=io.StringIO()) == 2
    assert capsys.readouterr().err == "chainrule: error: bomb.npz: expected a model of at most 1 GB unpacked, got 1.1 GB\n"


def test_opening_a_model_never_reads_the_data_file_its_spec_named(tmp_path, monkeypatch):
    """The spec's CSV is replaced by a FIFO nobody writes to: predict still answers at once."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(NET + '[data]\ncsv = "d.csv"\n[training]\nepochs = 1\n')
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,3\n")
    assert main(["train", "s.toml", "--save", "m.json"], out=io.StringIO()) == 0
    (tmp_path / "d.csv").unlink()
    os.mkfifo(tmp_path / "d.csv")
    out = io.StringIO()
    signal.alarm(20)
    try:
        assert main(["predict", "m.json", "--inputs", "1,2"], out=out) == 0
    finally:
        signal.alarm(0)
    assert out.getvalue().startswith("(1, 2) → (")


def test_an_overflowing_step_is_explained_with_null_in_json_and_inf_in_text(tmp_path, monkeypatch, capsys):
    """Non-finite numbers never reach JSON (null, by explain's JSON contract) and no numpy warning reaches
    stderr; the text shows the step with its inf."""
    import json
    import warnings
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(OVERFLOWING)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # a RuntimeWarning would fail here
        out = io.StringIO()
        assert main(["explain", "s.toml", "--format", "json"], out=out) == 0
        step = json.loads(out.getvalue(), parse_constant=lambda token: pytest.fail(f"{token} in JSON"))["steps"][0]
        assert step["samples"][0]["loss"] is None and step["samples"][0]["layers"][0]["net"] == [1e200, 1e200]
        text = io.StringIO()
        assert main(["explain", "s.toml"], out=text) == 0
        assert "E_total = E_o1 = inf" in text.getvalue()
    assert capsys.readouterr().err == ""
