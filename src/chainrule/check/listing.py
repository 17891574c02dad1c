"""The catalogue of mistakes as a page: every mistake ``chainrule check`` can name, with its id, the
objects it applies to and an example sentence — read from the code, so that it is never stale
(``chainrule check --catalogue``; docs/mistakes.md is its output).

The mistakes of the mathematics come from the classes that declare them (activations.py, losses.py,
optim.py); the structural ones from the catalogue of two small traced steps that have every structure
(a batch step with shared biases, an online step with per-neuron biases); the slips from mistakes.SLIPS."""

from __future__ import annotations

from ..activations import NAMES as ACTIVATIONS, get_activation
from ..losses import NAMES as LOSSES, get_loss
from ..optim import get_optimizer
from .mistakes import SLIPS, catalogue

# optimisers with every setting that brings mistakes of its own, at a step t > 1
OPTIMIZERS = [("sgd", {}), ("sgd", {"weight_decay": 0.01}), ("sgd", {"momentum": 0.9}),
              ("sgd", {"momentum": 0.9, "nesterov": True}), ("adam", {}), ("rmsprop", {})]

STRUCTURE_SPECS: list[tuple[str, str | int, int, int]] = [      # bias mode, batch, data rows, step
    ("shared", "full", 2, 2),
    ("per_neuron", 1, 4, 3),
]


def entries() -> list[tuple[str, str, str, str]]:
    """(id, kind, applies to, example sentence) of every mistake: one row an id and kind, the objects
    that declare it listed together."""
    rows: dict[tuple[str, str], tuple[list, str]] = {}

    def add(id, kind, obj, sentence):
        objects, _ = rows.setdefault((id, kind), ([], sentence))
        if obj not in objects:
            objects.append(obj)
    for name in ACTIVATIONS:
        for w in get_activation(name).mistakes():
            add(w.id, f"activation: {w.part}", name, w.sentence)
    for name in LOSSES:
        loss = get_loss(name)
        for fused in ([True, False] if loss.fused else [False]):
            for w in loss.mistakes(3, 1.0, fused):
                add(w.id, f"loss: {w.part}", name + ("" if fused or not loss.fused else
                                                     f" (without a {loss.output_activation} output)"), w.sentence)
    for name, settings in OPTIMIZERS:
        optimizer = get_optimizer(name, 0.1, **settings)
        optimizer.t = 2
        title = name + (f" ({', '.join(settings)})" if settings else "")
        for w in optimizer.mistakes():
            add(w.id, "optimiser: update", title, w.sentence)
    declared = {id for id, _ in rows}
    for structure in STRUCTURE_SPECS:
        for m in _structural(*structure):
            if m.id not in declared:
                add(m.id, "structure", "any network", m.sentence)
    for slip in SLIPS:
        add(slip.id, "slip", slip.applies, slip.says(**slip.example))
    return [(id, kind, ", ".join(objects), sentence) for (id, kind), (objects, sentence) in rows.items()]


def _structural(bias_mode: str, batch: str | int, rows: int, step: int) -> list:
    """The catalogue of a 2-2-2 sigmoid step with these biases and batches."""
    from ..spec import from_dict
    from .claims import Claim
    from .checker import Checker
    layers = [{"units": 2, "activation": "sigmoid", "weights": w, "bias_mode": bias_mode,
               "bias": [0.35, 0.3] if bias_mode == "per_neuron" else 0.35}
              for w in ([[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45], [0.5, 0.55]])]
    spec = from_dict({"network": {"inputs": 2, "loss": "half_sse", "layers": layers},
                      "training": {"learning_rate": 0.5, "batch": batch, "reduction": "sum"},
                      "data": {"inputs": [[0.05, 0.1], [0.2, 0.3], [0.4, 0.1], [0.9, 0.5]][:rows],
                               "targets": [[0.01, 0.99], [0.5, 0.5], [0.2, 0.7], [0.9, 0.1]][:rows]}})
    checker = Checker(spec, [Claim("net_o1", "net_o1", step, (step - 1) % rows + 1 if batch == 1 else 1,
                                   "0", 0.0, None)])
    return catalogue(checker.steps[step])


def markdown() -> str:
    """The catalogue as a Markdown page (docs/mistakes.md)."""
    lines = ["# The catalogue of mistakes", "",
             "Every mistake `chainrule check` names, generated from the code by `chainrule check --catalogue`",
             "(do not edit: `chainrule check --catalogue > docs/mistakes.md` writes this page; a test keeps it equal to the code). Activations, losses",
             "and optimisers declare their own wrong forms (`mistakes()` on each class); the structural mistakes",
             "apply to any network; the slips to any number. The example sentence is the mistake's own, written",
             "for the object (or network) listed first.", "",
             "| id | kind | applies to | example sentence |", "|---|---|---|---|"]
    for id, kind, applies, sentence in entries():
        cells = [f"`{id}`", kind, applies, sentence]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
