#!/usr/bin/env bash
# Makes sure commands from Debian packages are on the machine; on a fresh Debian machine, as root, installs
# the packages that provide the missing ones with apt-get, otherwise says what to install.
#
#   scripts/ensure-debian-packages.sh "WHO needs them" COMMAND=PACKAGE...
#
# Services the packages ship never start (Debian's policy-rc.d, exit 101, during the install), and
# recommended packages stay out: the project runs what it needs itself, on loopback.
set -euo pipefail

who=$1; shift
missing=()
for pair in "$@"; do
  command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
done
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
echo "error: $who need ${missing[*]} (Debian packages); install them as root" >&2
exit 1
