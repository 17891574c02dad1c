"""The document every renderer prints: a Document of Sections of equations (Eq), sentences and
subsections, and ``walk``, which yields it in reading order as the events each renderer handles.

Every renderer (text, Markdown, LaTeX, HTML) prints the same Document, so the numbers and the
order of the argument never differ between formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.expr import Eq
from ..training.trace import StepTrace


@dataclass
class Section:
    title: str
    items: list = field(default_factory=list)      # Eq, str (a sentence) or Section


@dataclass
class Document:
    title: str
    intro: list
    sections: list
    trace: StepTrace
    diagram: bool = True        # HTML draws the network with the step's values (a worksheet's does not)


def paragraphs(text: str) -> list[str]:
    """A description's paragraphs: its lines joined, a line that starts "- " beginning a new one."""
    found: list[str] = []
    for line in text.strip().splitlines():
        if found and line.strip() and not line.startswith("- ") and found[-1]:
            found[-1] += " " + line.strip()
        else:
            found.append(line.strip())
    return [p for p in found if p]


def _inline(section: Section) -> bool:
    """A list of short definitions (w1 = 0.15, …) reads better on one line."""
    return bool(section.items) and all(
        isinstance(item, Eq) and len(item.parts) == 2 and not item.note for item in section.items)


def walk(doc: Document, depth: int = 0, sections=None):
    """The document in reading order as events every renderer handles alike:
    ("heading", depth, title, None), ("inline", depth, title, [Eq]), ("eq", depth, Eq, None),
    ("text", depth, sentence, None) and ("end", depth, title, None) after each section."""
    for section in doc.sections if sections is None else sections:
        if depth and _inline(section):
            yield "inline", depth, section.title, section.items
            continue
        yield "heading", depth, section.title, None
        for item in section.items:
            if isinstance(item, Section):
                yield from walk(doc, depth + 1, [item])
            elif isinstance(item, Eq):
                yield "eq", depth, item, None
            else:
                yield "text", depth, item, None
        yield "end", depth, section.title, None


__all__ = ["Document", "Section", "walk"]
