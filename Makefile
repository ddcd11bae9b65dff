# Saring: `make run` to start everything, `make test` to test it. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench load lint format install clean-data

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) scripts/dev.py run

test: $(STAMP)
	$(PY) scripts/dev.py test $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) scripts/dev.py bench $(BENCH)

load: $(STAMP)
	$(PY) scripts/dev.py load

# mypy's Django plugin reads the settings, which need these to be set (nothing connects).
LINT_ENV := DATABASE_URL=postgresql://lint@127.0.0.1/lint REDIS_URL=redis://127.0.0.1:6379/0 DEBUG=1

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(LINT_ENV) $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Stops nothing: run it only when `make run` is not running.
clean-data:
	rm -rf .data
