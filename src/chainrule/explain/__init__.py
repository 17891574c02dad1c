"""Renderers of step traces.  Each format prints the same Document (explain.step: the
derivation of explain.derive, or the matrix form of explain.matrix) except JSON, which is the
trace's plain data plus every gradient's chain of factors (explain.chains)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from ..core.settings import ConfigError
from ..training.trace import StepTrace
from .chains import chains_as_data
from .document import Document, paragraphs
from .limits import too_large
from .names import parameter_count
from .step import explain_step
from .json import render_json
from .text import WIDTH, render_text

FORMATS = ("text", "markdown", "latex", "html", "json")


class Step(StepTrace):
    """One step of an Explanation: its trace (the plain data of ``StepTrace``) and its renderings."""

    @classmethod
    def of(cls, trace: StepTrace) -> "Step":
        return trace if isinstance(trace, Step) else cls(**{f.name: getattr(trace, f.name) for f in fields(trace)})

    def _repr_html_(self) -> str:
        return Explanation([self])._repr_html_()

    def _repr_markdown_(self) -> str:
        return Explanation([self])._repr_markdown_()

    def render(self, fmt: str = "text", *, param: str | None = None, matrix: bool = False,
               title: str = "", colour: bool = False) -> str:
        """This step in ``fmt`` (text, markdown, latex, html, json); see ``Explanation.render``."""
        return Explanation([self]).render(fmt, param=param, matrix=matrix, title=title, colour=colour)


class Explanation(Sequence):
    """Traced training steps (``StepTrace``s), rendered on demand: ``net.explain(x, t).render("markdown")``.
    Indexing gives one step (a ``Step``: its trace, which renders too); ``str()`` is the text rendering."""

    def __init__(self, traces):
        self.traces = [Step.of(trace) for trace in traces]

    def __len__(self) -> int:
        return len(self.traces)

    def __getitem__(self, index):
        return Explanation(self.traces[index]) if isinstance(index, slice) else self.traces[index]

    def render(self, fmt: str = "text", *, param: str | None = None, matrix: bool = False,
               title: str = "", colour: bool = False, width: int = WIDTH) -> str:
        """The steps in ``fmt`` (text, markdown, latex, html, json); ``param`` keeps one parameter's
        chain rule (e.g. "w5"), as ``chainrule explain --param``; ``matrix`` writes the step as matrices;
        text lines are broken at ``width`` columns."""
        return render(self.traces, fmt, title, param, matrix, colour, width=width)

    def __str__(self) -> str:
        return self.render("text")

    def _repr_html_(self) -> str:
        from .display import explanation_html
        return explanation_html(self)

    def _repr_markdown_(self) -> str:
        from .display import explanation_markdown
        return explanation_markdown(self)

    def __repr__(self) -> str:
        if not self.traces:
            return "Explanation(no steps)"
        first, last = self.traces[0], self.traces[-1]
        steps = f"step {first.step}" if len(self) == 1 else f"steps {first.step}–{last.step}"
        return f"<Explanation: {steps}, loss {first.loss_before:.9g} → {last.loss_after:.9g}>"


def render(traces, fmt: str = "text", title: str = "", parameter: str | None = None,
           matrix_form: bool = False, colour: bool = False, description: str = "", width: int = WIDTH) -> str:
    """The traces of one or more steps in ``fmt`` (one of FORMATS), opening with ``description`` (an
    example's: where it departs from its seed) when given; text at most ``width`` columns wide."""
    if fmt not in FORMATS:
        raise ConfigError("format", f"one of {', '.join(FORMATS)}", fmt)
    if parameter is None or matrix_form:
        for trace in traces:
            large = too_large(parameter_count(trace), len(trace.samples))
            if large:
                what = "the matrix form" if matrix_form else "a whole derivation"
                raise ConfigError("param", f"one parameter to explain ({what}: {large})", shown=False)
    if fmt == "json":
        return render_json(traces, parameter, description)
    documents = [explain_step(t, title, parameter, matrix_form) for t in traces]
    if documents and description:
        documents[0].intro = [*opening(description, fmt), *documents[0].intro]
    return render_documents(documents, fmt, colour, width)


def opening(description: str, fmt: str) -> list[str]:
    """An example's description as a document's first intro lines: its paragraphs (a blank line after
    them, but in HTML), which each format wraps to its width."""
    if not description.strip():
        return []
    return [*paragraphs(description), *([""] if fmt != "html" else [])]


def render_documents(documents: list[Document], fmt: str, colour: bool = False, width: int = WIDTH) -> str:
    """Documents (derivations, matrix forms, worksheets) in text (``width`` columns), markdown, latex or html."""
    if fmt == "text":
        return render_text(documents, colour, width)
    if fmt == "markdown":
        from .markdown import render_markdown
        return render_markdown(documents)
    if fmt == "latex":
        from .latex import render_latex
        return render_latex(documents)
    if fmt == "html":
        from .html import render_html
        return render_html(documents)
    raise AssertionError(fmt)


__all__ = ["FORMATS", "Document", "Explanation", "chains_as_data", "explain_step", "opening", "render", "render_documents",
           "too_large"]
