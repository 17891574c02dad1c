"""A standalone LaTeX document (article, amsmath) that compiles with pdflatex.

Consecutive equations share one align* block, their '=' in one column: an equation on one row
where it fits the page, else one step per row with its long sums continued below
(explain/lines.py), so long chains and path sums never run off the page."""

from __future__ import annotations

from .document import Document, walk
from .lines import broken, fits, row_latex, row_width, typeset
from ..core.expr import Eq, latex_text

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,margin=1.8cm]{geometry}
\usepackage{amsmath}
\setcounter{MaxMatrixCols}{64}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\begin{document}
"""

WIDTH = 92      # digits of typeset math one line of the page holds


def equation_rows(eq: Eq, with_note: bool = True, column: int = 0) -> list[str]:
    """lhs &= step = step … on one row where it fits, else one step per row (explain/lines.py),
    continuations indented; the note after the result.  ``column``: the widest left side of the
    align* block, which every row's left side takes."""
    lhs = eq.parts[0].latex()
    room = WIDTH - max(0, column - typeset(eq.parts[0]))
    note = rf"\qquad \text{{({latex_text(eq.note)})}}" if eq.note and with_note else ""
    if fits(Eq(eq.parts, eq.note if with_note else ""), room, typeset):
        return [lhs + " &= " + " = ".join(p.latex() for p in eq.parts[1:]) + note]
    lines = broken(eq, room, typeset)
    rows = [("&= " if line.step else r"&\quad ") + row_latex(line.pieces) for line in lines]
    rows[0] = lhs + " " + rows[0]
    if note and typeset(eq.parts[0]) + 3 + row_width(lines[-1].pieces, typeset) + len(eq.note) + 5 > room:
        rows.append(r"&\quad " + note.removeprefix(r"\qquad "))
    else:
        rows[-1] += note
    return rows


def _align(equations: list[Eq]) -> str:
    """Consecutive equations in one align* block, a little space between them."""
    column = max(typeset(eq.parts[0]) for eq in equations)
    blocks = [" \\\\\n  ".join(equation_rows(eq, column=column)) for eq in equations]
    return "\\begin{align*}\n  " + " \\\\[3pt]\n  ".join(blocks) + "\n\\end{align*}"


def document_latex(doc: Document) -> str:
    out = [rf"\section*{{{latex_text(doc.title)}}}", *(latex_text(p) + "\n" for p in doc.intro)]
    commands = [r"\subsection*", r"\subsubsection*", r"\paragraph*", r"\paragraph*"]
    pending: list[Eq] = []
    for kind, depth, item, eqs in walk(doc):
        if kind != "eq" and pending:
            out.append(_align(pending))
            pending = []
        if kind == "heading":
            out.append(f"{commands[min(depth, 3)]}{{{latex_text(item)}}}")
        elif kind == "inline":
            out.append(rf"\textbf{{{latex_text(item)}:}} " + ", ".join(
                "$" + " = ".join(p.latex() for p in eq.parts) + "$" for eq in eqs) + "\n")
        elif kind == "eq":
            pending.append(item)
        elif kind == "text":
            out.append(latex_text(item) + "\n")
    return "\n".join(out)


def render_latex(documents) -> str:
    return PREAMBLE + "\n\\clearpage\n".join(document_latex(d) for d in documents) + "\n\\end{document}\n"
