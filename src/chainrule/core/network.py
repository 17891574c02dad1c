"""BaseNetwork: a stack of Dense layers and a loss; forward, backward and labels — the mathematical network.

The user-facing ``chainrule.Network`` (``_network.py``, at the top of the package) is its subclass with
fit, explain, save, plot and PyTorch's state_dict, which compose the layers above this one.  Every builder
(``mlp``, a spec, a model file, ``from_torch``, the estimators) makes its networks through ``new_network``,
which makes the class that ``builds`` named — so the core builds user-facing networks without importing them.

The backward pass reads like the four equations of backpropagation:

    δᴸ = ∂E/∂outᴸ ⊙ f'(netᴸ)                (output layer; fused where the loss allows)
    δˡ = (δˡ⁺¹ Wˡ⁺¹) ⊙ f'(netˡ)              (hidden layers, with the weights of *this* step)
    ∂E/∂Wˡ = Σ_samples δˡᵀ outˡ⁻¹            (scaled by 1/n when the reduction is mean)
    ∂E/∂bˡ = Σ_samples δˡ                    (and Σ over neurons when the bias is shared)
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from collections.abc import ItemsView, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np

from . import data, metrics
from .layers import Dense, LayerValues
from .neurons import Names, neuron_names
from .settings import ConfigError, Described
from .losses import Loss, get_loss, reduce

Array = np.ndarray
REDUCTIONS = ("sum", "mean")
WEIGHT_LABELS = ("row", "column")


@dataclass(frozen=True)
class ParameterRef:
    """Where a labelled parameter lives: layer index, 'weights' or 'bias', element index."""

    label: str
    layer: int
    kind: str
    index: tuple

    def array(self, network: "BaseNetwork") -> np.ndarray:
        """The array the parameter is an element of: its layer's weights or bias."""
        layer = network.layers[self.layer]
        return layer.weights if self.kind == "weights" or layer.bias is None else layer.bias

    def get(self, network: "BaseNetwork") -> float:
        return float(self.array(network)[self.index])

    def set(self, network: "BaseNetwork", value: float) -> None:
        self.array(network)[self.index] = value


class _Items(ItemsView):
    """A ParameterLabels' items, iterated by its walk through the layers."""

    def __init__(self, labels: "ParameterLabels"):
        super().__init__(labels)
        self.labels = labels

    def __iter__(self):
        return self.labels.walk()


class ParameterLabels(Mapping):
    """Every parameter by label, w1, w2, … then b1, b2, …, worked out on demand rather than stored:
    a 784-256-128-10 network has 235,146 weights, and a dictionary of them took half a second to build.

    Weights are numbered through the layers in turn, each layer row by row (w_ji: neuron j, input i)
    or, with ``order = "column"``, column by column; biases follow, one per neuron or one per layer.
    """

    _LABEL = re.compile(r"([wb])([1-9][0-9]*)")

    def __init__(self, layers: list[Dense], order: str):
        self.layers, self.order = layers, order
        counts = [[layer.weights.size for layer in layers],
                  [{"shared": 1, "per_neuron": layer.units}.get(layer.bias_mode, 0) for layer in layers]]
        self.starts = {kind: list(accumulate(c, initial=0)) for kind, c in zip("wb", counts)}

    def __len__(self) -> int:
        return self.starts["w"][-1] + self.starts["b"][-1]

    def __iter__(self):
        for kind in "wb":
            for number in range(1, self.starts[kind][-1] + 1):
                yield f"{kind}{number}"

    def __getitem__(self, label: str) -> ParameterRef:
        match = self._LABEL.fullmatch(label) if isinstance(label, str) else None
        if match is None or int(match[2]) > self.starts[match[1]][-1]:
            raise KeyError(label)
        kind, k = match[1], int(match[2]) - 1
        l = bisect_right(self.starts[kind], k) - 1
        r = k - self.starts[kind][l]
        layer = self.layers[l]
        if kind == "b":
            return ParameterRef(label, l, "bias", () if layer.bias_mode == "shared" else (r,))
        units, fan_in = layer.weights.shape
        j, i = divmod(r, fan_in) if self.order == "row" else divmod(r, units)[::-1]
        return ParameterRef(label, l, "weights", (j, i))

    def items(self) -> "_Items":
        return _Items(self)

    def walk(self) -> Iterator[tuple[str, ParameterRef]]:
        """(label, ref) of every parameter in label order, layer by layer, each named by ``weight`` and ``bias``
        (no label read back)."""
        for l, layer in enumerate(self.layers):
            units, fan_in = layer.weights.shape
            cells = ((j, i) for j in range(units) for i in range(fan_in)) if self.order == "row" else \
                ((j, i) for i in range(fan_in) for j in range(units))
            for j, i in cells:
                label = self.weight(l, j, i)
                yield label, ParameterRef(label, l, "weights", (j, i))
        for l, layer in enumerate(self.layers):
            for j in range({"shared": 1, "per_neuron": layer.units}.get(layer.bias_mode, 0)):
                name = self.bias(l, j)
                assert name is not None         # (a layer with a bias)
                yield name, ParameterRef(name, l, "bias", () if layer.bias_mode == "shared" else (j,))

    def numbers(self) -> Iterator[tuple[str, float]]:
        """(label, value) of every parameter in label order, each array read in one pass (a report lists
        them all: one ParameterRef read per element took longer than training a worked example)."""
        values = [v for layer in self.layers for v in layer.weights.ravel("C" if self.order == "row" else "F").tolist()]
        values += [v for layer in self.layers if layer.bias is not None for v in layer.bias.ravel().tolist()]
        return zip(self, values)

    def weight(self, l: int, j: int, i: int) -> str:
        units, fan_in = self.layers[l].weights.shape
        return f"w{self.starts['w'][l] + (j * fan_in + i if self.order == 'row' else i * units + j) + 1}"

    def bias(self, l: int, j: int) -> str | None:
        mode = self.layers[l].bias_mode
        if mode == "none":
            return None
        return f"b{self.starts['b'][l] + (0 if mode == 'shared' else j) + 1}"

    def summary(self) -> str:
        """The labels for an error message: all of a small network's, the ends of each run for a large one."""
        if len(self) <= 12:
            return ", ".join(self)
        runs = [f"{kind}1 … {kind}{self.starts[kind][-1]}" for kind in "wb" if self.starts[kind][-1]]
        return ", ".join(runs)


class BaseNetwork:
    """A feed-forward network: ``Network([Dense(W¹, b¹), Dense(W², b²)], loss="half_sse")``;
    ``layers[0]`` reads the inputs (its fan-in is the number of inputs), ``layers[-1]`` is the output.
    ``chainrule.mlp([2, 2, 2], …)`` builds one from layer sizes."""

    run: Any = None     # training.run.Run: where its training stands (set by fit and load_model), saved with it

    def __init__(self, layers: list[Dense], loss: str | Loss = "half_sse", weight_labels: str = "row",
                 input_names: list[str] | None = None):
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Dense) for layer in layers):
            raise ConfigError("layers", "a list of Dense layers (the number of inputs is the first layer's fan-in; "
                              "chainrule.mlp([2, 2, 2]) builds from sizes)",
                              Described(type(layers).__name__) if not isinstance(layers, (list, tuple)) else
                              Described("a list of " + ", ".join(sorted({type(x).__name__ for x in layers}))))
        self.layers = list(layers)
        if not self.layers:
            raise ConfigError("layers", "at least one layer", Described("none"))
        self.inputs = self.layers[0].fan_in
        self.loss = loss if isinstance(loss, Loss) else get_loss(loss)
        if weight_labels not in WEIGHT_LABELS:
            raise ConfigError("weight_labels", "'row' or 'column'", weight_labels)
        self.weight_labels = weight_labels
        fan_in = self.inputs
        for number, layer in enumerate(self.layers, start=1):
            if layer.fan_in != fan_in:
                raise ConfigError(f"layers[{number}].weights", f"{fan_in} columns (the previous layer's units)",
                                  Described(f"{layer.fan_in}"))
            if not layer.activation.elementwise and number != len(self.layers):
                raise ConfigError(f"layers[{number}].activation", "an element-wise activation below the output "
                                  f"layer ({layer.activation.name} is for the output layer only)", layer.activation.name)
            fan_in = layer.units
        wanted = self.loss.output_activation
        if wanted and self.layers[-1].activation.name != wanted:
            raise ConfigError("loss", f"a {wanted} output layer with loss {self.loss.name}",
                              Described(self.layers[-1].activation.name))
        self._labels = ParameterLabels(self.layers, weight_labels)
        self.input_names = neuron_names(input_names, self.inputs, "input_names")
        Names.of_network(self).distinct([self.inputs, *(layer.units for layer in self.layers)])

    def __repr__(self) -> str:
        names = [layer.activation.name for layer in self.layers]
        flow = " → ".join(names) if len(names) <= 4 else f"{names[0]} … {names[-1]}"
        return f"<Network {self.shape_text()}: {flow}, loss {self.loss.name}, {len(self._labels):,} parameters>"

    # ----- shapes and labels -------------------------------------------------
    @property
    def outputs(self) -> int:
        return self.layers[-1].units

    @property
    def dtype(self):
        return self.layers[0].weights.dtype

    def astype(self, dtype) -> "BaseNetwork":
        """A copy of the network whose parameters are in ``dtype`` (float32 or float64)."""
        layers = [Dense(layer.weights, layer.bias, activation=layer.activation, bias_mode=layer.bias_mode,
                        dtype=dtype, names=layer.names) for layer in self.layers]
        return type(self)(layers, self.loss, self.weight_labels, self.input_names)

    @property
    def labels(self) -> ParameterLabels:
        """Every parameter by label: w1, w2, … then b1, b2, … (a read-only mapping to ParameterRef)."""
        return self._labels

    def weight_label(self, layer: int, j: int, i: int) -> str:
        return self._labels.weight(layer, j, i)

    def bias_label(self, layer: int, j: int) -> str | None:
        return self._labels.bias(layer, j)

    def parameters(self) -> list[Array]:
        """The live parameter arrays in layer order: W¹, b¹, W², b², … (absent biases skipped)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def frozen_except(self, trained) -> list[str]:
        """The labels to freeze so that only ``trained`` (a list of labels, e.g. ["b3"]) is trained."""
        if not (isinstance(trained, list) and trained and all(isinstance(label, str) for label in trained)):
            raise ConfigError("train_only", 'a list of parameter labels such as ["b3"]', trained)
        unknown = [label for label in trained if label not in self._labels]
        if unknown:
            raise ConfigError("train_only", f"labels of this network's parameters ({self._labels.summary()})", unknown[0])
        return [label for label in self._labels if label not in trained]

    def trainable_masks(self, frozen=()) -> list[Array]:
        """1 where a parameter is trained, 0 where its label is in ``frozen``."""
        unknown = [label for label in frozen if label not in self._labels]
        if unknown:
            raise ConfigError("frozen", f"labels of this network's parameters ({self._labels.summary()})", unknown[0])
        masks = [[np.ones_like(p) for p in layer.parameters()] for layer in self.layers]
        for label in frozen:
            ref = self._labels[label]
            masks[ref.layer][0 if ref.kind == "weights" else 1][ref.index] = 0.0
        return [m for layer_masks in masks for m in layer_masks]

    # ----- the passes ----------------------------------------------------------
    def forward(self, x: Array) -> list[LayerValues]:
        """Net and out of every layer for the batch x (n, inputs).  Overflow gives inf (or NaN) without
        numpy's warnings: whoever shows or writes the numbers checks them (training stops with
        TrainingDiverged, the CLI refuses non-finite outputs)."""
        values = []
        with np.errstate(over="ignore", invalid="ignore"):
            for layer in self.layers:
                v = layer.forward(x)
                values.append(v)
                x = v.out
        return values


    def sample_losses(self, x: Array, t: Array, values: list[LayerValues] | None = None) -> Array:
        """E of every sample, shape (n,)."""
        out = (values or self.forward(x))[-1]
        return self.loss.value(out.net, out.out, t)

    def dataset_loss(self, x: Array, t: Array, reduction: str = "sum") -> float:
        """E over the data; inf when it overflows (what the caller reports), without numpy's warnings.  Large
        data runs forward ``metrics.CHUNK`` rows at a time (the per-sample losses the same, reduced together)."""
        chunk = metrics.CHUNK
        with np.errstate(over="ignore", invalid="ignore"):
            if len(x) <= chunk:
                return reduce(self.sample_losses(x, t), reduction)
            return reduce(np.concatenate([self.sample_losses(x[k:k + chunk], t[k:k + chunk])
                                          for k in range(0, len(x), chunk)]), reduction)

    def deltas(self, t: Array, values: list[LayerValues], sample_weights: Array | None = None) -> list[Array]:
        """δ = ∂E/∂net of every layer, per sample: a list of (n, units) arrays; ``sample_weights`` (n,)
        multiply each sample's output δ (and so every δ of it: a weighted loss)."""
        last, output = self.layers[-1], values[-1]
        if self.loss.fused:
            delta = self.loss.fused_delta(output.net, output.out, t)
        else:
            delta = last.activation.backward(output.net, output.out, self.loss.gradient(output.out, t))
        if sample_weights is not None:
            delta = delta * sample_weights.reshape(-1, 1)
        deltas = [delta]
        for l in range(len(self.layers) - 2, -1, -1):
            grad_out = self.layers[l + 1].input_gradient(delta)
            delta = self.layers[l].activation.backward(values[l].net, values[l].out, grad_out)
            deltas.append(delta)
        return deltas[::-1]

    def gradients(self, x: Array, values: list[LayerValues], deltas: list[Array],
                  reduction: str = "sum") -> list[Array]:
        """∂(dataset loss)/∂p for every parameter array, in ``parameters()`` order."""
        scale = 1.0 if reduction == "sum" else 1.0 / x.shape[0]
        grads = []
        for l, layer in enumerate(self.layers):
            layer_input = x if l == 0 else values[l - 1].out
            grads.extend(layer.gradients(deltas[l], layer_input, scale))
        return grads

    def backprop(self, x: Array, t: Array, reduction: str = "sum"):
        """Forward and backward for one batch: (values, deltas, gradients)."""
        values = self.forward(x)
        deltas = self.deltas(t, values)
        return values, deltas, self.gradients(x, values, deltas, reduction)

    # ----- what a user calls ----------------------------------------------------
    def predict(self, x) -> Array:
        """The outputs for inputs ``x``, shape (n, outputs) (x: (n, inputs), or see ``data.inputs``)."""
        return self.forward(data.inputs(x, self.inputs, self.dtype))[-1].out

    @property
    def is_classifier(self) -> bool:
        """Whether the outputs are class scores: a softmax output layer, or a loss made for classes."""
        return self.loss.output_activation is not None or self.layers[-1].activation.distribution

    def predict_classes(self, x) -> Array:
        """The class of each row: the largest output, or output ≥ 0.5 for a single output."""
        return metrics.classes(self.predict(x))

    def accuracy(self, x, t) -> float:
        """The share of rows classified right; ``t`` one-hot rows or class labels (n,)."""
        xs, ts = data.samples(x, t, self.inputs, self.outputs, self.dtype, self.loss)
        return metrics.network_accuracy(self, xs, ts)

    def score(self, x, t) -> float:
        """As scikit-learn scores: the accuracy of a classifier (``is_classifier``, or ``t`` given as class
        labels), else R², the coefficient of determination of the outputs (1 is perfect)."""
        xs, ts = data.samples(x, t, self.inputs, self.outputs, self.dtype, self.loss)
        labels = np.asarray(t).ndim == 1 and self.outputs > 1
        if self.is_classifier or labels:
            return metrics.network_accuracy(self, xs, ts)
        return metrics.r2(self.predict(xs), ts)

    def loss_of(self, x, t, reduction: str = "sum") -> float:
        """The dataset loss on (x, t): the ``reduction`` (sum or mean) of the per-sample losses."""
        xs, ts = data.samples(x, t, self.inputs, self.outputs, self.dtype, self.loss)
        return self.dataset_loss(xs, ts, reduction)

    def copy(self) -> "BaseNetwork":
        """An independent copy (parameters and all)."""
        return copy.deepcopy(self)

    # ----- plain data ------------------------------------------------------------
    def parameters_as_data(self) -> list[dict]:
        """[{"weights": units × fan_in lists, "bias": number | list | None}] per layer: the values of
        the network's spec table (``build.network_to_table``)."""
        return [{"weights": layer.weights.tolist(), "bias": None if layer.bias is None else layer.bias_value()}
                for layer in self.layers]

    def shape_text(self) -> str:
        return "-".join(str(n) for n in [self.inputs, *(layer.units for layer in self.layers)])


# The class every builder makes: the user-facing chainrule.Network once the package is imported (it names
# itself with ``builds``), this one before.
_BUILT: list[type[BaseNetwork]] = [BaseNetwork]


def builds(cls: type[BaseNetwork]) -> type[BaseNetwork]:
    """Make ``cls`` (a subclass of BaseNetwork) the class that ``new_network`` makes: a class decorator."""
    _BUILT[0] = cls
    return cls


def new_network(layers: list[Dense], loss: str | Loss = "half_sse", weight_labels: str = "row",
                input_names: list[str] | None = None) -> BaseNetwork:
    """A network of the class builders make (``builds``): what mlp, a spec, a model file and from_torch return."""
    return _BUILT[0](layers, loss, weight_labels, input_names)
