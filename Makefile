# The two commands of the README: `make build` and `make test`. Both install from the lock files, so a
# commit that passes today passes next month; `make lock` refreshes them from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
LATEST ?= .venv-latest
# A local copy of the declared data files (same layout as data/): `make build` copies from it when it
# exists, else `d4d fetch` downloads them from their pinned public addresses.
MIRROR ?= ../shared/data

.PHONY: build test install install-test chromium lock test-latest

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)
	$(PY) -m pip install --require-hashes -r requirements.lock
	$(PY) -m pip install --no-deps -e .

install-test: $(PY)
	$(PY) -m pip install --require-hashes -r requirements-test.lock
	$(PY) -m pip install --no-deps -e .

chromium:
	@test -x $(CHROMIUM) || (apt-get update && apt-get install -y chromium)

build: install
	@if [ -d "$(MIRROR)" ]; then $(PY) -m d4d.cli fetch --mirror "$(MIRROR)"; else $(PY) -m d4d.cli fetch; fi
	$(PY) build_graph.py

test: install-test chromium
	$(PY) -m pytest

# Pin every dependency (and its hashes) to the newest releases that pyproject.toml allows.
lock: $(PY)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --generate-hashes --universal \
	    --python-version 3.11 -q -o requirements-test.lock
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
	    -c requirements-test.lock -q -o requirements.lock

# The suite against the newest releases of every dependency, in a virtualenv of its own: what the next
# `make lock` would bring.
test-latest: chromium
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --upgrade --upgrade-strategy eager -e '.[test]'
	$(LATEST)/bin/python -m pytest
