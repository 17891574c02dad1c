"""Renderers of step traces: each takes StepTrace data and returns text."""

from .json import render_json
from .text import render_text

RENDERERS = {"text": render_text, "json": render_json}

__all__ = ["RENDERERS", "render_json", "render_text"]
