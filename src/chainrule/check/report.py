"""The verdicts as text (one line a claim, the reason under a wrong one) or as JSON."""

from __future__ import annotations

from typing import NamedTuple


class Report(NamedTuple):
    """A check's result: its title and one verdict per claim (unpacks as ``title, verdicts``)."""

    title: str
    verdicts: list

    @property
    def wrong(self) -> list:
        return [v for v in self.verdicts if v.wrong]

    @property
    def unanswered(self) -> list:
        return [v for v in self.verdicts if not v.claim.answered]

    def __str__(self) -> str:
        return report_text(self.title, self.verdicts)

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {len(self.verdicts)} claims, {len(self.wrong)} wrong>"

    def as_dict(self) -> dict:
        return report_json(self.verdicts)

    def _repr_html_(self) -> str:
        from ..explain.display import report_html
        return report_html(self)


def report_text(title: str, verdicts: list) -> str:
    wrong = [v for v in verdicts if v.wrong]
    blanks = [v for v in verdicts if not v.claim.answered]
    right = len(verdicts) - len(wrong) - len(blanks)
    lines = [f"{title}: {len(verdicts)} claims, {right} right, {len(wrong)} wrong"
             + (f", {len(blanks)} unanswered" if blanks else ""), ""]
    width = max(len(v.claim.key) for v in verdicts)
    for v in verdicts:
        where = f"step {v.claim.step}" + (f", sample {v.claim.sample}" if v.claim.sample != 1 else "")
        if not v.claim.answered:
            lines.append(f"  {'?':5}  {v.claim.key:<{width}}  unanswered             ({where})")
            continue
        status = "right" if v.ok else "WRONG"
        line = f"  {status:5}  {v.claim.key:<{width}}  claimed {v.claim.literal:<14} correct {v.correct:.9g}  ({where})"
        lines.append(line)
        if v.note:
            lines.append(f"         note: {v.note}")
        if v.wrong:
            lines.append("         " + v.why)
            if v.correct_line:
                lines.append(_indented("correct: ", v.correct_line))
    printed = [v for v in wrong if v.mistake_id == "not_this_code"]
    if printed:
        lines += ["", f"{len(printed)} printed losses do not come from this spec's run, which prints "
                      f"{printed[0].mistake.split('prints ')[1]}: they were printed by other code."]
    if blanks:
        lines += ["", f"{len(blanks)} blanks to fill in; chainrule check FILE --answers writes the engine's numbers."]
    return "\n".join(lines) + "\n"


def _indented(label: str, text: str) -> str:
    """label + text, a multi-line text's other lines under its first."""
    first, *rest = text.split("\n")
    pad = " " * (9 + len(label))
    return "\n".join([" " * 9 + label + first] + [pad + line for line in rest])


def report_json(verdicts: list) -> dict:
    return {"claims": [v.as_dict() for v in verdicts], "wrong": sum(v.wrong for v in verdicts),
            "unanswered": sum(not v.claim.answered for v in verdicts)}
