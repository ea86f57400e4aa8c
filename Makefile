# Two commands a newcomer runs: `make demo` and `make test`. Both create .venv when it is absent
# and reinstall only when pyproject.toml changes, so a second run is fast.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint pytest bench clean

demo: $(VENV)/.installed
	$(BIN)/policyengine rules list
	$(BIN)/policyengine rules test --coverage

test: $(VENV)/.installed-dev lint pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check policyengine tests bench
	$(BIN)/ruff format --check policyengine tests bench
	$(BIN)/mypy policyengine
	$(BIN)/lint-imports

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python bench/load_rules.py
	$(BIN)/python bench/ledger_fingerprints.py
	$(BIN)/python bench/ledger_lineage.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
