# The project's interface. `make run` starts the local stack, `make test` runs every test.
# Everything a fresh machine needs is installed by these targets themselves.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
STAMP := $(VENV)/.installed
MVN := mvn -B -q

.PHONY: help venv jvm-tools run test test-unit test-java test-e2e clean

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create the virtualenv with the pinned Python packages.

jvm-tools: ## Make sure a JDK and Maven are installed (apt-get on a fresh Debian machine).
	@scripts/ensure-jvm-tools.sh

run: $(STAMP) jvm-tools ## Run the pipeline locally: Kafka, StateFun runtime, functions, merchant-service, simulator.
	$(PY) -m fraud_stack run -- $(ARGS)

test-unit: $(STAMP) ## Fast tests only (no JVM, no Kafka).
	$(PYTEST) tests/unit

test-java: jvm-tools ## The runtime extension's JUnit tests (Maven resolves the jars on first use).
	$(MVN) -f runtime/pom.xml package

test-e2e: $(STAMP) jvm-tools ## End-to-end tests on the real StateFun runtime and Kafka.
	$(PYTEST) tests/e2e

test: test-unit test-java test-e2e ## Every test.

clean: ## Remove the virtualenv, build output and local run state (checkpoints too); keeps the Maven cache.
	rm -rf $(VENV) .run runtime/*/target
