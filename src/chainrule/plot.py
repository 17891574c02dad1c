"""Plots (the ``plot`` extra: matplotlib): the loss curve (of a run in phases too), decision regions of a 2-input classifier,
the fitted function of a 1-input regressor, the network with its weights, a confusion matrix.

Each function draws on ``ax`` (a new figure's when None) and returns the Axes; nothing is shown
or saved here (``ax.figure.savefig("loss.png")``).  ``import chainrule`` never imports matplotlib:
only this module does, when it is imported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .core import data, metrics
from .explain.names import Names
from .core.settings import ConfigError, Described

try:
    from matplotlib import pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Circle
except ImportError as error:          # pragma: no cover - exercised by the CLI's message
    raise ImportError('chainrule.plot needs matplotlib: pip install "chainrule[plot]"') from error

POSITIVE, NEGATIVE = "#3465a4", "#cc0000"
CLASS_COLOURS = ["#3465a4", "#f57900", "#4e9a06", "#cc0000", "#75507b", "#c4a000", "#06989a", "#555753",
                 "#8f5902", "#ad7fa8"]
MAX_DRAWN = 12          # neurons drawn per layer; a wider layer shows its first and last ones and "⋮"


def _axes(ax: Any) -> Axes:
    if ax is None:
        return plt.figure(figsize=(6.4, 4.8)).add_subplot()
    if not isinstance(ax, Axes):
        raise ConfigError("ax", "a matplotlib Axes (or None for a new figure)", type(ax).__name__)
    return ax


def _network(network: Any) -> Any:
    from .core.network import BaseNetwork
    if not isinstance(network, BaseNetwork):
        raise ConfigError("network", "a chainrule Network", type(network).__name__)
    return network


# ----- the loss curve ----------------------------------------------------------------------------
def loss(history: Any, ax: Any = None, *, log: bool | None = None, title: str | None = None) -> Axes:
    """The loss after each epoch (epoch 0: before training), and the validation loss when rows were held
    out, with the best epoch marked.  ``log=None`` uses a log scale when the losses span over two decades."""
    from .training.train import History
    if not isinstance(history, History):
        raise ConfigError("history", "the History that fit returned", type(history).__name__)
    ax = _axes(ax)
    start = 0 if history.initial_loss is not None else 1
    train = ([history.initial_loss] if start == 0 else []) + list(history.loss_history)
    ax.plot(range(start, start + len(train)), train, color=POSITIVE, label="training loss")
    values = [v for v in train if math.isfinite(v)]
    if history.validation_loss_history:
        validation = list(history.validation_loss_history)
        ax.plot(range(1, 1 + len(validation)), validation, color="#f57900", label="validation loss")
        values += validation
        if history.best_epoch is not None:
            best = validation[history.best_epoch - 1]
            ax.plot([history.best_epoch], [best], "o", color="#f57900", label=f"best epoch ({history.best_epoch})")
    return _loss_axes(ax, values, log, title if title is not None else f"loss over {history.epochs_run} epochs")


def _loss_axes(ax: Axes, values: list[float], log: bool | None, title: str) -> Axes:
    """A loss plot's axes: a log scale when asked, or (log=None) when the losses span over two decades."""
    if log is None:
        log = bool(values) and min(values) > 0 and max(values) / min(values) > 100
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def loss_in_phases(phases: Any, ax: Any = None, *, log: bool | None = None, title: str | None = None) -> Axes:
    """The loss of a run in phases ([[training.phases]]): ``phases`` is [(name, History), …] in order, each
    phase's curve going on from where the one before ended, in its own colour and named in the legend, a
    dashed line where each phase begins."""
    from .training.train import History
    if not (isinstance(phases, (list, tuple)) and phases and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], History) for p in phases)):
        raise ConfigError("phases", "a list of (name, History) pairs, one per phase", Described(type(phases).__name__))
    ax = _axes(ax)
    values: list[float] = []
    start = 0
    for number, (name, history) in enumerate(phases, start=1):
        first = [history.initial_loss] if history.initial_loss is not None else []
        curve = first + list(history.loss_history)
        epochs = range(start + (0 if first else 1), start + (0 if first else 1) + len(curve))
        colour = CLASS_COLOURS[(number - 1) % len(CLASS_COLOURS)]
        ax.plot(epochs, curve, color=colour, label=f"phase {number}: {name}", gid="phase loss")
        if number > 1:
            ax.axvline(start, color="#888a85", linestyle="--", linewidth=0.8, gid="phase start")
        values += [v for v in curve if math.isfinite(v)]
        start += history.epochs_run
    return _loss_axes(ax, values, log, title if title is not None else f"loss over {start} epochs in {len(phases)} phases")


def _classes_drawn(net: Any, ts: np.ndarray | None, outputs: np.ndarray, what: str) -> None:
    """Refuse to draw classes for a regressor: a network that is not a classifier (softmax output or a loss
    for classes) whose targets, or outputs when no targets are given, are not 0/1 class scores."""
    if net.is_classifier:
        return
    if ts is not None:
        real = ts[(ts != 0) & (ts != 1)]
        if real.size:
            raise ConfigError("t", f"class targets (0 or 1, one-hot rows, or labels) for {what}: a regressor's "
                              "outputs are not classes", Described(f"real-valued targets such as {float(real[0]):.6g}"))
    else:
        outside = outputs[(outputs < 0) | (outputs > 1)]
        if outside.size:
            raise ConfigError("network", f"a classifier for {what} (outputs that are class scores in [0, 1]): a "
                              "regressor's outputs are not classes", Described(f"outputs such as {float(outside[0]):.6g}"))


# ----- decision regions ------------------------------------------------------------------------------
def decision_regions(network: Any, x: Any, t: Any = None, ax: Any = None, *, resolution: int = 200,
                     padding: float = 0.5) -> Axes:
    """The class the network gives every point of the plane (largest output; one output: ≥ 0.5), with the
    data coloured by its class."""
    network = _network(network)
    if network.inputs != 2:
        raise ConfigError("network", "2 inputs for decision regions", Described(f"{network.inputs}"))
    if not (isinstance(resolution, int) and 2 <= resolution <= 2000):
        raise ConfigError("resolution", "an integer from 2 to 2000", resolution)
    xs = data.inputs(x, 2, network.dtype)
    ax = _axes(ax)
    low, high = xs.min(axis=0) - padding, xs.max(axis=0) + padding
    g1, g2 = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    classes = max(network.outputs, 2)
    truth_targets = None if t is None else data.targets(t, network.outputs, len(xs))
    _classes_drawn(network, truth_targets, network.predict(xs), "decision regions")
    predicted = metrics.classes(network.predict(grid)).reshape(g1.shape)
    colours = ListedColormap([CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(classes)])
    ax.contourf(g1, g2, predicted, levels=np.arange(classes + 1) - 0.5, cmap=colours, alpha=0.25)
    if t is None:
        ax.scatter(xs[:, 0], xs[:, 1], color="#2e3436", s=30, edgecolors="white", zorder=3)
    else:
        truth = metrics.target_classes(truth_targets)
        ax.scatter(xs[:, 0], xs[:, 1], c=[CLASS_COLOURS[int(k) % len(CLASS_COLOURS)] for k in truth], s=40,
                   edgecolors="black", linewidths=0.6, zorder=3)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_title(f"decision regions of the {network.shape_text()} network")
    return ax


# ----- a fitted function ------------------------------------------------------------------------------
def fitted(network: Any, x: Any, t: Any = None, ax: Any = None, *, label: str | None = None,
           points: int = 200) -> Axes:
    """The function a 1-input, 1-output network computes, over the data's range and a margin, with the
    data; called again on the same ``ax`` (say before and after training) it adds a curve."""
    network = _network(network)
    if network.inputs != 1 or network.outputs != 1:
        raise ConfigError("network", "1 input and 1 output for a fitted curve", Described(network.shape_text()))
    if not (isinstance(points, int) and points >= 2):
        raise ConfigError("points", "an integer ≥ 2", points)
    xs = data.inputs(x, 1, network.dtype)
    fresh = ax is None
    ax = _axes(ax)
    margin = 0.1 * float(np.ptp(xs) or 1.0)
    grid = np.linspace(xs.min() - margin, xs.max() + margin, points)
    curves = len([line for line in ax.get_lines() if line.get_gid() == "fitted"])
    line, = ax.plot(grid, network.predict(grid)[:, 0], label=label or f"network ({curves + 1})",
                    color=CLASS_COLOURS[curves % len(CLASS_COLOURS)], gid="fitted")
    if t is not None and not any(c.get_gid() == "data" for c in ax.collections):
        ts = data.targets(t, 1, len(xs))
        ax.scatter(xs[:, 0], ts[:, 0], color="black", s=36, zorder=3, label="data", gid="data")
    ax.set_xlabel("x")
    ax.set_ylabel("output")
    if fresh:
        ax.set_title(f"the {network.shape_text()} network's function")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


# ----- the network ------------------------------------------------------------------------------------
def _shown(units: int) -> list[int | None]:
    """The neurons drawn of a layer: all, or the first and last few with None for the gap."""
    if units <= MAX_DRAWN:
        return list(range(units))
    half = MAX_DRAWN // 2
    return [*range(half), None, *range(units - half + 1, units)]


def network(network: Any, x: Any = None, ax: Any = None) -> Axes:
    """Neurons as circles, layer by layer; one line per weight, blue for positive and red for negative,
    as wide as its size (relative to the largest); with ``x`` (one sample) each neuron's output in it."""
    net = _network(network)
    outs = None
    if x is not None:
        sample = data.inputs(x, net.inputs, net.dtype)
        if len(sample) != 1:
            raise ConfigError("x", "one sample to show the forward pass of", Described(f"{len(sample)} samples"))
        outs = [sample[0], *(v.out[0] for v in net.forward(sample))]
    sizes = [net.inputs, *(layer.units for layer in net.layers)]
    shown = [_shown(n) for n in sizes]
    tallest = max(len(s) for s in shown)
    if ax is None:
        ax = plt.figure(figsize=(max(6.4, 2.2 * len(sizes)), max(4.8, 0.55 * tallest))).add_subplot()
    ax = _axes(ax)
    gap = max(1.6, 0.4 * tallest)            # columns wide enough apart for the tallest layer

    def position(c: int, k: int) -> tuple[float, float]:
        """Column c, row k, each layer centred on y = 0."""
        return gap * c, (len(shown[c]) - 1) / 2 - k
    largest = max(float(np.abs(layer.weights).max()) for layer in net.layers) or 1.0
    for l, layer in enumerate(net.layers):
        for kj, j in enumerate(shown[l + 1]):
            for ki, i in enumerate(shown[l]):
                if i is None or j is None:
                    continue
                w = float(layer.weights[j, i])
                (x1, y1), (x2, y2) = position(l, ki), position(l + 1, kj)
                ax.plot([x1, x2], [y1, y2], color=POSITIVE if w >= 0 else NEGATIVE,
                        linewidth=0.3 + 3.7 * abs(w) / largest, alpha=0.8, zorder=1, gid="weight")
    names = Names.of_network(net)
    radius = 0.34
    for c, column in enumerate(shown):
        for k, j in enumerate(column):
            cx, cy = position(c, k)
            if j is None:
                ax.text(cx, cy, "⋮", ha="center", va="center", fontsize=14)
                continue
            ax.add_patch(Circle((cx, cy), radius, facecolor="#f4f4f4" if c == 0 else "#eef4ff",
                                edgecolor="#555" if c == 0 else "#3465a4", linewidth=1.2, zorder=2))
            name = names.neuron(c - 1, j)
            text = name if outs is None else f"{name}\n{outs[c][j]:.3g}"
            ax.text(cx, cy, text, ha="center", va="center", fontsize=7 if outs is not None else 8, zorder=3)
    for c, layer in enumerate(net.layers, start=1):
        ax.text(gap * c, -(len(shown[c]) - 1) / 2 - 0.55, layer.activation.name, ha="center", va="top", fontsize=8,
                color="#555")
    ax.set_aspect("equal")
    ax.set_xlim(-0.5, gap * (len(sizes) - 1) + 0.5)
    ax.set_ylim(-tallest / 2 - 0.6, tallest / 2 + 0.3)
    ax.axis("off")
    ax.set_title(f"network {net.shape_text()}: weights blue > 0, red < 0, width ∝ |w|"
                 + ("" if outs is None else "; outputs of the sample"), fontsize=9)
    return ax


# ----- a confusion matrix -------------------------------------------------------------------------------
def confusion(network: Any, x: Any, t: Any, ax: Any = None) -> Axes:
    """How many samples of each true class (rows) the network puts in each class (columns)."""
    net = _network(network)
    xs, ts = data.samples(x, t, net.inputs, net.outputs, net.dtype, net.loss)
    _classes_drawn(net, ts, net.predict(xs), "a confusion matrix")
    k = max(net.outputs, 2)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (metrics.target_classes(ts), metrics.classes(net.predict(xs))), 1)
    ax = _axes(ax)
    ax.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        ax.text(column, row, str(count), ha="center", va="center", gid="count",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"confusion matrix: {np.trace(matrix)} of {len(xs)} right")
    return ax


__all__ = ["confusion", "decision_regions", "fitted", "loss", "loss_in_phases", "network"]
