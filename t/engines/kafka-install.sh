#!/usr/bin/env bash
#
# Put the jars of an Apache Kafka broker (KRaft mode, run with the machine's
# java) into CACHE_DIR/kafka-VERSION/libs and print that path.
#
#     t/engines/kafka-install.sh CACHE_DIR
#
# The jars come from maven: the runtime dependencies of
# t/engines/kafka/pom.xml (kafka_2.13 and an slf4j binding), copied with the
# dependency plugin.  Maven's local repository stays in its default place
# unless MAVEN_REPO_LOCAL names another.  A marker holding the pom's checksum
# is written last, so a second run returns at once and offline, and a
# changed pom installs again.

set -euo pipefail

VERSION=3.9.1

die() {
    echo "kafka-install: $*" >&2
    exit 1
}

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: $0 CACHE_DIR"

here=$(cd "$(dirname "$0")" && pwd)
pom=$here/kafka/pom.xml
[ -f "$pom" ] || die "no $pom"

mkdir -p "$1" || die "cannot create $1"
cache=$(cd "$1" && pwd)
dest=$cache/kafka-$VERSION
libs=$dest/libs
marker=$dest/.installed
sum=$(sha256sum "$pom" | cut -d' ' -f1)

installed() {
    [ -d "$libs" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$sum" ]
}

if installed; then
    echo "$libs"
    exit 0
fi

command -v java >/dev/null || die "no java in PATH"
command -v mvn >/dev/null || die "no mvn in PATH"

mkdir -p "$dest" || die "cannot create $dest"

# Parallel test runs may all get here: one installs, the others wait.
exec 9>"$dest/.lock"
flock -w 900 9 || die "timed out waiting for another install of Kafka"

if installed; then
    echo "$libs"
    exit 0
fi

work=$(mktemp -d "$dest/.install.XXXXXX")
trap 'rm -rf "$work"' EXIT

repo=()
if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then
    repo=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
fi

log=$work/mvn.log
start=$(date +%s)

echo "kafka-install: fetching Kafka $VERSION jars with maven" >&2

if ! mvn -B -q -f "$pom" "${repo[@]}" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$work/libs" \
        >"$log" 2>&1
then
    tail -n 40 "$log" >&2
    die "maven could not fetch the Kafka jars (log above)"
fi

# The jars the broker and the storage tool cannot start without.
for jar in kafka_2.13-$VERSION kafka-clients-$VERSION kafka-raft-$VERSION \
           kafka-metadata-$VERSION kafka-storage-$VERSION \
           kafka-server-common-$VERSION scala-library slf4j-api \
           slf4j-reload4j reload4j argparse4j
do
    ls "$work/libs/$jar"*.jar >/dev/null 2>&1 ||
        die "no $jar jar among the ones maven copied"
done

# A class path that cannot even run the storage tool is no good.
if ! java -cp "$work/libs/*" kafka.tools.StorageTool random-uuid \
        >"$work/uuid.txt" 2>&1
then
    cat "$work/uuid.txt" >&2
    die "kafka.tools.StorageTool does not run from $work/libs"
fi

rm -rf "$libs"
mv "$work/libs" "$libs"
echo "$sum" >"$marker"

echo "kafka-install: installed in $(( $(date +%s) - start ))s" >&2
echo "$libs"
