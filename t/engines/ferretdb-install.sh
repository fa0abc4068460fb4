#!/usr/bin/env bash
#
# Build FerretDB (a MongoDB wire-protocol server; the tests use its SQLite
# backend) into CACHE_DIR/ferretdb-VERSION/ferretdb and print that path.
#
#     t/engines/ferretdb-install.sh CACHE_DIR
#
# A second run finds the binary and its marker and returns at once, offline.
# The Go module and build caches stay in their default places.
#
# Why not "go install MODULE/cmd/ferretdb@VERSION": FerretDB's build/version
# package panics at start-up when build/version/version.txt is missing, and
# the published module does not contain it (its release process generates
# it).  So we copy the module source out of the module cache into a scratch
# directory, write that file as upstream tells one to, and build there with
# FerretDB's own go.mod and go.sum.  The SQLite driver (modernc.org/sqlite) is
# pure Go, so no cgo and no build tags are needed for it; the PostgreSQL
# backend is left out with a tag to save build time.

set -euo pipefail

VERSION=v1.24.0
MODULE=github.com/FerretDB/FerretDB
TAGS=ferretdb_no_postgresql

die() {
    echo "ferretdb-install: $*" >&2
    exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 CACHE_DIR"

mkdir -p "$1" || die "cannot create $1"
cache=$(cd "$1" && pwd)
dest=$cache/ferretdb-$VERSION
bin=$dest/ferretdb
marker=$dest/.built

built() {
    [ -x "$bin" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$VERSION" ]
}

if built; then
    echo "$bin"
    exit 0
fi

GO=${GO:-$(command -v go || true)}
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then
    GO=/usr/local/go/bin/go
fi
[ -n "$GO" ] || die "no go toolchain found (set GO=/path/to/go)"

mkdir -p "$dest" || die "cannot create $dest"

# Parallel test runs may all get here: one builds, the others wait for it.
exec 9>"$dest/.lock"
flock -w 1800 9 || die "timed out waiting for another build of FerretDB"

if built; then
    echo "$bin"
    exit 0
fi

work=$(mktemp -d "$dest/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

export GOWORK=off
export GOTOOLCHAIN=local
export GOFLAGS=-buildvcs=false
export CGO_ENABLED=0

log=$work/build.log
start=$(date +%s)

echo "ferretdb-install: building FerretDB $VERSION with $("$GO" version)" >&2

if ! (
    cd "$work" &&
    "$GO" mod download -json "$MODULE@$VERSION" >download.json &&
    src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' download.json) &&
    [ -n "$src" ] && [ -f "$src/go.mod" ] &&
    cp -R "$src" "$work/src" &&
    chmod -R u+w "$work/src" &&
    echo "$VERSION" >"$work/src/build/version/version.txt" &&
    cd "$work/src" &&
    "$GO" build -trimpath -tags "$TAGS" -o "$work/ferretdb" ./cmd/ferretdb
) >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "build of FerretDB $VERSION failed (log above)"
fi

# It must run and know what it is (the version.txt check above).
if ! "$work/ferretdb" --version >"$work/version.out" 2>&1 \
    || ! grep -qx "version: $VERSION" "$work/version.out"
then
    cat "$work/version.out" >&2
    die "built binary does not run or reports another version"
fi

mv -f "$work/ferretdb" "$bin"
echo "$VERSION" >"$marker"

echo "ferretdb-install: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
