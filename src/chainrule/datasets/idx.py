"""The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, type, dimensions),
big-endian int32 sizes, then the values in row-major order."""

from __future__ import annotations

import gzip
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..core import files
from ..core.settings import memory

_TYPES: dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _header(path: Path, f) -> tuple[np.dtype, tuple[int, ...]]:
    """The value type and shape from an IDX stream's header, checked before any value is read."""
    magic = f.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES:
        raise ValueError(f"{path}: expected an IDX file (magic 0 0 type dims), got bytes {magic.hex(' ') or 'none'}")
    dims = magic[3]
    sizes = f.read(4 * dims)
    if dims == 0 or len(sizes) < 4 * dims:
        raise ValueError(f"{path}: expected {dims} dimension sizes after the magic, got {len(sizes)} bytes of them")
    shape = tuple(int(n) for n in np.frombuffer(sizes, ">i4"))
    if any(n < 0 for n in shape):
        raise ValueError(f"{path}: expected dimension sizes ≥ 0, got {shape}")
    dtype = np.dtype(_TYPES[magic[2]])
    size = math.prod(shape) * dtype.itemsize
    if size > files.MAX_DATA:
        raise ValueError(f"{path}: expected at most {memory(files.MAX_DATA)} of values, got a header "
                         f"declaring shape {shape} ({memory(size)})")
    return dtype, shape


@contextmanager
def _opened(path: Path):
    """The file's byte stream, decompressed as it is read when the name ends in .gz."""
    with files.open_file(path) as handle:
        if path.suffix != ".gz":
            yield handle
        else:
            with gzip.GzipFile(fileobj=handle, mode="rb") as unzipped:
                yield unzipped


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (optionally gzip-compressed, by the .gz suffix): its header checked
    first, then exactly the bytes it declares read (never more, so a gzip bomb stops at its header)."""
    path = Path(path)
    try:
        with _opened(path) as f:
            dtype, shape = _header(path, f)
            expected = math.prod(shape) * dtype.itemsize
            data = f.read(expected + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: cannot read the IDX file: {exc}") from None
    if len(data) != expected:
        got = "more" if len(data) > expected else len(data)
        raise ValueError(f"{path}: expected {expected} bytes of values for shape {shape}, got {got}")
    array = np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))
    if array.dtype.kind == "f" and array.size and not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{path}: expected finite values, got {array[index]} at index {index[0]}"
                         + (f" (item {index[0] + 1})" if len(index) > 1 else ""))
    return array


def read_idx_shape(path: str | Path) -> tuple[int, ...]:
    """The shape of the array in an IDX file, from its header alone (the values are not read)."""
    path = Path(path)
    try:
        with _opened(path) as f:
            return _header(path, f)[1]
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: cannot read the IDX file: {exc}") from None
