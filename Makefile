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
# The LMS side on Python 3.12 with Open edX Verawood's pins (constraints/openedx-verawood.txt).
PY312 ?= $(shell PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null || command -v python3.12)
LMS312 := .venv-lms312
LMS_CONSTRAINTS := constraints/openedx-verawood.txt
# Tutor's own environment, a second venv: tutor 22 needs click>=8.4 while faust-streaming
# pins click<8.4. It holds Tutor from PyPI, the plugin (tutor-plugin/, editable), the
# package's core (the plugin validates rosters and rule packs with it) and check-jsonschema
# (its wheel ships the Compose Specification schema the tests validate against).
TUTOR_VENV := .venv-tutor
TUTOR_STAMP := $(TUTOR_VENV)/.installed
TUTOR_VERSION := 22.0.3
CHECK_JSONSCHEMA_VERSION := 0.39.0

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@scripts/install-system-deps.sh  # mysqlclient builds against libmariadb-dev
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[lms,engine,rocksdb,dev]'
	@touch $(STAMP)

$(LMS312)/.installed: pyproject.toml $(LMS_CONSTRAINTS)
	@test -n "$(PY312)" || { echo "Python 3.12 not found (pyenv 3.12.1, or python3.12 on PATH)"; exit 1; }
	@scripts/install-system-deps.sh
	@test -x $(LMS312)/bin/python || $(PY312) -m venv $(LMS312)
	$(LMS312)/bin/python -m pip install -q --upgrade pip
	$(LMS312)/bin/python -m pip install -q -c $(LMS_CONSTRAINTS) -e '.[lms,lms-test]'
	@touch $@

lms312: $(LMS312)/.installed ## create .venv-lms312/: the LMS side on Python 3.12, Verawood's pins

install: $(STAMP) ## create .venv/ with the package and all extras (cached)
	@scripts/install-system-deps.sh

$(TUTOR_STAMP): tutor-plugin/pyproject.toml pyproject.toml
	@test -x $(TUTOR_VENV)/bin/python || python3 -m venv $(TUTOR_VENV)
	$(TUTOR_VENV)/bin/python -m pip install -q --upgrade pip
	$(TUTOR_VENV)/bin/python -m pip install -q 'tutor==$(TUTOR_VERSION)' \
		'check-jsonschema==$(CHECK_JSONSCHEMA_VERSION)' types-PyYAML -e ./tutor-plugin -e .
	@touch $@

tutor-venv: $(TUTOR_STAMP) ## create .venv-tutor/: Tutor $(TUTOR_VERSION) with the plugin (cached)

services-up: install ## start local Kafka (KRaft) and Redis; idempotent
	$(SERVICES) start

services-down: ## stop the local Kafka and Redis this folder started
	$(SERVICES) stop

status: ## show whether local Kafka and Redis run
	@$(SERVICES) status

check: install tutor-venv ## ruff, mypy over the three packages and the Tutor plugin, import-linter contracts
	$(VENV)/bin/ruff check rules stream_processors xblocks tests scripts dashboards tutor-plugin
	$(VENV)/bin/mypy
	$(TUTOR_VENV)/bin/mypy --config-file tutor-plugin/pyproject.toml tutor-plugin/tutorfacilitation
	$(VENV)/bin/lint-imports

test: install compiled lms312 ## everything: checks, unit, contract, integration (real Kafka, Redis, schema registry, MariaDB), e2e; the LMS side again on Python 3.12; unit and contract again on the compiled build
	$(SERVICES) run kafka redis registry mariadb -- $(MAKE) --no-print-directory _test-inner

_test-inner:
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory helm-check promtool-check tutor-check
	# The chart tests and the Tutor plugin tests already ran in helm-check and tutor-check.
	FACILITATION_COMPILED_BUILD=$(COMPILED) $(PY) -m pytest -ra --ignore=tests/unit/test_helm_chart.py \
		--ignore=tests/tutor_plugin $(PYTEST_ARGS)
	$(MAKE) --no-print-directory _test-lms312
	$(MAKE) --no-print-directory test-compiled

test-lms312: install lms312 ## the LMS side's tests on Python 3.12 (Verawood pins), with the services
	$(SERVICES) run -- $(MAKE) --no-print-directory _test-lms312

_test-lms312:
	# The engine (the worker of the end-to-end test) runs from .venv, as it runs apart from the LMS.
	FACILITATION_LMS_ONLY=1 FACILITATION_ENGINE_CLI=$(abspath $(VENV))/bin/facilitation \
		$(LMS312)/bin/python -m pytest -ra -m lms -p no:cacheprovider $(PYTEST_ARGS)

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

tutor-check: install tutor-venv ## Tutor plugin: `tutor config save` in a temporary root; compose schema, kustomize + kubeconform, LMS settings, jobs
	$(SERVICES) run -- $(PY) -m pytest -q tests/tutor_plugin $(PYTEST_ARGS)

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

.PHONY: help install lms312 tutor-venv tutor-check services-up services-down status check test _test-inner test-lms312 _test-lms312 test-unit test-compiled compiled helm-check promtool-check dashboards demo bench clean
