# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two locks: the runtime one is all the container image installs; the dev one adds the test and
# lint tools, pinned to the same versions of everything the runtime lock holds.
RUNTIME_LOCK := requirements-runtime.lock
DEV_LOCK := requirements-dev.lock
STAMP := $(VENV)/.installed-$(shell cat $(DEV_LOCK) pyproject.toml | cksum | cut -d' ' -f1)
COMPILE := $(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links
BENCH_STAMP := $(VENV)/.bench-$(shell cat bench/requirements.lock | cksum | cut -d' ' -f1)

.PHONY: install run test lint typecheck check bench openapi lock clean fuzz

install: $(STAMP)

$(STAMP): $(DEV_LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(DEV_LOCK)
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

# The suite's schemathesis test with many more generated cases an operation (tens of minutes).
fuzz: $(STAMP)
	LEDGER_FUZZ_EXAMPLES=$${LEDGER_FUZZ_EXAMPLES:-100} $(BIN)/pytest tests/service/test_contract_schemathesis.py -p no:randomly -s

openapi: $(STAMP)
	$(BIN)/sophmate-ledger openapi --output openapi/openapi.json

# Re-resolve the pinned versions; run on purpose, commit the result. The dev lock is resolved
# under the runtime lock, so tests run on exactly the versions the image ships.
lock: $(STAMP)
	$(COMPILE) --output-file $(RUNTIME_LOCK) pyproject.toml
	$(COMPILE) --extra dev --constraint $(RUNTIME_LOCK) --output-file $(DEV_LOCK) pyproject.toml
	$(COMPILE) --extra bench --constraint $(DEV_LOCK) --output-file bench/requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .ledger .pytest_cache .mypy_cache .ruff_cache
