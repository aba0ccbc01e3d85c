# Baton: `make serve` runs the server, `make test` installs what the tests need and runs them all.
PYTHON ?= python3
VENV := .venv
PREFECT_VENV := .venv-prefect
PREFECT_VERSION := 3.9.1
PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt
BIN := $(VENV)/bin
CHECKED := src tests bench

.PHONY: install dev prefect system-deps serve check format test test-fast clean

install: $(VENV)/.installed ## .venv with Baton and its runtime dependencies

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Baton needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $@

dev: $(VENV)/.dev-installed ## .venv plus the test and lint tools

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) -e '.[dev]'
	@touch $@

prefect: $(PREFECT_VENV)/.installed ## the real Prefect client, in its own virtualenv

$(PREFECT_VENV)/.installed:
	@test -x $(PREFECT_VENV)/bin/python || $(PYTHON) -m venv $(PREFECT_VENV)
	$(PREFECT_VENV)/bin/pip install --quiet --disable-pip-version-check prefect==$(PREFECT_VERSION)
	@touch $@

system-deps: ## PostgreSQL server binaries and Chromium for the tests (installed with apt when missing)
	@scripts/ensure-system-deps

serve: install ## start Baton on 127.0.0.1:4200 (SQLite in $$BATON_HOME, default ~/.baton)
	@# Bytecode for the editable install (pip writes it for others): without it every start
	@# compiles Baton's modules again when PYTHONDONTWRITEBYTECODE is set.
	@$(BIN)/python -m compileall -q src
	$(BIN)/baton server start

check: dev ## ruff (format + lint), mypy --strict and the layer contract (import-linter)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: dev
	$(BIN)/ruff format $(CHECKED)
	$(BIN)/ruff check --fix $(CHECKED)

test: dev prefect system-deps check ## everything CI runs
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(PREFECT_VENV) .mypy_cache .pytest_cache .ruff_cache
