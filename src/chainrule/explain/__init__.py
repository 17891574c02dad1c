"""Renderers of step traces.  Each format prints the same Document (explain.step: the
derivation of explain.derive, or the matrix form of explain.matrix) except JSON, which is the
trace's plain data plus every gradient's chain of factors (explain.chains)."""

from __future__ import annotations

from .chains import chains_as_data
from .document import Document
from .limits import too_large
from .step import explain_step
from .json import render_json
from .text import render_text

FORMATS = ("text", "markdown", "latex", "html", "json")


def render(traces, fmt: str = "text", title: str = "", parameter: str | None = None,
           matrix_form: bool = False, colour: bool = False) -> str:
    """The traces of one or more steps in ``fmt`` (one of FORMATS)."""
    if fmt == "json":
        return render_json(traces, parameter)
    documents = [explain_step(t, title, parameter, matrix_form) for t in traces]
    if fmt == "text":
        return render_text(documents, colour)
    if fmt == "markdown":
        from .markdown import render_markdown
        return render_markdown(documents)
    if fmt == "latex":
        from .latex import render_latex
        return render_latex(documents)
    if fmt == "html":
        from .html import render_html
        return render_html(documents)
    raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")


__all__ = ["FORMATS", "Document", "chains_as_data", "explain_step", "render", "too_large"]
