"""A step as a fill-in sheet: every quantity of the derivation in the order a student computes it,
with its formula, a blank and its claim name; the givens (inputs, targets, parameters, η) as they are.

The sheet is the explanation's own Document with each computed line cut to ``lhs = formula = ____``
and named, so it renders in every format the explanation has (text, markdown, LaTeX, HTML). Its TOML
form is a claims file whose blanks are ``"?"``: filled in, ``chainrule check`` marks it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .claims import PARAMETER_KINDS, kind_of
from .formulas import claim_name
from ..core.expr import Blank, Eq, Num, Sym, Word
from ..explain.derive import derivation
from ..explain.document import Document, Section
from ..core.optim import Optimizer
from ..training.trace import StepTrace

GIVEN_KINDS = ("before",)
LOSSES = {"before the step": "loss_before", "after it": "loss_after"}


@dataclass
class Blank_:
    """One blank of the sheet: its claim name, the sample it belongs to (None: the step's), its formula."""

    name: str
    sample: int | None
    formula: str


def _name(eq: Eq) -> str | None:
    """The claim name of a line's left-hand side, where it is a computed quantity (not a given)."""
    lhs = eq.parts[0]
    if isinstance(lhs, Word):
        return LOSSES.get(lhs.words)
    name = claim_name(lhs.text())
    kind, _ = kind_of(name)
    return name if kind is not None and kind not in GIVEN_KINDS else None


def _update_formula(trace: StepTrace, label: str):
    """p⁺'s formula in symbols, as the optimiser writes it (p − η·∂E/∂p for plain SGD)."""
    optimizer = Optimizer.from_description(trace.optimizer, trace.learning_rate)
    return optimizer.equations(label, first=trace.step == 1)[-1][1]


def worksheet(trace: StepTrace, title: str = "", description: list[str] | None = None) -> tuple[Document, list[Blank_]]:
    """The sheet of one step (opening with ``description``, an example's), and its blanks in the order
    they are computed."""
    doc = derivation(trace, title)
    blanks: list[Blank_] = []
    last: dict[tuple, Eq] = {}          # each quantity's blank goes on its last line (the chain's δ form)

    def visit(items, sample):
        for item in items:
            if isinstance(item, Section):
                visit(item.items, _sample_of(item.title, sample))
            elif isinstance(item, Eq):
                name = _name(item)
                if name is not None:
                    key = (name, None if kind_of(name)[0] in PARAMETER_KINDS else sample)
                    last[key] = item
    for section in doc.sections:
        visit([section], None)
    cut: dict[int, Eq] = {}
    for (name, sample), eq in list(last.items()):
        kind, args = kind_of(name)
        if len(eq.parts) == 2 and not isinstance(eq.parts[0], Word):      # a constant (∂out/∂net = 1): given
            del last[(name, sample)]
            continue
        formula = eq.parts[1] if len(eq.parts) > 2 else None
        if kind == "after":
            formula = _update_formula(trace, args[0])
        parts = [eq.parts[0], *([formula] if formula is not None else []), Blank()]
        note = name + (f", sample {sample}" if sample is not None and len(trace.samples) > 1 else "")
        cut[id(eq)] = Eq(parts, note)
        blanks.append(Blank_(name, sample, formula.text() if formula is not None else ""))

    def rewritten(items: list) -> list:
        out: list = []
        for item in items:
            if isinstance(item, Section):
                out.append(Section(item.title, rewritten(item.items)))
            elif isinstance(item, Eq) and id(item) in cut:
                out.append(cut[id(item)])
            elif isinstance(item, Eq) and _name(item) is not None and len(item.parts) > 2:
                out.append(Eq(item.parts[:2]))      # an earlier line of the same quantity: its formula only
            elif isinstance(item, Eq) and len(item.parts) > 2:      # the optimiser's state: symbols, a blank
                out.append(Eq([item.parts[0], item.parts[1], Blank()], item.note))
            else:
                out.append(item)
        return out

    intro = [*(description or []),
             "Fill in each blank, in order; the name beside it is its name in a claims file:",
             "chainrule worksheet … --format toml writes one to fill in, chainrule check marks it.",
             *doc.intro]
    sections = rewritten(doc.sections)
    return Document(f"Worksheet: {doc.title}", intro, sections, trace, diagram=False), blanks


def _sample_of(title: str, sample: int | None) -> int | None:
    if title.startswith("Sample "):
        return int(title.split()[1].rstrip(":"))
    return sample


def worksheet_toml(trace: StepTrace, spec_ref: str, title: str = "") -> str:
    """The sheet as a claims file: each blank a "?" under its step and sample, its formula beside it."""
    _, blanks = worksheet(trace, title)
    lines = [f"# Worksheet: {title or spec_ref}, step {trace.step}. Replace each \"?\" by your number, then run",
             "#   chainrule check THIS_FILE", f"title = {_quoted('worksheet: ' + (title or spec_ref))}",
             f"spec = {_quoted(spec_ref)}"]
    groups: dict[int | None, list[Blank_]] = {}
    for blank in blanks:
        groups.setdefault(blank.sample, []).append(blank)
    order = sorted((k for k in groups if k is not None)) + [None]
    for sample in order:
        if sample not in groups:
            continue
        lines += ["", "[[claims]]", f"step = {trace.step}"] + ([f"sample = {sample}"] if sample is not None else [])
        width = max(len(b.name) for b in groups[sample])
        for b in groups[sample]:
            comment = f"   # {b.formula}" if b.formula else ""
            lines.append(f'{b.name.ljust(width)} = "?"{comment}')
    return "\n".join(lines) + "\n"


def claim_names(trace: StepTrace) -> str:
    """Every claim name of the step's quantities, in the order they are computed, with its formula."""
    _, blanks = worksheet(trace)
    seen: dict[str, str] = {}
    for b in blanks:
        seen.setdefault(b.name, b.formula)
    width = max(len(name) for name in seen)
    return "".join(f"{name.ljust(width)}  {formula}".rstrip() + "\n" for name, formula in seen.items())


def fill_answers(text: str, verdicts) -> str:
    """The claims file's text with each blank ("?" or '?', on a line of its own or in an inline table)
    replaced by the engine's number, comments kept.  A blank that cannot be filled — its answer is not a
    finite number (TOML has no such number that ``check`` reads back), or it is not found where its claim
    was read — is a ValueError naming it, rather than a file left with blanks."""
    lines = text.splitlines(keepends=True)
    for v in verdicts:
        if v.claim.answered:
            continue
        where = v.claim.where
        if not math.isfinite(v.correct):
            raise ValueError(f"{where}: expected a finite answer to fill in, got {v.correct} (the step overflows: "
                             "scale the inputs or lower the learning rate)")
        k = (v.claim.line or 0) - 1
        blank = re.compile(rf"""((?:^|[\s{{,])["']?{re.escape(v.claim.key)}["']?\s*=\s*)(["'])\?\2""")
        # its own line, else (an inline table's claims have none) the first line with its blank still there
        for number in ([k] if 0 <= k < len(lines) else []) + list(range(len(lines))):
            filled = blank.sub(lambda m: f"{m.group(1)}{v.correct:.9g}", lines[number], count=1)
            if filled != lines[number]:
                lines[number] = filled
                break
        else:
            raise ValueError(f"{where}: expected its blank (\"?\") to fill in, got none left in the file")
    return "".join(lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = ["worksheet", "worksheet_toml", "claim_names", "fill_answers", "Blank_"]
