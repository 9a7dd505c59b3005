# Two entry points for a fresh machine: `make audit` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.9.5
SAMPLE := data/sample/ahrefs_sample.csv
OUT    ?= audit-out

.PHONY: setup audit test lint bench features model clean
setup: $(VENV)/.installed

# uv lives inside the venv, so nothing is installed outside the repository.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

audit: setup
	$(BIN)/toxiclinks audit $(SAMPLE) --out $(OUT) --existing-disavow data/sample/existing_disavow.txt --force

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/run.py

features: setup
	$(BIN)/python -m toxiclinks.features > features/FEATURES.md

model: setup
	$(BIN)/toxiclinks train --config training/params.json --out models/default

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
