"""The JSON API and the page, as an ASGI app (Starlette); ``chainrule serve`` runs it on uvicorn.

Endpoints (all JSON; errors are {"error": message} with a 4xx status):

    POST /api/sessions                          {"example": "mazur"} | {"spec": {…}} | {"spec_toml": "…"}
                                                → {"id", "state"}
    GET  /api/sessions/{id}                     → {"state"}
    POST /api/sessions/{id}/step                → {"trace", "state"}   one traced training step
    GET  /api/sessions/{id}/steps/{k}           → {"trace"}            a step already taken
    GET  /api/sessions/{id}/steps/{k}/explain?param=w5 → {"html"}      its chain rule, in MathML
    GET  /api/sessions/{id}?history=1           → {"state"} with the loss curves (one point per epoch)
    POST /api/sessions/{id}/train               {"epochs": n, "more": false, "seconds": s, "view": {"boundary": r,
                                                 "heatmaps": r}} → {"epochs", "loss_history", "test_loss_history",
                                                 "stopped", "state", "view"}: the spec's run goes on by up to n
                                                 epochs (its stopping rules and phases; past its end only with
                                                 more), for at most s seconds
    POST /api/sessions/{id}/reset               → {"state"}: the spec's starting weights, the run's start
    POST /api/sessions/{id}/parameters          {"label": "w1", "value": 0.2} | {"values": {"w1": 0.2, …}} → {"state"}
    GET  /api/sessions/{id}/boundary?resolution=40 → {"kind", "x", ["y"], "values", "points", "labels",
                                                   "test_points", "test_labels"}: the output over the inputs
    GET  /api/sessions/{id}/heatmaps?resolution=16 → {"x", "y", "inputs", "layers"}: each neuron's output
    POST /api/sessions/{id}/steps/{k}/check     {"claims": {"net_h1": "0.3775", …}, "sample": 1} → a check
                                                 report (as chainrule check --format json)
    GET  /api/sessions/{id}/spec.toml           → the set-up as a spec file (text)
    GET  /api/examples                          → {"examples": [{"name", "summary"}]}
    GET  /api/initial                           → {"setup"}: what the page opens with (chainrule serve SPEC)
    GET  /api/choices                           → {"activations", "losses": [{"name", "output_activation",
                                                   "units", "classifier"}], "optimizers", "optimizer_settings": {name: [key]}, "schedules", "classifications",
                                                   "regressions": {name: inputs}, "features"}: what the engine has
    GET  /api/health                            → {"ok": true, "sessions": n}
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..core import files
from ..explain.json import finite_or_null
from ..core.settings import show
from .sessions import BadRequest, Limits, Store

STATIC = Path(__file__).parent / "static"
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


def download_name(name: str) -> str:
    """A spec's name as a download's file name: letters, digits, '-', '_' and '.' only (no path, no quote,
    no line break, Latin-1 for the header), never empty or hidden."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80]
    return f"{stem or 'spec'}.toml"


def _public(trace: dict) -> dict:
    return {k: v for k, v in trace.items() if not k.startswith("_")}


async def _json_body(request: Request):
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


def create_app(limits: Limits | None = None, setup: dict | None = None) -> Starlette:
    """The app: one small handler per endpoint, each a closure over the session store; long because the
    route table is the API's table of contents, read top to bottom with its handlers.  ``setup``: what
    the page opens with (a POST /api/sessions body; default the mazur example)."""
    store = Store(limits)
    first = setup or {"example": "mazur"}

    async def initial(request):
        return Json({"setup": first})

    async def locked(session, function, *args):
        """Run engine work off the event loop, one request per session at a time."""
        def work():
            with session.lock:
                return function(*args)
        return await run_in_threadpool(work)

    async def create(request):
        body = await _json_body(request)
        key, session = await run_in_threadpool(store.create, body)
        state = await locked(session, session.state)
        return Json({"id": key, "state": state}, status_code=201)

    async def get_state(request):
        session = store.get(request.path_params["id"])
        history = _flag(request.query_params.get("history", "0"), "history")
        return Json({"state": await locked(session, session.state, history)})

    async def step(request):
        session = store.get(request.path_params["id"])
        await _json_body(request)          # no body is needed; an oversized or malformed one is refused

        def work():
            return _public(session.step()), session.state()
        trace, state = await locked(session, work)
        return Json({"trace": trace, "state": state})

    async def get_step(request):
        session = store.get(request.path_params["id"])
        k = _integer(request.path_params["k"], "step")
        return Json({"trace": _public(await locked(session, session.trace, k))})

    async def explain(request):
        session = store.get(request.path_params["id"])
        k = _integer(request.path_params["k"], "step")
        param = request.query_params.get("param", "")
        return Json({"html": await locked(session, session.explain, k, param)})

    async def train(request):
        session = store.get(request.path_params["id"])
        body = _keys(await _json_body(request), {"epochs", "more", "seconds", "view"}, '{"epochs": n}')
        view = _keys(body.get("view", {}), {"boundary", "heatmaps"}, '{"boundary": resolution, "heatmaps": resolution}',
                     "view")

        def work():
            session.check_view(view)        # before any epoch runs: a refused call changes nothing
            result = session.train(body.get("epochs", 1), body.get("more", False), body.get("seconds"))
            shown = {name: getattr(session, name)(resolution) for name, resolution in view.items()}
            return {**result, "state": session.state(), "view": shown}
        return Json(await locked(session, work))

    async def reset(request):
        session = store.get(request.path_params["id"])
        _keys(await _json_body(request), set(), "no body")

        def work():
            session.reset()
            return session.state(history=True)
        return Json({"state": await locked(session, work)})

    async def check(request):
        session = store.get(request.path_params["id"])
        k = _integer(request.path_params["k"], "step")
        body = _keys(await _json_body(request), {"claims", "sample"}, '{"claims": {name: number}, "sample": n}')
        return Json(await locked(session, session.check, k, body.get("claims"), body.get("sample", 1)))

    async def parameters(request):
        session = store.get(request.path_params["id"])
        body = await _json_body(request)
        body = _keys(body, {"label", "value", "values"}, '{"label": …, "value": …} or {"values": {…}}')
        if "values" in body and ("label" in body or "value" in body):
            raise BadRequest("body: expected either values or label and value, got both", 422)

        if "values" in body:
            values = body["values"]
        elif isinstance(body.get("label"), str):
            values = {body["label"]: body.get("value")}
        else:
            raise BadRequest(f"label: expected a parameter's label, got {show(body.get('label'))}")

        def work():
            session.set_parameters(values)
            return session.state()
        return Json({"state": await locked(session, work)})

    def over_the_plane(name: str, default: str):
        """GET …/boundary or …/heatmaps: the session's view of that name at ?resolution=n."""
        async def handler(request):
            session = store.get(request.path_params["id"])
            resolution = _integer(request.query_params.get("resolution", default), "resolution")
            return Json(await locked(session, getattr(session, name), resolution))
        return handler

    boundary, heatmaps = over_the_plane("boundary", "40"), over_the_plane("heatmaps", "16")

    async def spec_toml(request):
        session = store.get(request.path_params["id"])
        text = await locked(session, session.spec_toml)
        disposition = f'attachment; filename="{download_name(session.spec.name)}"'
        return PlainTextResponse(text, headers={"Content-Disposition": disposition})

    async def list_examples(request):
        from ..formats import examples
        return Json({"examples": [{"name": n, "summary": examples.summary(n)} for n in examples.names()]})

    async def list_choices(request):
        from ..core import activations, losses, optim
        hidden = [name for name in activations.NAMES if activations.get_activation(name).elementwise]
        outputs = []          # each loss with the output layer it needs: its activation and at least how many units
        for name in losses.NAMES:
            fused = losses.get_loss(name).output_activation      # None: any output layer (regressions: identity)
            output = fused or "sigmoid"
            outputs.append({"name": name, "output_activation": output, "classifier": fused is not None,
                            "units": 1 if activations.get_activation(output).elementwise else 2})
        from ..datasets.toy import FEATURES, GENERATORS, REGRESSIONS
        settings = {name: sorted(optim.get_optimizer(name).SETTINGS) for name in optim.NAMES}
        return Json({"activations": hidden, "losses": outputs, "optimizers": list(optim.NAMES),
                     "optimizer_settings": settings,
                     "schedules": list(optim.SCHEDULES), "classifications": list(GENERATORS),
                     "regressions": REGRESSIONS, "features": list(FEATURES)})

    async def health(request):
        return Json({"ok": True, "sessions": store.live()})

    async def index(request):
        return FileResponse(STATIC / "index.html")

    async def favicon(request):
        return Response(status_code=204)

    async def bad_request(request, exc: BadRequest):
        return Json({"error": str(exc)}, status_code=exc.status)

    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        what = "no such endpoint" if status == 404 else f"method {request.method} not allowed here"
        return Json({"error": f"{request.method} {request.url.path}: {what}"}, status_code=status)

    routes = [
        Route("/", index),
        Route("/favicon.ico", favicon),
        Route("/api/health", health),
        Route("/api/examples", list_examples),
        Route("/api/choices", list_choices),
        Route("/api/initial", initial),
        Route("/api/sessions", create, methods=["POST"]),
        Route("/api/sessions/{id}", get_state),
        Route("/api/sessions/{id}/step", step, methods=["POST"]),
        Route("/api/sessions/{id}/steps/{k}", get_step),
        Route("/api/sessions/{id}/steps/{k}/explain", explain),
        Route("/api/sessions/{id}/train", train, methods=["POST"]),
        Route("/api/sessions/{id}/reset", reset, methods=["POST"]),
        Route("/api/sessions/{id}/parameters", parameters, methods=["POST"]),
        Route("/api/sessions/{id}/boundary", boundary),
        Route("/api/sessions/{id}/heatmaps", heatmaps),
        Route("/api/sessions/{id}/steps/{k}/check", check, methods=["POST"]),
        Route("/api/sessions/{id}/spec.toml", spec_toml),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers: dict[Any, Any] = {BadRequest: bad_request, 404: not_found, 405: not_found}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.store = store
    return app


def _keys(body, allowed: set, expected: str, where: str = "body") -> dict:
    """A JSON object whose keys are all ``allowed`` (an unknown key is refused, never ignored)."""
    if not isinstance(body, dict):
        raise BadRequest(f"{where}: expected {expected}, got {show(body)}", 400)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"{where}.{show(unknown[0])[:40]}: expected only the keys "
                         f"{', '.join(sorted(allowed)) or '(none)'}, got an unknown key", 422)
    return body


def _flag(text: str, name: str) -> bool:
    if text not in ("0", "1", "true", "false"):
        raise BadRequest(f"{name}: expected 1 or 0, got {show(text)}", 400)
    return text in ("1", "true")


def _integer(text: str, name: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,18}", text):
        raise BadRequest(f"{name}: expected an integer, got {show(text)}", 400)
    return int(text)


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, setup: dict | None = None,
          limits: Limits | None = None) -> None:
    import socket

    import uvicorn
    url = f"http://{host}:{port}/"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:                     # bound here, before the page is announced: a port in use is one line, exit 2
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ValueError(f"serve --host/--port: expected an address free to listen on, got {host}:{port} "
                         f"({exc.strerror or exc})") from None
    print(f"chainrule: serving the page at {url} (Ctrl-C stops)", flush=True)
    if open_browser:
        import threading
        import webbrowser
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    config = uvicorn.Config(create_app(limits, setup=setup), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run(sockets=[listener])


__all__ = ["create_app", "serve"]
