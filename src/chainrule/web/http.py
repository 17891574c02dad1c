"""What every route shares: strict JSON answers, bounded bodies, and the checks on keys, flags and integers
that turn a bad request into one line and a 4xx (``BadRequest``), never a traceback."""

from __future__ import annotations

import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import files
from ..explain.json import finite_or_null
from ..settings import show
from .sessions import BadRequest, Session, Store

MAX_BODY = 256 * 1024
MAX_RESPONSE = 32 * 1024 * 1024     # bytes: every answer is bounded by the limits; this is the backstop


class Json(JSONResponse):
    """Every answer is strict JSON: a number that overflowed (inf) or is undefined (NaN) is sent as null,
    which the page shows as "—", never as the non-JSON tokens Infinity or NaN that browsers refuse."""

    def render(self, content) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except ValueError:
            text = json.dumps(finite_or_null(content), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        body = text.encode("utf-8")
        if len(body) > MAX_RESPONSE:
            raise BadRequest(f"response: expected at most {MAX_RESPONSE} bytes, got {len(body)}; "
                             "ask for less (a lower resolution, one parameter)", 413)
        return body


def store(request: Request) -> Store:
    """The app's session store (made by ``create_app``)."""
    return request.app.state.store


def session(request: Request) -> Session:
    """The session the path names ({id}); an unknown or expired one is a 404."""
    return store(request).get(request.path_params["id"])


async def locked(session: Session, function, *args):
    """Run engine work off the event loop, one request per session at a time."""
    def work():
        with session.lock:
            return function(*args)
    return await run_in_threadpool(work)


async def json_body(request: Request):
    """The request's body as JSON (``{}`` when empty), at most MAX_BODY bytes, parsed bounded."""
    length = request.headers.get("content-length")
    if length is not None and not (length.isascii() and length.isdigit() and len(length) < 20):
        raise BadRequest(f"Content-Length: expected a number of bytes, got {show(length)}", 400)
    if length is not None and int(length) > MAX_BODY:
        raise BadRequest(f"body: expected at most {MAX_BODY} bytes, got {length}", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(f"body: expected at most {MAX_BODY} bytes, got more", 413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return {}
    try:
        return files.json_document(raw, "body")
    except ValueError as exc:
        raise BadRequest(str(exc), 400) from None


def keys(body, allowed: set, expected: str, where: str = "body") -> dict:
    """A JSON object whose keys are all ``allowed`` (an unknown key is refused, never ignored)."""
    if not isinstance(body, dict):
        raise BadRequest(f"{where}: expected {expected}, got {show(body)}", 400)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"{where}.{show(unknown[0])[:40]}: expected only the keys "
                         f"{', '.join(sorted(allowed)) or '(none)'}, got an unknown key", 422)
    return body


def flag(text: str, name: str) -> bool:
    if text not in ("0", "1", "true", "false"):
        raise BadRequest(f"{name}: expected 1 or 0, got {show(text)}", 400)
    return text in ("1", "true")


def integer(text: str, name: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,18}", text):
        raise BadRequest(f"{name}: expected an integer, got {show(text)}", 400)
    return int(text)


def public(trace: dict) -> dict:
    """A step's trace as sent: without the keys the session keeps for itself (those starting with _)."""
    return {k: v for k, v in trace.items() if not k.startswith("_")}
