# peakwatch — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := app consumers core alerts simulator storage

.DEFAULT_GOAL := help
.PHONY: help install system-deps lint format typecheck test test-unit demo bench eval clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV) ## create .venv with peakwatch and its locked dependencies
	$(UV) sync --frozen --python $(PYTHON)
	@echo "installed: $(BIN)/peakwatch"

system-deps: ## Debian packages the tests start for real (PostgreSQL, Prometheus, Alertmanager, Chromium), and kustomize
	bash scripts/install-system-deps.sh
	bash scripts/install-tools.sh >/dev/null

lint: install ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## apply ruff's fixes and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install system-deps ## every test, against a real Kafka broker, PostgreSQL, Prometheus, Alertmanager, Chromium
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

test-unit: install ## the pure tests only (no servers)
	$(BIN)/pytest -m "not integration"

demo: install ## broker + service + Double-11 simulator; prints URLs and demo keys; Ctrl-C stops all
	$(BIN)/python -m app.demo

bench: install system-deps ## benchmarks against Quix Streams and Bytewax; writes docs/BENCHMARKS.md
	$(UV) sync --frozen --group bench
	$(BIN)/python -m bench

eval: install ## every scenario through the service; writes docs/DETECTION.md
	$(BIN)/python -m bench.detection

clean: ## remove the virtualenvs and local state (not the Maven cache)
	rm -rf .venv .uv .peakwatch .pytest_cache .mypy_cache .ruff_cache
