#!/usr/bin/env bash
#
# The tests' Python packages, pinned, in a venv of their own:
#
#     t/engines/py-install.sh CACHE_DIR   -> CACHE_DIR/py-HASH (printed)
#
# HASH is that of the pins below, so a change of pins makes a new venv
# and a second run with the same pins returns at once, offline.  Its
# python is CACHE_DIR/py-HASH/bin/python3.
#
#   prometheus_client    the Prometheus text format's own parser
#   kubernetes-validate  Kubernetes' JSON schemas, for the chart's check

set -euo pipefail

PINS="prometheus_client==0.26.0 kubernetes-validate==1.37.0"

die() {
    echo "py-install: $*" >&2
    exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 CACHE_DIR"

mkdir -p "$1" || die "cannot create $1"
cache=$(cd "$1" && pwd)
hash=$(printf '%s\n' "$PINS" | sha256sum | cut -c1-12)
venv=$cache/py-$hash

if [ -f "$venv/.installed" ]; then
    echo "$venv"
    exit 0
fi

# parallel test runs: one installs, the others wait for it
exec 9>"$cache/.py-$hash.lock"
flock -w 900 9 || die "timed out waiting for another install"

if [ ! -f "$venv/.installed" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2 || die "python3 -m venv failed (python3-venv)"
    # shellcheck disable=SC2086
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check \
        $PINS >&2 || { rm -rf "$venv"; die "pip install failed"; }
    echo "$PINS" >"$venv/.installed"
fi

echo "$venv"
