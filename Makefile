# openedx-facilitation — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVICES := $(PY) scripts/devservices.py
# The mypyc-compiled build (setup.py): a whole installed copy of the packages, used by
# putting it first on PYTHONPATH; rebuilt when a source file changes.
COMPILED := build/compiled
SOURCES := $(shell find rules stream_processors -name '*.py') setup.py pyproject.toml
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

test: install compiled ## everything: checks, unit, contract, integration (real Kafka, Redis, schema registry), e2e; unit and contract again on the compiled build
	$(SERVICES) run kafka redis registry -- $(MAKE) --no-print-directory _test-inner

_test-inner:
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory helm-check promtool-check
	# The chart tests already ran in helm-check.
	FACILITATION_COMPILED_BUILD=$(COMPILED) $(PY) -m pytest -ra --ignore=tests/unit/test_helm_chart.py $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-compiled

test-compiled: compiled ## unit and contract tests on the mypyc-compiled build (no services)
	FACILITATION_EXPECT_COMPILED=1 PYTHONPATH=$(COMPILED) $(PY) -m pytest -q -p no:cacheprovider \
		tests/unit tests/contract --ignore=tests/unit/test_helm_chart.py $(PYTEST_ARGS)

compiled: $(COMPILED)/.built ## build the mypyc-compiled package into build/compiled (about a minute)

$(COMPILED)/.built: $(STAMP) $(SOURCES)
	# setuptools' own build/ directories would put a module deleted since into the build
	find build -mindepth 1 -maxdepth 1 ! -name compiled -exec rm -rf {} + 2>/dev/null || true
	rm -rf $(COMPILED)
	FACILITATION_MYPYC=1 $(PY) -m pip install -q --no-deps --no-build-isolation --target $(COMPILED) .
	@touch $@

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

bench: install compiled ## print benchmark figures next to same-run baselines
	$(SERVICES) run -- $(PY) -m benchmarks

clean: services-down ## stop services and remove local state (keeps caches)
	rm -rf .run

.PHONY: help install services-up services-down status check test _test-inner test-unit test-compiled compiled helm-check promtool-check dashboards demo bench clean
