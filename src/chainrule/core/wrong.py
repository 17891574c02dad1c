"""A wrong form of the mathematics, as students write it, declared by the object it belongs to.

Each activation (activations.py) declares the wrong forms written for its function and its derivative,
each loss (losses.py) its wrong error terms, gradients and fused deltas, each optimiser (optim.py) its
wrong updates; ``chainrule check`` (check/mistakes.py) tries them on the claims of every network that
uses the object, and the catalogue (``chainrule check --catalogue``) lists them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

PARTS = {
    "value": "out = f(net) of a layer's neurons",
    "derivative": "∂out/∂net of a layer's neurons",
    "delta": "δ of an output neuron (a fused loss, or a whole-layer activation)",
    "term": "an output's share E_o of the error",
    "gradient": "∂E/∂out of an output neuron",
    "update": "the update equations of a parameter",
}


@dataclass(frozen=True)
class Wrong:
    """One wrong form: a stable id (the report's mistake_id), the sentence naming it in a student's words
    with the right form beside the wrong one, the part it replaces (PARTS) and the wrong form itself:

    * an activation's ``form(net, out, error)`` → the wrong out, ∂out/∂net or δ (error: ∂E/∂out's symbol);
    * a loss's ``form(out, t, k)`` → the wrong E_o, ∂E/∂out or δ of one output (k outputs);
    * an optimiser's ``form(equations, first)`` → the equations rewritten, None where it changes nothing."""

    id: str
    sentence: str
    part: str
    form: Callable
