"""A network as an ONNX model (the onnx extra): ``to_onnx(network)`` → bytes, ``save_onnx(network, path)``.

The graph reads ``x`` (n × inputs, the network's dtype: float32 or float64) and writes ``y``
(n × outputs). Layer l is ``net = x·Wᵀ + b`` — MatMul with Wᵀ stored, then Add (a shared bias is one
number, broadcast; no bias, no Add) — and its activation's nodes (``Activation.onnx``: each activation
writes its own, in forms ONNX Runtime runs in float64 as well as float32). Opset 17, IR version 8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..formats.io import write_atomically
from ..core.network import BaseNetwork
from ..core.settings import ConfigError, Described

__all__ = ["OPSET", "save_onnx", "to_onnx"]

OPSET = 17
IR_VERSION = 8


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ConfigError("onnx", 'the onnx package installed (pip install "chainrule[onnx]")', Described("none")) from None
    return onnx


class Graph:
    """What an activation's ``onnx(g, net)`` writes with: ``op`` adds a node and returns its output's
    name; ``constant`` adds a scalar in the graph's dtype."""

    def __init__(self, onnx, dtype: np.dtype):
        self.onnx, self.dtype = onnx, dtype
        self.nodes: list = []
        self.initializers: list = []

    def _name(self, stem: str) -> str:
        return f"{stem}_{len(self.nodes) + len(self.initializers)}"

    def op(self, kind: str, *inputs: str, **attributes) -> str:
        output = self._name(kind.lower())
        self.nodes.append(self.onnx.helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def tensor(self, array, stem: str) -> str:
        name = self._name(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array, dtype=self.dtype), name))
        return name

    def constant(self, value: float) -> str:
        return self.tensor(value, "c")


def to_onnx(network: BaseNetwork, name: str = "chainrule") -> bytes:
    """The serialised ONNX model of ``network`` (checked by onnx.checker)."""
    onnx = _onnx()
    dtype = np.dtype(network.dtype)
    g = Graph(onnx, dtype)
    x = "x"
    for number, layer in enumerate(network.layers, start=1):
        net = g.op("MatMul", x, g.tensor(layer.weights.T, f"W{number}T"))
        if layer.bias is not None:
            net = g.op("Add", net, g.tensor(layer.bias, f"b{number}"))
        try:
            x = layer.activation.onnx(g, net)
        except NotImplementedError:
            raise ConfigError(f"layers[{number}].activation", "an activation with an ONNX form",
                              layer.activation.name) from None
    x = g.op("Identity", x)
    g.nodes[-1].output[0] = "y"
    element = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    graph = onnx.helper.make_graph(
        g.nodes, name, [onnx.helper.make_tensor_value_info("x", element, ["n", network.inputs])],
        [onnx.helper.make_tensor_value_info("y", element, ["n", network.outputs])], g.initializers)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   ir_version=IR_VERSION, producer_name="chainrule")
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def save_onnx(network: BaseNetwork, path: str | Path, name: str = "chainrule") -> None:
    """``to_onnx`` written to ``path`` (which must end in .onnx), whole or not at all."""
    if Path(path).suffix.lower() != ".onnx":
        raise ConfigError("path", "a file name ending in .onnx", str(path))
    write_atomically(path, to_onnx(network, name))
