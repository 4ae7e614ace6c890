#!/bin/bash
# The entrypoint of the stand-in for the official flink:1.16.2 image (docs/adr/0014), for the commands the chart
# and the Flink Kubernetes Operator give it:
#   standalone-job ARGS...  the application cluster's JobManager: StandaloneApplicationClusterEntryPoint ARGS
#   jobmanager ARGS...      a session cluster's JobManager: StandaloneSessionClusterEntrypoint ARGS
#   taskmanager ARGS...     a TaskManager: TaskManagerRunner ARGS
#   anything else           run as a command (`help` lists these)
# As the official scripts (bin/config.sh, jobmanager.sh, taskmanager.sh) do, the JVM's memory flags and the
# processes' dynamic configuration come from Flink's own BashJavaUtils, and env.java.opts from flink-conf.yaml.
# Unlike the official entrypoint it never writes the configuration directory (FLINK_PROPERTIES and
# JOB_MANAGER_RPC_ADDRESS are not applied; on Kubernetes that directory is a read-only ConfigMap), and it
# never switches user: the image runs as flink (9999) as the chart's pods require.
set -euo pipefail

FLINK_HOME=${FLINK_HOME:-/opt/flink}
FLINK_CONF_DIR=${FLINK_CONF_DIR:-$FLINK_HOME/conf}
# Where Flink's plugin manager looks (relative to the working directory unless set, as bin/config.sh sets it).
export FLINK_PLUGINS_DIR=${FLINK_PLUGINS_DIR:-$FLINK_HOME/plugins}
CLASSPATH="$FLINK_HOME/lib/*"

# The value of one key of flink-conf.yaml, read as Flink reads it (`key: value`, '#' starts a comment).
conf_value() {
    sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$FLINK_CONF_DIR/flink-conf.yaml" | sed 's/[[:space:]]*#.*$//' | tail -n 1
}

# BashJavaUtils COMMAND prints its results on lines tagged BASH_JAVA_UTILS_EXEC_RESULT: JVM flags, then dynamic
# configuration. Sets JVM_PARAMS and DYNAMIC_CONFIGS.
resource_params() {
    local output results
    output=$(java -classpath "$CLASSPATH" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" \
        --configDir "$FLINK_CONF_DIR" 2>&1) || { echo "$output" >&2; exit 1; }
    results=$(echo "$output" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p')
    JVM_PARAMS=$(echo "$results" | sed -n 1p)
    DYNAMIC_CONFIGS=$(echo "$results" | sed -n 2p)
    if [[ -z $JVM_PARAMS ]]; then
        echo "BashJavaUtils $1 gave no JVM parameters:" >&2
        echo "$output" >&2
        exit 1
    fi
}

run() {
    local kind=$1 class=$2
    shift 2
    local log_config="$FLINK_CONF_DIR/log4j-console.properties"
    # shellcheck disable=SC2086 # flags and dynamic configuration are word lists, as in the official scripts
    exec java $JVM_PARAMS $(conf_value env.java.opts) $(conf_value "env.java.opts.$kind") \
        -Dlog.file="$FLINK_HOME/log/flink-$kind.log" \
        -Dlog4j.configuration="file:$log_config" -Dlog4j.configurationFile="file:$log_config" \
        -classpath "$CLASSPATH" "$class" --configDir "$FLINK_CONF_DIR" $DYNAMIC_CONFIGS "$@"
}

case ${1:-help} in
standalone-job)
    shift
    resource_params GET_JM_RESOURCE_PARAMS
    run jobmanager org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint "$@" ;;
jobmanager)
    shift
    resource_params GET_JM_RESOURCE_PARAMS
    run jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint "$@" ;;
taskmanager)
    shift
    resource_params GET_TM_RESOURCE_PARAMS
    run taskmanager org.apache.flink.runtime.taskexecutor.TaskManagerRunner "$@" ;;
help)
    echo "Usage: $(basename "$0") (standalone-job|jobmanager|taskmanager|help) [ARGS...] | COMMAND [ARGS...]" ;;
*)
    exec "$@" ;;
esac
