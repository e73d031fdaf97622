# casework — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench lint install migrate demo clean i18n

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

# The background worker (SLA timers, document checks) runs beside the server; Ctrl-C or the
# server's exit stops both. Plain http on the loopback address: session cookies without the Secure
# flag unless CASEWORK_COOKIE_SECURE says otherwise (set it to 1 behind HTTPS).
run: demo
	$(BIN)/casework worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	CASEWORK_COOKIE_SECURE=$${CASEWORK_COOKIE_SECURE:-0} $(BIN)/casework serve --host $(HOST) --port $(PORT)

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
	$(BIN)/python bench/web_pages.py --cases 100000

# Merge new interface texts into the .po catalogs (then translate the empty msgstr entries).
i18n: $(STAMP)
	$(BIN)/python -m casework.web.catalogs
	$(BIN)/python -m casework.web.catalogs check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
