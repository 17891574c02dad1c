"""mypy finds no error in src/chainrule (configuration: [tool.mypy] in pyproject.toml); `make lint` runs the same."""

from pathlib import Path

from mypy import api

ROOT = Path(__file__).parent.parent


def test_mypy_finds_no_errors(monkeypatch):
    monkeypatch.chdir(ROOT)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, out + err
    assert (ROOT / "src" / "chainrule" / "py.typed").is_file()
