# The two commands: `make dev` (the local cloud serving the API, with the examples deployed) and
# `make test` (everything CI checks). Both install what they need first.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
PORT ?= 8080
# pytest processes for `make test`. More than the cores: the end-to-end tests spend most of their
# time waiting on runs in the local cloud. Each module stays in one process (--dist loadfile).
TEST_WORKERS ?= 4
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
SAM_INSTALLED := $(SAM_VENV)/.installed
# The web console (console/): its own npm project, built into console/dist (never committed).
CONSOLE := console
CONSOLE_INSTALLED := $(CONSOLE)/node_modules/.installed
CONSOLE_BUILT := $(CONSOLE)/dist/index.html
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src $(CONSOLE)/public -type f 2>/dev/null) \
	$(CONSOLE)/index.html $(CONSOLE)/vite.config.ts $(CONSOLE)/tsconfig.json
# The console's browser tests drive Debian's Chromium; Playwright never downloads a browser.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: dev test install lint format unit integration e2e sam-validate sam-build asl-validate compile-examples bench bench-compile clean console console-test browser

dev: install console
	$(BIN)/signoff dev --port $(PORT)

test: install $(SAM_INSTALLED) lint console console-test browser
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile
	$(MAKE) --no-print-directory asl-validate sam-validate sam-build

install: $(INSTALLED) $(NODE_INSTALLED)

$(INSTALLED): pyproject.toml layers/core/requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_INSTALLED): $(CONSOLE)/package.json $(CONSOLE)/package-lock.json
	cd $(CONSOLE) && npm ci --no-audit --no-fund
	touch $@

# Type-checks, then builds console/dist, which the local cloud serves at /console.
console: $(CONSOLE_BUILT)

$(CONSOLE_BUILT): $(CONSOLE_INSTALLED) $(CONSOLE_SOURCES)
	cd $(CONSOLE) && npm run build

# The console's component tests (Vitest).
console-test: $(CONSOLE_INSTALLED)
	cd $(CONSOLE) && npm test

# Debian's Chromium for the console's end-to-end tests (CI runs as root on Debian).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; \
	fi

# SAM CLI lives in its own environment: its pins must not move the project's.
$(SAM_INSTALLED):
	$(PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==1.170.0
	touch $@

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	$(BIN)/pytest -q tests/integration

e2e: install
	$(BIN)/pytest -q tests/e2e

# The examples' compiled definitions are checked in (a unit test fails when they drift).
compile-examples: $(INSTALLED)
	$(BIN)/python -m signoff.compiler.examples statemachines/examples

# The lifecycle events' JSON Schema, generated from the envelope (a unit test fails on drift).
.PHONY: events-schema
events-schema: $(INSTALLED)
	$(BIN)/python -m signoff.events.schema > docs/events.schema.json

# Every compiled definition passes asl-validator (one run checks them all; any invalid one fails).
asl-validate: install
	npx --no-install asl-validator $(foreach definition,$(wildcard statemachines/examples/*.asl.json),--json-path $(definition))

sam-validate: $(SAM_INSTALLED)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --region us-east-1

sam-build: $(SAM_INSTALLED)
	SAM_CLI_TELEMETRY=0 PATH="$(dir $(PY)):$$PATH" $(SAM_VENV)/bin/sam build --region us-east-1

bench: install
	$(BIN)/python bench/run_latency.py

# Compile generated graphs of 10, 100 and 500 nodes: time, definition size, states per node.
bench-compile: $(INSTALLED)
	$(BIN)/python bench/compile.py

clean:
	rm -rf $(VENV) $(SAM_VENV) node_modules .aws-sam $(CONSOLE)/node_modules $(CONSOLE)/dist
