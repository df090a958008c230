# pxflask: `make demo` runs the whole product on embedded defaults,
# `make test` installs the project with its test extras and runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install services lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,deploy]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/pxflask demo $(if $(PORT),--port $(PORT),)

services:
	bash scripts/services.sh

lint: install
	$(BIN)/ruff check .

test: install services lint
	$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

screenshots: install services
	PXFLASK_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser

format: install
	$(BIN)/ruff format .

bench: install services
	$(BIN)/python benchmarks/perfex_read.py
	$(BIN)/python benchmarks/gateway.py
	$(BIN)/python benchmarks/sync.py
	$(BIN)/python benchmarks/reconcile.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
