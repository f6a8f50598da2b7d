# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_PY   := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: setup demo test soak lint emulator clean

setup: $(STAMP_PY) $(STAMP_NODE)

$(STAMP_PY): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run the main job end to end on the local stack and print the results.
demo: setup
	$(PY) -m emulator demo

## Lint, type-check and run the whole test suite (starts Azurite and the emulator itself).
test: setup lint
	$(PY) -m pytest

## Only the full-size load and outage scenarios (pytest marker `soak`: 5,000 targets, a one-minute
## ingestion outage), with their accounting printed. `make test` runs them too.
soak: setup lint
	$(PY) -m pytest -m soak -s

lint: $(STAMP_PY)
	$(PY) -m ruff check .
	$(PY) -m mypy emulator shared function_app.py

## Start the local stack and print the settings that point the app at it (Ctrl-C stops it).
emulator: setup
	$(PY) -m emulator serve

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
