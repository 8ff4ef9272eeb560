# Every target sets up (or reuses) .venv by itself, so a fresh clone needs only `make demo` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# make test installs the optional Spark engine too; make demo needs only the core.
TEST_EXTRAS ?= dev,spark

.DEFAULT_GOAL := help

.PHONY: help demo test lint bench clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-6s %s\n", $$1, $$2}'

TEST_STAMP := $(STAMP)-test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

BENCH_STAMP := $(STAMP)-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(TEST_EXTRAS)]'
	@touch $@

demo: $(STAMP) ## Set up, then run the main job on embedded defaults
	$(BIN)/openscore demo

test: $(TEST_STAMP) ## Set up, then run the tests (with the Spark engine)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

bench: $(BENCH_STAMP) ## Run the benchmarks and print their figures
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/features.py
	$(BIN)/python bench/service.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/scoring_throughput.py
	$(BIN)/python bench/web.py

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) .openscore
