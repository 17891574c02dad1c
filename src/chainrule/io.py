"""Save and load trained models as JSON or .npz (never pickle).

Both hold the network in its spec form (``serialize.network_to_table``) and are read back by
one validator (``serialize.network_from_document``, which builds through the spec validator):
format, version (a newer one refused), shapes against the table, float dtypes, finite values.
A JSON file holds the table with explicit weights and biases; Python writes floats with
repr(), so every float64 round-trips exactly.  An .npz file (for large models) holds the same
document without the numbers as a JSON string (``model``), and each layer's weights and bias as
arrays ``weights_0``, ``bias_0``, … in the network's dtype; it is read with ``allow_pickle=False``.
Files are written to a temporary name and moved into place: never half-written.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .network import Network
from .serialize import FORMAT, VERSION, model_document, network_arrays, network_from_document
from .spec import SpecError

__all__ = ["FORMAT", "VERSION", "load_model", "save_model", "write_atomically"]


def _mode_for(path: Path) -> int:
    """The permissions a plain open() would give: the replaced file's own, or 0o666 less the umask
    (mkstemp's temporary file is 0o600, which a file handed to others must not keep)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (os.umask can only set it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def write_atomically(path: str | Path, content: str | bytes) -> None:
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(network: Network, path: str | Path, name: str = "model") -> None:
    """JSON, or .npz when the file name ends in .npz."""
    if str(path).endswith(".npz"):
        document = model_document(network, name, values=False)
        buffer = io.BytesIO()
        arrays: dict = {"model": np.array(json.dumps(document)), **network_arrays(network)}
        np.savez(buffer, **arrays)
        write_atomically(path, buffer.getvalue())
        return
    write_atomically(path, json.dumps(model_document(network, name), indent=1) + "\n")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _read_npz(path: Path) -> tuple[object, dict]:
    """The document (parsed from the ``model`` entry) and every other array of the archive."""
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    try:
        archive = np.load(path, allow_pickle=False)
    except unreadable as exc:
        raise SpecError(f"{path}: expected a chainrule model (.npz), got an unreadable file: {_one_line(exc)}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise SpecError(f"{path}: expected a chainrule model (.npz archive), got a single .npy array")
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except unreadable as exc:
                raise SpecError(f"{path}: {name}: expected a numeric array, got an unreadable one: "
                                f"{_one_line(exc)}") from None
    model = arrays.pop("model", None)
    if model is None:
        raise SpecError(f"{path}: model: missing; expected the network table as a JSON string")
    if model.dtype.kind != "U" or model.ndim != 0:
        raise SpecError(f"{path}: model: expected the network table as a JSON string, "
                        f"got a {model.dtype} array of shape {model.shape}")
    try:
        document = json.loads(str(model))
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: model: expected the network table as a JSON string, got invalid JSON: "
                        f"{_one_line(exc)}") from None
    return document, arrays


def load_model(path: str | Path) -> Network:
    """A model saved by save_model (JSON or .npz), validated as a spec is; SpecError names file and key."""
    path = Path(path)
    if path.suffix == ".npz":
        document, arrays = _read_npz(path)
        return network_from_document(document, str(path), arrays)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the model: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: expected a chainrule model (JSON), got invalid JSON: {_one_line(exc)}") from None
    return network_from_document(document, str(path))
