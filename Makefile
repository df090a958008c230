# pxflask: `make demo` runs the whole product on embedded defaults,
# `make test` installs the project with its test and contract extras and runs the suite.
# Installs take their versions from constraints.txt; `make lock` refreshes it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install lock services lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[test,deploy,contract]'
	touch $(STAMP)

install: $(STAMP)

# Resolve pyproject's dependencies (with the test, deploy and contract extras) afresh in a
# throw-away venv and pin what was installed, pxflask itself excepted.
lock:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/pip" install -q --upgrade pip; \
	"$$tmp/venv/bin/pip" install -q -e '.[test,deploy,contract]'; \
	{ echo "# Pinned versions for 'pip install -c constraints.txt'; made by 'make lock'."; \
	  "$$tmp/venv/bin/pip" freeze --exclude-editable; } > "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" constraints.txt
	@echo "constraints.txt: $$(grep -vc '^#' constraints.txt) pins"

demo: install
	$(BIN)/pxflask demo $(if $(PORT),--port $(PORT),)

services:
	bash scripts/services.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

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
	$(BIN)/python benchmarks/chunked_body.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
