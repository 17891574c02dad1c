"""docs/architecture.md stays true to the tree: every module it names exists, and every module of the
package is named there; the Python snippets of README.md and of the site's pages (docs/*.md) run."""

import re

import pytest
from pathlib import Path

import chainrule

ROOT = Path(__file__).parent.parent
SRC = Path(chainrule.__file__).parent


def modules() -> set[str]:
    return {path.name for path in SRC.rglob("*.py") if path.name not in ("__init__.py", "__main__.py")}


def test_every_module_named_in_the_architecture_exists_and_every_module_is_named():
    """Its prose names no module that is gone (test_structure holds its module map to the tree, path by path)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    every = {path.name for path in SRC.rglob("*.py")}
    named = {name for name in re.findall(r"\b([a-z_]+\.py)\b", text) if not name.startswith("test_")}
    assert named - every == set(), f"docs/architecture.md names modules that do not exist: {named - every}"
    assert every - named == set(), f"docs/architecture.md does not name: {every - named}"


def python_snippets() -> list[tuple[str, str]]:
    """(where, code) of every ```python block of README.md and the site's pages."""
    snippets = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        snippets += [(f"{path.relative_to(ROOT)} python block {number + 1}", code) for number, code in enumerate(blocks)]
    return snippets


@pytest.mark.parametrize("where, code", python_snippets(), ids=[where for where, _ in python_snippets()])
def test_python_snippets_run(where, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {})
