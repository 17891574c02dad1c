"""Reading the files a user names — specs, claims, CSV, IDX and model files — in one place that never
hangs and never reads without bound: a regular file, or a pipe such as process substitution's
``<(…)``, never a device (/dev/zero), a directory or a socket; at most a stated number of bytes; and
the TOML and JSON documents in them parsed within bounds (nesting, digits).  Each refusal is a
ValueError whose message starts with the path, for the caller to give its own kind."""

from __future__ import annotations

import fcntl
import os
import sys
import re
import stat
from pathlib import Path

from .settings import memory

MiB = 1024 * 1024
MAX_TEXT = 16 * MiB         # a spec or claims file: TOML written by hand (MNIST-sized data lives in CSV/IDX)
MAX_DATA = 1024 * MiB       # a CSV, IDX or model file


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
        raise ValueError(f"{path}: expected a {what} of at most {memory(limit)}, got more")
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


# ---- documents (TOML, JSON) parsed within bounds ---------------------------------------------------------

MAX_DEPTH = 32          # tables and lists inside one another: a spec needs 4


def depth(value) -> int:
    """How deeply lists and tables nest in a parsed document (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _bounded(document, source: str, kind: str):
    if depth(document) > MAX_DEPTH:
        raise ValueError(f"{source}: invalid {kind}: expected lists and tables nested at most {MAX_DEPTH} deep, "
                         "got deeper")
    return document


def toml_document(text: str, source: str) -> dict:
    """A TOML text parsed; ValueError "source:line: invalid TOML: …" for bad syntax, nesting deeper than
    MAX_DEPTH or an integer too long to convert."""
    import tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        where = f"{source}:{match.group(1)}" if match else source
        raise ValueError(f"{where}: invalid TOML: {re.sub(r' [(]at .*[)]$', '', message)}") from None
    except RecursionError:
        raise ValueError(f"{source}: invalid TOML: expected lists and tables nested at most {MAX_DEPTH} deep, "
                         "got deeper") from None
    except ValueError as exc:        # an integer of more digits than Python converts (4,300)
        raise ValueError(f"{source}: invalid TOML: {_digits(exc)}") from None
    document = _bounded(document, source, "TOML")
    huge = _huge_integer(document)
    if huge is not None:
        raise ValueError(f"{source}: invalid TOML: expected numbers within a float's range (±1.8e308), got an "
                         f"integer of {len(str(abs(huge)))} digits")
    return document


def _huge_integer(value) -> int | None:
    """The first integer of a parsed document beyond a float's range (no number computes with it), or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > FLOAT_MAX_INT:
            return item
    return None


def json_document(text: str | bytes, source: str, what: str = "JSON"):
    """A JSON text parsed; ValueError "source: expected ``what``, got invalid JSON: …" for bad syntax,
    nesting deeper than MAX_DEPTH or an integer too long to convert."""
    import json

    def refused(detail: str) -> ValueError:
        return ValueError(f"{source}: expected {what}, got invalid JSON: {detail}")

    def constant(token: str):       # NaN and Infinity are Python's extensions, not JSON
        raise _NotJson(f"{token} (JSON has no such number; numbers must be finite)")

    def integer(token: str) -> int:  # beyond a float's range no number computes (OverflowError deep inside)
        value = int(token)
        if abs(value) > FLOAT_MAX_INT:
            raise _NotJson(f"an integer of {len(token.lstrip('-'))} digits (beyond a float's range, ±1.8e308)")
        return value
    try:
        document = json.loads(text, parse_constant=constant, parse_int=integer)
    except _NotJson as exc:
        raise refused(str(exc)) from None
    except RecursionError:
        raise refused(f"lists and objects nested more than {MAX_DEPTH} deep") from None
    except json.JSONDecodeError as exc:
        raise refused(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise refused("bytes that are not UTF-8") from None
    except ValueError as exc:
        raise refused(_digits(exc)) from None
    if depth(document) > MAX_DEPTH:
        raise refused(f"lists and objects nested more than {MAX_DEPTH} deep")
    return document


FLOAT_MAX_INT = int(sys.float_info.max)


class _NotJson(Exception):
    pass


def _digits(exc: ValueError) -> str:
    match = re.search(r"has (\d+) digits", str(exc))
    if match:
        return f"expected an integer of at most 4,300 digits, got one of {int(match.group(1)):,}"
    return " ".join(str(exc).split())[:200]


__all__ = ["MAX_DATA", "MAX_DEPTH", "MAX_TEXT", "depth", "json_document", "open_file", "read_bytes", "read_text",
           "readable", "toml_document"]
