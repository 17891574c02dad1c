"""Plain-text explanation of a step: the derivation Document, indented by section,
each equation on one line (matrices drawn over several), colour on a terminal."""

from __future__ import annotations

from .document import Document, walk
from ..expr import Eq

BOLD, GREEN, DIM, RESET = "\033[1m", "\033[32m", "\033[2m", "\033[0m"


class _Style:
    def __init__(self, colour: bool):
        self.colour = colour

    def heading(self, text: str) -> str:
        return f"{BOLD}{text}{RESET}" if self.colour else text

    def equation(self, eq: Eq) -> str:
        text = eq.text()
        if not self.colour or "\n" in text or len(eq.parts) < 2:
            return text
        head = " = ".join(p.text() for p in eq.parts[:-1])
        note = f"   {DIM}({eq.note}){RESET}" if eq.note else ""
        return f"{head} = {GREEN}{eq.parts[-1].text()}{RESET}{note}"


def _aligned(eqs: list[Eq], style: _Style) -> list[str]:
    """A run of one-line equations with their first '=' in one column."""
    width = max(len(eq.parts[0].text()) for eq in eqs)
    out = []
    for eq in eqs:
        lhs = eq.parts[0].text()
        rest = style.equation(Eq(eq.parts, eq.note)).split(" = ", 1)[1]
        out.append(f"{lhs.ljust(width)} = {rest}")
    return out


def document_text(doc: Document, colour: bool = False) -> str:
    style = _Style(colour)
    lines = [style.heading(doc.title), *doc.intro, ""]
    run: list[Eq] = []
    run_pad = ""

    def flush():
        if run:
            lines.extend(run_pad + line for line in _aligned(run, style))
            run.clear()

    for kind, depth, item, eqs in walk(doc):
        pad = "  " * depth
        if kind != "eq" or "\n" in item.text() or len(item.parts) < 2:
            flush()
        if kind == "heading":
            lines.append(pad + style.heading(item))
        elif kind == "inline":
            lines.append(f"{pad}{item}: " + ", ".join(style.equation(eq) for eq in eqs))
        elif kind == "eq":
            if "\n" in item.text() or len(item.parts) < 2:
                lines.extend(pad + "  " + line for line in style.equation(item).split("\n"))
            else:
                run.append(item)
                run_pad = pad + "  "
        elif kind == "text":
            lines.append(pad + "  " + item)
        elif depth == 0:
            lines.append("")
    flush()
    return "\n".join(lines).rstrip() + "\n"


def render_text(documents, colour: bool = False) -> str:
    return ("\n" + "=" * 72 + "\n\n").join(document_text(d, colour) for d in documents)
