#!/usr/bin/env bash
# Makes sure a JDK (11-21, ideally 17) and Maven are on the machine, for the StateFun runtime and Kafka.
# On a fresh Debian machine, as root, it installs them with apt-get; otherwise it says what to install.
set -euo pipefail

java_major() {
  local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$java" >/dev/null 2>&1 || { echo 0; return; }
  "$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

missing=()
major=$(java_major)
if [ "${major:-0}" -lt 11 ] || [ "${major:-0}" -gt 21 ]; then missing+=(openjdk-17-jdk-headless); fi
command -v mvn >/dev/null 2>&1 || missing+=(maven)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "error: the local stack needs ${missing[*]} (a JDK 11-21, ideally 17, and Maven); install them or set JAVA_HOME" >&2
exit 1
