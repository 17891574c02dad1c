"""Plain-text explanation of a step: the derivation Document, indented by section, at most
WIDTH (100) columns wide, or as wide as asked — an equation on one line where it fits, else one step per line with its
sums and products continued under it (explain/lines.py); matrices drawn over several lines,
their steps stacked when side by side they would be too wide; colour on a terminal."""

from __future__ import annotations

import re
import textwrap

from .document import Document, walk
from .lines import broken, row_text
from ..core.expr import Eq, Sub, _Chain, hcat

BOLD, GREEN, DIM, RESET = "\033[1m", "\033[32m", "\033[2m", "\033[0m"
WIDTH = 100
NBSP = "\u00a0"
_FORMULA_SPACE = re.compile(r" (?=[=−+×·<>≤≥→] )|(?<= [=−+×·<>≤≥→]) ")


class _Style:
    def __init__(self, colour: bool):
        self.colour = colour

    def heading(self, text: str) -> str:
        return f"{BOLD}{text}{RESET}" if self.colour else text

    def result(self, text: str) -> str:
        return f"{GREEN}{text}{RESET}" if self.colour else text

    def note(self, note: str) -> str:
        return f"{DIM}({note}){RESET}" if self.colour else f"({note})"

    def equation(self, eq: Eq) -> str:
        """One line: lhs = … = result   (note)."""
        if len(eq.parts) < 2:
            return eq.text()
        head = " = ".join(p.text() for p in eq.parts[:-1])
        note = f"   {self.note(eq.note)}" if eq.note else ""
        return f"{head} = {self.result(eq.parts[-1].text())}{note}"


def _equation_lines(eq: Eq, lhs: str, room: int, style: _Style) -> list[str]:
    """``eq`` with its left side printed as ``lhs`` (padded to its run's column): one line if it fits,
    else one step per line, each step's continuations two columns further in, the note after the last."""
    rest = [p.text() for p in eq.parts[1:]]
    note = f"   ({eq.note})" if eq.note else ""
    if len(lhs) + 3 + len(" = ".join(rest)) + len(note) <= room:
        return [lhs + " = " + style.equation(eq).split(" = ", 1)[1]]
    lines = broken(eq, room - (len(lhs) - len(eq.parts[0].text())))
    pad = " " * len(lhs)
    out = []
    for k, line in enumerate(lines):
        text = row_text(line.pieces)
        if k == len(lines) - 1 and line.step:
            text = style.result(text)
        out.append((lhs if k == 0 else pad) + (" = " if line.step else "     ") + text)
    if eq.note:
        plain = len(pad) + 5 + len(row_text(lines[-1].pieces))
        if plain + len(note) <= room:
            out[-1] += "   " + style.note(eq.note)
        else:
            out += [pad + "     " + line for line in textwrap.wrap(style.note(eq.note), max(room - len(pad) - 5, 20))]
    return out


def _operands(step) -> list[tuple[str, object]]:
    """A drawn step's operands with the operator before each (" = " before the first), or one operand."""
    if isinstance(step, _Chain) and len(step.items) > 1:
        return [(" = " if i == 0 else step.op_text.strip().center(3), p) for i, p in enumerate(step._parts())]
    if isinstance(step, Sub):
        left, right = step._parts()
        return [(" = ", left), (" − ", right)]
    return [(" = ", step)]


def _drawn_lines(eq: Eq, room: int) -> list[str]:
    """An equation drawn over several lines (matrices): its steps side by side while they fit in ``room``,
    then the next group below, beginning "= " under the first; a step too wide for a line is split
    between its operands (A × B: "× B" below A); the note below when it does not fit beside."""
    lhs = eq.parts[0].lines()
    pad = [" " * max(map(len, lhs))]

    def split(op: str, expr) -> list[tuple[str, list[str]]]:
        """(the operator before it, the block) for ``expr``, or for each of its operands while too wide."""
        block = expr.lines()
        operands = _operands(expr)
        if len(pad[0]) + 3 + max(map(len, block)) <= room or len(operands) == 1:
            return [(op, block)]
        return [piece for k, (inner, part) in enumerate(operands) for piece in split(op if k == 0 else inner, part)]

    groups, current = [], [lhs]
    for step in eq.parts[1:]:
        pieces = split(" = ", step)
        for k, (op, block) in enumerate(pieces):
            # a step split over lines begins a line of its own and is followed by a new one
            own = len(pieces) > 1 and k == 0 and len(current) > 1
            if own or (len(current) > 1 and max(map(len, hcat(current + [[op], block]))) > room):
                groups.append(hcat(current))
                current = [pad]
            current += [[op], block]
            if len(pieces) > 1 and k == len(pieces) - 1:
                groups.append(hcat(current))
                current = [pad]
    if len(current) > 1:
        groups.append(hcat(current))
    if eq.note:
        last = groups[-1]
        middle = len(last) // 2
        if len(last[middle]) + 5 + len(eq.note) <= room:
            last[middle] += f"   ({eq.note})"
        else:
            last.append(pad[0] + f"   ({eq.note})")
    return [line for group in groups for line in group]


def _aligned(eqs: list[Eq], style: _Style, room: int) -> list[str]:
    """A run of equations with their first '=' in one column."""
    column = max(len(eq.parts[0].text()) for eq in eqs)
    out = []
    for eq in eqs:
        out += _equation_lines(eq, eq.parts[0].text().ljust(column), room, style)
    return out


def _prose(text: str, pad: str, width: int) -> list[str]:
    """A sentence wrapped to the width; a list item ("- …") continued under its text."""
    hang = "  " if text.startswith("- ") else ""
    kept = _FORMULA_SPACE.sub(NBSP, text)          # never break a formula at its = − + …
    lines = textwrap.wrap(kept, width, initial_indent=pad, subsequent_indent=pad + hang,
                          break_long_words=False, break_on_hyphens=False)
    return [line.replace(NBSP, " ") for line in lines] or [pad]


def _listed(head: str, items: list[str], pad: str, width: int) -> list[str]:
    """"head: a, b, c" wrapped between its items, continued under the first."""
    lines, current = [], f"{pad}{head}: "
    indent = " " * len(current)
    for k, item in enumerate(items):
        piece = item + ("," if k < len(items) - 1 else "")
        if current.strip() and not current.endswith(": ") and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = indent + piece
        else:
            current += ("" if current.endswith(": ") else " ") + piece
    return lines + [current]


def _multiline(eq: Eq) -> bool:
    return len(eq.parts) < 2 or any(len(p.lines()) > 1 for p in eq.parts)


def document_text(doc: Document, colour: bool = False, width: int = WIDTH) -> str:
    style = _Style(colour)
    lines = [style.heading(doc.title)]
    for paragraph in doc.intro:
        lines += _prose(paragraph, "", width)
    lines.append("")
    run: list[Eq] = []
    run_pad = ""

    def flush():
        if run:
            lines.extend(run_pad + line for line in _aligned(run, style, width - len(run_pad)))
            run.clear()

    for kind, depth, item, eqs in walk(doc):
        pad = "  " * depth
        if kind != "eq" or _multiline(item):
            flush()
        if kind == "heading":
            lines.append(pad + style.heading(item))
        elif kind == "inline" and max(len(eq.text()) for eq in eqs) + len(pad) + len(item) + 2 <= width:
            lines += _listed(item, [style.equation(eq) for eq in eqs], pad, width)
        elif kind == "inline":          # a definition too long to list on one line: a heading and its lines
            lines.append(pad + item)
            lines.extend(pad + "  " + line for line in _aligned(eqs, style, width - len(pad) - 2))
        elif kind == "eq":
            if _multiline(item):
                lines.extend(pad + "  " + line for line in _drawn_lines(item, width - len(pad) - 2))
            else:
                run.append(item)
                run_pad = pad + "  "
        elif kind == "text":
            lines += _prose(item, pad + "  ", width)
        elif depth == 0:
            lines.append("")
    flush()
    return "\n".join(lines).rstrip() + "\n"


def render_text(documents, colour: bool = False, width: int = WIDTH) -> str:
    """The documents one after another, at most ``width`` columns wide where lines can be broken."""
    return ("\n" + "=" * 72 + "\n\n").join(document_text(d, colour, width) for d in documents)
