"""The package's plan holds: its layers, module map and arrows back up as docs/architecture.md lists them
(the one place they are declared), read from every import of every module — at module level, inside
functions, relative or absolute — with the standard library's ast."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "chainrule"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MOST_ARROWS_BACK_UP = 3


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a Markdown heading line) up to the next heading of any level."""
    start = text.index(heading + "\n") + len(heading) + 1
    following = re.search(r"^#{1,6} ", text[start:], re.M)
    return text[start:start + following.start()] if following else text[start:]


def declared() -> tuple[list[str], dict[str, str], set[tuple[str, str]]]:
    """(layers bottom to top, module path → layer, the arrows back up allowed) from docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    layers = re.findall(r"^\d+\. `(\w+)` — ", section(text, "## Layers of the package"), re.M)
    rows = re.findall(r"^\| `(\w+)` \| `([\w/]+\.py)` \|", section(text, "### Module map"), re.M)
    arrows = set(re.findall(r"^- `([\w/]+\.py)` → `([\w/]+\.py)`: \S", section(text, "### Arrows back up"), re.M))
    mapped: dict[str, str] = {}
    for layer, path in rows:
        assert path not in mapped, f"docs/architecture.md maps {path} twice"
        mapped[path] = layer
    return layers, mapped, arrows


def module_name(path: str) -> str:
    """chainrule's dotted name of a module path under src/chainrule: core/network.py → chainrule.core.network."""
    parts = ["chainrule", *Path(path).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tree() -> dict[str, str]:
    """Every module of the tree: dotted name → path under src/chainrule."""
    paths = sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py"))
    return {module_name(path): path for path in paths}


def imports(path: str, modules: dict[str, str]) -> set[str]:
    """The chainrule modules that the module at ``path`` imports, anywhere in it: ``from a.b import c`` is
    the module a.b.c where there is one, else a.b (a name defined there); parents a package import runs
    implicitly are not counted."""
    name = module_name(path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse((SRC / path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:          # chainrule.x.y where y is a name of x
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = tree()
    return {name: imports(path, modules) for name, path in modules.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): every import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_module_map_names_exactly_the_modules_in_the_tree():
    layers, mapped, _ = declared()
    paths = set(tree().values())
    assert set(mapped) - paths == set(), f"docs/architecture.md maps modules that do not exist: {set(mapped) - paths}"
    assert paths - set(mapped) == set(), f"docs/architecture.md's module map does not name: {paths - set(mapped)}"
    assert set(mapped.values()) <= set(layers), f"layers not among {layers}: {set(mapped.values()) - set(layers)}"
    assert layers == ["core", "training", "formats", "explain", "check", "interop", "faces"]


def test_each_layer_folder_is_one_layer():
    _, mapped, _ = declared()
    for path, layer in mapped.items():
        folder = path.split("/")[0] if "/" in path else None
        if folder in ("core", "training", "formats", "explain", "check", "interop"):
            assert layer == folder, f"{path} is in {folder}/ but mapped to the {layer} layer"


def test_no_import_circle():
    found = circles(graph())
    assert found == [], "modules that import each other in a circle: " + "; ".join(" ↔ ".join(c) for c in found)


def test_imports_go_downwards_but_for_the_arrows_listed():
    layers, mapped, allowed = declared()
    modules = tree()
    layer_of = {name: mapped[path] for name, path in modules.items()}
    up = {(modules[a], modules[b]) for a, targets in graph().items() for b in targets
          if layers.index(layer_of[a]) < layers.index(layer_of[b])}
    assert len(allowed) <= MOST_ARROWS_BACK_UP, f"at most {MOST_ARROWS_BACK_UP} arrows back up, listed {len(allowed)}"
    assert up - allowed == set(), "imports from a lower layer to a higher one, not listed in docs/architecture.md: " \
        + ", ".join(f"{a} → {b} ({layer_of[module_name(a)]} → {layer_of[module_name(b)]})" for a, b in sorted(up - allowed))
    assert allowed - up == set(), f"arrows back up listed in docs/architecture.md that the code no longer has: {allowed - up}"


def test_the_reader_of_imports_sees_every_kind_of_import():
    """The oracle for the reader: a module whose imports are known by hand — relative at two levels, a
    package's own names (``from . import x``) and an import inside a function."""
    modules = tree()
    assert imports("_network.py", modules) >= {"chainrule.core.network", "chainrule.plot", "chainrule.interop.pytorch",
                                               "chainrule.explain", "chainrule.explain.display"}
    assert "chainrule.core.settings" in imports("explain/__init__.py", modules)          # from ..core.settings import
    assert "chainrule.explain.step" in imports("explain/display.py", modules)            # inside a function
    assert imports("core/settings.py", modules) == set()
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
