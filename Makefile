# The project's interface. `make run` starts the local stack, `make test` runs every test.
# Everything a fresh machine needs is installed by these targets themselves.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
STAMP := $(VENV)/.installed
MVN := mvn -B -q

.PHONY: help venv jvm-tools run test lint test-unit test-java test-e2e test-reliability test-observability clean

help: ## List the targets.
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The product's components (each a distribution of its own) and the workshop with the test tools, editable.
COMPONENTS := common functions merchant-service simulator

$(STAMP): pyproject.toml constraints.txt $(COMPONENTS:%=%/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt $(COMPONENTS:%=-e ./%) -e './functions[backtest]' -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create the virtualenv with the pinned Python packages.

jvm-tools: ## Make sure a JDK and Maven are installed (apt-get on a fresh Debian machine).
	@dev/scripts/ensure-jvm-tools.sh

run: $(STAMP) jvm-tools tools-observability ## Run the pipeline locally: Kafka, StateFun runtime, functions, merchant-service, simulator, Prometheus, Jaeger.
	$(PY) -m fraud_dev.stack run -- $(ARGS)

# The gates: ruff (lint, format), mypy (strict on the product's components; the workshop, the dashboards and
# the tests too, not strict), the SDK's stubs (dev/typings) against the installed SDK, the import contracts.
PRODUCT_PACKAGES := common/fraud_common functions/fraud_functions functions/fraud_backtest merchant-service/merchant_service simulator/fraud_simulator

lint: $(STAMP) ## ruff, mypy (strict on the product), the SDK stubs against the SDK, the import contracts (pyproject.toml).
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --cache-dir .cache/mypy/product --strict $(PRODUCT_PACKAGES)
	$(VENV)/bin/mypy --cache-dir .cache/mypy/workshop dev/fraud_dev dev/scripts/test_times.py observability tests
	$(PY) -m mypy.stubtest --mypy-config-file dev/typings/stubtest.ini --ignore-missing-stub statefun
	$(VENV)/bin/lint-imports --no-logo --cache-dir .cache/import-linter

test-unit: $(STAMP) ## Fast tests only (no JVM, no Kafka).
	$(PYTEST) tests/unit

test-java: jvm-tools ## The runtime extension's JUnit tests (Maven resolves the jars on first use).
	$(MVN) -f runtime/pom.xml package

test-e2e: $(STAMP) jvm-tools ## End-to-end tests on the real StateFun runtime and Kafka.
	$(PYTEST) tests/e2e

test-reliability: $(STAMP) jvm-tools ## Fault-injection scenarios on the real runtime and Kafka, held to the decisions ledger.
	$(PYTEST) tests/reliability

test-observability: $(STAMP) jvm-tools tools-observability tools-chart ## Every dashboard panel and alert against a real Prometheus, traces in Jaeger, the rules' unit tests.
	$(PYTEST) tests/observability

test: ## Every test, the Go tools building in the background meanwhile (dev/scripts/run-tests); test-cluster too on Linux as root.
	@dev/scripts/run-tests

clean: ## Remove the virtualenv, build output and local run state (checkpoints too); keeps the Maven cache.
	rm -rf $(VENV) .run runtime/*/target

# Pinned tools (dev/tools/versions) built from the Go module proxy into .cache/tools/, and the local
# Kubernetes control plane (docs/kubernetes-local-control-plane.md). Warm runs of the tool targets take a second.
.PHONY: tools tools-chart tools-cluster tools-observability tools-node packages-observability packages-node cluster-up cluster-down \
	test-cluster test-cluster-plane test-cluster-pods cluster-images

tools: tools-chart ## Build the deploy tools (helm, kubeconform, kustomize, ct, conftest, helm-unittest, skaffold) into .cache/tools/bin.
	dev/tools/install --set skaffold

tools-chart: ## Build the chart's tools alone (the deploy tools but skaffold, whose build is the longest) into .cache/tools/bin.
	dev/tools/install --set deploy

tools-cluster: ## Build etcd, Kubernetes and kwok into .cache/tools/bin (cold: see dev/tools/README.md).
	dev/tools/install --set cluster

tools-observability: packages-observability ## Prometheus and promtool (Debian) and the OpenTelemetry Collector and Jaeger (Go module proxy).
	dev/tools/install --set observability

packages-observability: ## Prometheus and promtool from Debian (apt-get on a fresh machine).
	@dev/scripts/ensure-observability-tools.sh

tools-node: packages-node ## The real node's parts: containerd, runc, buildah, mmdebstrap (Debian); CNI plugins, CoreDNS, metrics-server, kube-network-policies (Go).
	dev/tools/install --set node

packages-node: ## containerd, runc, buildah, mmdebstrap and iptables from Debian (apt-get on a fresh machine).
	@dev/scripts/ensure-debian-packages.sh "the real-node cluster" containerd=containerd runc=runc ctr=containerd \
		buildah=buildah mmdebstrap=mmdebstrap iptables=iptables

cluster-up: $(STAMP) tools-cluster ## Start the local Kubernetes control plane (kubeconfig: .run/cluster/kubeconfig).
	$(PY) -m fraud_dev.cluster up

cluster-down: $(STAMP) ## Stop the local control plane and remove its run directory.
	$(PY) -m fraud_dev.cluster down

test-cluster: test-cluster-plane ## Tests of the local control plane, then of the real-node cluster (Linux, root).
	$(MAKE) test-cluster-pods

test-cluster-plane: $(STAMP) tools tools-cluster ## The chart on the local control plane with kwok nodes (Linux, root).
	$(PYTEST) tests/cluster

test-cluster-pods: $(STAMP) jvm-tools tools-chart tools-cluster tools-node ## The chart in real pods on a real kubelet, in a network namespace of its own.
	$(PYTEST) tests/cluster_pods

cluster-images: $(STAMP) jvm-tools packages-node ## The real-node cluster's registry inputs and images, built ahead into .cache/images (no Go tools).
	$(PY) -m tests.cluster_pods.prepare

# Kubernetes packaging (docs/kubernetes.md): checks without a cluster, skaffold dev.
.PHONY: verify-deploy dev

verify-deploy: $(STAMP) tools ## Lint, render, validate and wire-check the chart, kustomize, skaffold.yaml and Dockerfile.
	$(PYTEST) -m deploy tests/deploy

dev: tools ## skaffold dev on kind (operators, Kafka, the app; PROFILES=minikube or kind,kustomize,...).
	PATH="$(CURDIR)/.cache/tools/bin:$$PATH" skaffold dev --profile $(or $(PROFILES),kind) --port-forward

# Every file made from a declaration (dev/fraud_dev/generate): the module spec template, the chart's copies and
# topics, kustomize/, the docs' function, topic and configuration tables. check-generated changes nothing.
.PHONY: generate sync-chart check-generated

generate: $(STAMP) tools ## Write every generated file from its declaration (topics, functions, settings, the chart).
	$(PY) -m fraud_dev.generate

sync-chart: generate ## The former name of `make generate`.

check-generated: $(STAMP) ## Fail, with a diff, when a generated file differs from what `make generate` writes (all but kustomize/, which needs helm).
	$(PY) -m fraud_dev.generate --check --without-helm

# Benchmarks (docs/benchmarks.md): figures, not tests. BENCH=function-server|sdk|end-to-end runs one part.
.PHONY: bench
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) jvm-tools ## Measure the function server, the SDK packages and the pipeline; write docs/benchmarks.{md,json}.
	@dev/scripts/ensure-debian-packages.sh "the benchmarks" wrk=wrk taskset=util-linux
	$(PY) -m fraud_dev.bench $(BENCH) $(ARGS)

# The backtest of candidate model files on the decisions ledger (docs/model.md): ARGS are fraud_backtest's, e.g.
#   make backtest ARGS="run --bootstrap-servers 127.0.0.1:9092 --since 2026-12-01T00:00 --candidate m.json --out .run/backtest"
.PHONY: backtest
backtest: $(STAMP) ## Rescore a range of the decisions ledger with candidate model files: report.md, report.json, plots.
	$(PY) -m fraud_backtest $(ARGS)
