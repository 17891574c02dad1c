"""Plots (the plot extra) rendered to PNG and checked by structure; their numbers against oracles
(numpy counts, the network's own predict at the drawn points); `chainrule plot` writes real pictures."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot                                 # noqa: E402

import chainrule as cr                                   # noqa: E402
from chainrule import plot                               # noqa: E402
from chainrule.cli import main                           # noqa: E402
from chainrule.core.settings import ConfigError          # noqa: E402
from matplotlib.collections import PathCollection        # noqa: E402
from matplotlib.patches import Circle                    # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    matplotlib.pyplot.close("all")


def png(ax, tmp_path, name="plot.png"):
    path = tmp_path / name
    ax.figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_loss_curve_train_and_validation(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    net = cr.mlp([2, 4, 2], activation="tanh", loss="cross_entropy", seed=0)
    history = net.fit(x, (x[:, 0] > 0).astype(int), epochs=12, validation_fraction=0.25, patience=50)
    ax = plot.loss(history)
    png(ax, tmp_path)
    train, validation, best = ax.get_lines()
    assert list(train.get_xdata()) == list(range(13))
    assert list(train.get_ydata()) == [history.initial_loss, *history.loss_history]
    assert list(validation.get_ydata()) == history.validation_loss_history
    assert list(best.get_xdata()) == [history.best_epoch]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["training loss", "validation loss"]


def test_loss_curve_chooses_a_log_scale_over_two_decades(tmp_path):
    ex = cr.example("xor")
    history = ex.fit()
    assert max(history.loss_history) / min(history.loss_history) > 100
    assert plot.loss(history).get_yscale() == "log"
    assert plot.loss(history, log=False).get_yscale() == "linear"


def test_decision_regions_of_xor(tmp_path):
    ex = cr.example("xor")
    ex.fit()
    ax = plot.decision_regions(ex.network, ex.x, ex.t, resolution=50)
    png(ax, tmp_path)
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(points.get_offsets(), ex.x)
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    # the filled regions are the network's classes on the grid: XOR's four corners fall in 0, 1, 1, 0
    corners = plot.metrics.classes(ex.network.predict(ex.x))
    assert corners.tolist() == [0, 1, 1, 0]
    colours = points.get_facecolors()
    assert (colours[0] == colours[3]).all() and (colours[1] == colours[2]).all() and (colours[0] != colours[1]).any()


def test_fitted_curves_before_and_after_through_the_data(tmp_path):
    ex = cr.example("softplus")
    before = ex.network.copy()
    ax = plot.fitted(before, ex.x, ex.t, label="before")
    ex.fit()
    plot.fitted(ex.network, ex.x, ex.t, ax, label="after")
    png(ax, tmp_path)
    curves = [line for line in ax.get_lines() if line.get_gid() == "fitted"]
    assert len(curves) == 2
    for line, net in zip(curves, (before, ex.network)):
        np.testing.assert_allclose(line.get_ydata(), net.predict(line.get_xdata())[:, 0], rtol=0, atol=0)
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == len(ex.x) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["before", "data", "after"]


def test_network_drawn_with_a_circle_per_neuron_and_a_line_per_weight(tmp_path):
    net = cr.mlp([3, 4, 2], activation="tanh", seed=0)
    ax = plot.network(net, [0.1, 0.2, 0.3])
    png(ax, tmp_path)
    assert len([p for p in ax.patches if isinstance(p, Circle)]) == 3 + 4 + 2
    weights = [line for line in ax.get_lines() if line.get_gid() == "weight"]
    assert len(weights) == 3 * 4 + 4 * 2
    largest = max(abs(w) for layer in net.layers for w in layer.weights.ravel())
    w = net.layers[0].weights[0, 0]
    assert weights[0].get_linewidth() == pytest.approx(0.3 + 3.7 * abs(w) / largest)
    assert weights[0].get_color() == (plot.POSITIVE if w >= 0 else plot.NEGATIVE)
    outs = net.predict([[0.1, 0.2, 0.3]])[0]
    texts = [t.get_text() for t in ax.texts]
    assert f"o1\n{outs[0]:.3g}" in texts and f"o2\n{outs[1]:.3g}" in texts


def test_a_wide_layer_is_drawn_with_its_ends_and_an_ellipsis(tmp_path):
    net = cr.mlp([784, 16, 10], activation="relu", loss="cross_entropy", seed=0)
    ax = plot.network(net)
    png(ax, tmp_path)
    circles = len([p for p in ax.patches if isinstance(p, Circle)])
    assert circles == (plot.MAX_DRAWN - 1) + min(16, plot.MAX_DRAWN - 1) + 10
    assert "⋮" in [t.get_text() for t in ax.texts]


def test_confusion_matrix_counts_match_numpy(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 2))
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    net = cr.mlp([2, 8, 3], activation="tanh", loss="cross_entropy", seed=0)
    net.fit(x, labels, epochs=10, learning_rate=0.05, batch=8)
    ax = plot.confusion(net, x, labels)
    png(ax, tmp_path)
    predicted = np.argmax(net.forward(x)[-1].out, axis=1)
    expected = np.array([[np.sum((labels == r) & (predicted == c)) for c in range(3)] for r in range(3)])
    counts = np.array([int(t.get_text()) for t in ax.texts if t.get_gid() == "count"]).reshape(3, 3)
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == 120
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


@pytest.mark.parametrize("call, expected", [
    (lambda: plot.decision_regions(cr.mlp([3, 2], seed=0), np.zeros((2, 3))), "network: expected 2 inputs"),
    (lambda: plot.fitted(cr.mlp([2, 1], seed=0), np.zeros((2, 2))), "network: expected 1 input and 1 output"),
    (lambda: plot.fitted(cr.mlp([1, 1], seed=0), [1, 2], points=1), "points: expected an integer ≥ 2"),
    (lambda: plot.network(cr.mlp([2, 1], seed=0), [[1, 2], [3, 4]]), "x: expected one sample"),
    (lambda: plot.network("net"), "network: expected a chainrule Network"),
    (lambda: plot.loss([1, 2, 3]), "history: expected the History"),
    (lambda: plot.confusion(cr.mlp([2, 2], seed=0), [[1, 2]], [[1, 2, 3]]), "t: expected"),
    (lambda: plot.decision_regions(cr.mlp([2, 2], seed=0), [[1, 2]], resolution=1), "resolution: expected"),
    (lambda: plot.loss(cr.example("xor").fit(epochs=1), ax="axes"), "ax: expected a matplotlib Axes"),
])
def test_refused_with_one_line(call, expected):
    with pytest.raises(ConfigError) as caught:
        call()
    assert str(caught.value).startswith(expected) and "\n" not in str(caught.value)


@pytest.mark.parametrize("kind, source, suffix", [("loss", "xor", ".png"), ("regions", "xor", ".svg"),
                                                  ("fit", "softplus", ".png"), ("network", "mazur", ".png"),
                                                  ("confusion", "xor", ".pdf")])
def test_cli_writes_the_picture(kind, source, suffix, tmp_path, capsys):
    out = tmp_path / f"{kind}{suffix}"
    assert main(["plot", kind, source, "--out", str(out), "--epochs", "20"]) == 0
    head = out.read_bytes()[:8]
    assert {".png": head == b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml" in head or b"<svg" in head,
            ".pdf": head.startswith(b"%PDF")}[suffix]


def test_cli_plots_a_saved_model(tmp_path, capsys):
    model = tmp_path / "xor.json"
    assert main(["train", "xor", "--save", str(model), "--quiet"]) == 0
    assert main(["plot", "regions", "xor", "--model", str(model), "--out", str(tmp_path / "r.png")]) == 0


@pytest.mark.parametrize("argv, expected", [
    (["plot", "regions", "softplus"], "plot regions: network: expected 2 inputs for decision regions, got 1"),
    (["plot", "fit", "xor"], "plot fit: network: expected 1 input and 1 output"),
    (["plot", "loss", "xor", "--model", "m.json"], "plot loss: expected a spec to train"),
    (["plot", "regions", "xor", "--model", "m.json", "--epochs", "3"], "plot --epochs: expected a spec to train"),
    (["plot", "loss", "nope"], "nope: expected a spec file or a built-in example"),
    (["plot", "loss", "xor", "--epochs", "-1"], "plot --epochs: expected an integer from 0 to 10,000,000, got -1"),
])
def test_cli_refusals_write_nothing(argv, expected, tmp_path, capsys):
    out = tmp_path / "p.png"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"chainrule: error: {expected}") and err.count("\n") == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert main(["plot", "loss", "xor", "--out", str(tmp_path / "p.gif")]) == 2
    assert "expected a file name ending in .png, .svg, .pdf" in capsys.readouterr().err


def test_importing_chainrule_does_not_import_matplotlib():
    import subprocess
    import sys
    code = "import sys, chainrule as cr; cr.mlp([2, 1]); assert 'matplotlib' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_history_and_network_plot_themselves(tmp_path):
    ex = cr.example("xor")
    history = ex.fit(epochs=5)
    ax = history.plot(log=False)
    assert ax.get_ylabel() == "loss" and ax.get_yscale() == "linear"
    ax = ex.network.plot(ex.x[0])
    assert len([p for p in ax.patches if isinstance(p, Circle)]) == 5
    png(ax, tmp_path)


# ---- runs in phases, and classes refused for regressors ----
def test_a_run_in_phases_draws_every_phase_marked_and_named(tmp_path):
    from chainrule.formats.spec import load
    spec = load("softplus")
    assert len(spec.phases) == 2
    network, phases = spec.build_network(), []
    for phase in spec.phases:
        network.run = None
        phases.append((phase.name, network.fit(*spec.require_data(), phase.training.replace(epochs=7))))
    ax = plot.loss_in_phases(phases)
    png(ax, tmp_path)
    first, second = [line for line in ax.get_lines() if line.get_gid() == "phase loss"]
    assert list(first.get_xdata()) == list(range(8)) and list(second.get_xdata()) == list(range(7, 15))
    assert list(second.get_ydata()) == [phases[1][1].initial_loss, *phases[1][1].loss_history]
    assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_gid() == "phase start"] == [7]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"phase 1: {spec.phases[0].name}",
                                                                   f"phase 2: {spec.phases[1].name}"]


@pytest.mark.parametrize("kind, labels", [
    ("loss", None),
    ("fit", ["before training", "data", "after phase 1: b3 alone", "after phase 2: every parameter"]),
])
def test_cli_plots_every_phase_of_a_spec_in_phases(kind, labels, tmp_path, capsys, monkeypatch):
    drawn = []
    monkeypatch.setattr(plot.plt, "close", lambda figure: drawn.append(figure))
    assert main(["plot", kind, "softplus", "--epochs", "5", "--out", str(tmp_path / "p.png")]) == 0
    legend = [t.get_text() for t in drawn[0].axes[0].get_legend().get_texts()]
    assert legend == (labels or ["phase 1: b3 alone", "phase 2: every parameter"])


def test_classes_are_not_drawn_for_a_regressor():
    net = cr.mlp([2, 3, 1], activation="tanh", output_activation="identity", loss="mse", seed=0)
    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    for call in (lambda: plot.confusion(net, x, [[0.37], [1.0], [0.0]]),
                 lambda: plot.decision_regions(net, x, [[0.37], [1.0], [0.0]], resolution=5)):
        with pytest.raises(ConfigError, match=r"^t: expected class targets \(0 or 1, one-hot rows, or labels\) for "
                                              r"(a confusion matrix|decision regions): a regressor's outputs are not "
                                              r"classes, got real-valued targets such as 0.37$"):
            call()
    net.layers[-1].bias[...] = 5.0                       # outputs above 1: not class scores
    with pytest.raises(ConfigError, match=r"^network: expected a classifier for decision regions"):
        plot.decision_regions(net, x, resolution=5)
    plot.confusion(cr.example("xor").network, cr.example("xor").x, cr.example("xor").t)      # 0/1 targets: classes


def test_cli_refuses_confusion_of_a_regressor_in_one_line(tmp_path, capsys):
    assert main(["plot", "confusion", "softplus", "--epochs", "2", "--out", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err == ("chainrule: error: plot confusion: t: expected class targets (0 or 1, one-hot rows, or labels) "
                   "for a confusion matrix: a regressor's outputs are not classes, got real-valued targets such as "
                   "1.2\n")
    assert list(tmp_path.iterdir()) == []
