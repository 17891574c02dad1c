"""The explain package's layout: the derivation never depends on the matrix form (matrix.py builds
on derive.py, explain/step.py chooses between them), and no module grows past a readable size."""

import ast
from pathlib import Path

import chainrule.explain

EXPLAIN = Path(chainrule.explain.__file__).parent


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
            found.update("." * node.level + alias.name for alias in node.names if not node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_derive_imports_neither_the_matrix_form_nor_the_step_that_chooses_it():
    for module in ("derive", "values", "chains", "updates", "names", "limits", "document"):
        imported = _imported(EXPLAIN / f"{module}.py")
        assert not {".matrix", ".step", "chainrule.explain.matrix", "chainrule.explain.step"} & imported, module


def test_explain_modules_stay_under_400_lines():
    for path in EXPLAIN.glob("*.py"):
        assert len(path.read_text().splitlines()) < 400, path.name
