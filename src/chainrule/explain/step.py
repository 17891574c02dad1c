"""explain_step: the Document of one traced step, in the form asked for — the derivation
(derive.py: all of it, or one parameter's) or the matrix form (matrix.py)."""

from __future__ import annotations

from ..training.trace import StepTrace
from . import derive
from .document import Document
from .matrix import matrix_document


def explain_step(trace: StepTrace, title: str = "", parameter: str | None = None, matrix_form: bool = False) -> Document:
    """The Document of one step: all of it, one parameter's derivation, or the matrix form (which
    shows every parameter; ``parameter`` is then not used)."""
    if matrix_form:
        return matrix_document(trace, title)
    return derive.derivation(trace, title, parameter)


__all__ = ["explain_step"]
