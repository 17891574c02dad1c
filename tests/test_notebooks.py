"""The notebooks in notebooks/ (one per seed) are stored without outputs and run without an error;
their key numbers are asserted inside them against the seeds' own numbers and independent
computations (the seed's code, its formulas in numpy, brute-force gradients)."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
SRC = Path(__file__).parent.parent / "src"


def test_there_is_a_notebook_per_seed():
    assert [p.name[:3] for p in NOTEBOOKS] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_without_outputs(path):
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


def execute(path: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.delenv("MPLBACKEND", raising=False)      # the kernel's inline backend: figures become outputs
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return book


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    book = execute(path, monkeypatch)
    outputs = [o for cell in book.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    rich = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    assert any("text/html" in o.data for o in rich), "a network, step or history shows itself as HTML"
    if path.name[:3] in ("000", "003", "004"):
        assert any("image/png" in o.data for o in rich), "the plots are drawn"


def test_exported_notebook_shows_the_diagram_and_the_rendered_derivation_in_chromium(browser, monkeypatch, tmp_path):
    from nbconvert import HTMLExporter
    book = execute(NOTEBOOKS[0], monkeypatch)
    html, _ = HTMLExporter().from_notebook_node(book)
    page_file = tmp_path / "000.html"
    page_file.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(page_file.as_uri())
        diagrams = page.locator("svg.network")
        assert diagrams.count() >= 2                                   # the network's, and the step's
        assert diagrams.first.is_visible()
        assert diagrams.first.locator("circle").count() == 6
        maths = page.locator("math")
        assert maths.count() > 50
        box = maths.nth(5).bounding_box()
        assert box and box["width"] > 50 and box["height"] > 10          # rendered, not raw text
        assert page.locator("text=w5⁺ = 0.358916480").count() == 1      # the assert cell's printout
        page.screenshot(path=str(tmp_path / "000.png"), full_page=True)
    finally:
        page.close()
