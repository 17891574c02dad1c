"""Reading the files a user names — specs, claims, CSV, IDX and model files — in one place that never
hangs and never reads without bound: a regular file, or a pipe such as process substitution's
``<(…)``, never a device (/dev/zero), a directory or a socket; at most a stated number of bytes; each
refusal a ValueError whose message starts with the path, for the caller to give its own kind."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

MiB = 1024 * 1024
MAX_TEXT = 16 * MiB         # a spec or claims file: TOML written by hand (MNIST-sized data lives in CSV/IDX)
MAX_DATA = 1024 * MiB       # a CSV, IDX or model file


def _size(limit: int) -> str:
    return f"{limit // MiB:,} MiB" if limit >= MiB else f"{limit:,} bytes"


_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket")]


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def open_file(path: str | Path, seekable: bool = False):
    """``path`` opened for reading in binary, after checking what it is: a regular file, or (unless the
    reader must seek, ``seekable``) a pipe.  Opened without blocking, so a FIFO nobody writes to reads
    as empty rather than waiting for ever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or (stat.S_ISFIFO(mode) and not seekable)):
            what = "a pipe" if stat.S_ISFIFO(mode) else _kind(mode)
            raise ValueError(f"{path}: expected a regular file{'' if seekable else ' or a pipe'}, got {what}")
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)     # a pipe with a writer: wait for its data
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | Path, limit: int = MAX_DATA, what: str = "file") -> bytes:
    """The whole of a file of at most ``limit`` bytes."""
    with open_file(path) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ValueError(f"{path}: expected a {what} of at most {_size(limit)}, got more")
    return data


def read_text(path: str | Path, limit: int = MAX_TEXT, what: str = "file") -> str:
    """The UTF-8 text of a file of at most ``limit`` bytes (a byte-order mark dropped)."""
    data = read_bytes(path, limit, what)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: expected a UTF-8 text {what}, got bytes that are not UTF-8 "
                         f"(at byte {exc.start})") from None


def readable(path: str | Path) -> bool:
    """Whether ``path`` names something a reader here would take (a regular file or a pipe)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(mode) or stat.S_ISFIFO(mode)


__all__ = ["MAX_DATA", "MAX_TEXT", "open_file", "read_bytes", "read_text", "readable"]
