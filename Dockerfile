# syntax=docker/dockerfile:1
# One Dockerfile, one target per component (skaffold builds each by target):
#   functions, merchant-service, simulator  - Python 3.11 on slim Debian 12, venv at /opt/venv
#   statefun-runtime                        - the upstream Flink 1.16.2 image + StateFun 3.3.0 + our extension
#
# The Python targets call `python3` (base) and `/opt/venv/bin/python` (venv) by path only, run as a
# numeric non-root user and write nothing outside /tmp, so they run with a read-only root filesystem
# and build unchanged on the upstream base or on a Debian 12 root filesystem imported under its name
# (Debian's python3 is 3.11; such a rootfs needs the python3-venv package).
# tests/deploy/test_dockerfile.py checks these properties and runs each declared entrypoint.

ARG PYTHON_BASE=python:3.11-slim-bookworm
ARG FLINK_BASE=flink:1.16.2-scala_2.12-java11
ARG MAVEN_BASE=maven:3.9.9-eclipse-temurin-11

# ---------------------------------------------------------------- Python: one venv per component
# Each image holds only its component and fraud_common (each a distribution with its own pyproject.toml) and
# only their dependencies. Dependencies come first, read from the two pyproject.toml files alone, so a change
# of code reinstalls nothing; pip's cache is a build cache mount, never a layer.
FROM ${PYTHON_BASE} AS python-builder
# DEPENDENCIES_OF prints the third-party dependencies of the components named as arguments (one per line).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    DEPENDENCIES_OF="import sys, tomllib; print(*(d for c in sys.argv[1:] for d in tomllib.load(open(c + '/pyproject.toml', 'rb'))['project']['dependencies'] if not d.startswith('fraud-')), sep=chr(10))"
WORKDIR /src
COPY constraints.txt common/pyproject.toml ./
RUN mkdir common && mv pyproject.toml common/ && python3 -m venv /opt/venv

FROM python-builder AS functions-venv
COPY functions/pyproject.toml functions/
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -c "$DEPENDENCIES_OF" common functions >requirements.txt \
 && /opt/venv/bin/python -m pip install -c constraints.txt -r requirements.txt
COPY common/ common/
COPY functions/ functions/
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python -m pip install --no-deps ./common ./functions && /opt/venv/bin/python -m pip uninstall --yes pip

FROM python-builder AS merchant-service-venv
COPY merchant-service/pyproject.toml merchant-service/
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -c "$DEPENDENCIES_OF" common merchant-service >requirements.txt \
 && /opt/venv/bin/python -m pip install -c constraints.txt -r requirements.txt
COPY common/ common/
COPY merchant-service/ merchant-service/
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python -m pip install --no-deps ./common ./merchant-service && /opt/venv/bin/python -m pip uninstall --yes pip

FROM python-builder AS simulator-venv
COPY simulator/pyproject.toml simulator/
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -c "$DEPENDENCIES_OF" common simulator >requirements.txt \
 && /opt/venv/bin/python -m pip install -c constraints.txt -r requirements.txt
COPY common/ common/
COPY simulator/ simulator/
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/python -m pip install --no-deps ./common ./simulator && /opt/venv/bin/python -m pip uninstall --yes pip

# ---------------------------------------------------------------- Python: the images
FROM ${PYTHON_BASE} AS python-runtime
# No .pyc writes on a read-only root; HOME on the /tmp emptyDir for any library that wants one.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001

FROM python-runtime AS functions
COPY --from=functions-venv /opt/venv /opt/venv
ENV FUNCTIONS_HOST=0.0.0.0 FUNCTIONS_PORT=8000
EXPOSE 8000
ENTRYPOINT ["/opt/venv/bin/python", "-m", "fraud_functions.server"]

FROM python-runtime AS merchant-service
COPY --from=merchant-service-venv /opt/venv /opt/venv
ENV MERCHANT_SERVICE_HOST=0.0.0.0 MERCHANT_SERVICE_PORT=8090 MERCHANT_ADMIN_ENABLED=false
EXPOSE 8090
ENTRYPOINT ["/opt/venv/bin/python", "-m", "merchant_service"]

FROM python-runtime AS simulator
COPY --from=simulator-venv /opt/venv /opt/venv
ENV SIMULATOR_HEALTH_HOST=0.0.0.0 SIMULATOR_HEALTH_PORT=8080
EXPOSE 8080
ENTRYPOINT ["/opt/venv/bin/python", "-m", "fraud_simulator"]
CMD ["run"]

# ---------------------------------------------------------------- StateFun runtime: jars
FROM ${MAVEN_BASE} AS runtime-jars
WORKDIR /build
# The reactor needs every module's pom; only the extension is built (its JUnit tests run).
COPY runtime/pom.xml runtime/pom.xml
COPY runtime/launcher/pom.xml runtime/launcher/pom.xml
COPY runtime/extension/ runtime/extension/
# The extension's tests read the module spec template (every ingress of the spec the runtime runs is tolerant).
COPY runtime/conf/module.yaml.tmpl runtime/conf/module.yaml.tmpl
RUN mvn -B -q -f runtime/pom.xml -pl extension -am package \
 && mvn -B -q dependency:copy -Dartifact=org.apache.flink:statefun-flink-distribution:3.3.0 \
        -DoutputDirectory=/build/lib -Dmdep.stripVersion=true \
 && cp runtime/extension/target/statefun-fraud-extension.jar /build/lib/

# ---------------------------------------------------------------- StateFun runtime image
FROM ${FLINK_BASE} AS statefun-runtime
# The FlinkDeployment names these paths (charts/fraud-platform/values.yaml, statefun.image.*):
# the job's entry class is on the system classpath, the extension registers its ingress through the SPI.
# The Prometheus reporter is already in the image as a plugin (plugins/metrics-prometheus, 1.16.2);
# the 1.16.1 jar from Maven Central is only what the local launcher needs, so it is not added twice.
COPY --from=runtime-jars --chown=9999:9999 /build/lib/statefun-flink-distribution.jar /opt/flink/lib/statefun-flink-distribution.jar
COPY --from=runtime-jars --chown=9999:9999 /build/lib/statefun-fraud-extension.jar /opt/flink/lib/statefun-fraud-extension.jar
# S3-compatible checkpoint storage: the plugin is enabled at build time because ENABLE_BUILT_IN_PLUGINS
# would write to /opt/flink/plugins at start, which a read-only root filesystem forbids.
RUN mkdir -p /opt/flink/plugins/s3-fs-presto \
 && ln -s /opt/flink/opt/flink-s3-fs-presto-1.16.2.jar /opt/flink/plugins/s3-fs-presto/flink-s3-fs-presto-1.16.2.jar
USER 9999:9999
