#!/usr/bin/env bash
# Makes sure Prometheus and promtool are on the machine, for the local stack's metrics and the alert
# rule checks (Debian's `prometheus` package ships both). With --picture it also makes sure headless
# Chromium is there, which `observability/picture.py` uses to turn the overview into a PNG.
#
# The package's service must not start: the stack runs its own Prometheus on loopback with its own
# configuration, and a packaged daemon would listen on every address; ensure-debian-packages.sh keeps
# services from starting and recommended packages (node-exporter, another daemon) out.
set -euo pipefail

wanted=(prometheus=prometheus promtool=prometheus)
[ "${1:-}" = --picture ] && wanted+=(chromium=chromium)
exec "$(dirname "$0")/ensure-debian-packages.sh" "the observability checks" "${wanted[@]}"
