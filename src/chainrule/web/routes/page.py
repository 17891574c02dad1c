"""The page itself: its HTML, its static files, and no favicon."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent.parent / "static"


async def index(request):
    return FileResponse(STATIC / "index.html")


async def favicon(request):
    return Response(status_code=204)


ROUTES = [
    Route("/", index),
    Route("/favicon.ico", favicon),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]
