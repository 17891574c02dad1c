"""A session's run: made from an example or a spec, read, trained on, reset, edited and saved as a spec."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ...settings import show
from ..http import Json, flag, json_body, keys, locked, session, store
from ..sessions import BadRequest


async def create(request):
    body = await json_body(request)
    key, made = await run_in_threadpool(store(request).create, body)
    state = await locked(made, made.state)
    return Json({"id": key, "state": state}, status_code=201)


async def get_state(request):
    this = session(request)
    history = flag(request.query_params.get("history", "0"), "history")
    return Json({"state": await locked(this, this.state, history)})


async def train(request):
    this = session(request)
    body = keys(await json_body(request), {"epochs", "more", "seconds", "view"}, '{"epochs": n}')
    view = keys(body.get("view", {}), {"boundary", "heatmaps"}, '{"boundary": resolution, "heatmaps": resolution}',
                "view")

    def work():
        this.check_view(view)        # before any epoch runs: a refused call changes nothing
        result = this.train(body.get("epochs", 1), body.get("more", False), body.get("seconds"))
        shown = {name: getattr(this, name)(resolution) for name, resolution in view.items()}
        return {**result, "state": this.state(), "view": shown}
    return Json(await locked(this, work))


async def reset(request):
    this = session(request)
    keys(await json_body(request), set(), "no body")

    def work():
        this.reset()
        return this.state(history=True)
    return Json({"state": await locked(this, work)})


async def parameters(request):
    this = session(request)
    body = keys(await json_body(request), {"label", "value", "values"}, '{"label": …, "value": …} or {"values": {…}}')
    if "values" in body and ("label" in body or "value" in body):
        raise BadRequest("body: expected either values or label and value, got both", 422)
    if "values" in body:
        values = body["values"]
    elif isinstance(body.get("label"), str):
        values = {body["label"]: body.get("value")}
    else:
        raise BadRequest(f"label: expected a parameter's label, got {show(body.get('label'))}")

    def work():
        this.set_parameters(values)
        return this.state()
    return Json({"state": await locked(this, work)})


async def spec_toml(request):
    this = session(request)
    text = await locked(this, this.spec_toml)
    disposition = f'attachment; filename="{download_name(this.spec.name)}"'
    return PlainTextResponse(text, headers={"Content-Disposition": disposition})


def download_name(name: str) -> str:
    """A spec's name as a download's file name: letters, digits, '-', '_' and '.' only (no path, no quote,
    no line break, Latin-1 for the header), never empty or hidden."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80]
    return f"{stem or 'spec'}.toml"


ROUTES = [
    Route("/api/sessions", create, methods=["POST"]),
    Route("/api/sessions/{id}", get_state),
    Route("/api/sessions/{id}/train", train, methods=["POST"]),
    Route("/api/sessions/{id}/reset", reset, methods=["POST"]),
    Route("/api/sessions/{id}/parameters", parameters, methods=["POST"]),
    Route("/api/sessions/{id}/spec.toml", spec_toml),
]
