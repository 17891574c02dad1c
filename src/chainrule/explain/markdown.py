"""GitHub-flavoured Markdown with $…$ LaTeX: renders on GitHub and in Jupyter.

Each equation is one display formula ($$…$$ on its own line); lists of short
definitions are one inline formula; notes follow their equation in italics."""

from __future__ import annotations

from .document import Document, walk


def document_markdown(doc: Document) -> str:
    lines = [f"# {doc.title}", "", *doc.intro, ""]
    for kind, depth, item, eqs in walk(doc):
        if kind == "heading":
            lines += [f"{'#' * min(depth + 2, 6)} {item}", ""]
        elif kind == "inline":
            lines += [f"**{item}:** " + ", ".join(f"${' = '.join(p.latex() for p in eq.parts)}$" for eq in eqs), ""]
        elif kind == "eq":
            lines.append("$$" + " = ".join(item.latex_lines()) + "$$")
            lines += [f"*{item.note}*", ""] if item.note else [""]
        elif kind == "text":
            lines += [item, ""]
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(documents) -> str:
    return "\n---\n\n".join(document_markdown(d) for d in documents)
