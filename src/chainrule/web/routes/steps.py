"""Traced steps: take the next one, read one back, one parameter's chain rule, and check claimed numbers."""

from __future__ import annotations

from starlette.routing import Route

from ..http import Json, integer, json_body, keys, locked, public, session


async def step(request):
    this = session(request)
    await json_body(request)          # no body is needed; an oversized or malformed one is refused

    def work():
        return public(this.step()), this.state()
    trace, state = await locked(this, work)
    return Json({"trace": trace, "state": state})


async def get_step(request):
    this = session(request)
    k = integer(request.path_params["k"], "step")
    return Json({"trace": public(await locked(this, this.trace, k))})


async def explain(request):
    this = session(request)
    k = integer(request.path_params["k"], "step")
    return Json({"html": await locked(this, this.explain, k, request.query_params.get("param", ""))})


async def check(request):
    this = session(request)
    k = integer(request.path_params["k"], "step")
    body = keys(await json_body(request), {"claims", "sample"}, '{"claims": {name: number}, "sample": n}')
    return Json(await locked(this, this.check, k, body.get("claims"), body.get("sample", 1)))


ROUTES = [
    Route("/api/sessions/{id}/step", step, methods=["POST"]),
    Route("/api/sessions/{id}/steps/{k}", get_step),
    Route("/api/sessions/{id}/steps/{k}/explain", explain),
    Route("/api/sessions/{id}/steps/{k}/check", check, methods=["POST"]),
]
