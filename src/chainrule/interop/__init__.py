"""Other libraries' forms of a network: PyTorch, scikit-learn's estimators and ONNX."""
