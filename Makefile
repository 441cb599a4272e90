# The two commands of the README: `make build` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium

.PHONY: build test install install-test chromium

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

install: $(PY)
	$(PY) -m pip install -e .

install-test: $(PY)
	$(PY) -m pip install -e '.[test]'

chromium:
	@test -x $(CHROMIUM) || (apt-get update && apt-get install -y chromium)

build: install
	$(PY) build_graph.py

test: install-test chromium
	$(PY) -m pytest
