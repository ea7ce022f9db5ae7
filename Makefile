# The two commands of the README: `make run` and `make test`. The Dockerfile runs the same
# `install-prod` and `train-sample` targets, so CI exercises the image's steps.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= data/sample_customers.csv
MODELS ?= models
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-prod train-sample run test lint bench bench-serve bench-assign bench-reload clean

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed-dev

# Non-editable install of the runtime dependencies only (what the image ships).
install-prod:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-cache-dir --upgrade pip
	$(BIN)/python -m pip install --quiet --no-cache-dir .

# Train on the bundled sample unless a model is already published.
train-sample:
	test -f $(MODELS)/LATEST || $(BIN)/segments train --data $(DATA) --models-dir $(MODELS)

run: install train-sample
	@echo "API docs: http://$(HOST):$(PORT)/docs"
	$(BIN)/segments serve --host $(HOST) --port $(PORT) --models-dir $(MODELS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/train.py

# The service against an echo baseline, and a 1,000,000-row file through `segments assign`.
bench-serve: install
	$(BIN)/python bench/serve.py

bench-assign: install
	$(BIN)/python bench/assign_file.py

# 2 workers at ~200 req/s for 60 s on 127.0.0.1 while 10 valid and 10 broken models are published.
bench-reload: install
	$(BIN)/python bench/reload_under_load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
