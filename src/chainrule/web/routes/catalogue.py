"""What this server offers: its health, the built-in examples, the engine's choices, the opening set-up."""

from __future__ import annotations

from starlette.routing import Route

from ... import activations, examples, losses, optim
from ...datasets.toy import FEATURES, GENERATORS, REGRESSIONS
from ...schedules import SCHEDULES
from ..http import Json, store


async def health(request):
    return Json({"ok": True, "sessions": store(request).live()})


async def list_examples(request):
    return Json({"examples": [{"name": n, "summary": examples.summary(n)} for n in examples.names()]})


async def list_choices(request):
    hidden = [name for name in activations.NAMES if activations.get_activation(name).elementwise]
    outputs = []          # each loss with the output layer it needs: its activation and at least how many units
    for name in losses.NAMES:
        fused = losses.get_loss(name).output_activation      # None: any output layer (regressions: identity)
        output = fused or "sigmoid"
        outputs.append({"name": name, "output_activation": output, "classifier": fused is not None,
                        "units": 1 if activations.get_activation(output).elementwise else 2})
    settings = {name: sorted(optim.get_optimizer(name).SETTINGS) for name in optim.NAMES}
    return Json({"activations": hidden, "losses": outputs, "optimizers": list(optim.NAMES),
                 "optimizer_settings": settings, "schedules": list(SCHEDULES),
                 "classifications": list(GENERATORS), "regressions": REGRESSIONS, "features": list(FEATURES)})


async def initial(request):
    """What the page opens with (``chainrule serve SPEC``; default the mazur example)."""
    return Json({"setup": request.app.state.setup})


ROUTES = [
    Route("/api/health", health),
    Route("/api/examples", list_examples),
    Route("/api/choices", list_choices),
    Route("/api/initial", initial),
]
