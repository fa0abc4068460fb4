#!/bin/sh
# t/engines/py-install.sh CACHE: a Python virtual environment with the
# pinned packages the tests' Python tools need, from PyPI: the
# Prometheus client library (its text parser checks race_status and the
# workers' /metrics) and kubernetes-validate (the Kubernetes JSON schemas
# the chart is checked against).  Made once in CACHE/py-<hash of the
# pins>, then reused; prints its path.  Needs python3 -m venv (Debian's
# python3-venv).

set -eu

CACHE=${1:?usage: py-install.sh CACHE}
PINS="prometheus_client==0.26.0 kubernetes-validate==1.37.0"

hash=$(echo "$PINS" | sha256sum | cut -c1-12)
dir=$CACHE/py-$hash

mkdir -p "$CACHE"

# tests run in parallel: one makes it, the others wait for it
exec 9>"$dir.lock"
flock 9

if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$PINS" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir" >&2
    # shellcheck disable=SC2086
    "$dir/bin/python3" -m pip install --quiet --disable-pip-version-check \
        $PINS >&2
    echo "$PINS" >"$dir/.installed"
fi

echo "$dir"
