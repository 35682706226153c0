# Two commands set everything up on a fresh machine: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt | cksum | cut -d' ' -f1)

.PHONY: install dev test clean

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Run both services on embedded defaults (in-memory MongoDB, local Redis).
dev: install
	./scripts/dev.sh

## Run the whole test suite.
test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache

## Benchmarks (bench/README.md): full run writes bench/RESULTS.md; bench-quick is the CI smoke run.
.PHONY: bench bench-quick
bench: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench

bench-quick: install
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench --quick
