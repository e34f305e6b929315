# promobot: `make demo` runs the embedded story, `make test` the whole suite, `make bench` the benchmarks
# (BENCH_SMOKE=1: a tiny run). Each sets up .venv first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: venv demo test lint unit bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: venv
	$(BIN)/promobot demo $(DEMO_DIR)

lint: venv
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python bench/run.py

unit: venv
	$(BIN)/pytest -q tests/domain tests/service

clean:
	rm -rf $(VENV) $(DEMO_DIR) test-output
