# Two commands work on a fresh machine: `make demo` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,redis]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cunwu demo $(DEMO_ARGS)

# Workers: one per CPU, at most 4 (the end-to-end tests start processes of their own).
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python bench/dispatch.py

clean:
	rm -rf $(VENV) .pytest_cache
