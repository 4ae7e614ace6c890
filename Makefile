# The project's interface. `make run` starts the local stack, `make test` runs every test.
# Everything a fresh machine needs is installed by these targets themselves.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
STAMP := $(VENV)/.installed

.PHONY: venv test test-unit clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create the virtualenv with the pinned Python packages.

test-unit: $(STAMP) ## Fast tests only (no JVM, no Kafka).
	$(PYTEST) tests/unit

test: test-unit ## Every test.

clean: ## Remove the virtualenv and local run state (keeps the Maven cache).
	rm -rf $(VENV) .run
