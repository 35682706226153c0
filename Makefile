# Two commands set everything up on a fresh machine: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt | cksum | cut -d' ' -f1)

.PHONY: install dev test lint fuzz clean

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Run both services on embedded defaults (in-memory MongoDB, local Redis).
dev: install
	./scripts/dev.sh

## Run the security checks, then the whole test suite (contract tests included, bounded).
test: install lint
	$(BIN)/python -m pytest

## Checks before the tests: bandit on the code; pip-audit on the pinned requirements (warns, without failing,
## when no vulnerability service is reachable; AUDIT_REQUIRE_SERVICE=1 makes that fail too); import-linter's
## architecture contracts (.importlinter: layers, independent controllers, no cycles, services share only servicekit).
lint: install
	$(BIN)/python -m bandit --quiet --recursive user_management notifications servicekit
	$(BIN)/python scripts/audit_dependencies.py requirements/base.txt requirements/dev.txt
	$(BIN)/lint-imports --no-cache

## Longer property-based run of the contract tests (FUZZ_MAX_EXAMPLES examples per operation).
FUZZ_MAX_EXAMPLES ?= 200
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) $(BIN)/python -m pytest tests/contract -q

clean:
	rm -rf $(VENV) .pytest_cache

## Benchmarks (bench/README.md): full run writes bench/RESULTS.md; bench-quick is the CI smoke run.
## They install their Python extras; the machine needs wrk (nginx, valgrind for one row each): apt-get install -y wrk nginx valgrind
.PHONY: bench bench-quick bench-deps
bench-deps: install
	@command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk (see bench/README.md)"; exit 1; }
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt

bench: bench-deps
	$(BIN)/python -m bench

bench-quick: bench-deps
	$(BIN)/python -m bench --quick

## The busy-machine check (docs/testing.md): the suite three times in a row while every core is kept busy.
.PHONY: test-busy
test-busy: install
	./scripts/busy_check.sh
