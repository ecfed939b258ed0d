# One entry point for set-up and checks. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: help install demo test lint format typecheck contracts check lock bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on this project's machines) Python
# never caches .pyc files, so every process (each CLI call, Dask worker or server a test starts)
# would compile mlflow, pandas, sklearn... from source again: 5-10 s each on 2 cores.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# A venv installed before the flag above gets its bytecode here, once (compileall skips what
# is compiled already).
$(VENV)/.bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null || echo "some files did not compile; they compile when imported"
	touch $@

install: $(STAMP) $(VENV)/.bytecode  ## create .venv with the pinned dependencies and truckflow itself

demo: install  ## run the main job on the embedded default (SQLite, local MLflow, local files)
	$(BIN)/truckflow demo

test: install  ## run the test suite (SQLite, PostgreSQL and MariaDB on this machine)
	$(BIN)/python -m compileall -q src  # truckflow's own .pyc, for the processes tests start
	$(BIN)/python -m pytest

lint: install  ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install  ## mypy, strict
	$(BIN)/mypy

contracts: install  ## the layering contracts (import-linter)
	$(BIN)/lint-imports

check: lint typecheck contracts test  ## everything CI checks, and the lint

lock: ## re-pin every dependency (after editing pyproject.toml)
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev pyproject.toml -o requirements.lock

bench: install  ## run the benchmarks (see benchmarks/README.md)
	$(BIN)/python -m benchmarks

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
