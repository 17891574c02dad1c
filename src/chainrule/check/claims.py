"""Reading a claims file: the spec it names and its claims, each by name, step, sample and literal.

A claims file (TOML) names a spec and the numbers claimed::

    spec = "mazur"                # a built-in example, a spec file (relative to this file) or a [spec] table
    [[claims]]                    # one group of claims: step (default 1) and sample (default 1)
    step = 1
    net_h1 = 0.3775
    "out_o1 (line 12)" = 0.75136507      # a remark in parentheses is kept for the report
    delta_h1 = "?"                # a blank (a worksheet's): reported as unanswered

Each claim is compared at the precision it was written with (0.5824 means ±0.00005).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..core import files
from ..core.neurons import NEURON_NAME
from ..formats.spec import SpecError, from_dict, load

GROUP_KEYS = {"step", "sample"}
BLANK = "?"           # a worksheet's blank: a quantity asked for, not answered
TOP_KEYS = {"spec", "title", "claims"}
MAX_STEP = 10_000     # steps are traced one by one to the last claimed

# names: net_h1, out_o2, E_o1, E_total, delta_h1, dE_dnet_o1, dE_dout_h1, dout_o1_dnet_o1,
# dE_o1_dout_h1, dE_dw5, w5, w5_after, loss_before, loss_after
NEURON = rf"(?:h\d+_\d+|{NEURON_NAME.pattern})"     # i1, h1, h1_2, o1, or an example's own (blue)
PARAM = r"[wb]\d+"
PATTERNS = [
    ("net", rf"net_({NEURON})"), ("out", rf"out_({NEURON})"), ("error_total", r"E_total"), ("error", rf"E_({NEURON})"),
    ("delta", rf"(?:delta|δ|dE_dnet)_({NEURON})"), ("dE_dout", rf"dE_dout_({NEURON})"),
    ("dout_dnet", rf"dout_({NEURON})_dnet_\1"), ("dEo_dout", rf"dE_({NEURON})_dout_({NEURON})"),
    ("gradient", rf"dE_d({PARAM})"), ("after", rf"({PARAM})_after"), ("before", rf"({PARAM})"),
    ("loss_before", r"loss_before"), ("loss_after", r"loss_after"),
]


class ClaimsError(ValueError):
    """A claims file that cannot be checked: names the file, line and key."""


@dataclass
class Claim:
    key: str            # as written, with any remark
    name: str
    step: int
    sample: int
    literal: str
    value: float
    line: int | None
    source: str = "<claims>"
    order: int = 0      # its place in the file: a claim inherits only from those written before it

    @property
    def where(self) -> str:
        """file:line: key — for messages."""
        return f"{self.source}{':' + str(self.line) if self.line else ''}: {self.key}"

    @property
    def answered(self) -> bool:
        return self.literal != BLANK

    @property
    def tolerance(self) -> float:
        """Half a unit in the last written digit: 0.5824 → 0.00005."""
        mantissa, _, exponent = self.literal.lower().replace("_", "").partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))

    def matches(self, value: float) -> bool:
        return value is not None and math.isfinite(value) and (
            abs(value - self.value) <= self.tolerance * (1 + 1e-9) + 1e-12 * abs(value))


# ---- reading a claims file --------------------------------------------------------------------------

def _literals(text: str) -> list[tuple[int, str, str]]:
    """(line, key, number literal) for every `key = number` line, in file order."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_\-]+)\s*=\s*([-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?\d+)?'
                     r'|"\?")\s*(?:#.*)?$', line)
        if m:
            found.append((number, m.group(1).strip('"'), m.group(2).strip('"')))
    return found


def parse_name(key: str) -> str:
    """The claim's name without its remark: 'out_o1 (line 12)' → 'out_o1'."""
    return re.sub(r"\s*\(.*\)\s*$", "", key).strip()


@lru_cache(maxsize=4096)
def kind_of(name: str) -> tuple[str | None, tuple]:
    """(kind, its parts) of a claim name: 'dE_o1_dout_h1' → ('dEo_dout', ('o1', 'h1'))."""
    for kind, pattern in PATTERNS:
        m = re.fullmatch(pattern, name)
        if m:
            return kind, m.groups()
    return None, ()


class _Lines:
    """Where a key is written in a claims file, for messages: file:line: key: …"""

    def __init__(self, text: str, source: str):
        self.literals, self.lines, self.source = _literals(text), text.splitlines(), source

    def line_of(self, key: str, after: int = 0) -> int | None:
        for number, k, _ in self.literals:
            if number > after and k == key:
                return number
        for number, line in enumerate(self.lines, 1):
            if number > after and re.match(rf'\s*"?{re.escape(key)}"?\s*=', line):
                return number
        return None

    def fail(self, key: str, message: str, after: int = 0) -> ClaimsError:
        line = self.line_of(key, after)
        return ClaimsError(f"{self.source}{':' + str(line) if line else ''}: {key}: {message}")

    def group_starts(self) -> list[int]:
        return [n for n, line in enumerate(self.lines, 1) if re.match(r"\s*\[\[?\s*claims\s*\]\]?", line)]


def read_claims(path_or_text: str | Path, *, text: str | None = None, base: Path | None = None,
                source: str | None = None):
    """(spec, [Claim], title) from a claims file (or its text)."""
    if text is None:
        path = Path(path_or_text)
        try:
            text = files.read_text(path, files.MAX_TEXT, "claims file")
        except ValueError as exc:
            raise ClaimsError(str(exc)) from None
        base, source = path.parent, str(path)
    source = source or "<claims>"
    try:
        document = files.toml_document(text, source)
    except ValueError as exc:
        raise ClaimsError(str(exc)) from None
    where = _Lines(text, source)
    unknown = set(document) - TOP_KEYS
    if unknown:
        raise where.fail(sorted(unknown)[0], f"expected one of {', '.join(sorted(TOP_KEYS))}, got an unknown key")
    if "spec" not in document:
        raise ClaimsError(f"{source}: spec: missing; expected an example name, a spec file or a [spec] table")
    spec = _load_spec(document["spec"], base or Path("."), source, where.fail)
    groups = document.get("claims")
    if groups is None:
        raise ClaimsError(f"{source}: claims: missing; expected [[claims]] tables of name = number")
    if isinstance(groups, dict):
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise where.fail("claims", "expected [[claims]] tables of name = number")
    claims, cursor, starts = [], 0, where.group_starts()
    for g, group in enumerate(groups):
        cursor = starts[g] if g < len(starts) else cursor
        claims += _group_claims(group, where, cursor)
    if not claims:
        raise ClaimsError(f"{source}: claims: expected at least one claimed number, got none")
    return spec, claims, document.get("title", spec.name)


def _group_claims(group: dict, where: _Lines, cursor: int) -> list[Claim]:
    """The claims of one [[claims]] table (its step and sample checked), written after line ``cursor``."""
    step, sample = group.get("step", 1), group.get("sample", 1)
    for key, value in (("step", step), ("sample", sample)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEP:
            raise where.fail(key, f"expected an integer from 1 to {MAX_STEP}, got {value!r}", cursor)
    claims = []
    for key, value in group.items():
        if key in GROUP_KEYS:
            continue
        line = where.line_of(key, cursor)
        at = f"{where.source}:{line}" if line else where.source
        name = parse_name(key)
        kind, _ = kind_of(name)
        if kind is None:
            raise ClaimsError(f"{at}: {key}: expected a claim name such as net_h1, out_o1, E_o1, E_total, "
                              f"delta_h1, dE_dout_o1, dout_o1_dnet_o1, dE_dw5, w5, w5_after, loss_after; "
                              f"got {name!r}")
        if value == BLANK:          # a worksheet's blank, not filled in yet
            claims.append(Claim(key, name, step, sample, BLANK, math.nan, line, where.source))
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ClaimsError(f"{at}: {key}: expected a number (or \"?\" for a blank), got {value!r}")
        literal = next((lit for n, k, lit in where.literals if n == line and k == key), repr(value))
        claims.append(Claim(key, name, step, sample, literal, float(value), line, where.source))
    return claims


def _load_spec(value, base: Path, source: str, fail):
    if isinstance(value, dict):
        try:
            return from_dict(value, f"{source} [spec]", None, base)
        except SpecError as exc:
            raise ClaimsError(f"{source}: spec: {exc}") from None
    if not isinstance(value, str):
        raise fail("spec", f"expected an example name, a spec file or a [spec] table, got {value!r}")
    candidate = base / value
    try:
        return load(candidate if candidate.is_file() else value)
    except SpecError as exc:
        raise fail("spec", f"does not load: {exc}") from None


PARAMETER_KINDS = ("gradient", "before", "after", "loss_before", "loss_after")   # one per step, not per sample
