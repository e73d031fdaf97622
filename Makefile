# casework — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench lint install migrate demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/casework db upgrade

demo: migrate
	$(BIN)/casework demo load --if-empty

# The background worker (SLA timers) runs beside the server; Ctrl-C or the server's exit stops both.
run: demo
	$(BIN)/casework worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/casework serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/cases.py
	$(BIN)/python bench/decisions.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/documents_checks.py
	$(BIN)/python bench/documents_twoddoc.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
