# The two commands of the README: `make run` and `make test`. The Dockerfile runs the same
# `install-prod` and `train-sample` targets, so CI exercises the image's steps.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= data/sample_customers.csv
MODELS ?= models
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-prod install-dashboard train-sample image-steps run test browser-deps lint bench bench-serve bench-report bench-assign bench-dask bench-dask-features bench-reload bench-uplift bench-hostile bench-invalid bench-features bench-peers clean

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,dashboard]'
	touch $@

install: $(VENV)/.installed-dev

# Non-editable install of the runtime dependencies only (what the image ships).
install-prod:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-cache-dir --upgrade pip
	$(BIN)/python -m pip install --quiet --no-cache-dir .

# The dashboard image: the runtime install plus the `dashboard` extra (Streamlit, Plotly).
install-dashboard:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-cache-dir --upgrade pip
	$(BIN)/python -m pip install --quiet --no-cache-dir '.[dashboard]'

# Train on the bundled sample unless a model is already published.
train-sample:
	test -f $(MODELS)/LATEST || $(BIN)/segments train --data $(DATA) --models-dir $(MODELS)

# The Dockerfile's steps, run outside Docker (no engine on CI): the builder's install-prod
# into a fresh venv (without Streamlit), the trainer's train-sample, then the api's CMD and
# its HEALTHCHECK.
IMAGE ?= build/image
image-steps:
	rm -rf $(IMAGE)
	$(MAKE) --no-print-directory install-prod VENV=$(IMAGE)/venv
	if $(IMAGE)/venv/bin/python -c 'import dask' 2>/dev/null; then echo "image steps: the service venv carries Dask (an optional extra)"; exit 1; fi
	$(IMAGE)/venv/bin/python -c "import importlib.util as u; assert not [m for m in ('streamlit', 'plotly') if u.find_spec(m)], 'the api image carries the dashboard extra'"
	$(MAKE) --no-print-directory train-sample VENV=$(IMAGE)/venv MODELS=$(IMAGE)/models
	port=$$($(IMAGE)/venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	$(IMAGE)/venv/bin/segments serve --port $$port --models-dir $(IMAGE)/models > $(IMAGE)/serve.log 2>&1 & pid=$$!; \
	ok=0; for i in $$(seq 90); do \
	  $(IMAGE)/venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$$port/health/ready', timeout=2)" 2>/dev/null && ok=1 && break; \
	  sleep 1; done; \
	kill $$pid; wait $$pid; \
	if [ $$ok = 1 ]; then echo "image steps: install-prod, train-sample, serve + healthcheck passed"; \
	else cat $(IMAGE)/serve.log; echo "image steps: /health/ready never answered 200"; exit 1; fi

# The docs address first: installing and training the first model take a while.
run:
	@echo "API docs: http://$(HOST):$(PORT)/docs (after the install and the first training)"
	@$(MAKE) --no-print-directory install train-sample
	$(BIN)/segments serve --host $(HOST) --port $(PORT) --models-dir $(MODELS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy training service dashboard

# The browser tests need Debian's chromium and chromium-driver, the alert-rule test promtool
# (Debian's prometheus): installed when missing and
# apt-get can run (root, or sudo without a password); else those tests skip with the reason.
SYSTEM_TEST_PACKAGES := chromium chromium-driver prometheus
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then echo "system test tools: no apt-get, install chromium, chromedriver and promtool"; \
	elif [ "$$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_TEST_PACKAGES); \
	elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_TEST_PACKAGES); \
	else echo "system test tools missing and no root/sudo: the browser and promtool tests will skip"; fi

test: install browser-deps
	$(BIN)/ruff check .
	$(BIN)/mypy training service dashboard
	$(BIN)/hadolint Dockerfile
	$(MAKE) --no-print-directory image-steps
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/train.py

# The service against an echo baseline, and a 1,000,000-row file through `segments assign`.
bench-serve: install
	$(BIN)/python bench/serve.py

bench-report: install
	$(BIN)/python bench/report.py

bench-features: install
	$(BIN)/python bench/features.py

bench-assign: install
	$(BIN)/python bench/assign_file.py

# 20M customers on a LocalCluster of 2 workers x 1 GB, against the single-process path.
bench-dask: install
	$(BIN)/python bench/dask_assign.py

# Features of a 20M-line log on a LocalCluster of 2 workers x 1 GB, against the one-file recipe.
bench-dask-features: install
	$(BIN)/python bench/dask_features.py

# 2 workers at ~200 req/s for 60 s on 127.0.0.1 while 10 valid and 10 broken models are published.
bench-reload: install
	$(BIN)/python bench/reload_under_load.py

# `segments uplift` on 1,000,000 assignments with simulated outcomes.
bench-uplift: install
	$(BIN)/python bench/uplift.py

# A 100 MB header, a header line every 2 s, 2,400 half-sent requests at nofile 1,024.
bench-hostile: install train-sample
	$(BIN)/python bench/hostile.py $(MODELS)

# /health/live while 4 clients post invalid 10,000-customer batches back to back.
bench-invalid: install train-sample
	$(BIN)/python bench/invalid_flood.py $(MODELS)

# Our service against MLflow, BentoML and a bare FastAPI echo in one run (venvs in build/peers).
bench-peers: install
	$(BIN)/python bench/peers.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache .hypothesis
