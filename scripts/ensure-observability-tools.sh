#!/usr/bin/env bash
# Makes sure Prometheus and promtool are on the machine, for the local stack's metrics and the alert
# rule checks (Debian's `prometheus` package ships both). With --picture it also makes sure headless
# Chromium is there, which `observability/picture.py` uses to turn the overview into a PNG.
# On a fresh Debian machine, as root, it installs them with apt-get; otherwise it says what to install.
#
# The package's service must not start: the stack runs its own Prometheus on loopback with its own
# configuration, and a packaged daemon would listen on every address. Debian's policy-rc.d (exit 101)
# forbids service starts during the install; recommended packages (node-exporter, another daemon) stay out.
set -euo pipefail

missing=()
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
if [ "${1:-}" = --picture ]; then command -v chromium >/dev/null 2>&1 || missing+=(chromium); fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get (no service started)" >&2
  policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && own_policy=1
  fi
  trap '[ -z "$own_policy" ] || rm -f "$policy"' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "error: the observability checks need ${missing[*]} (Debian packages); install them" >&2
exit 1
