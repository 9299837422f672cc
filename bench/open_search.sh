#!/bin/sh
# Open-to-first-search: how long a one-shot `manushya memory search` takes, timed as a whole
# process (start, open the handle, load the tenant's vector index, embed the query, search,
# print, close), on a database of N memories made by `bench ingest` (which leaves its index
# caught up and saved).
#   sh bench/open_search.sh [--n N] [--runs R] [--backend sqlite|postgres] [--cli PATH]
#                           [--before PATH] [--db DIR]
# postgres: a private server from tests/servers/postgres.sh, the database with vector=local
# and index_dir=. --before PATH: also times that CLI (an older build), first. The database is
# made once, by the oldest CLI given (a newer one would migrate it past what the older can
# open), and each CLI is timed on its own copy of it (database and index files), so that
# neither sees what the other's open did to it. --db DIR: keep the database (and the server's
# data) in DIR and reuse it in later runs with the same N instead of making it again (bench
# ingest of 100k takes minutes); without it, everything is made in a temporary directory and
# removed at the end. Prints the parameters, then per CLI and mode the median and the best of
# R runs (ms), after two warm-up runs, the median CPU time of the process and (postgres) the
# mean CPU time of its server session, and the load average. postgres: also the floor, in the
# same turns, a process that only connects and runs SELECT 1 (bench/floor/pg_floor.c, built
# here against libpq): what is above it is ours.
set -eu
# bash for its clock ($EPOCHREALTIME): a `date` process around each run would count its own
# start and end in every wall time.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
n=100000 runs=7 backend=sqlite before= keep=
cli=${MN_BUILD:-build}/manushya
while [ $# -gt 0 ]; do
  case $1 in
    --n) n=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --cli) cli=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --db) keep=$2; shift 2 ;;
    *) echo "open_search.sh: unknown option $1 (--n N, --runs R, --backend sqlite|postgres," \
            "--cli PATH, --before PATH, --db DIR)" >&2
       exit 2 ;;
  esac
done
case $backend in
  sqlite|postgres) ;;
  *) echo "open_search.sh: --backend sqlite or postgres" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  d=$(cd "$keep" && pwd)
else
  d=$(mktemp -d "${TMPDIR:-/tmp}/manushya-open.XXXXXX")
fi
cleanup() {
  if [ "$backend" = postgres ]; then # a kept server keeps its data, to start again next time
    sh "$top/tests/servers/postgres.sh" "$([ -n "$keep" ] && echo pause || echo stop)" \
       "$d/pg" >/dev/null 2>&1
  fi
  [ -n "$keep" ] || rm -rf "$d"
}
trap cleanup EXIT INT TERM
if [ -f "$d/made" ] && [ "$(cat "$d/made")" != "$backend $n" ]; then
  echo "open_search.sh: $d holds a database made for $(cat "$d/made"), not $backend $n" >&2
  exit 2
fi
# url NAME: the URL of the database NAME (bench: the one bench ingest makes; the others are
# copies of it), its index files under $d.
case $backend in
  sqlite) url() { echo "sqlite:$d/$1.db"; } ;;
  postgres)
    sh "$top/tests/servers/postgres.sh" start "$d/pg" > "$d/pg.env"
    admin=$(sed -n 's/^MN_PG_URL=//p' "$d/pg.env")
    url() { echo "${admin%/*}/$1?vector=local&index_dir=$d/$1.index"; } ;;
esac
# copy NAME: a fresh copy of the bench database and its index files.
copy() {
  rm -rf "$d/$1.db" "$d/$1.db-wal" "$d/$1.db-shm" "$d/$1.db.index" "$d/$1.index"
  case $backend in
    sqlite)
      cp "$d/bench.db" "$d/$1.db"
      [ ! -f "$d/bench.db-wal" ] || cp "$d/bench.db-wal" "$d/$1.db-wal"
      cp -r "$d/bench.db.index" "$d/$1.db.index" ;;
    postgres)
      PGOPTIONS="-c client_min_messages=warning" psql -q "$admin" \
          -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE bench"
      cp -r "$d/bench.index" "$d/$1.index" ;;
  esac
}
echo "open-to-first-search: n=$n runs=$runs backend=$backend (postgres: vector=local)," \
     "dim=384, local embedder, k=10, $(nproc) cores"
if [ ! -f "$d/made" ]; then
  [ "$backend" = sqlite ] || psql -q "$admin" -c "CREATE DATABASE bench"
  "${before:-$cli}" --db "$(url bench)" bench ingest --n "$n" --batch 1000 |
    sed 's/^/  ingest| /'
  echo "$backend $n" > "$d/made"
else
  echo "  the database of $d/made, made before"
fi
# postgres: the CPU time (ms) of the server's ended sessions so far, from the postmaster's
# reaped children (its backends: the one-shot process's session among them).
server_ms() {
  [ "$backend" = postgres ] || { echo 0; return; }
  pm=$(head -1 "$(cat "$d/pg/cluster")/data/postmaster.pid")
  awk -v t="$(getconf CLK_TCK)" '{ print int(($16 + $17) * 1000 / t) }' "/proc/$pm/stat"
}
# One run: "WALL_MS CPU_MS SERVER_MS" (CPU: user + system time of the process, by
# /usr/bin/time; on a loaded machine it says what the process itself cost; SERVER: the CPU
# time of its PostgreSQL session, 10 ms resolution, so only its mean over the runs says much).
one() { # CLI URL MODE (CLI floor: the floor program on the bench database)
  s0=$(server_ms)
  t0=$EPOCHREALTIME
  if [ "$1" = floor ]; then
    /usr/bin/time -f "%U %S" -o "$d/time" "$d/pg_floor" "${admin%/*}/bench" > "$d/out"
  else
    /usr/bin/time -f "%U %S" -o "$d/time" "$1" --db "$2" --tenant bench --as bench-agent \
        memory search "notes from the meeting" --mode "$3" --k 10 > "$d/out"
  fi || { echo "open_search.sh: search failed" >&2; exit 1; }
  t1=$EPOCHREALTIME
  [ "$backend" = sqlite ] || sleep 0.1 # the session ends after the process: reaped by then
  t0=${t0/./} t1=${t1/./}
  echo "$(( (t1 - t0 + 500) / 1000 )) $(awk '{ print int(($1 + $2) * 1000 + 0.5) }' "$d/time")" \
       "$(( $(server_ms) - s0 ))"
}
# The CLIs take turns run by run, so that a change of the machine's load falls on both alike.
names=this
[ -z "$before" ] || names="before this"
if [ "$backend" = postgres ]; then
  if cc -O2 -o "$d/pg_floor" "$top/bench/floor/pg_floor.c" \
       $(pkg-config --cflags --libs libpq) 2>/dev/null; then
    names="$names floor"
  else echo "  (no floor: bench/floor/pg_floor.c needs cc and libpq's headers, libpq-dev)"
  fi
fi
bin() { case $1 in before) echo "$before" ;; floor) echo floor ;; *) echo "$cli" ;; esac; }
for k in $names; do
  [ "$k" = floor ] || copy "$k"
  one "$(bin "$k")" "$(url "$k")" vector > /dev/null
  one "$(bin "$k")" "$(url "$k")" vector > /dev/null
done
mid=$(( (runs + 1) / 2 ))
for mode in vector hybrid; do
  for k in $names; do : > "$d/times.$k"; done
  i=0
  while [ $i -lt "$runs" ]; do
    for k in $names; do one "$(bin "$k")" "$(url "$k")" "$mode" >> "$d/times.$k"; done
    i=$((i + 1))
  done
  for k in $names; do
    case $k in
      before) label="before ($("$before" --version | head -1)) memory search --mode $mode" ;;
      this) label="this build ($("$cli" --version | head -1)) memory search --mode $mode" ;;
      floor) label="floor (bench/floor/pg_floor.c: connect, SELECT 1)" ;;
    esac
    wall=$(cut -d' ' -f1 "$d/times.$k" | sort -n) cpu=$(cut -d' ' -f2 "$d/times.$k" | sort -n)
    server=$([ "$backend" = sqlite ] ||
             awk '{ s += $3 } END { printf "; server CPU mean %.1f ms", s / NR }' "$d/times.$k")
    echo "  $label: wall median $(echo "$wall" | sed -n "${mid}p")" \
         "ms, best $(echo "$wall" | head -1) ms; CPU median $(echo "$cpu" | sed -n "${mid}p") ms$server"
  done
done
echo "  load: $(uptime | sed 's/.*load average/load average/')"
