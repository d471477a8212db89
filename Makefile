# One target per chore; `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 8000
EVENTS ?= 100000

.PHONY: help install demo stop dev test test-fast worker migrate seed screenshots bench bench-quick up

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@echo "==> Creating $(VENV) and installing the pinned requirements (first time: 1-2 minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@bash -c 'set -o pipefail; $(BIN)/pip install -r requirements-dev.txt -e . \
		| { grep --line-buffered -E "^(Collecting|Successfully installed)" | cut -c1-100; true; }'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)
	@echo "    installed"

install: $(STAMP)  ## Create the virtualenv and install pinned requirements

demo: install  ## Run the demo (make demo PORT=8001): embedded PostgreSQL, seeded project, server
	$(BIN)/sightline demo --port $(PORT)

stop:  ## Stop the embedded PostgreSQL the demo started (if it is still running)
	$(BIN)/sightline stop

seed: install  ## Add demo traffic to a project: make seed PROJECT=p_… [EVENTS=100000]
	@test -n "$(PROJECT)" || { echo "usage: make seed PROJECT=p_… [EVENTS=100000] (sightline project list shows ids)"; exit 2; }
	$(BIN)/sightline seed --project $(PROJECT) --events $(EVENTS)

dev: install  ## Run the API server with the current SIGHTLINE_* settings
	$(BIN)/sightline serve

worker: install  ## Run a background worker
	$(BIN)/sightline worker

migrate: install  ## Apply database migrations
	$(BIN)/sightline migrate

up:  ## Start the local PostgreSQL and Redis servers when they are not running
	bash scripts/services-up.sh

test: install  ## Run the whole test suite against real PostgreSQL and Redis (and Chromium), then, alone, the latency comparisons and the -m cluster scale-out suite
	bash scripts/browser-up.sh
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not cluster and not isolation"
	$(BIN)/python -m pytest -m "isolation or cluster"

test-fast: install  ## Run the tests, stopping at the first failure
	bash scripts/browser-up.sh
	$(BIN)/python -m pytest -x -n 2 --dist loadgroup

screenshots: install  ## Browser tests that write docs/dashboard.png and docs/share.png
	bash scripts/browser-up.sh
	SIGHTLINE_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/browser/test_dashboard.py

bench: install  ## Full benchmark (10M events); writes docs/benchmarks.md
	$(BIN)/sightline bench

bench-quick: install  ## Quick benchmark for development (under 3 minutes)
	$(BIN)/sightline bench --quick
