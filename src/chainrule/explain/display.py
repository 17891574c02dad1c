"""What a notebook shows: HTML (and SVG) for networks, training histories, explained steps and
claims reports — plain strings, no plotting library or IPython needed.  The classes' ``_repr_html_``
and ``_repr_markdown_`` call these; their one-line ``__repr__`` stays short for terminals.

Styles are scoped under ``.chainrule`` so that a fragment never restyles the notebook around it.
"""

from __future__ import annotations

import math
import re
from html import escape


from .html import STYLE, network_svg

MAX_TABLE = 200          # parameters listed one by one; a larger network gets a summary per layer


def scoped_style() -> str:
    """explain/html.py's style with every selector inside ``.chainrule`` (body → .chainrule itself)."""
    def scope(match: re.Match) -> str:
        selectors = [s.strip() for s in match.group(1).split(",")]
        return ", ".join(".chainrule" if s == "body" else f".chainrule {s}" for s in selectors) + " {"
    rules = re.sub(r"([^{}]+?)\s*\{", scope, STYLE)
    return (rules.replace("max-width: 1200px; margin: 2em auto;", "max-width: 100%; margin: 0;")
            + "\n.chainrule table.params { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }"
            + "\n.chainrule table.params td, .chainrule table.params th { padding: 2px 10px; text-align: right;"
            + " border-bottom: 1px solid #eee; }"
            + "\n.chainrule table.params th, .chainrule table.params td.words { text-align: left; }"
            + "\n.chainrule table.params td:first-child { white-space: nowrap; }"
            + "\n.chainrule svg.curve text { font-size: 10px; fill: #555; }")


def fragment(body: str) -> str:
    return f'<div class="chainrule"><style>{scoped_style()}</style>{body}</div>'


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    cells = "".join("<tr>" + "".join(f'<td class="{_kind(c)}">{escape(str(c))}</td>' for c in row) + "</tr>"
                    for row in rows)
    return f'<table class="params"><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>'


def _kind(cell) -> str:
    """Numbers align right, words left."""
    try:
        float(str(cell))
        return "number"
    except ValueError:
        return "words"


# ----- networks ---------------------------------------------------------------------------------
def network_html(network) -> str:
    """The diagram and every parameter by label (a per-layer summary for a large network)."""
    from ..training.trace import describe_network
    description = describe_network(network)
    count = len(network.labels)
    heading = f"<p><b>Network {network.shape_text()}</b>, loss {network.loss.name}, {count:,} parameters</p>"
    svg = network_svg(description, network.parameters_as_data())
    if count <= MAX_TABLE:
        rows = []
        for label in network.labels:
            ref = network.labels[label]
            where = f"{ref.kind} {'×'.join(str(i + 1) for i in ref.index) or '(shared)'}"
            rows.append([label, ref.layer + 1, where, f"{ref.get(network):.9g}"])
        table = _table(["label", "layer", "where (neuron × input)", "value"], rows)
    else:
        rows = []
        for l, layer in enumerate(network.layers, start=1):
            for name, p in (("weights", layer.weights), ("bias", layer.bias)):
                if p is not None:
                    rows.append([l, f"{name} {'×'.join(map(str, p.shape)) or '1'}", layer.activation.name,
                                 f"{p.min():.4g}", f"{p.mean():.4g}", f"{p.max():.4g}"])
        table = _table(["layer", "parameters", "activation", "min", "mean", "max"], rows)
    return fragment(heading + svg + table)


# ----- histories ---------------------------------------------------------------------------------
def curve_svg(series: dict[str, list[float | None]], width: int = 420, height: int = 180) -> str:
    """Loss curves as an SVG polyline each (epoch 0 first), log scale when they span over two decades."""
    values = [v for ys in series.values() for v in ys if v is not None and math.isfinite(v)]
    if not values:
        return ""
    positive = all(v > 0 for v in values)
    log = positive and max(values) / min(values) > 100
    f = (lambda v: math.log10(v)) if log else (lambda v: v)
    low, high = f(min(values)), f(max(values))
    span = high - low or 1.0
    longest = max(len(ys) for ys in series.values())
    left, right, top, bottom = 52, 10, 10, 24
    def xy(k: int, v: float) -> tuple[float, float]:
        x = left + (width - left - right) * (k / max(longest - 1, 1))
        return x, top + (height - top - bottom) * (1 - (f(v) - low) / span)
    colours = ["#3465a4", "#c4a000", "#a40000"]
    lines = []
    for (name, ys), colour in zip(series.items(), colours):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(k, v) for k, v in enumerate(ys)
                                                          if v is not None and math.isfinite(v)))
        lines.append(f'<polyline class="{name}" fill="none" stroke="{colour}" stroke-width="1.5" points="{points}">'
                     f'<title>{escape(name)}</title></polyline>')
    ticks = []
    for v in (min(values), max(values)):
        _, y = xy(0, v)
        ticks.append(f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{v:.3g}</text>')
    ticks.append(f'<text x="{left}" y="{height - 6}">0</text>'
                 f'<text x="{width - right}" y="{height - 6}" text-anchor="end">{longest - 1} epochs</text>')
    legend = "".join(f'<text x="{width - right}" y="{top + 12 * (k + 1)}" text-anchor="end" fill="{c}">{escape(n)}'
                     f'</text>' for k, (n, c) in enumerate(zip(series, colours)))
    axes = (f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>'
            f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>')
    scale = '<text x="4" y="10">log</text>' if log else ""
    return (f'<svg class="curve" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="loss curve">{axes}{"".join(lines)}'
            f'{"".join(ticks)}{legend}{scale}</svg>')


def history_html(history) -> str:
    """A summary table and the loss curve (training, and validation when held out)."""
    losses = list(history.loss_history)
    train = ([history.initial_loss] if history.initial_loss is not None else [None]) + losses
    series = {"training loss": train}
    if history.validation_loss_history:
        series["validation loss"] = [None, *history.validation_loss_history]
    rows = [["epochs run", history.epochs_run], ["steps run", history.steps_run],
            ["stopped because", history.stopped_because], ["engine", history.engine or "—"]]
    if history.initial_loss is not None:
        rows.insert(0, ["loss before training", f"{history.initial_loss:.9g}"])
    if losses:
        rows.insert(1, ["loss after the last epoch", f"{losses[-1]:.9g}"])
    if history.best_epoch is not None:
        rows.append(["best epoch (validation)", history.best_epoch])
    return fragment("<p><b>Training history</b></p>" + _table(["", ""], rows) + curve_svg(series))


# ----- explained steps -----------------------------------------------------------------------------
def too_large_note(explanation) -> str | None:
    """Why the whole derivation is not shown (None when it is)."""
    from .limits import too_large
    from .names import parameter_count
    for trace in explanation.traces:
        large = too_large(parameter_count(trace), len(trace.samples))
        if large:
            return (f"Step {trace.step}: a whole derivation would be too long ({large}); "
                    f'use .render("html", param="w1") for one parameter.')
    return None


def explanation_html(explanation) -> str:
    from .step import explain_step
    from .html import document_html
    note = too_large_note(explanation)
    if note:
        return fragment(f"<p>{escape(note)}</p>")
    return fragment("\n<hr>\n".join(document_html(explain_step(t)) for t in explanation.traces))


def explanation_markdown(explanation) -> str:
    note = too_large_note(explanation)
    return note if note else explanation.render("markdown")


# ----- claims reports ----------------------------------------------------------------------------
def report_html(report) -> str:
    rows = []
    for v in report.verdicts:
        verdict = "right" if v.ok else "WRONG" if v.claim.answered else "unanswered"
        rows.append([v.claim.key, v.claim.step, v.claim.literal, f"{v.correct:.9g}", verdict,
                     v.why if v.wrong else (v.note or "")])
    wrong = len(report.wrong)
    heading = (f"<p><b>{escape(report.title)}</b>: {len(report.verdicts)} claims, "
               f"{len(report.verdicts) - wrong} right, {wrong} wrong</p>")
    return fragment(heading + _table(["claim", "step", "claimed", "correct", "verdict", "why"], rows))




