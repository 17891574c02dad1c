# make run   — create .venv, install chainrule, explain the first step of the built-in 2-2-2 example
# make test  — install chainrule with what the tests need (pytest, hypothesis, torch 2.13.0 CPU) and run them all
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: run test install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PIP) install --quiet -e .

install-test: $(PY)
	$(PIP) install --quiet -e ".[dev]"
	$(PIP) install --quiet "torch==2.13.0"

run: install
	$(VENV)/bin/chainrule explain mazur

test: install-test
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .hypothesis
