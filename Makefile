# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
BENCH_STAMP := $(VENV)/.bench-$(shell cat bench/requirements.lock | cksum | cut -d' ' -f1)

.PHONY: install run test lint typecheck check bench openapi lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/sophmate-ledger serve --migrate

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# The bench-only libraries (the `bench` extra) have a lock of their own, so `make install` and the
# tests never pull them in. wrk, the load generator, comes from the system packages: the bench
# finds it or installs it and says which.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

$(BENCH_STAMP): bench/requirements.lock $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.lock
	@rm -f $(VENV)/.bench-* && touch $@

openapi: $(STAMP)
	$(BIN)/sophmate-ledger openapi --output openapi/openapi.json

# Re-resolve the pinned versions; run on purpose, commit the result.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev --output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra bench --constraint requirements.lock --output-file bench/requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .ledger .pytest_cache .mypy_cache .ruff_cache
