"""docs/architecture.md stays true to the tree: every module it names exists, and every module of the
package is named there (and in README's module map); README's Python snippets run."""

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


def test_the_readme_module_map_names_every_module():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("src/chainrule/\n"):]
    block = block[:block.index("```")]
    named = set(re.findall(r"\b([a-z_]+\.py)\b", block))
    assert modules() - named == set(), f"README's module map does not name: {modules() - named}"


def readme_python_snippets() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("number", range(len(readme_python_snippets())))
def test_readme_python_snippets_run(number, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_python_snippets()[number], f"README.md python block {number + 1}", "exec"), {})
