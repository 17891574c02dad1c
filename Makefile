# make run   — create .venv, install chainrule, explain the first step of the built-in 2-2-2 example
# make test  — install chainrule with what the tests need (pytest, hypothesis, playwright, torch 2.13.0 CPU,
#              Debian's chromium and pdflatex) and run them all
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: run test install install-test system-test-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PIP) install --quiet -e .

# the browser (HTML explanations, end-to-end tests) and pdflatex (LaTeX explanations) come from Debian
system-test-deps:
	@command -v chromium >/dev/null && command -v pdflatex >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium texlive-latex-base >/dev/null; }

install-test: $(PY) system-test-deps
	$(PIP) install --quiet -e ".[dev]"
	$(PIP) install --quiet "torch==2.13.0"

run: install
	$(VENV)/bin/chainrule explain mazur

test: install-test
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
