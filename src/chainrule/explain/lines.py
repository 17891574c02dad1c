"""Breaking a long equation into lines — the one layout text, Markdown, LaTeX and HTML share, so
every format wraps where the others do.

An equation lhs = step₁ = step₂ = … that fits stays on one line. One that does not is written
one step per line, each beginning "= ", the way a derivation is written by hand:

    ∂E/∂w1 = ∂E/∂out_o1·∂out_o1/∂net_o1·∂net_o1/∂out_h1·∂out_h1/∂net_h1·∂net_h1/∂w1
               + ∂E/∂out_o2·∂out_o2/∂net_o2·∂net_o2/∂out_h1·∂out_h1/∂net_h1·∂net_h1/∂w1
           = 0.74136507·0.186815602·0.4·0.241300709·0.05 + (−0.217071535)·0.175510053·0.5·0.241300709·0.05
           = 0.000438567734

and a step still too long is split between the terms of its sum (continuations begin "+ "), a term
still too long between its factors (continuations begin "·"). Widths are counted by a ruler: characters
of plain text (``drawn``), or digits of typeset math (``typeset``: fractions stacked, for LaTeX and MathML).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.expr import Eq, Expr, _Chain


@dataclass
class Piece:
    """One term or factor: ``lead`` is the chain (Add, Mul, …) whose operator comes before it, or None."""

    lead: type[_Chain] | None
    expr: Expr


@dataclass
class Line:
    """One printed line: the first holds the left side; ``step`` lines begin "= ", the others continue."""

    step: bool
    pieces: list[Piece] = field(default_factory=list)


def drawn(expr: Expr) -> int:
    """The width of a formula in plain text: its text, or the widest line of a drawn matrix."""
    return max(map(len, expr.lines()))


_FRACTION = re.compile(r"∂([^/\s]+)/∂([^\s·+−=()\[\],;]+)")


def typeset(expr: Expr) -> int:
    """The width of a formula typeset (LaTeX, MathML), in digits: a fraction ∂a/∂b as wide as its wider
    half, subscripts narrow, each · a little wider than a digit."""
    text = max(expr.lines(), key=len)
    text = _FRACTION.sub(lambda m: "x" * max(len(m[1]), len(m[2])), text)
    return len(text) - text.count("_") // 2 + text.count("·") // 2


Ruler = Callable[[Expr], int]


def width(eq: Eq, ruler: Ruler = drawn) -> int:
    """The equation's width on one line, its note included."""
    return sum(ruler(p) for p in eq.parts) + 3 * (len(eq.parts) - 1) + (len(eq.note) + 5 if eq.note else 0)


def fits(eq: Eq, room: int, ruler: Ruler = drawn) -> bool:
    return width(eq, ruler) <= room


def row_width(pieces: list[Piece], ruler: Ruler = drawn) -> int:
    return sum(ruler(p.expr) + (len(p.lead.op_text) if p.lead else 0) for p in pieces)


def broken(eq: Eq, room: int, ruler: Ruler = drawn) -> list[Line]:
    """The steps after the left side as lines of at most ``room`` wide after "lhs = " (where they can
    be split), widths measured by ``ruler``: one Line per step, or a step's terms over several."""
    lhs, *steps = eq.parts
    after = max(room - ruler(lhs) - 3, 20)
    lines: list[Line] = []
    for step in steps:
        for k, row in enumerate(_split(step, after, None, ruler)):
            lines.append(Line(k == 0, row))
    return lines


def _split(expr: Expr, room: int, lead: type[_Chain] | None, ruler: Ruler) -> list[list[Piece]]:
    """``expr`` as rows of pieces, each row at most ``room`` wide where the chain allows: the same
    number of terms on every row (the most that fit), a term too long for a row split between its factors."""
    if isinstance(expr, _Chain) and len(expr.items) == 1:     # a sum of one path: split the path
        return _split(expr.items[0], room, lead, ruler)
    if row_width([Piece(lead, expr)], ruler) <= room or not isinstance(expr, _Chain) or len(expr.items) < 2:
        return [[Piece(lead, expr)]]
    chain = type(expr)
    pieces = [Piece(lead if i == 0 else chain, part) for i, part in enumerate(expr._parts())]
    for per_row in range(len(pieces) - 1, 0, -1):
        rows = [pieces[k:k + per_row] for k in range(0, len(pieces), per_row)]
        # a continuation row is printed two columns further in than the step it continues
        if all(row_width(row, ruler) + (2 if k else 0) <= room for k, row in enumerate(rows)):
            return rows
    rows = []
    for k, piece in enumerate(pieces):      # one term per row, and a term still too long split in turn
        indent = 2 if k else 0
        fits_row = row_width([piece], ruler) + indent <= room
        rows += [[piece]] if fits_row else _split(piece.expr, room - indent, piece.lead, ruler)
    return rows


def row_text(pieces: list[Piece]) -> str:
    """A row in plain text; a continuation row begins with its operator ("+ term", "·factor")."""
    return "".join((p.lead.op_text if p.lead else "") + p.expr.text() for p in pieces).lstrip()


def row_latex(pieces: list[Piece]) -> str:
    return "".join((p.lead.op_latex if p.lead else "") + p.expr.latex() for p in pieces).strip()


def row_mathml(pieces: list[Piece]) -> str:
    return "<mrow>" + "".join((f"<mo>{p.lead.op_mathml}</mo>" if p.lead else "") + p.expr.mathml()
                              for p in pieces) + "</mrow>"


__all__ = ["Line", "Piece", "Ruler", "broken", "drawn", "fits", "typeset", "row_latex", "row_mathml", "row_text", "width"]
