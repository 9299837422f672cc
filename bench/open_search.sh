#!/bin/sh
# Open-to-first-search: how long a one-shot `manushya memory search` takes, timed as a whole
# process (start, open the handle, load the tenant's vector index, embed the query, search,
# print, close), on a database of N memories made by `bench ingest` (which leaves its index
# caught up and saved).
#   sh bench/open_search.sh [--n N] [--runs R] [--backend sqlite|postgres] [--cli PATH]
#                           [--before PATH]
# postgres: a private server from tests/servers/postgres.sh, the database with vector=local
# and index_dir= in a temporary directory (server and files removed at the end). --before
# PATH: also times that CLI (an older build) on the same database, first; it is given the URL
# without index_dir= (builds before 1.5 do not know it). Prints the parameters, then per CLI
# and mode the median and the best of R runs (ms), after two warm-up runs.
set -eu
n=100000 runs=7 backend=sqlite before=
cli=${MN_BUILD:-build}/manushya
while [ $# -gt 0 ]; do
  case $1 in
    --n) n=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --cli) cli=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    *) echo "open_search.sh: unknown option $1 (--n N, --runs R, --backend sqlite|postgres," \
            "--cli PATH, --before PATH)" >&2
       exit 2 ;;
  esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/manushya-open.XXXXXX")
cleanup() {
  [ "$backend" = postgres ] && sh "$top/tests/servers/postgres.sh" stop "$d/pg" >/dev/null 2>&1
  rm -rf "$d"
}
trap cleanup EXIT INT TERM
case $backend in
  sqlite) url="sqlite:$d/bench.db" new_url=$url ;;
  postgres)
    sh "$top/tests/servers/postgres.sh" start "$d/pg" > "$d/pg.env"
    url=$(sed -n 's/^MN_PG_URL=//p' "$d/pg.env")
    case $url in *\?*) url="$url&vector=local" ;; *) url="$url?vector=local" ;; esac
    new_url="$url&index_dir=$d/index" ;;
  *) echo "open_search.sh: --backend sqlite or postgres" >&2; exit 2 ;;
esac
echo "open-to-first-search: n=$n runs=$runs backend=$backend (postgres: vector=local)," \
     "dim=384, local embedder, k=10, $(nproc) cores"
"$cli" --db "$new_url" bench ingest --n "$n" --batch 1000 | sed 's/^/  ingest| /'
now_ms() { date +%s%N | cut -c1-13; }
# One run: "WALL_MS CPU_MS" (CPU: user + system time of the process, by /usr/bin/time; on a
# loaded machine it says what the process itself cost).
one() { # CLI URL MODE
  t0=$(now_ms)
  /usr/bin/time -f "%U %S" -o "$d/time" "$1" --db "$2" --tenant bench --as bench-agent \
      memory search "notes from the meeting" --mode "$3" --k 10 > "$d/out" ||
    { echo "open_search.sh: search failed" >&2; exit 1; }
  echo "$(( $(now_ms) - t0 )) $(awk '{ print int(($1 + $2) * 1000 + 0.5) }' "$d/time")"
}
timed() { # LABEL CLI URL
  one "$2" "$3" vector > /dev/null
  one "$2" "$3" vector > /dev/null
  mid=$(( (runs + 1) / 2 ))
  for mode in vector hybrid; do
    ts=$(i=0; while [ $i -lt "$runs" ]; do one "$2" "$3" "$mode"; i=$((i + 1)); done)
    wall=$(echo "$ts" | cut -d' ' -f1 | sort -n) cpu=$(echo "$ts" | cut -d' ' -f2 | sort -n)
    echo "  $1 memory search --mode $mode: wall median $(echo "$wall" | sed -n "${mid}p") ms," \
         "best $(echo "$wall" | head -1) ms; CPU median $(echo "$cpu" | sed -n "${mid}p") ms"
  done
}
[ -n "$before" ] && timed "before ($("$before" --version | head -1))" "$before" "$url"
timed "this build ($("$cli" --version | head -1))" "$cli" "$new_url"
