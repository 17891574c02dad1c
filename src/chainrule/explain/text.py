"""Plain-text explanation of a step: the derivation Document, indented by section,
each equation on one line (matrices drawn over several), colour on a terminal."""

from __future__ import annotations

from .derive import Document, walk
from .math import Eq

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


def document_text(doc: Document, colour: bool = False) -> str:
    style = _Style(colour)
    lines = [style.heading(doc.title), *doc.intro, ""]
    for kind, depth, item, eqs in walk(doc):
        pad = "  " * depth
        if kind == "heading":
            lines.append(pad + style.heading(item))
        elif kind == "inline":
            lines.append(f"{pad}{item}: " + ", ".join(style.equation(eq) for eq in eqs))
        elif kind == "eq":
            lines.extend(pad + "  " + line for line in style.equation(item).split("\n"))
        elif kind == "text":
            lines.append(pad + "  " + item)
        elif depth == 0:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_text(documents, colour: bool = False) -> str:
    return ("\n" + "=" * 72 + "\n\n").join(document_text(d, colour) for d in documents)
