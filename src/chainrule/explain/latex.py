"""A standalone LaTeX document (article, amsmath) that compiles with pdflatex.

Each equation is an align* block with one step of the argument per line, so long
chains and path sums never run off the page."""

from __future__ import annotations

from .document import Document, walk
from ..expr import Add, Eq, latex_text

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,landscape,margin=1.5cm]{geometry}
\usepackage{amsmath}
\setcounter{MaxMatrixCols}{64}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\begin{document}
"""

LONG = 160      # characters of LaTeX past which a sum is broken into one term per line


def _part_lines(part) -> list[str]:
    """One step of an equation; a long sum split before each of its terms."""
    text = part.latex()
    if not isinstance(part, Add) or len(text) <= LONG:
        return [text]
    terms = [p.latex() for p in part._parts()]
    return [terms[0]] + [rf"\quad + {t}" for t in terms[1:]]


def equation_rows(eq: Eq) -> list[str]:
    """lhs &= step 1, &= step 2, … — the note beside the last line."""
    lhs, *steps = eq.parts
    rows = []
    for part in steps:
        first, *more = _part_lines(part)
        rows.append("&= " + first)
        rows += ["&" + line for line in more]
    rows[0] = lhs.latex() + " " + rows[0]
    if eq.note:
        rows[-1] += rf" && \text{{({latex_text(eq.note)})}}"
    return rows


def _align(equations: list[Eq]) -> str:
    """Consecutive equations in one align* block, a little space between them."""
    blocks = [" \\\\\n  ".join(equation_rows(eq)) for eq in equations]
    return "\\begin{align*}\n  " + " \\\\[6pt]\n  ".join(blocks) + "\n\\end{align*}"


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
