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

# ---------------------------------------------------------------- Python: build the venv
FROM ${PYTHON_BASE} AS python-builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The whole (allow-listed, see .dockerignore) context: `pip install .` needs every package folder that
# pyproject.toml names, and the allow-list is the one place that says which they are.
COPY . .
# Not editable: the packages land in the venv, so the final stage needs no source tree.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install -c constraints.txt . \
 && /opt/venv/bin/python -m pip uninstall --yes pip

# ---------------------------------------------------------------- Python: shared runtime stage
FROM ${PYTHON_BASE} AS python-runtime
COPY --from=python-builder /opt/venv /opt/venv
# No .pyc writes on a read-only root; HOME on the /tmp emptyDir for any library that wants one.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001

FROM python-runtime AS functions
ENV FUNCTIONS_HOST=0.0.0.0 FUNCTIONS_PORT=8000
EXPOSE 8000
ENTRYPOINT ["/opt/venv/bin/python", "-m", "fraud_functions.server"]

FROM python-runtime AS merchant-service
ENV MERCHANT_SERVICE_HOST=0.0.0.0 MERCHANT_SERVICE_PORT=8090 MERCHANT_ADMIN_ENABLED=false
EXPOSE 8090
ENTRYPOINT ["/opt/venv/bin/python", "-m", "merchant_service"]

FROM python-runtime AS simulator
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
