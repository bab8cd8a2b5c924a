# One task runner. `make help` lists the targets.
.DEFAULT_GOAL := help
PYTHON ?= python

.PHONY: help install test test-all lint format serve demo bench ci migrations messages

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: ## install the package in editable mode with test and lint tools
	pip install -e '.[dev]'

test: ## the fast tier: every test but the load and browser (e2e) ones
	pytest -m "not load and not e2e"

test-all: ## every test, as the README's test command runs them
	pytest

lint: ## check style, formatting, types and the import layers
	ruff check .
	ruff format --check .
	mypy
	lint-imports

format: ## fix what ruff can fix and format the code
	ruff check --fix .
	ruff format .

serve: ## serve the app on the configured database
	resourcemap serve

demo: ## load the synthetic demo city and serve it
	resourcemap demo

bench: ## run every benchmark script in bench/
	@set -e; for script in bench/*.py; do \
		[ -e "$$script" ] || { echo "no benchmarks in bench/"; break; }; \
		echo "== $$script"; $(PYTHON) "$$script"; \
	done

ci: ## what CI runs: provision PostgreSQL and Chromium; lint; every test; moved clocks
	bash .ci/run

migrations: ## write a migration for model changes (tortoise-orm's autodetector)
	tortoise -c resourcemap.db.MAKEMIGRATIONS_CONFIG makemigrations

messages: ## extract texts, update the zh_CN/en catalogues and compile them (.mo is committed)
	$(PYTHON) tools/messages.py
