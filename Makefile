# openedx-facilitation — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVICES := $(PY) scripts/devservices.py
PYTEST_ARGS ?=

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[lms,engine,rocksdb,dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv/ with the package and all extras (cached)
	@scripts/install-system-deps.sh

services-up: install ## start local Kafka (KRaft) and Redis; idempotent
	$(SERVICES) start

services-down: ## stop the local Kafka and Redis this folder started
	$(SERVICES) stop

status: ## show whether local Kafka and Redis run
	@$(SERVICES) status

check: install ## ruff, mypy over the three packages, import-linter contracts
	$(VENV)/bin/ruff check rules stream_processors xblocks tests scripts dashboards
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: install ## everything: checks, unit, contract, integration (real Kafka + Redis), e2e
	$(SERVICES) run -- $(MAKE) --no-print-directory _test-inner

_test-inner:
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory helm-check promtool-check
	# The chart tests already ran in helm-check.
	$(PY) -m pytest -ra --ignore=tests/unit/test_helm_chart.py $(PYTEST_ARGS)

test-unit: install ## fast tests only (no services)
	$(PY) -m pytest -ra tests/unit tests/contract $(PYTEST_ARGS)

helm-check: install ## helm lint, helm template (default + ci/ values) checked offline by kubeconform, chart tests
	scripts/helm-check.sh
	$(PY) -m pytest -q tests/unit/test_helm_chart.py

promtool-check: install ## promtool: check the alerting rules and run their unit tests
	promtool check rules dashboards/prometheus/alerts.yaml
	cd dashboards/prometheus && promtool test rules alerts_test.yaml

dashboards: install ## regenerate dashboards/*.json, the chart's copies and docs/metrics.md
	$(PY) dashboards/generate.py

demo: install ## run the engine end to end on a small simulated course (Ctrl-C stops all)
	$(SERVICES) run -- $(PY) scripts/demo.py

bench: install ## print benchmark figures next to same-run baselines
	$(SERVICES) run -- $(PY) -m benchmarks

clean: services-down ## stop services and remove local state (keeps caches)
	rm -rf .run

.PHONY: help install services-up services-down status check test _test-inner test-unit helm-check promtool-check dashboards demo bench clean
