# One task runner. `make help` lists the targets.
.DEFAULT_GOAL := help
PYTHON ?= python

.PHONY: help install test lint format serve demo bench ci migrations messages

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

install: ## install the package in editable mode with test and lint tools
	pip install -e '.[dev]'

test: ## run the test suite
	pytest

lint: ## check style, formatting and types
	ruff check .
	ruff format --check .
	mypy

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

ci: ## what CI runs: provision PostgreSQL and Chromium, then test
	bash .ci/run

migrations: ## write a migration for model changes (tortoise-orm's autodetector)
	tortoise -c resourcemap.db.MAKEMIGRATIONS_CONFIG makemigrations

messages: ## extract texts, update the zh_CN/en catalogues and compile them (.mo is committed)
	$(PYTHON) tools/messages.py
