"""A network as an ONNX graph (``interop/onnx.py``; the onnx extra): ``to_onnx(network)``, ``save_onnx(network, path)``."""

from .interop.onnx import OPSET, save_onnx, to_onnx

__all__ = ["OPSET", "save_onnx", "to_onnx"]
