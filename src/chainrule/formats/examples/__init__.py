"""The built-in worked examples, one TOML spec file each (see ``chainrule examples``), and the seeds' claims
files; ``chainrule.example(name)`` (``_example.py``) loads one ready to use."""

from __future__ import annotations

import tomllib
from pathlib import Path

_HERE = Path(__file__).parent
ORDER = ("mazur", "mazur-code", "worksheet", "visual", "xor", "softplus")


def names() -> list[str]:
    found = {p.stem for p in _HERE.glob("*.toml")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def path(name: str) -> Path:
    return _HERE / f"{name}.toml"


def description(name: str) -> str:
    """The example's whole description: what it is and where it departs from its seed."""
    return tomllib.loads(path(name).read_text(encoding="utf-8")).get("description", "").strip()


def summary(name: str) -> str:
    """The first line of the example's description."""
    text = description(name)
    return text.splitlines()[0] if text else ""


def claims_path(seed: str) -> Path:
    """The built-in claims file of a seed ('000' … '004'): every number that seed prints."""
    found = _HERE / "claims" / f"seed-{seed}.toml"
    if not found.is_file():
        available = sorted(p.stem.removeprefix("seed-") for p in (_HERE / "claims").glob("seed-*.toml"))
        raise ValueError(f"seed:{seed}: expected one of {', '.join('seed:' + a for a in available)}, got seed:{seed}")
    return found
