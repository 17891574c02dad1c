"""One self-contained HTML file: the network as an SVG diagram with the step's values
on its neurons and edges, then the derivation in MathML, which browsers render
natively — no script, no font or file fetched, so it opens offline."""

from __future__ import annotations

import math
from html import escape

from .document import Document, walk
from .lines import broken, fits, row_mathml, typeset
from .names import Names
from ..core.expr import Eq, num

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.25em; margin-top: 1.5em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; } h4 { font-size: 0.95em; }
.eq { overflow-x: auto; padding: 0.2em 0; }
.eq math { font-size: 1.1em; }
math.rows > mtable { margin: 0 auto; }
math.rows > mtable > mtr > mtd { padding: 0.15em 0; math-style: normal; }
math.rows > mtable > mtr > mtd:first-child { text-align: right; }
math.rows > mtable > mtr > mtd:last-child { text-align: left; }
.note { color: #666; font-style: italic; font-size: 0.9em; margin-left: 1.5em; }
svg.network { display: block; margin: 1em auto; max-width: 100%; height: auto; }
svg .neuron circle { fill: #eef4ff; stroke: #3465a4; stroke-width: 1.5; }
svg .neuron.input circle { fill: #f4f4f4; stroke: #777; }
svg .edge line { stroke: #999; stroke-width: 1.2; }
svg text { font-size: 11px; font-family: system-ui, sans-serif; }
svg .name { font-weight: bold; font-size: 13px; }
svg .value { fill: #204a87; } svg .delta { fill: #a40000; } svg .weight { fill: #4e7a00; }
.legend { text-align: center; color: #555; font-size: 0.9em; }
"""

MAX_DIAGRAM_UNITS = 12


def _short(value: float) -> str:
    return f"{value:.6g}"


RADIUS = 24


class _Layout:
    """Where each neuron sits: layers in columns 280 px apart, neurons 130 px apart, centred."""

    def __init__(self, sizes: list[int]):
        self.sizes, self.col, self.row = sizes, 280, 130
        self.height = self.row * max(sizes) + 40
        self.width = self.col * (len(sizes) - 1) + 200

    def position(self, c: int, j: int) -> tuple[float, float]:
        return 100 + c * self.col, 20 + self.row / 2 + j * self.row + (max(self.sizes) - self.sizes[c]) * self.row / 2


def diagram(doc: Document) -> str:
    """The network with sample 1's net, out and δ on each neuron, each weight before → after on its edge."""
    trace = doc.trace
    sample = trace.samples[0]
    legend = (f'<p class="legend">Sample {sample.index + 1}: net and out above and below each neuron, its δ in red; '
              f'each weight before → after the update on its edge (or in its tooltip where many edges meet).</p>')
    svg = network_svg(trace.network, trace.parameters_before, sample, trace.parameters_after, trace.gradients)
    return svg + (legend if svg.startswith("<svg") else "")


def network_svg(network: dict, parameters: list[dict], sample=None, after: list[dict] | None = None,
                gradients: list[dict] | None = None) -> str:
    """The network as SVG: ``network`` its description (trace.describe_network), ``parameters`` its weights and
    biases by layer; with a step's ``sample``, ``after`` and ``gradients`` also each neuron's net, out and δ
    and each weight before → after."""
    layers = network["layers"]
    sizes = [network["inputs"], *(layer["units"] for layer in layers)]
    if max(sizes) > MAX_DIAGRAM_UNITS:
        return f'<p class="legend">(network {"-".join(map(str, sizes))}: too wide to draw)</p>'
    layout = _Layout(sizes)
    return (f'<svg class="network" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {layout.width} {layout.height}" '
            f'width="{layout.width}" height="{layout.height}" role="img" aria-label="network diagram">'
            + "".join(_edges(layers, parameters, after, gradients, layout))
            + "".join(_neurons(layers, Names.of_table(network), parameters, sample, layout)) + "</svg>")


def _edges(layers: list[dict], before_all: list[dict], after_all, gradients, layout: _Layout) -> list[str]:
    """Each weight's edge, labelled with its value (before → after a step) where few edges meet."""
    edges, radius = [], RADIUS
    for l, layer in enumerate(layers):
        # with many edges into a neuron their labels would pile up: then the values are in the tooltips
        labelled = layer["fan_in"] <= 4 and layer["units"] <= 4
        for j in range(layer["units"]):
            x2, y2 = layout.position(l + 1, j)
            for i in range(layer["fan_in"]):
                x1, y1 = layout.position(l, i)
                label = layer["weight_labels"][j][i]
                before = before_all[l]["weights"][j][i]
                # each label ends before its target neuron, written along its edge; the labels of the
                # edges meeting there end at staggered distances, so neighbours do not overlap
                stagger = 0.4 * i / (layer["fan_in"] - 1) if layer["fan_in"] > 1 else 0.0
                f = 1 - (radius + 8) / math.hypot(x2 - x1, y2 - y1) - stagger
                tx, ty = x1 + f * (x2 - x1), y1 + f * (y2 - y1)
                angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
                if after_all is None:
                    data, title, text = f'data-value="{before!r}"', f"{label} = {num(before)}", f"{label} {before:.4g}"
                else:
                    after, gradient = after_all[l]["weights"][j][i], gradients[l]["weights"][j][i]
                    data = f'data-before="{before!r}" data-gradient="{gradient!r}" data-after="{after!r}"'
                    title = f"{label} = {num(before)}, ∂E/∂{label} = {num(gradient)}, {label}⁺ = {num(after)}"
                    text = f"{label} {before:.4g} → {after:.4g}"
                edges.append(
                    f'<g class="edge" id="edge-{label}" data-label="{label}" {data}><title>{title}</title>'
                    f'<line x1="{x1 + radius}" y1="{y1}" x2="{x2 - radius}" y2="{y2}"/>'
                    + (f'<text class="weight" x="{tx:.1f}" y="{ty - 4:.1f}" text-anchor="end" '
                       f'transform="rotate({angle:.2f} {tx:.1f} {ty:.1f})">{text}</text>' if labelled else '')
                    + '</g>')
    return edges


def _neurons(layers: list[dict], names: Names, parameters: list[dict], sample, layout: _Layout) -> list[str]:
    """The inputs (with a sample's values); each neuron with its bias (and a sample's net, out and δ)."""
    radius = RADIUS
    nodes = []
    for i in range(layout.sizes[0]):
        x, y = layout.position(0, i)
        value = (f'<text class="value" x="{x}" y="{y + radius + 14}" text-anchor="middle">'
                 f'{_short(sample.input[i])}</text>') if sample is not None else ""
        name = names.neuron(-1, i)
        nodes.append(f'<g class="neuron input" id="neuron-{name}"><circle cx="{x}" cy="{y}" r="{radius}"/>'
                     f'<text class="name" x="{x}" y="{y + 4}" text-anchor="middle">{name}</text>{value}</g>')
    for l, layer in enumerate(layers):
        for j in range(layer["units"]):
            x, y = layout.position(l + 1, j)
            n = names.neuron(l, j)
            bias = layer["bias_labels"][j]
            bias_text = ""
            if bias is not None:
                b = parameters[l]["bias"]
                b = b if layer["bias_mode"] == "shared" else b[j]
                bias_text = (f'<text class="weight" x="{x}" y="{y - radius - 20}" text-anchor="middle">'
                             f'{bias} {_short(b)}</text>')
            if sample is None:
                data, title, values = "", f"{n}: {layer['activation']}", (
                    f'<text class="value" x="{x}" y="{y + radius + 14}" text-anchor="middle">'
                    f'{escape(layer["activation"])}</text>')
            else:
                net, out, delta = sample.layers[l]["net"][j], sample.layers[l]["out"][j], sample.deltas[l][j]
                data = f' data-net="{net!r}" data-out="{out!r}" data-delta="{delta!r}"'
                title = f"net_{n} = {num(net)}, out_{n} = {num(out)}, δ_{n} = {num(delta)}"
                values = (f'<text class="value" x="{x}" y="{y - radius - 6}" text-anchor="middle">net {_short(net)}</text>'
                          f'<text class="value" x="{x}" y="{y + radius + 14}" text-anchor="middle">out {_short(out)}</text>'
                          f'<text class="delta" x="{x}" y="{y + radius + 28}" text-anchor="middle">δ {_short(delta)}</text>')
            nodes.append(
                f'<g class="neuron" id="neuron-{n}"{data}><title>{title}</title>{bias_text}'
                f'<circle cx="{x}" cy="{y}" r="{radius}"/>'
                f'<text class="name" x="{x}" y="{y + 4}" text-anchor="middle">{n}</text>{values}</g>')
    return nodes


WIDTH = 110     # digits of typeset math one line of the page holds before an equation is broken


def _math(expr_mathml: str, block: bool, css: str = "") -> str:
    display = ' display="block"' if block else ""
    klass = f' class="{css}"' if css else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{display}{klass}>{expr_mathml}</math>'


def equation_mathml(eq: Eq) -> str:
    """One display equation; one too wide for the page as a table of rows — lhs | = step, then
    | = step and | continuation — broken where every format breaks it (explain/lines.py)."""
    if fits(eq, WIDTH, typeset):
        return _math(eq.mathml(), True)
    rows = []
    for k, line in enumerate(broken(eq, WIDTH, typeset)):
        left = eq.parts[0].mathml() if k == 0 else ""
        lead = "<mo>=</mo>" if line.step else '<mspace width="2em"/>'
        rows.append(f"<mtr><mtd>{left}</mtd><mtd>{lead}{row_mathml(line.pieces)}</mtd></mtr>")
    return _math(f"<mtable>{''.join(rows)}</mtable>", True, "rows")


def document_html(doc: Document, with_diagram: bool = True) -> str:
    out = [f"<article><h1>{escape(doc.title)}</h1>", *(f"<p>{escape(p)}</p>" for p in doc.intro),
           diagram(doc) if with_diagram and doc.diagram else ""]
    for kind, depth, item, eqs in walk(doc):
        level = min(depth + 2, 6)
        if kind == "heading":
            out.append(f"<section><h{level}>{escape(item)}</h{level}>")
        elif kind == "inline":
            out.append(f"<p><b>{escape(item)}:</b> " + ", ".join(_math(eq.mathml(), False) for eq in eqs) + "</p>")
        elif kind == "eq":
            note = f'<span class="note">({escape(item.note)})</span>' if item.note else ""
            out.append(f'<div class="eq">{equation_mathml(item)}{note}</div>')
        elif kind == "text":
            out.append(f"<p>{escape(item)}</p>")
        else:
            out.append("</section>")
    out.append("</article>")
    return "\n".join(out)


def render_html(documents) -> str:
    title = escape(documents[0].title) if documents else "chainrule"
    body = "\n<hr>\n".join(document_html(d) for d in documents)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<style>{STYLE}</style>\n'
            f'</head>\n<body>\n{body}\n</body>\n</html>\n')
