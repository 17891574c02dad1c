"""Save and load trained models as JSON, .npz or .safetensors, chosen by the file's suffix (never pickle).

Every format holds one model document (``serialize.model_document``): format ``chainrule-model``,
version (2), the chainrule that wrote it, the name, the network in its spec form
(``serialize.network_to_table``) and, for a training run that can go on, its settings, history,
optimiser (step count and state), epochs run and the shuffling generator's state
(``serialize.Run``). Reading goes through one validator (``serialize.network_from_document``, which
builds through the spec validator, and ``serialize.run_from_document``): version (a newer one refused,
naming it), shapes against the table, float dtypes, finite values, one line naming file and key.

* ``.json``: the document with every number in it; floats through repr(), so float64 round-trips exactly.
* ``.npz``: the document without the numbers as a JSON string (``model``), and the arrays
  ``weights_0``, ``bias_0``, …, ``state_<parameter>_<name>`` in the network's dtype; read with
  ``allow_pickle=False``.
* ``.safetensors`` (the safetensors extra): the same arrays, the document in the header's metadata
  (``chainrule-model``).

Files are written to a temporary name, synced and moved into place: a crash (even SIGKILL) during a
write leaves the previous file as it was.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core import files
from ..core.settings import memory
from ..core.network import BaseNetwork
from .serialize import (FORMAT, VERSION, model_document, network_arrays, network_from_document, run_arrays,
                        run_from_document)
from .spec import SpecError

__all__ = ["FORMAT", "MODEL_SUFFIXES", "VERSION", "load_model", "model_suffix", "save_model", "write_atomically", "WriteError"]

MODEL_SUFFIXES = (".json", ".npz", ".safetensors")
METADATA_KEY = "chainrule-model"          # the safetensors header's metadata entry that holds the document


def model_suffix(path: str | Path, key: str = "path") -> str:
    """The model format ``path`` names by its suffix; any other suffix is refused (ConfigError naming ``key``)."""
    from ..core.settings import ConfigError
    suffix = Path(path).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ConfigError(key, f"a model file name ending in {', '.join(MODEL_SUFFIXES)}", str(path))
    return suffix


def check_writable(path: str | Path, key: str = "path") -> None:
    """Refuse, before any work is done, a model file that could not be written: a suffix that names no
    format, a directory, a missing or read-only directory (ConfigError naming ``key`` and the path)."""
    from ..core.settings import ConfigError, Described
    model_suffix(path, key)
    target = Path(path)
    folder = target.parent
    problem = ("is a directory" if target.is_dir() else f"the directory {str(folder)!r} does not exist"
               if not folder.exists() else f"{str(folder)!r} is not a directory" if not folder.is_dir() else None)
    if problem is None:
        try:                                        # the one sure test: make a file there (and remove it)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.", suffix=".probe"):
                pass
        except OSError as error:
            problem = f"the directory {str(folder)!r} cannot be written to ({error.strerror or error})"
    if problem:
        raise ConfigError(key, "a model file in a directory that can be written to", Described(f"{str(path)!r}: {problem}"))


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


class WriteError(OSError):
    """A file that could not be written (disk full, no permission): one line naming the user's path."""

    def __str__(self) -> str:
        return str(self.args[0])


def write_atomically(path: str | Path, content: str | bytes) -> None:
    """``content`` as the file ``path``, whole or not at all: written to a temporary file beside it,
    flushed to disk, then renamed over it, so that a crash, a kill or a full disk leaves the previous
    file as it was (WriteError names ``path``, never the temporary file)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(f"{path}: expected to write the file, got {exc.strerror or exc}"
                             + ("; the previous file is as it was" if path.exists() else "")) from None
        raise


def save_model(network: BaseNetwork, path: str | Path, name: str = "model") -> None:
    """The model file of ``network`` (and of its run, ``network.run``, when it has one): JSON, .npz or
    .safetensors by the suffix of ``path``, written whole or not at all."""
    from ..core.settings import ConfigError
    from .spec import MAX_NAME, one_line_name
    suffix = model_suffix(path)
    if not one_line_name(name):          # what load_model would refuse is not written
        raise ConfigError("name", f"one line of at most {MAX_NAME} printable characters (a string)", name)
    run = getattr(network, "run", None)
    if suffix == ".json":
        write_atomically(path, json.dumps(model_document(network, name, run=run), indent=1) + "\n")
        return
    document = json.dumps(model_document(network, name, values=False, run=run))
    arrays = {**network_arrays(network), **run_arrays(run)}
    if suffix == ".npz":
        buffer = io.BytesIO()
        entries: dict[str, Any] = {"model": np.array(document), **arrays}
        np.savez(buffer, **entries)
        write_atomically(path, buffer.getvalue())
        return
    write_atomically(path, _safetensors().numpy.save({k: np.array(v, order="C") for k, v in arrays.items()},
                                                     metadata={METADATA_KEY: document}))


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:
        from ..core.settings import ConfigError, Described
        raise ConfigError("safetensors", 'the safetensors package installed (pip install "chainrule[safetensors]")',
                          Described("none")) from None
    return safetensors


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _read_npz(path: Path) -> tuple[object, dict]:
    """The document (parsed from the ``model`` entry) and every other array of the archive."""
    try:
        handle = files.open_file(path, seekable=True)       # an archive is read by seeking: no pipe
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    with handle:
        if os.fstat(handle.fileno()).st_size > files.MAX_DATA:
            raise SpecError(f"{path}: expected a model file of at most {memory(files.MAX_DATA)}, got more")
        return _npz_entries(path, handle)


def _npz_entries(path: Path, handle) -> tuple[object, dict]:
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    try:
        archive = np.load(handle, allow_pickle=False)
    except unreadable as exc:
        raise SpecError(f"{path}: expected a chainrule model (.npz), got an unreadable file: {_one_line(exc)}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise SpecError(f"{path}: expected a chainrule model (.npz archive), got a single .npy array")
    arrays = {}
    with archive:
        members = archive.zip.infolist() if archive.zip is not None else []
        unpacked: int = sum(info.file_size for info in members)     # a zip bomb stops here
        if unpacked > files.MAX_DATA:
            raise SpecError(f"{path}: expected a model of at most {memory(files.MAX_DATA)} unpacked, "
                            f"got {memory(unpacked)}")
        zipped = archive.zip
        for member in (zipped.namelist() if zipped is not None else []):
            assert zipped is not None
            declared = _declared_bytes(zipped, member)           # what its .npy header says it unpacks to
            if declared is not None and declared > files.MAX_DATA:
                raise SpecError(f"{path}: {member.removesuffix('.npy')}: expected an array of at most "
                                f"{memory(files.MAX_DATA)}, got one whose header says {memory(declared)}")
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
        document = files.json_document(str(model), f"{path}: model", "the network table as a JSON string")
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return document, arrays


def _declared_bytes(archive: zipfile.ZipFile, member: str) -> int | None:
    """The bytes an .npy member's header declares (shape × item size), read before any array is made: a
    small file can declare terabytes.  None when the header cannot be read (np.load then says why)."""
    if not member.endswith(".npy"):
        return None
    try:
        with archive.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(handle)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    return int(np.prod(shape, dtype=object)) * max(dtype.itemsize, 1)


def _read_safetensors(path: Path) -> tuple[object, dict]:
    """The document (from the header's metadata) and the arrays of a .safetensors file."""
    safetensors = _safetensors()
    try:
        data = files.read_bytes(path, files.MAX_DATA, "model file")
        header = data[8:8 + int.from_bytes(data[:8], "little")] if len(data) >= 8 else b""
        metadata = files.json_document(header, str(path), "a chainrule model (.safetensors) with a JSON header")
        metadata = (metadata.get("__metadata__") if isinstance(metadata, dict) else None) or {}
        arrays = safetensors.numpy.load(data)
    except (OSError, ValueError) as exc:
        if str(exc).startswith(f"{path}: "):        # files.read_bytes's own refusal
            raise SpecError(str(exc)) from None
        raise SpecError(f"{path}: expected a chainrule model (.safetensors), got an unreadable file: "
                        f"{_one_line(exc)}") from None
    except Exception as exc:        # the safetensors library raises its own error kinds for a bad file
        raise SpecError(f"{path}: expected a chainrule model (.safetensors), got an unreadable file: "
                        f"{_one_line(exc)}") from None
    if METADATA_KEY not in metadata:
        raise SpecError(f"{path}: {METADATA_KEY}: missing; expected the model document in the header's metadata")
    try:
        return files.json_document(metadata[METADATA_KEY], f"{path}: {METADATA_KEY}", "the model document as JSON"), arrays
    except (ValueError, TypeError) as exc:
        raise SpecError(str(exc) if isinstance(exc, ValueError) else f"{path}: {METADATA_KEY}: expected the "
                        "model document as a JSON string") from None


def _read_json(path: Path) -> tuple[object, dict]:
    try:
        text = files.read_text(path, files.MAX_DATA, "model file")
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    try:
        return files.json_document(text, str(path), "a chainrule model (JSON)"), {}
    except ValueError as exc:
        raise SpecError(str(exc)) from None


READERS = {".json": _read_json, ".npz": _read_npz, ".safetensors": _read_safetensors}


def load_model(path: str | Path) -> BaseNetwork:
    """A model saved by save_model, validated as a spec is (SpecError names file and key). A model saved
    with its run has it as ``network.run`` (``serialize.Run``), so that training can go on from it."""
    path = Path(path)
    try:
        suffix = model_suffix(path)
    except ValueError as error:
        raise SpecError(f"{path}: {error}") from None
    document, arrays = READERS[suffix](path)
    state = {k: v for k, v in arrays.items() if k.startswith(("state_", "best_"))}
    parameters = {k: v for k, v in arrays.items() if k not in state}
    network = network_from_document(document, str(path), parameters if suffix != ".json" else None)
    assert isinstance(document, dict)        # network_from_document refuses anything else
    network.run = run_from_document(document, network, str(path), state)
    return network
