#!/usr/bin/env bash
#
# Build the chart's offline checkers from the Go module proxy, each into
# CACHE_DIR/go-bin/TOOL-VERSION, and print their paths, one a line:
#
#     t/engines/go-tools.sh CACHE_DIR
#     -> CACHE_DIR/go-bin/helm-v3.21.4
#        CACHE_DIR/go-bin/kubeconform-v0.7.0
#
# A second run finds the binaries and returns at once, offline.  The
# modules and the build cache are kept under CACHE_DIR/go (their own
# GOPATH, GOMODCACHE and GOCACHE), so that a cached CACHE_DIR is all a
# machine needs.  The first build takes minutes on two cores (helm brings
# the Kubernetes client libraries).

set -euo pipefail

# helm v3: its v3.21 line builds with Go 1.26; kubeconform: the version
# whose module asks for no newer Go than that
HELM_VERSION=v3.21.4
KUBECONFORM_VERSION=v0.7.0

die() {
    echo "go-tools: $*" >&2
    exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 CACHE_DIR"

mkdir -p "$1/go-bin" || die "cannot create $1/go-bin"
cache=$(cd "$1" && pwd)
bindir=$cache/go-bin

GO=${GO:-$(command -v go || true)}
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then
    GO=/usr/local/go/bin/go
fi

export GOWORK=off
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
export GOPATH=$cache/go
export GOMODCACHE=$cache/go/pkg/mod
export GOCACHE=$cache/go/build-cache

# tool NAME VERSION PACKAGE [LDFLAGS]: CACHE/go-bin/NAME-VERSION, built
# if missing
tool() {
    local name=$1 version=$2 pkg=$3 ldflags=${4:-} bin=$bindir/$1-$2 work start

    if [ -x "$bin" ]; then
        echo "$bin"
        return
    fi

    [ -n "$GO" ] || die "no go toolchain found (set GO=/path/to/go)"

    # parallel runs: one builds, the others wait for it
    exec 9>"$bindir/.$name.lock"
    flock -w 3600 9 || die "timed out waiting for another build of $name"

    if [ ! -x "$bin" ]; then
        work=$(mktemp -d "$bindir/.$name.XXXXXX")
        start=$(date +%s)
        echo "go-tools: building $name $version with $("$GO" version)" >&2

        # go install puts the binary in GOBIN under its own name: a
        # folder of its own, then the versioned name, moved in whole
        if ! GOBIN=$work "$GO" install -trimpath \
                -ldflags "-s -w $ldflags" "$pkg@$version" >"$work.log" 2>&1
        then
            tail -n 40 "$work.log" >&2
            rm -rf "$work" "$work.log"
            die "build of $name $version failed (log above)"
        fi

        mv -f "$work/$name" "$bin"
        rm -rf "$work" "$work.log"
        echo "go-tools: $name built in $(( $(date +%s) - start ))s" >&2
    fi

    exec 9>&-
    echo "$bin"
}

# helm's own release build (its Makefile) stamps its version and the
# Kubernetes version it renders for (that of its client-go, v0.X: 1.X);
# without them it says "v3.21" and renders for Kubernetes 1.20
helm_ldflags() {
    local mod kv

    [ -n "$GO" ] || die "no go toolchain found (set GO=/path/to/go)"

    mod=$("$GO" mod download -json "helm.sh/helm/v3@$HELM_VERSION" \
          | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
    kv=$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' \
         "$mod")
    [ -n "$kv" ] || die "no client-go version in helm's go.mod ($mod)"

    local v=helm.sh/helm/v3
    echo "-X $v/internal/version.version=$HELM_VERSION" \
         "-X $v/internal/version.gitTreeState=clean" \
         "-X $v/pkg/lint/rules.k8sVersionMajor=1" \
         "-X $v/pkg/lint/rules.k8sVersionMinor=$kv" \
         "-X $v/pkg/chartutil.k8sVersionMajor=1" \
         "-X $v/pkg/chartutil.k8sVersionMinor=$kv"
}

if [ -x "$bindir/helm-$HELM_VERSION" ]; then
    echo "$bindir/helm-$HELM_VERSION"
else
    flags=$(helm_ldflags)
    tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "$flags"
fi
tool kubeconform "$KUBECONFORM_VERSION" \
    github.com/yannh/kubeconform/cmd/kubeconform
