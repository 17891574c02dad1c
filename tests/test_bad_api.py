"""The bad-input corpus of issue 29's surfaces, as Python calls: the scikit-learn estimators, PyTorch
interop, plots, the Python API's numbers and limits, and model files of a run (each field of a saved
run spoiled). Each case must raise one ValueError or TypeError (ConfigError, SpecError) of one line that
names what was expected and what was got, emit no numpy or other warning, change no file, and finish
within 20 s. The command-line cases of the same surfaces are in test_bad_input.py (CASES)."""

import json
import math
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.settings import ConfigError

sklearn = pytest.importorskip("sklearn")
from chainrule.sklearn import MLPClassifier, MLPRegressor   # noqa: E402
import chainrule.sklearn as crs                             # noqa: E402

X = np.array([[0.1, 0.2], [0.4, -0.3], [1.0, 0.5], [-0.7, 0.2], [0.3, 0.9], [-0.2, -0.8], [0.6, 0.1], [-0.5, 0.4]])
Y = np.array([0, 1, 1, 0, 1, 0, 1, 0])
T = np.c_[X[:, 0] * 0.5 + 0.1]
NET = cr.mlp([2, 3, 1], activation="tanh", seed=0)


def fitted(kind=MLPClassifier, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kind(hidden_layer_sizes=(3,), max_iter=2, random_state=0, **params).fit(X, Y if kind is MLPClassifier else T[:, 0])


# every parameter of the estimators, with values of each bad kind: non-finite, out of range, wrong type
BAD_PARAMETERS = {
    "hidden_layer_sizes": [(0,), (-3,), (2.5,), ("a",), (True,)],
    "activation": ["sigmoid", "softmax", None, 3],
    "solver": ["lbfgs", "rmsprop", None],
    "alpha": [-1.0, math.nan, math.inf, "0.1", None],
    "batch_size": [0, 1.5, "all", -5, None],
    "learning_rate": [0.01, "step", None],
    "learning_rate_init": [0.0, -0.1, math.nan, math.inf, "0.1"],
    "power_t": [-0.5, math.nan, "x"],
    "max_iter": [0, -1, 2.5, "10", None],
    "shuffle": ["yes", 1.5, None],
    "tol": [-1e-4, math.nan, "0"],
    "verbose": ["loud", 0.5],
    "warm_start": ["no", None],
    "momentum": [-0.1, 1.0, 1.5, math.nan],
    "nesterovs_momentum": ["true", None],
    "early_stopping": ["true", 2.0],
    "validation_fraction": [-0.1, 1.0, math.nan],
    "beta_1": [1.0, -0.5, math.nan],
    "beta_2": [1.0, 2.0, math.inf],
    "epsilon": [0.0, -1e-8, math.nan],
    "n_iter_no_change": [0, -3, 1.5, math.nan],
    "max_fun": [0, 1.5],
}


def _parameter_cases():
    cases = {}
    for name, values in BAD_PARAMETERS.items():
        for value in values:
            for kind in (MLPClassifier, MLPRegressor):
                if kind is MLPRegressor and value not in (values[0],):
                    continue            # the regressor shares the checks: its first value of each is enough
                target = Y if kind is MLPClassifier else T[:, 0]
                cases[f"estimator {kind.__name__} {name}={value!r}"] = (
                    lambda tmp, kind=kind, name=name, value=value, target=target:
                    kind(**{name: value}).fit(X, target), f"{name}: expected")
    return cases


def saved_run(tmp: Path) -> dict:
    """A run saved as JSON with every part: a history with validation losses and best_epoch, adam's state,
    the shuffling generator's state."""
    x = np.random.default_rng(0).normal(size=(12, 2))
    net = cr.mlp([2, 3, 1], activation="tanh", seed=0)
    net.fit(x, np.c_[x[:, 0]], epochs=3, optimizer="adam", learning_rate=0.01, validation_fraction=0.25,
            shuffle=True, patience=10)
    net.save(tmp / "run.json")
    return json.loads((tmp / "run.json").read_text())


def spoiled(change):
    """A case: the saved run with ``change`` made to its document, loaded back."""
    def call(tmp: Path):
        document = saved_run(tmp)
        change(document)
        (tmp / "bad.json").write_text(json.dumps(document))
        return cr.load_model(tmp / "bad.json")
    return call


def history(**fields):
    return spoiled(lambda d: d["history"].update(fields))


def npz_declaring(shape):
    def call(tmp: Path):
        import io
        import zipfile
        cr.mlp([2, 1], seed=0).save(tmp / "ok.npz")
        with zipfile.ZipFile(tmp / "ok.npz") as source, zipfile.ZipFile(tmp / "bomb.npz", "w") as out:
            for name in source.namelist():
                out.writestr(name, source.read(name))
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
            out.writestr("state_0_m.npy", header.getvalue() + bytes(64))
        return cr.load_model(tmp / "bomb.npz")
    return call


def npz_without_activation(tmp: Path):
    cr.mlp([2, 1], seed=0, activation="tanh").save(tmp / "m.npz")
    content = dict(np.load(tmp / "m.npz"))
    document = json.loads(str(content["model"]))
    del document["network"]["layers"][0]["activation"]
    content["model"] = np.array(json.dumps(document))
    np.savez(tmp / "bad.npz", **content)
    return cr.load_model(tmp / "bad.npz")


def torch_case(make):
    def call(tmp: Path):
        torch = pytest.importorskip("torch")
        return make(torch)
    return call


def plot_case(make):
    def call(tmp: Path):
        pytest.importorskip("matplotlib")
        import matplotlib
        matplotlib.use("Agg")
        from chainrule import plot
        try:
            return make(plot)
        finally:
            plot.plt.close("all")
    return call


REGRESSOR = cr.mlp([2, 3, 1], activation="tanh", output_activation="identity", loss="mse", seed=0)
F32 = cr.mlp([2, 3, 1], activation="tanh", seed=0, dtype="float32")
BCE = cr.mlp([2, 1], output_activation="sigmoid", loss="bce", seed=0)


# name: (call(tmp_path), fragment of the one-line message)
CASES = {
    **_parameter_cases(),
    # ---- the estimators: data, sample weights, classes, calls out of order ----
    "estimator X with NaN":          (lambda tmp: MLPClassifier().fit(np.where(X > 0.9, np.nan, X), Y), "NaN"),
    "estimator X with inf":          (lambda tmp: MLPRegressor().fit(np.where(X > 0.9, np.inf, X), T[:, 0]), "infinity"),
    "estimator X text":              (lambda tmp: MLPClassifier().fit([["a", "b"]] * 8, Y), "could not convert"),
    "estimator X 3-D":               (lambda tmp: MLPClassifier().fit(X[:, :, None], Y), "Found array with dim 3"),
    "estimator X empty":             (lambda tmp: MLPClassifier().fit(np.zeros((0, 2)), []), "0 sample"),
    "estimator y too short":         (lambda tmp: MLPClassifier().fit(X, Y[:5]), "inconsistent numbers of samples"),
    "estimator y one class":         (lambda tmp: MLPClassifier().fit(X, np.zeros(8)), "y: expected labels of at least 2 classes"),
    "estimator y continuous":        (lambda tmp: MLPClassifier().fit(X, X[:, 0]), "Unknown label type"),
    "estimator regressor y text":    (lambda tmp: MLPRegressor().fit(X, ["a"] * 8), "could not convert"),
    "estimator sample_weight short": (lambda tmp: MLPClassifier().fit(X, Y, sample_weight=np.ones(3)), "sample_weight"),
    "estimator sample_weight NaN":   (lambda tmp: MLPClassifier().fit(X, Y, sample_weight=np.full(8, np.nan)), "NaN"),
    "estimator sample_weight 2-D":   (lambda tmp: MLPClassifier().fit(X, Y, sample_weight=np.ones((8, 2))), "1D"),
    "estimator loss poisson":        (lambda tmp: MLPRegressor(loss="poisson").fit(X, T[:, 0]), "loss: expected 'squared_error'"),
    "estimator loss mse":            (lambda tmp: MLPRegressor(loss="mse").fit(X, T[:, 0]), "loss: expected 'squared_error', got 'mse'"),
    "estimator partial_fit no classes": (lambda tmp: MLPClassifier().partial_fit(X, Y), "classes: expected every class label"),
    "estimator partial_fit new classes": (lambda tmp: fitted().partial_fit(X, Y, classes=[0, 1, 2]),
                                          "classes: expected the classes of the first partial_fit [0, 1], got [0, 1, 2]"),
    "estimator partial_fit unseen label": (lambda tmp: fitted().partial_fit(X, Y + 5), "y: expected labels among classes_ [0, 1]"),
    "estimator partial_fit early stopping": (lambda tmp: MLPClassifier(early_stopping=True).partial_fit(X, Y, classes=[0, 1]),
                                             "early_stopping: expected False with partial_fit"),
    "estimator warm_start other classes": (lambda tmp: fitted(warm_start=True).fit(X, Y + 1),
                                           "y: expected the classes of the earlier fit with warm_start [0, 1], got [1, 2]"),
    "estimator early stopping too few": (lambda tmp: MLPClassifier(early_stopping=True, validation_fraction=0.1).fit(X, Y),
                                         "validation_fraction"),
    "estimator predict unfitted":    (lambda tmp: MLPClassifier().predict(X), "not fitted"),
    "estimator predict wide X":      (lambda tmp: fitted().predict(np.zeros((2, 5))), "X has 5 features"),
    "estimator predict NaN X":       (lambda tmp: fitted().predict([[np.nan, 0.0]]), "NaN"),
    "estimator coefs_ wrong shape":  (lambda tmp: setattr(fitted(), "coefs_", [np.zeros((3, 2)), np.zeros((3, 1))]),
                                      "coefs_[0]: expected finite numbers of shape (2, 3), got shape (3, 2)"),
    "estimator coefs_ NaN":          (lambda tmp: setattr(fitted(), "coefs_", [np.full((2, 3), np.nan), np.zeros((3, 1))]),
                                      "coefs_[0]: expected finite numbers"),
    "estimator intercepts_ count":   (lambda tmp: setattr(fitted(), "intercepts_", [np.zeros(3)]),
                                      "intercepts_: expected a list of 2 arrays"),
    "estimator explain steps 1e9":   (lambda tmp: fitted(alpha=0.0).explain(X, Y, steps=10**9), "steps: expected an integer from 1 to 1000"),
    "estimator explain steps 0":     (lambda tmp: fitted(alpha=0.0).explain(X, Y, steps=0), "steps: expected an integer from 1 to 1000"),
    "estimator explain unseen label": (lambda tmp: fitted(alpha=0.0).explain(X, Y + 7), "y: expected labels among classes_"),
    "estimator explain unfitted":    (lambda tmp: MLPClassifier().explain(X, Y), "not fitted"),
    "estimator explain of another":  (lambda tmp: crs.explain(object(), X, Y), "estimator: expected a chainrule.sklearn"),
    "estimator explain pipeline of another": (
        lambda tmp: crs.explain(__import__("sklearn.pipeline").pipeline.make_pipeline(
            __import__("sklearn.preprocessing").preprocessing.StandardScaler(),
            __import__("sklearn.linear_model").linear_model.LogisticRegression()).fit(X, Y), X, Y),
        "got one ending in LogisticRegression"),
    # ---- PyTorch interop ----
    "torch state bfloat16":          (torch_case(lambda t: NET.copy().load_state_dict(
        {k: t.from_numpy(v).to(t.bfloat16) for k, v in NET.state_dict().items()})), "got a tensor of dtype torch.bfloat16"),
    "torch state float16":           (torch_case(lambda t: NET.copy().load_state_dict(
        {k: t.from_numpy(v).half() for k, v in NET.state_dict().items()})), "got a tensor of dtype torch.float16"),
    "torch state complex":           (torch_case(lambda t: NET.copy().load_state_dict(
        {k: t.from_numpy(v).to(t.complex64) for k, v in NET.state_dict().items()})), "complex64"),
    "torch state meta":              (torch_case(lambda t: NET.copy().load_state_dict(
        {k: t.empty(v.shape, device="meta") for k, v in NET.state_dict().items()})), "meta device"),
    "torch state other prefix":      (lambda tmp: NET.copy().load_state_dict({f"model.{k}": v for k, v in NET.state_dict().items()}),
                                      "unexpected model.0.weight"),
    "torch state mixed prefixes":    (lambda tmp: NET.copy().load_state_dict(
        {("module." if k.startswith("0") else "") + k: v for k, v in NET.state_dict().items()}), "missing 0.weight"),
    "torch state 1000 keys":         (lambda tmp: NET.copy().load_state_dict({f"k{i}": np.ones(1) for i in range(1000)}),
                                      "… and 994 more"),
    "torch state wrong shape":       (lambda tmp: NET.copy().load_state_dict({**NET.state_dict(), "0.weight": np.ones((2, 3))}),
                                      "expected shape (3, 2)"),
    "torch state 1e300 into float32": (lambda tmp: F32.copy().load_state_dict({**F32.state_dict(), "0.weight": np.full((3, 2), 1e300)}),
                                       "expected numbers within float32's range"),
    "torch state a list":            (lambda tmp: NET.copy().load_state_dict([1, 2]), "state_dict: expected a mapping"),
    "torch from Linear(0, 3)":       (torch_case(lambda t: cr.from_torch(t.nn.Linear(0, 3))), "got nn.Linear(0, 3)"),
    "torch from Linear(3, 0)":       (torch_case(lambda t: cr.from_torch(t.nn.Linear(3, 0))), "got nn.Linear(3, 0)"),
    "torch from bfloat16":           (torch_case(lambda t: cr.from_torch(t.nn.Linear(2, 2).to(t.bfloat16))), "torch.bfloat16"),
    "torch from meta":               (torch_case(lambda t: cr.from_torch(t.nn.Linear(2, 2, device="meta"))), "meta device"),
    "torch logits of tanh":          (torch_case(lambda t: cr.mlp([2, 2], output_activation="tanh", seed=0).to_torch(logits=True)),
                                      "logits: expected a network whose output layer is softmax or sigmoid"),
    "torch logits not a bool":       (torch_case(lambda t: BCE.to_torch(logits="yes")), "logits: expected True or False"),
    # ---- plots ----
    "plot confusion of a regressor": (plot_case(lambda p: p.confusion(REGRESSOR, X, T)), "got real-valued targets"),
    "plot regions of a regressor":   (plot_case(lambda p: p.decision_regions(REGRESSOR, X, T, resolution=5)), "got real-valued targets"),
    "plot regions unbounded outputs": (plot_case(lambda p: p.decision_regions(
        cr.mlp([2, 1], output_activation="identity", bias=5.0, seed=0), X, resolution=5)), "network: expected a classifier"),
    "plot phases not a list":        (plot_case(lambda p: p.loss_in_phases("phases")), "phases: expected a list of (name, History)"),
    "plot phases empty":             (plot_case(lambda p: p.loss_in_phases([])), "phases: expected a list of (name, History)"),
    "plot phases of numbers":        (plot_case(lambda p: p.loss_in_phases([("a", [1.0, 2.0])])), "phases: expected"),
    # ---- the Python API: numbers, limits, silent meanings ----
    "api reduction avg":             (lambda tmp: NET.loss_of(X, T, reduction="avg"), "reduction: expected 'sum' or 'mean', got 'avg'"),
    "api reduction None":            (lambda tmp: NET.loss_of(X, T, reduction=None), "reduction: expected 'sum' or 'mean', got None"),
    "api fit reduction avg":         (lambda tmp: NET.copy().fit(X, T, reduction="avg"), "reduction: expected 'sum' or 'mean'"),
    "api Dense NaN bias":            (lambda tmp: cr.Dense([[1.0, 2.0]], [np.nan]), "bias: expected finite numbers, got nan"),
    "api Dense inf bias":            (lambda tmp: cr.Dense([[1.0, 2.0]], [np.inf]), "bias: expected finite numbers, got inf"),
    "api Dense text bias":           (lambda tmp: cr.Dense([[1.0, 2.0]], ["x"]), "bias: expected real numbers, got text"),
    "api Dense empty weights":       (lambda tmp: cr.Dense(np.zeros((3, 0))), "weights: expected at least 1 unit and 1 input"),
    "api mlp NaN bias":              (lambda tmp: cr.mlp([2, 1], bias=float("nan")), "bias: expected finite numbers"),
    "api epochs 10**12":             (lambda tmp: NET.copy().fit(X, T, epochs=10**12), "epochs: expected an integer from 0 to 10,000,000"),
    "api epochs np 10**12":          (lambda tmp: NET.copy().fit(X, T, epochs=np.int64(10**12)), "epochs: expected an integer from 0"),
    "api explain steps 10**9":       (lambda tmp: NET.explain(X, T, steps=10**9), "steps: expected an integer from 1 to 10,000"),
    "api explain steps np 0":        (lambda tmp: NET.explain(X, T, steps=np.int64(0)), "steps: expected an integer from 1 to 10,000 (each step is traced number by number), got 0"),
    "api explain steps float":       (lambda tmp: NET.explain(X, T, steps=2.0), "steps: expected an integer"),
    "api learning rate np NaN":      (lambda tmp: NET.copy().fit(X, T, learning_rate=np.float64("nan")), "learning_rate: expected a finite number ≥ 0, got nan"),
    "api learning rate np bool":     (lambda tmp: NET.copy().fit(X, T, learning_rate=np.bool_(True)), "learning_rate: expected"),
    "api float32 x 1e300":           (lambda tmp: F32.predict([[1e300, 0.0]]), "x: expected numbers within float32's range"),
    "api float32 fit x 1e300":       (lambda tmp: F32.copy().fit(np.full((8, 2), -1e300), T), "within float32's range"),
    "api float32 fit t 1e300":       (lambda tmp: F32.copy().fit(X, np.full((8, 1), 1e300)), "t: expected numbers within float32's range (±3.403e+38), got 1e+300"),
    "api float32 fit t list 1e300":  (lambda tmp: F32.copy().fit(X, [[1e300]] * 8), "t: expected numbers within float32's range (±3.403e+38), got 1e+300"),
    "api save multi-line name":      (lambda tmp: NET.save(tmp / "m.json", name="a\nb"), "name: expected one line of at most 200"),
    "api save long name":            (lambda tmp: NET.save(tmp / "m.json", name="x" * 500), "name: expected one line"),
    "api save name not text":        (lambda tmp: NET.save(tmp / "m.json", name=3), "name: expected one line"),
    "api bce targets 2":             (lambda tmp: BCE.copy().fit(X, np.full((8, 1), 2.0)), "t: expected targets in [0, 1]"),
    "api gradcheck bce targets 2":   (lambda tmp: __import__("chainrule.training.gradcheck").training.gradcheck.check(BCE, X, np.full((8, 1), 2.0)),
                                      "t: expected targets in [0, 1] for loss bce"),
    "api validation split empty":    (lambda tmp: NET.copy().fit(X[:1], T[:1], validation_fraction=0.5),
                                      "validation_fraction: expected a fraction leaving at least one sample"),
    # ---- model files of a run: every field ----
    "run best_epoch 0":              (history(best_epoch=0), "history.best_epoch: expected an epoch from 1 to 3"),
    "run best_epoch beyond":         (history(best_epoch=9), "history.best_epoch: expected an epoch from 1 to 3"),
    "run best_epoch text":           (history(best_epoch="2"), "history.best_epoch: expected an epoch"),
    "run best_epoch true":           (history(best_epoch=True), "history.best_epoch"),
    "run best_epoch no validation":  (history(best_epoch=1, validation_loss_history=[]), "expected null (no validation loss"),
    "run epochs_run text":           (history(epochs_run="3"), "history.epochs_run: expected an integer from 0 to 3"),
    "run epochs_run negative":       (history(epochs_run=-1), "history.epochs_run: expected an integer"),
    "run epochs_run beyond epoch":   (history(epochs_run=99), "history.epochs_run: expected an integer from 0 to 3, got 99"),
    "run steps_run float":           (history(steps_run=2.5), "history.steps_run: expected an integer"),
    "run steps_run huge":            (history(steps_run=10**30), "history.steps_run"),
    "run start_epoch negative":      (history(start_epoch=-2), "history.start_epoch"),
    "run initial_loss text":         (history(initial_loss="x"), "history.initial_loss: expected a finite number (or null)"),
    "run initial_loss huge int":     (history(initial_loss=10**400), "got invalid JSON: an integer of 401 digits (beyond a float's range"),
    "run stopped_because number":    (history(stopped_because=5), "history.stopped_because: expected one of"),
    "run stopped_because unknown":   (history(stopped_because="bored"), "history.stopped_because: expected one of"),
    "run engine number":             (history(engine=3), "history.engine: expected a string"),
    "run loss_history text":         (history(loss_history=["a"]), "history.loss_history: expected a list of finite numbers"),
    "run loss_history not a list":   (history(loss_history=5), "history.loss_history"),
    "run validation history text":   (history(validation_loss_history="x"), "history.validation_loss_history"),
    "run history unknown key":       (history(colour=1), "history: expected a table of"),
    "run history not a table":       (spoiled(lambda d: d.update(history=[1, 2])), "history: expected a table"),
    "run optimizer t huge":          (spoiled(lambda d: d["optimizer"].update(t=10**20)), "optimizer.t: expected an integer from 0"),
    "run optimizer t float":         (spoiled(lambda d: d["optimizer"].update(t=1.5)), "optimizer.t: expected an integer"),
    "run optimizer t negative":      (spoiled(lambda d: d["optimizer"].update(t=-1)), "optimizer.t"),
    "run optimizer name":            (spoiled(lambda d: d["optimizer"].update(name="lbfgs")), "optimizer.name: expected one of"),
    "run optimizer state text":      (spoiled(lambda d: d["optimizer"].update(state="x")), "optimizer.state: expected a table"),
    "run rng not a table":           (spoiled(lambda d: d.update(rng=[1, 2])), "rng: expected numpy's state"),
    "run rng other generator":       (spoiled(lambda d: d["rng"].update(bit_generator="MT19937")), "rng: expected numpy's state"),
    "run rng state text":            (spoiled(lambda d: d["rng"].update(state="x")), "rng: expected numpy's state"),
    "run rng huge numbers":          (spoiled(lambda d: d["rng"]["state"].update(state=10**300)), "rng: expected numpy's state"),
    "run rng missing state":         (spoiled(lambda d: d["rng"].pop("state")), "rng: expected numpy's state"),
    "run epoch huge":                (spoiled(lambda d: d.update(epoch=10**30)), "epoch: expected an integer from 0 to 10,000,000"),
    "run epoch text":                (spoiled(lambda d: d.update(epoch="3")), "epoch: expected an integer"),
    "run training epochs huge":      (spoiled(lambda d: d["training"].update(epochs=10**12)), "training.epochs: expected an integer from 0"),
    "run training reduction avg":    (spoiled(lambda d: d["training"].update(reduction="avg")), "training.reduction"),
    "run training form":             (spoiled(lambda d: d["training"].update(form="keras")), "form: expected 'pytorch' or 'sklearn'"),
    "run best not a list":           (spoiled(lambda d: d.update(best=5)), "best: expected"),
    "run data not a table":          (spoiled(lambda d: d.update(data=5)), "data: expected the spec's [data] table"),
    "run name multi-line":           (spoiled(lambda d: d.update(name="a\nb")), "name: expected one line"),
    "run layer without activation":  (spoiled(lambda d: d["network"]["layers"][0].pop("activation")),
                                      "network.layers[1].activation: missing; expected the layer's activation"),
    "npz layer without activation":  (npz_without_activation, "network.layers[1].activation: missing"),
    "npz member declaring 75 GB":    (npz_declaring((100_000, 100_000)), "got one whose header says 75 GB"),
    "npz member declaring 10**15 rows": (npz_declaring((10**15, 10**3)), "state_0_m: expected an array of at most 1 GB"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_python_input_raises_one_line_naming_what_was_expected(name, tmp_path):
    call, fragment = CASES[name]

    def hang(*_):
        raise TimeoutError(name)
    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            before = sorted(p.name for p in tmp_path.iterdir())
            with pytest.raises((ValueError, TypeError)) as error:
                call(tmp_path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    message = str(error.value)
    assert fragment in message, message
    assert "\n" not in message and len(message) < 400, message
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]
    after = sorted(p.name for p in tmp_path.iterdir())
    assert set(after) - set(before) <= {"run.json", "bad.json", "ok.npz", "bomb.npz", "m.npz", "bad.npz"}, after
    assert "m.json" not in after                         # a refused save writes nothing


def test_the_new_surfaces_have_their_share_of_the_corpus():
    from test_bad_input import CASES as CLI
    kinds = {name.split()[0] for name in CASES}
    assert {"estimator", "torch", "plot", "api", "run", "npz"} <= kinds
    new_cli = [name for name in CLI if name.split()[0] in ("set", "inputs", "freeze", "train-only", "epochs", "answers",
                                                           "plot", "predict", "serve", "targets", "gradcheck")]
    assert len(CASES) + len(new_cli) >= 150 + 10       # issue 29: ≥ 150 over the new surfaces


def test_the_finite_check_of_data_needs_no_flag_array_and_survives_an_overflowing_sum():
    """data.all_finite answers by one sum; a sum that overflows (every entry finite) is checked entry by entry."""
    from chainrule.core.data import all_finite
    big = np.finfo(np.float32).max
    assert all_finite(np.full((3, 2), big, np.float32))             # the sum is inf, the entries are finite
    assert not all_finite(np.array([[big, np.nan]], np.float32))
    assert not all_finite(np.array([[np.inf, -np.inf]]))            # the sum is NaN
    x = np.full((4, 2), big, np.float32)
    x[2, 1] = np.inf
    with pytest.raises(ConfigError, match=r"x: expected finite numbers, got inf in row 2"):
        cr.fit(cr.mlp([2, 1], "identity"), x.astype(np.float64), np.zeros((4, 1)))
