#!/usr/bin/env bash
#
# ngx_race build, run and test.
#
#   ./build.sh            deps, module, workers, dev certificate
#   ./build.sh run        start the platform on 127.0.0.1: Redis, Kafka,
#                         FerretDB, race-tracker, nginx (Ctrl-C stops it);
#                         nginx on RACE_HTTP_PORT (8080) and RACE_HTTPS_PORT
#                         (8443), e.g. RACE_HTTP_PORT=8081 ./build.sh run
#   ./build.sh test       build with AddressSanitizer and run every test
#   ./build.sh bench      the pipeline's figures (release build)
#   ./build.sh bench capacity  the same with the figures tools/capacity
#                         reads, and a spectators' run (docs/CAPACITY.md)
#   ./build.sh bench live [--quick] [options]  the spectators' fan-out,
#                         ours beside Nchan's (t/bench/live.pl), release
#   ./build.sh bench idle [N [KINDS]]  nginx's memory per idle
#                         connection: /live spectators, WebSocket echo,
#                         HTTP keep-alive (release build, Redis only)
#   ./build.sh bench store [options]  race-tracker's MongoDB writes
#                         alone on FerretDB: fixes/s (t/bench/store.pl)
#   ./build.sh bench-match  the map matcher's cost per fix (release build)
#   ./build.sh bench-standings  race-tracker's standings: fixes/s, ticks
#   ./build.sh web        the web client (html/) into build/html
#   ./build.sh deps       install what is missing from Debian
#   ./build.sh module     build/ngx_http_race_module.so only
#   ./build.sh image      the module and the workers, for a container
#                         image (deploy/docker/): no apt, Go or Node.js
#   ./build.sh packages   the Debian packages deps installs, one a line
#   ./build.sh clean      remove build/
#   ./build.sh help       this text
#
# The module is built the way Debian builds its libnginx-mod-* packages:
# nginx-dev's source tree configured with Debian's own flags
# (conf_flags) and --add-dynamic-module, so it passes nginx's binary
# compatibility check and loads into /usr/sbin/nginx.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${RACE_BUILD_DIR:-$ROOT/build}
CACHE=${RACE_CACHE:-${HOME:-/tmp}/.cache/ngx_race}
NGINX_SRC=/usr/share/nginx/src

export RACE_CACHE=$CACHE

say() { printf '%s\n' "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

PACKAGES=(
    nginx nginx-dev libpcre2-dev zlib1g-dev libssl-dev openssl libargon2-dev
    librdkafka-dev libhiredis-dev libmongoc-dev libbson-dev libjansson-dev
    libexpat1-dev
    redis-server openjdk-17-jre-headless maven
    gcc make pkg-config clang libclang-rt-14-dev
    perl python3 python3-websockets libxml2-utils
)

# the browser tests' browser (playwright-core drives it; it downloads
# none) and a font for its screenshots; venv for t/engines/py-install.sh;
# Nchan for t/bench_live.t
TEST_PACKAGES=(chromium fonts-dejavu-core python3-venv libnginx-mod-nchan)

# what the benchmarks compare with: Nchan, the module a user would pick
# instead of ours for /live (./build.sh bench live)
BENCH_PACKAGES=(libnginx-mod-nchan)

deps() {
    local missing=() p

    for p in "${PACKAGES[@]}" ${RACE_DEPS_TEST:+"${TEST_PACKAGES[@]}"} \
             ${RACE_DEPS_BENCH:+"${BENCH_PACKAGES[@]}"}; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing+=("$p")
    done

    # the machine's own JDK and Maven will do
    if command -v java >/dev/null && command -v mvn >/dev/null; then
        missing=("${missing[@]/openjdk-17-jre-headless}")
        missing=("${missing[@]/maven}")
    fi

    read -ra missing <<< "${missing[*]:-}"

    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing from Debian: ${missing[*]}"
        local sudo=
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null
    fi

    command -v go >/dev/null || die "Go is needed to build FerretDB for tests"
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
        2>/dev/null \
        || die "Node.js 20.19 or later with npm is needed to build html/"
}

# web OUT: the web client, built by Vite from html/ with the packages of
# its committed lock file (npm ci, again only when the lock changed)
web() {
    local out=$1 stamp=$ROOT/html/node_modules/.race-lock

    if ! cmp -s "$ROOT/html/package-lock.json" "$stamp"; then
        (cd "$ROOT/html" && npm ci --no-audit --no-fund --loglevel=error)
        cp "$ROOT/html/package-lock.json" "$stamp"
    fi

    (cd "$ROOT/html" && RACE_WEB_OUT=$out npx --no-install vite build \
        --logLevel warn)
}

# core BUILD_DIR [SAN]: the pure cores' library, BUILD_DIR/core/librace_core.a,
# which the module, the workers, the tools and the tests link
core() {
    make -s -C "$ROOT/core" BUILD="$1" ${2:+SAN=$2} lib
}

# configure_module DIR EXTRA_CFLAGS EXTRA_LDFLAGS
# (RACE_CORE_LIB: the cores' library, read by ./config)
configure_module() {
    local dir=$1 cflags=$2 ldflags=$3 stamp

    stamp="$cflags|$ldflags|$RACE_CORE_LIB"
    stamp="$stamp|$(md5sum "$ROOT/config" | cut -c1-32)"
    stamp="$stamp|$(md5sum "$NGINX_SRC/conf_flags" | cut -c1-32)"

    if [ -f "$dir/objs/Makefile" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]
    then
        return
    fi

    say "configuring nginx-dev's tree in $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -r "$NGINX_SRC/." "$dir/src-tree"

    (
        cd "$dir/src-tree"
        # shellcheck disable=SC1091
        . ./conf_flags
        ./configure \
            --with-cc-opt="$(dpkg-buildflags --get CFLAGS) -fPIC $(dpkg-buildflags --get CPPFLAGS) $cflags" \
            --with-ld-opt="$(dpkg-buildflags --get LDFLAGS) -fPIC $ldflags" \
            "${NGX_CONF_FLAGS[@]}" \
            --add-dynamic-module="$ROOT" \
            --builddir="$dir/objs" > "$dir/configure.log" 2>&1
    ) || { tail -30 "$dir/configure.log" >&2; die "configure failed"; }

    echo "$stamp" > "$dir/stamp"
}

# build_module DIR OUT EXTRA_CFLAGS EXTRA_LDFLAGS
build_module() {
    local dir=$1 out=$2

    configure_module "$dir" "$3" "$4"
    # nginx's Makefile does not know the cores' library: a .so that is
    # not there is linked again, with the library as it is now
    rm -f "$dir/objs/ngx_http_race_module.so"
    make -s -f "$dir/objs/Makefile" -C "$dir/src-tree" modules \
        > "$dir/make.log" 2>&1 \
        || { cat "$dir/make.log" >&2; die "module build failed"; }
    # a new file, not the same one rewritten: an nginx running the old
    # module keeps it mapped, and would crash if it changed under it
    cp "$dir/objs/ngx_http_race_module.so" "$out.new"
    mv -f "$out.new" "$out"

    # the check Debian's packaging runs: nginx loads it
    local conf
    conf=$(mktemp)
    printf 'load_module %s;\nevents{}\n' "$out" > "$conf"
    env ${RACE_PRELOAD:+LD_PRELOAD=$RACE_PRELOAD} \
        ASAN_OPTIONS=detect_leaks=0 \
        /usr/sbin/nginx -g "error_log /dev/null; pid /dev/null;" -t -q \
        -c "$conf" || { rm -f "$conf"; die "nginx refuses $out"; }
    rm -f "$conf"
    say "built $out"
}

module() {
    mkdir -p "$BUILD"
    core "$BUILD"
    RACE_CORE_LIB=$BUILD/core/librace_core.a \
        build_module "$BUILD/nginx" "$BUILD/ngx_http_race_module.so" "" ""
}

workers() {
    core "$BUILD"
    make -s -C "$ROOT/workers" BUILD="$BUILD"
    make -s -C "$ROOT/tools" BUILD="$BUILD"
}

certs() {
    local d=$BUILD/certs

    [ -f "$d/dev.crt" ] && return
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
        -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$d/dev.key" -out "$d/dev.crt" 2>/dev/null
    chmod 600 "$d/dev.key"
    say "generated a development certificate in $d"
}

all() {
    deps
    module
    workers
    certs
    web "$BUILD/html"
}

run() {
    all

    local run=$BUILD/run
    mkdir -p "$run/logs" "$run/modules" "$run/certs"
    cp "$BUILD/ngx_http_race_module.so" "$run/modules/"
    cp "$BUILD/certs/dev.crt" "$BUILD/certs/dev.key" "$run/certs/"
    ln -sfn "$BUILD/html" "$run/html"

    # the key that signs rider tokens here; generated, never committed
    [ -f "$run/token.key" ] \
        || "$BUILD/tools/race-token" --gen-key "$run/token.key"

    engines

    # Redis, Kafka, FerretDB, race-tracker and nginx, stopped by Ctrl-C;
    # it writes run/nginx.conf, conf/nginx.conf on RACE_HTTP_PORT and
    # RACE_HTTPS_PORT, after checking that they are free
    exec perl "$ROOT/tools/race-local" "$BUILD"
}

test_build() {
    local tb=$BUILD/test libasan san

    mkdir -p "$tb"
    libasan=$(cc -print-file-name=libasan.so)
    san="-fsanitize=address,undefined -fno-omit-frame-pointer"
    core "$tb" address
    # NGX_HTTP_RACE_TEST: the directives only tests may use
    RACE_CORE_LIB=$tb/core/librace_core.a RACE_PRELOAD=$libasan \
        build_module "$tb/nginx" \
        "$tb/ngx_http_race_module.so" "$san -DNGX_HTTP_RACE_TEST=1" \
        "-fsanitize=address,undefined"
    touch "$tb/asan"

    make -s -C "$ROOT/t" BUILD="$tb" SAN=address all
    make -s -C "$ROOT/t" BUILD="$tb" fuzz
    make -s -C "$ROOT/workers" BUILD="$tb" SAN=address
    make -s -C "$ROOT/tools" BUILD="$tb" SAN=address
    web "$tb/html"
}

engines() {
    "$ROOT/t/engines/kafka-install.sh" "$CACHE" >/dev/null
    "$ROOT/t/engines/ferretdb-install.sh" "$CACHE" >/dev/null
}

run_tests() {
    RACE_DEPS_TEST=1 deps
    test_build
    engines

    cd "$ROOT"
    # what t/lib/Race/Test.pm gives the programs it starts, for the
    # others (unit tests, tools): the first UBSan report stops them
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    RACE_BUILD=$BUILD/test prove -j"${RACE_JOBS:-2}" ${RACE_PROVE_ARGS:-} \
        "${@:-t/}"
}

bench() {
    all
    engines

    # what it reads MongoDB's and Kafka's figures with
    make -s -C "$ROOT/t" BUILD="$BUILD" "$BUILD/t/mongo_query" \
        "$BUILD/t/kafka_dump"

    cd "$ROOT"
    shift
    RACE_BUILD=$BUILD perl t/bench/pipeline.pl "$@"
}

# the spectators' fan-out beside Nchan's: t/bench/live.pl with
# t/bench/live_bench.c, on the release module (no sanitizers)
bench_live() {
    shift 2
    RACE_DEPS_BENCH=1 deps
    module
    make -s -C "$ROOT/t" BUILD="$BUILD" "$BUILD/t/live_bench"

    cd "$ROOT"
    RACE_BUILD=$BUILD perl t/bench/live.pl "$@"
}

# nginx's memory per idle connection: t/bench/idle_mem.pl, the release
# module and Redis, nothing else
bench_idle() {
    shift 2
    deps
    module

    cd "$ROOT"
    RACE_BUILD=$BUILD perl t/bench/idle_mem.pl "$@"
}

# race-tracker's MongoDB writes alone: t/bench/store.pl with
# t/bench/store_bench.c (the tracker's store code), on FerretDB
bench_store() {
    shift 2
    core "$BUILD"
    engines
    make -s -C "$ROOT/t" BUILD="$BUILD" "$BUILD/t/store_bench"

    cd "$ROOT"
    RACE_BUILD=$BUILD perl t/bench/store.pl "$@"
}

# the map matcher's figures: t/bench/match_bench.c, no sanitizers
bench_match() {
    shift
    core "$BUILD"
    make -s -C "$ROOT/t" BUILD="$BUILD" bench
    "$BUILD/t/match_bench" "$@"
}

# race-tracker's standings, CPU only: t/bench/board_bench.c, no sanitizers
bench_standings() {
    shift
    core "$BUILD"
    make -s -C "$ROOT/t" BUILD="$BUILD" "$BUILD/t/board_bench"
    "$BUILD/t/board_bench" "$@"
}

case "${1:-all}" in
    all)     all ;;
    image)   module; workers ;;
    packages) printf '%s\n' "${PACKAGES[@]}" ;;
    deps)    deps ;;
    module)  deps; module ;;
    workers) workers ;;
    certs)   certs ;;
    web)     deps; web "$BUILD/html" ;;
    run)     run ;;
    test)    shift; run_tests "$@" ;;
    bench)
        case ${2:-} in
            live) bench_live "$@" ;;
            idle) bench_idle "$@" ;;
            store) bench_store "$@" ;;
            *)    bench "$@" ;;
        esac ;;
    bench-match) bench_match "$@" ;;
    bench-standings) bench_standings "$@" ;;
    clean)   rm -rf "$BUILD" ;;
    help|-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0" ;;
    *)       die "unknown command \"$1\" (see the top of build.sh)" ;;
esac
