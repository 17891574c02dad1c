"""Dense layer: net = X @ Wᵀ + b, out = f(net), on row batches.

W has shape (units, fan_in): row j holds the weights into neuron j, as in the
seeds' matrices and PyTorch's Linear.  The bias has one of three modes:

* ``per_neuron`` — b has shape (units,), one parameter per neuron;
* ``shared``     — one scalar for the whole layer (seed 000); its gradient is
                   the sum of the per-neuron bias gradients;
* ``none``       — no bias at all (seed 003's visual example).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .activations import Activation, get_activation
from .data import numbers
from .neurons import neuron_names
from .settings import ConfigError, Described, memory

BIAS_MODES = ("per_neuron", "shared", "none")
Array = np.ndarray


@dataclass
class LayerValues:
    """What one layer computed for a batch: net inputs and outputs, (n, units)."""

    net: Array
    out: Array


DTYPES = ("float64", "float32")


def float_dtype(dtype) -> type:
    """float64 or float32 (a name or a numpy type); anything else refused."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise ConfigError("dtype", "float64 or float32", dtype)
    return np.dtype(name).type


MAX_PARAMETERS = 50_000_000       # 400 MB as float64: far beyond what this engine trains on a CPU


def check_size(sizes, key: str = "sizes", itemsize: int = 8) -> None:
    """Refuse, before anything is allocated, a network of layer ``sizes`` (inputs first) with more than
    MAX_PARAMETERS weights and biases, saying how much memory it would take."""
    count = sum(int(units) * (int(fan_in) + 1) for fan_in, units in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise ConfigError(key, f"a network of at most {MAX_PARAMETERS:,} parameters ({memory(MAX_PARAMETERS * itemsize)})",
                          Described(f"{count:,} parameters ({memory(count * itemsize)}) for layers "
                                    + "-".join(str(n) for n in sizes)))


class Dense:
    """A fully connected layer with its activation and bias mode; ``activation_params`` are the
    activation's own settings (``slope=0.1`` for leaky_relu, ``alpha=0.5`` for elu); ``names`` what a
    derivation calls its neurons (default h1, h2, … or o1, o2, …)."""

    def __init__(self, weights, bias=None, *, activation: str | Activation = "sigmoid",
                 bias_mode: str = "per_neuron", dtype=np.float64, names: list[str] | None = None,
                 **activation_params):
        dtype = float_dtype(dtype)
        given = numbers(weights, "weights", dtype)
        if given.ndim == 0:
            raise ConfigError("weights", "a matrix of weights, units × fan_in (Dense(2) is not a layer of 2 neurons: "
                              "chainrule.mlp([inputs, 2, …]) builds layers from sizes)", weights)
        self.weights = np.array(given, dtype=dtype, ndmin=2, copy=True)
        if self.weights.ndim != 2:
            raise ConfigError("weights", "a matrix (units × fan_in)", Described(f"{self.weights.ndim} dimensions"))
        if 0 in self.weights.shape:
            raise ConfigError("weights", "at least 1 unit and 1 input (a matrix units × fan_in)",
                              Described(f"shape {self.weights.shape}"))
        if bias_mode not in BIAS_MODES:
            raise ConfigError("bias_mode", f"one of {', '.join(BIAS_MODES)}", bias_mode)
        self.bias_mode = bias_mode
        if isinstance(activation, Activation) and activation_params:
            raise ConfigError(next(iter(activation_params)), f"the settings inside the {activation.name} object given",
                              activation_params[next(iter(activation_params))])
        self.activation = activation if isinstance(activation, Activation) else get_activation(activation, **activation_params)
        units = self.weights.shape[0]
        if bias is not None:
            bias = numbers(bias, "bias", dtype)          # finite real numbers (NaN refused), checked once
        if bias_mode == "none":
            if bias is not None and np.any(np.asarray(bias) != 0):
                raise ConfigError("bias", "no bias (bias_mode is none)", np.asarray(bias).tolist())
            self.bias: Optional[Array] = None
        elif bias_mode == "shared":
            b = np.asarray(0.0 if bias is None else bias, dtype=dtype)
            if b.ndim != 0:
                if b.size and np.all(b == b.flat[0]):
                    b = b.flat[0]
                else:
                    raise ConfigError("bias", "one number (bias_mode is shared)", np.asarray(bias).tolist())
            self.bias = np.array(b, dtype=dtype)
        else:
            b = np.zeros(units, dtype=dtype) if bias is None else np.asarray(bias, dtype=dtype)
            if b.ndim == 0:
                b = np.full(units, b, dtype=dtype)
            if b.shape != (units,):
                raise ConfigError("bias", f"{units} numbers (one per neuron)", Described(f"shape {b.shape}"))
            self.bias = np.array(b, dtype=dtype)
        self.names = neuron_names(names, units, "names")

    def __repr__(self) -> str:
        return f"Dense({self.fan_in} → {self.units}, {self.activation.name}, bias {self.bias_mode})"

    @property
    def units(self) -> int:
        return self.weights.shape[0]

    @property
    def fan_in(self) -> int:
        return self.weights.shape[1]

    def parameters(self) -> list[Array]:
        """The live parameter arrays: [W] or [W, b]."""
        return [self.weights] if self.bias is None else [self.weights, self.bias]

    def forward(self, x: Array) -> LayerValues:
        """net = x @ Wᵀ + b (b broadcast over neurons when shared); out = f(net)."""
        net = x @ self.weights.T
        if self.bias is not None:
            net = net + self.bias
        return LayerValues(net, self.activation.value(net))

    def gradients(self, delta: Array, x: Array, scale: float = 1.0) -> list[Array]:
        """∂E/∂W = scale·δᵀx, ∂E/∂b = scale·Σ_samples δ (then Σ_neurons when shared).

        ``delta`` = ∂E/∂net per sample (n, units), ``x`` the layer's input (n, fan_in).
        """
        grads = [scale * (delta.T @ x)]
        if self.bias_mode == "per_neuron":
            grads.append(scale * delta.sum(axis=0))
        elif self.bias_mode == "shared":
            grads.append(np.array(scale * delta.sum(), dtype=self.weights.dtype))
        return grads

    def input_gradient(self, delta: Array) -> Array:
        """∂E/∂x = δ @ W: how the error flows back into the previous layer's outputs."""
        return delta @ self.weights

    def bias_value(self):
        """The bias as plain data: a number (shared), a list (per_neuron) or None."""
        return None if self.bias is None else self.bias.tolist()
