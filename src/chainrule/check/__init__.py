"""Audit numbers someone worked out by hand against the engine, and name the mistake.

A claims file (TOML) names a spec and the numbers claimed (claims.py).  Each claim is compared at the
precision it was written with (0.5824 means ±0.00005).  A wrong one is explained, in this order: it
follows from earlier wrong (or rounded) claims; a mistake of the catalogue reproduces it (from the
claimed or the correct inputs); it is another quantity's value copied; it is a digit slip (checker.py).
Recomputing a claim evaluates the formula the explanation prints for it, and each mistake of the
catalogue is a rewrite of that formula (formulas.py, mistakes.py).

    claims.py    reading a claims file: Claim, ClaimsError, claim names
    formulas.py  a traced step's quantities and the derivation's formula for each, by claim name
    checker.py   Checker: verdicts, look-ups of claimed inputs, inheritance, recomputation
    mistakes.py  the catalogue of classic mistakes and the digit slips
    report.py    the verdicts as text or JSON
"""

from __future__ import annotations

from .checker import Checker, Verdict
from .claims import Claim, ClaimsError, parse_name, read_claims
from .formulas import evaluate
from .mistakes import digit_slip
from .report import Report, report_json, report_text


def check(path_or_name: str, change=None) -> Report:
    """The Report — (title, verdicts) — of a claims file, or of a seed's built-in claims ('seed:000');
    ``print(report)`` writes it as ``chainrule check`` does, a notebook shows its table.  ``change``:
    a function of the claims' Spec giving the spec to check against (the command line's overrides)."""
    if path_or_name.startswith("seed:"):
        from ..formats import examples
        path = examples.claims_path(path_or_name.removeprefix("seed:"))
        text = path.read_text(encoding="utf-8")
        spec, claims, title = read_claims(path, text=text, base=path.parent, source=f"{path_or_name} (built-in)")
    else:
        spec, claims, title = read_claims(path_or_name)
    if change is not None:
        spec = change(spec)
    return Report(title, Checker(spec, claims).run())


__all__ = ["check", "Report", "report_text", "report_json", "ClaimsError", "read_claims", "digit_slip", "Checker",
           "Claim", "Verdict", "parse_name", "evaluate"]
