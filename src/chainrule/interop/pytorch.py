"""A network as a ``torch.nn.Sequential`` and back (the torch extra), and PyTorch's state_dict names.

Layer l of a network is ``nn.Linear(fan_in, units)`` (weight = W, units × fan_in, as here; bias = b)
followed by its activation's module (``Activation.TORCH``), except identity, which needs none. The
modules are numbered as a Sequential numbers them, so parameter names agree both ways: a 2-2-2
sigmoid network is ``0.weight, 0.bias, 2.weight, 2.bias``, whether ``net.state_dict()`` or
``net.to_torch().state_dict()`` lists them.

What PyTorch cannot say is refused, naming the layer: a shared bias (one number for a whole layer:
nn.Linear has one per neuron), a module that is not a Linear or one of the activations, an
activation whose arguments give another function (Softplus with beta ≠ 1).  What chainrule cannot
hold is refused, naming it: tensors of a dtype other than float32/float64 (bfloat16, float16: convert
with ``.float()``), tensors on the meta device (no values), a Linear with 0 inputs or outputs.
``load_state_dict`` takes the state of a model wrapped by DistributedDataParallel (keys ``module.…``)
or compiled by torch.compile (``_orig_mod.…``), stripping the prefix as PyTorch's own
``consume_prefix_in_state_dict_if_present`` does.  ``to_torch(logits=True)`` leaves out the final
softmax or sigmoid, for ``nn.CrossEntropyLoss`` or ``nn.BCEWithLogitsLoss``.  torch is imported only
by ``to_torch`` and ``from_torch``; state_dict names and arrays need numpy alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.activations import _ACTIVATIONS, Activation, get_activation
from ..core.layers import DTYPES, Dense
from ..core.network import BaseNetwork, new_network
from ..core.settings import ConfigError, Described

__all__ = ["from_torch", "load_state_dict", "module_indices", "state_dict", "to_torch"]


def _torch():
    try:
        import torch
    except ImportError:
        raise ConfigError("torch", 'PyTorch installed (pip install "chainrule[torch]")', Described("none")) from None
    return torch


def _expressible(network: BaseNetwork) -> None:
    for number, layer in enumerate(network.layers, start=1):
        if layer.bias_mode == "shared":
            raise ConfigError(f"layers[{number}].bias_mode", "per_neuron or none (nn.Linear has one bias per "
                              "neuron, or none; a shared bias has no PyTorch equivalent)", "shared")
        if layer.activation.TORCH is None:
            raise ConfigError(f"layers[{number}].activation", "an activation PyTorch has a module for",
                              layer.activation.name)


def _needs_module(activation: Activation) -> bool:
    """Identity is the Linear layer alone."""
    return activation.TORCH != "Identity"


def module_indices(network: BaseNetwork) -> list[int]:
    """The Sequential index of each layer's nn.Linear: [0, 2] for a 2-2-2 sigmoid network."""
    indices, index = [], 0
    for layer in network.layers:
        indices.append(index)
        index += 1 + _needs_module(layer.activation)
    return indices


def state_dict(network: BaseNetwork) -> dict[str, np.ndarray]:
    """The parameters under PyTorch's names (``0.weight``, ``0.bias``, …), as copies."""
    _expressible(network)
    result = {}
    for index, layer in zip(module_indices(network), network.layers):
        result[f"{index}.weight"] = layer.weights.copy()
        if layer.bias is not None:
            result[f"{index}.bias"] = layer.bias.copy()
    return result


WRAPPERS = ("module.", "_orig_mod.")      # DistributedDataParallel's and torch.compile's key prefixes


def _names(keys, most: int = 6) -> str:
    """Keys as a message lists them: the first ``most`` in full, then how many more."""
    keys = [str(k) for k in keys]
    shown = ", ".join(k if len(k) <= 60 else k[:57] + "…" for k in keys[:most])
    return shown + (f" … and {len(keys) - most} more" if len(keys) > most else "")


def _unwrapped(state) -> dict:
    """The state with the prefixes of wrapped models taken off, while every key has one of them."""
    keys = list(state.keys())
    while keys:
        prefix = next((p for p in WRAPPERS if all(isinstance(k, str) and k.startswith(p) for k in keys)), None)
        if prefix is None:
            break
        state = {k[len(prefix):]: state[k] for k in keys}
        keys = list(state)
    return dict(state)


def _tensor_array(value: Any, key: str) -> np.ndarray:
    """A torch tensor's values as an array, after its dtype and device are checked."""
    name = str(getattr(value, "dtype", "")).replace("torch.", "")
    if getattr(value, "is_meta", False):
        raise ConfigError(key, "a tensor with values (on the meta device a tensor has none: load or "
                          "materialise it first, e.g. module.to_empty(device='cpu') and then its weights)",
                          Described("a tensor on the meta device"))
    if getattr(value, "is_sparse", False) or name not in ("float32", "float64", "int64", "int32", "int16",
                                                          "int8", "uint8"):
        raise ConfigError(key, "float32 or float64 values (convert with .float() or .double())",
                          Described(f"a {'sparse ' if getattr(value, 'is_sparse', False) else ''}tensor of "
                                    f"dtype torch.{name}"))
    return value.detach().cpu().numpy()


def _array(value: Any, key: str) -> np.ndarray:
    if hasattr(value, "detach"):             # a torch tensor
        value = _tensor_array(value, key)
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise ConfigError(key, "an array of numbers", Described(f"dtype {array.dtype}"))
    return array


def load_state_dict(network: BaseNetwork, state: dict) -> None:
    """Copy ``state`` (PyTorch's names; tensors or arrays) into the network, every key and shape checked
    first, so that a refused state changes nothing."""
    expected = state_dict(network)
    if not hasattr(state, "keys"):
        raise ConfigError("state_dict", "a mapping of parameter names to arrays", Described(type(state).__name__))
    state = _unwrapped(state)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        got = [f"missing {_names(missing)}" if missing else "", f"unexpected {_names(unexpected)}" if unexpected else ""]
        raise ConfigError("state_dict", f"the keys {_names(expected)}, got {'; '.join(g for g in got if g)}",
                          shown=False)
    arrays = {}
    for key, ours in expected.items():
        array = _array(state[key], f"state_dict[{key!r}]")
        if array.shape != ours.shape:
            raise ConfigError(f"state_dict[{key!r}]", f"shape {ours.shape}", Described(f"shape {array.shape}"))
        if not np.all(np.isfinite(array)):
            raise ConfigError(f"state_dict[{key!r}]", "finite numbers", Described("NaN or infinity"))
        limit = float(np.finfo(ours.dtype).max)
        if array.size and float(np.abs(array).max()) > limit:
            raise ConfigError(f"state_dict[{key!r}]", f"numbers within {ours.dtype.name}'s range (±{limit:.4g}), the "
                              "network's dtype", Described(f"{float(np.abs(array).max()):g}"))
        arrays[key] = array
    for index, layer in zip(module_indices(network), network.layers):
        layer.weights[...] = arrays[f"{index}.weight"]
        if layer.bias is not None:
            layer.bias[...] = arrays[f"{index}.bias"]


def _activation_module(torch, activation: Activation):
    arguments = {torch_name: activation.params[ours] for ours, torch_name in activation.TORCH_SETTINGS.items()}
    arguments.update({name: values[0] for name, values in activation.TORCH_FIXED.items()})
    return getattr(torch.nn, str(activation.TORCH))(**arguments)


def to_torch(network: BaseNetwork, logits: bool = False):
    """A ``torch.nn.Sequential`` computing the same function in the network's dtype, its parameters copied;
    ``logits=True``: without the final softmax or sigmoid, its outputs the net inputs of the output layer
    (what ``nn.CrossEntropyLoss`` and ``nn.BCEWithLogitsLoss`` take)."""
    torch = _torch()
    _expressible(network)
    if not isinstance(logits, bool):
        raise ConfigError("logits", "True or False", logits)
    last = network.layers[-1].activation
    if logits and not (last.distribution or last.TORCH == "Sigmoid"):
        raise ConfigError("logits", "a network whose output layer is softmax or sigmoid (logits=True leaves it out)",
                          Described(f"an output layer of {last.name}"))
    dtype = getattr(torch, network.dtype.name)
    modules = []
    for number, layer in enumerate(network.layers, start=1):
        linear = torch.nn.Linear(layer.fan_in, layer.units, bias=layer.bias is not None, dtype=dtype)
        modules.append(linear)
        if _needs_module(layer.activation) and not (logits and number == len(network.layers)):
            modules.append(_activation_module(torch, layer.activation))
    sequential = torch.nn.Sequential(*modules)
    with torch.no_grad():
        for key, array in state_dict(network).items():
            sequential.get_parameter(key).copy_(torch.from_numpy(array))
    return sequential


def _activation_of(torch, module, where: str) -> Activation | None:
    """Our activation for an activation module (None when it is not one)."""
    for cls in _ACTIVATIONS.values():
        if cls.TORCH and isinstance(module, getattr(torch.nn, cls.TORCH)):
            for argument, accepted in cls.TORCH_FIXED.items():
                if getattr(module, argument) not in accepted:
                    raise ConfigError(f"{where}.{argument}", f"{' or '.join(map(repr, accepted))} (the function "
                                      f"chainrule's {cls.name} computes)", getattr(module, argument))
            return cls(**{ours: float(getattr(module, theirs)) for ours, theirs in cls.TORCH_SETTINGS.items()})
    return None


def from_torch(module, loss: str = "half_sse", weight_labels: str = "row") -> BaseNetwork:
    """A Network from a ``torch.nn.Sequential`` of Linear layers, each followed by at most one supported
    activation module (none: identity), or from one Linear; parameters copied."""
    torch = _torch()
    if isinstance(module, torch.nn.Linear):
        module = torch.nn.Sequential(module)
    if not isinstance(module, torch.nn.Sequential):
        raise ConfigError("module", "a torch.nn.Sequential of Linear layers and activations", Described(type(module).__name__))
    supported = ", ".join(sorted({str(cls.TORCH) for cls in _ACTIVATIONS.values() if cls.TORCH}))
    pending: list[tuple[Any, Activation | None]] = []
    for name, child in module.named_children():
        where = f"module[{name}]"
        if isinstance(child, torch.nn.Linear):
            pending.append((child, None))
            continue
        activation = _activation_of(torch, child, where)
        if activation is None:
            raise ConfigError(where, f"nn.Linear or one of the activations {supported}", Described(type(child).__name__))
        if activation.TORCH == "Identity":
            continue
        if not pending or pending[-1][1] is not None:
            raise ConfigError(where, "an activation right after an nn.Linear", Described(f"{type(child).__name__} "
                              + ("first" if not pending else "after another activation")))
        pending[-1] = (pending[-1][0], activation)
    if not pending:
        raise ConfigError("module", "at least one nn.Linear", Described("none"))
    layers = []
    for number, (linear, activation) in enumerate(pending, start=1):
        if linear.in_features < 1 or linear.out_features < 1:
            raise ConfigError(f"layers[{number}]", "an nn.Linear of at least 1 input and 1 output",
                              Described(f"nn.Linear({linear.in_features}, {linear.out_features})"))
        weights = _tensor_array(linear.weight, f"layers[{number}].weight")
        if weights.dtype.name not in DTYPES:
            raise ConfigError(f"layers[{number}].weight", "float64 or float32 parameters", Described(f"{weights.dtype}"))
        bias = None if linear.bias is None else _tensor_array(linear.bias, f"layers[{number}].bias")
        layers.append(Dense(weights, bias, activation=activation or get_activation("identity"),
                            bias_mode="none" if bias is None else "per_neuron", dtype=weights.dtype))
    return new_network(layers, loss, weight_labels)
