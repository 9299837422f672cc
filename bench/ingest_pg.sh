#!/bin/sh
# PostgreSQL ingest against its ceiling, in one go: starts a private PostgreSQL
# (tests/servers/postgres.sh, fsync off), makes two fresh databases, runs
# `manushya bench ingest` (vector=local) into one and bench_pg_copy (the same rows by raw binary
# COPY, see its header) into the other, prints both and their ratio, and stops the server.
#   MN_TOP=. MN_BUILD=build sh bench/ingest_pg.sh [N [BATCH]]     (default 100000, 1000)
# MANUSHYA=path/to/manushya runs another build's CLI against the same comparator (e.g. the
# "before" of a change). Run it on a quiet machine: the figures move with the load (printed).
set -eu
top=${MN_TOP:-.}
build=${MN_BUILD:-build}
n=${1:-100000}
batch=${2:-1000}
cli=${MANUSHYA:-$build/manushya}
copy=$build/bench/bench_pg_copy
for f in "$cli" "$copy"; do
  [ -x "$f" ] || { echo "ingest_pg.sh: $f missing: make all $build/bench/bench_pg_copy" >&2; exit 1; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/manushya-ingest-pg.XXXXXX")
trap 'sh "$top/tests/servers/postgres.sh" stop "$dir/pg" >/dev/null 2>&1; rm -rf "$dir"' EXIT INT TERM
url=$(sh "$top/tests/servers/postgres.sh" start "$dir/pg" | sed -n 's/^MN_PG_URL=//p')
base=${url%/*}
psql -q "$url" -c "CREATE DATABASE ingest" -c "CREATE DATABASE raw_copy"
"$cli" --db "$base/raw_copy?vector=local" migrate >/dev/null   # the same schema, no rows

echo "load before: $(uptime)"
rate=$("$cli" --json --db "$base/ingest?vector=local" bench ingest --n "$n" --batch "$batch" |
       sed -n 's/.*"memories_per_s":\([0-9.]*\).*/\1/p')
echo "load between: $(uptime)"
raw=$("$copy" --db "$base/raw_copy" --n "$n" --batch "$batch" | sed -n 's/.* = \([0-9]*\) rows\/s/\1/p')
echo "load after: $(uptime)"
printf 'ingest-pg  n=%s batch=%s, PostgreSQL 15 (fsync off), vector=local, %s\n' "$n" "$batch" "$cli"
printf 'bench ingest    %10.0f memories/s\n' "$rate"
printf 'raw binary COPY %10.0f rows/s (bench_pg_copy)\n' "$raw"
awk -v a="$rate" -v b="$raw" 'BEGIN { printf "ratio           %10.2f (goal >= 0.5)\n", a / b }'
