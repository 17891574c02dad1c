"""The verdicts as text (one line a claim, the reason under a wrong one) or as JSON."""

from __future__ import annotations


def report_text(title: str, verdicts: list) -> str:
    wrong = [v for v in verdicts if not v.ok]
    lines = [f"{title}: {len(verdicts)} claims, {len(verdicts) - len(wrong)} right, {len(wrong)} wrong", ""]
    width = max(len(v.claim.key) for v in verdicts)
    for v in verdicts:
        where = f"step {v.claim.step}" + (f", sample {v.claim.sample}" if v.claim.sample != 1 else "")
        status = "right" if v.ok else "WRONG"
        line = f"  {status:5}  {v.claim.key:<{width}}  claimed {v.claim.literal:<14} correct {v.correct:.9g}  ({where})"
        lines.append(line)
        if not v.ok:
            why = []
            if v.inherited_from:
                why.append("inherits the wrong " + ", ".join(v.inherited_from))
            if v.mistake:
                why.append(v.mistake)
            lines.append("         " + ("; ".join(why) if why else "no mistake in the catalogue reproduces it"))
    return "\n".join(lines) + "\n"


def report_json(verdicts: list) -> dict:
    return {"claims": [v.as_dict() for v in verdicts], "wrong": sum(not v.ok for v in verdicts)}
