# Two commands a newcomer runs: `make demo` and `make test`. Both create .venv when it is absent
# and reinstall only when pyproject.toml changes, so a second run is fast.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# C sources built by the install: a change to them reinstalls, like a change to pyproject.toml.
NATIVE := policyengine/scan/_jsonl_fields.c policyengine/scan/_keys.c

.PHONY: demo test lint pytest bench clean screenshot

# The demo audits examples/frontier-distillation/: a fresh ledger in out/, the gate, and the legal
# review report as HTML and Markdown. Fixed dates make the reports reproducible.
DEMO_TARGET := halcyon-32b-distill@1.0
DEMO_DATES := --as-of 2025-10-01
DEMO_REPORT := $(BIN)/policyengine report $(DEMO_TARGET) --use distillation --db out/ledger.db \
	$(DEMO_DATES) --generated-at 2025-10-01T12:00:00Z

demo: $(VENV)/.installed
	@mkdir -p out && rm -f out/ledger.db out/ledger.db-wal out/ledger.db-shm
	$(BIN)/policyengine ledger init --db out/ledger.db
	$(BIN)/policyengine ledger import examples/frontier-distillation/lineage.yaml --db out/ledger.db $(DEMO_DATES)
	@status=0; $(BIN)/policyengine check $(DEMO_TARGET) --use distillation --db out/ledger.db $(DEMO_DATES) || status=$$?; \
		echo "gate exit code $$status (0 compliant, 1 violation, 4 needs review)"; test $$status -eq 0 -o $$status -eq 1 -o $$status -eq 4
	$(DEMO_REPORT) -o out/report.html
	$(DEMO_REPORT) -o out/report.md
	@echo "open out/report.html in a browser (print it to PDF from there); out/report.md is for pull requests"

# Refresh the README's pictures of the demo report (needs /usr/bin/chromium and the dev tools).
screenshot: demo $(VENV)/.installed-dev
	$(BIN)/python scripts/screenshot.py out/report.html docs/images

test: $(VENV)/.installed-dev lint pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check policyengine tests bench scripts
	$(BIN)/ruff format --check policyengine tests bench scripts
	$(BIN)/mypy policyengine
	$(BIN)/lint-imports

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python bench/load_rules.py
	$(BIN)/python bench/ledger_fingerprints.py
	$(BIN)/python bench/ledger_lineage.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/selfid.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml $(NATIVE) | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(NATIVE) | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache out
