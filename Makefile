# Jumin — the two commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres lint bench bench-small install clean two-cities

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) が見つかりません。Python 3.11 をインストールしてください (apt-get install python3.11 python3.11-venv)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## Set everything up on SQLite and serve the demo on http://localhost:8000
demo: $(STAMP)
	$(BIN)/jumin demo

## Two cities and netsim on loopback: a card-holding family moves (特例転入) and a resident
## moves with a paper 転出証明書; each step printed (docs/guide/two-cities.md)
two-cities: $(STAMP)
	$(BIN)/python -m jumin.jukinet.twocities

## The whole suite on SQLite (and on PostgreSQL when JUMIN_TEST_POSTGRES_URL is set or a
## throwaway cluster can be started; see .ci/pg)
test: $(STAMP)
	bash .ci/test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/jumin makemigrations --check --dry-run
	$(BIN)/jumin netsim makemigrations --check --dry-run

## Benchmarks at full scale (1,000,000 residents)
bench: $(STAMP)
	bash .ci/bench full

bench-small: $(STAMP)
	bash .ci/bench small

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
