"""GitHub-flavoured Markdown with $…$ LaTeX: renders on GitHub and in Jupyter.

Each equation is one display formula ($$…$$ on its own line), a long one an aligned block broken
where the LaTeX form breaks it; lists of short definitions are one inline formula; notes follow
their equation in italics."""

from __future__ import annotations

from .document import Document, walk
from .latex import equation_rows


def document_markdown(doc: Document) -> str:
    lines = [f"# {doc.title}", "", *doc.intro, ""]
    for kind, depth, item, eqs in walk(doc):
        if kind == "heading":
            lines += [f"{'#' * min(depth + 2, 6)} {item}", ""]
        elif kind == "inline":
            lines += [f"**{item}:** " + ", ".join(f"${' = '.join(p.latex() for p in eq.parts)}$" for eq in eqs), ""]
        elif kind == "eq":
            rows = equation_rows(item, with_note=False)
            lines.append("$$" + (rows[0].replace(" &= ", " = ", 1) if len(rows) == 1 else
                                 "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}") + "$$")
            lines += [f"*{item.note}*", ""] if item.note else [""]
        elif kind == "text":
            lines += [item, ""]
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(documents) -> str:
    return "\n---\n\n".join(document_markdown(d) for d in documents)
