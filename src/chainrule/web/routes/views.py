"""The network over the input plane: the output (decision boundary or fitted surface) and each neuron's output."""

from __future__ import annotations

from starlette.routing import Route

from ..http import Json, integer, locked, session


def over_the_plane(name: str, default: str):
    """GET …/boundary or …/heatmaps: the session's view of that name at ?resolution=n."""
    async def handler(request):
        this = session(request)
        resolution = integer(request.query_params.get("resolution", default), "resolution")
        return Json(await locked(this, getattr(this, name), resolution))
    return handler


ROUTES = [
    Route("/api/sessions/{id}/boundary", over_the_plane("boundary", "40")),
    Route("/api/sessions/{id}/heatmaps", over_the_plane("heatmaps", "16")),
]
