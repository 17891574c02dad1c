"""The JSON API and the page, as an ASGI app (Starlette); ``chainrule serve`` runs it on uvicorn.

This module puts the app together; the handlers live in web/routes/ (one module per part of the API,
each with its ROUTES), what they share in web/http.py, and the sessions they work on in web/sessions.py.

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

from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from .http import MAX_BODY, Json
from .routes import catalogue, page, runs, steps, views
from .sessions import BadRequest, Limits, Store

ROUTES: list[BaseRoute] = [*page.ROUTES, *catalogue.ROUTES, *runs.ROUTES, *steps.ROUTES, *views.ROUTES]


async def bad_request(request, exc: BadRequest):
    return Json({"error": str(exc)}, status_code=exc.status)


async def not_found(request, exc):
    status = getattr(exc, "status_code", 404)
    what = "no such endpoint" if status == 404 else f"method {request.method} not allowed here"
    return Json({"error": f"{request.method} {request.url.path}: {what}"}, status_code=status)


def create_app(limits: Limits | None = None, setup: dict | None = None) -> Starlette:
    """The app: the routes of web/routes/ over one session store.  ``setup``: what the page opens with
    (a POST /api/sessions body; default the mazur example)."""
    handlers: dict[Any, Any] = {BadRequest: bad_request, 404: not_found, 405: not_found}
    app = Starlette(routes=ROUTES, exception_handlers=handlers)
    app.state.store = Store(limits)
    app.state.setup = setup or {"example": "mazur"}
    return app


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


__all__ = ["MAX_BODY", "create_app", "serve"]
