"""The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, type, dimensions),
big-endian int32 sizes, then the values in row-major order."""

from __future__ import annotations

import gzip
from pathlib import Path

from typing import Any

import numpy as np

_TYPES: dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (optionally gzip-compressed, by the .gz suffix)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the IDX file: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _TYPES:
        raise ValueError(f"{path}: expected an IDX file (magic 0 0 type dims), got bytes {data[:4].hex(' ') or 'none'}")
    dims = data[3]
    header = 4 + 4 * dims
    if dims == 0 or len(data) < header:
        raise ValueError(f"{path}: expected {dims} dimension sizes after the magic, got a file of {len(data)} bytes")
    shape = tuple(int(n) for n in np.frombuffer(data, ">i4", dims, 4))
    dtype = np.dtype(_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(f"{path}: expected {expected} bytes of values for shape {shape}, got {len(data) - header}")
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_shape(path: str | Path) -> tuple[int, ...]:
    """The shape of the array in an IDX file, from its header alone (the values are not read)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES:
                raise ValueError(f"{path}: expected an IDX file (magic 0 0 type dims), "
                                 f"got bytes {magic.hex(' ') or 'none'}")
            sizes = f.read(4 * magic[3])
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the IDX file: {exc}") from None
    if magic[3] == 0 or len(sizes) < 4 * magic[3]:
        raise ValueError(f"{path}: expected {magic[3]} dimension sizes after the magic, got too few bytes")
    return tuple(int(n) for n in np.frombuffer(sizes, ">i4"))
