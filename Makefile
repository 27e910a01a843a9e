# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install
# the pinned dependencies first (idempotent: the install re-runs only when its inputs change).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
# a stock MLServer for the proxy-mode tests, in its own venv (its pins conflict with ours)
MLSERVER_VENV  := .venv-mlserver
MLSERVER_STAMP := $(MLSERVER_VENV)/.installed
TORCH_VERSION := 2.13.0

.PHONY: install demo test lint typecheck pytest bench mlserver clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet "torch==$(TORCH_VERSION)" -c requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mlrails demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(MLSERVER_STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

$(MLSERVER_VENV)/bin/python:
	$(PYTHON) -m venv $(MLSERVER_VENV)

$(MLSERVER_STAMP): $(MLSERVER_VENV)/bin/python requirements-mlserver.lock
	$(MLSERVER_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(MLSERVER_VENV)/bin/python -m pip install --quiet -r requirements-mlserver.lock
	touch $(MLSERVER_STAMP)

mlserver: $(MLSERVER_STAMP)

# the peer libraries the benchmarks compare against (Evidently), on top of the pinned install
$(BENCH_STAMP): $(STAMP) requirements-bench.lock
	$(BIN)/python -m pip install --quiet -r requirements-bench.lock -c requirements.lock
	# nannyml's data files only (its pins conflict with ours; bench_guard_quality reads its CSVs)
	$(BIN)/python -m pip install --quiet --no-deps nannyml==0.13.1
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(MLSERVER_VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
