#!/bin/sh
# Checks the library's layering: every `#include "FOLDER/..."` in lib/ goes down (or sideways
# within its folder), never up, and no two headers include each other (no include cycle).
# Usage: scripts/check-layers.sh [TOP]   (TOP: the source tree, default: this script's tree)
#
# The layers, lowest first; a folder may include its own files and those of lower layers only.
# Folders on one line are peers and may not include each other.
#
#   core                   errors, clock, ids, JSON, ABI helpers: includes nothing of the rest
#   jsonlogic crypto       the JSON Logic interpreter (public on its own); sealed values and
#                          the master key (libsodium)
#   store                  the store interface and what every backend shares
#   store/sqlite store/postgres   the backends: each sees lib/store, never the other
#   index embed redis webhook   vector index, embedders, Redis connections, webhook
#                          signatures and their HTTP POST
#   policy ratelimit cache the policy engine; rate-limit counters and built-in limits;
#                          read-through caches (in process, Redis)
#   jobs                   background worker threads
#   api                    the handle (struct mn_db, mn_open), the public entry points and
#                          what works on a handle (limiter, embedding cache, embedding jobs)
#
# Also: each backend folder under lib/store has exactly one internal header.
# Prints every violation and exits 1 when there is one.
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top/lib" || { echo "check-layers: no lib/ under $top" >&2; exit 2; }

bad=0
edges=$(mktemp "${TMPDIR:-/tmp}/mn-layers.XXXXXX")
trap 'rm -f "$edges"' EXIT

# "FILE INCLUDED" for every #include "x/y" naming a file of lib/ (not generated or system ones).
find . -name '*.[ch]' | sed 's|^\./||' | sort | while read -r f; do
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\/[^"]*\)".*/\1/p' "$f" |
    while read -r inc; do [ -f "$inc" ] && echo "$f $inc"; done
done > "$edges"

# The layer rank of each folder (peers share one; the backends sit one above lib/store) and
# the folder of a path: store/sqlite/x.c is in store/sqlite, api/x.c in api.
layers=$(find . -name '*.[ch]' | sed 's|^\./||' | awk '
  BEGIN {
    r["core"] = 0; r["jsonlogic"] = 1; r["crypto"] = 1; r["store"] = 2; r["store/sqlite"] = 3
    r["store/postgres"] = 3; r["index"] = 4; r["embed"] = 4; r["redis"] = 4
    r["webhook"] = 4
    r["policy"] = 5; r["ratelimit"] = 5; r["cache"] = 5; r["jobs"] = 6; r["api"] = 7
  }
  function folder(p,   a, k) {
    k = split(p, a, "/"); return (a[1] == "store" && k > 2) ? a[1] "/" a[2] : a[1] }
  FILENAME == "-" { d = folder($0); if (!(d in r) && !(d in told)) { told[d] = 1
      print "check-layers: lib/" d " has no place in the layer order (add it to " \
            "scripts/check-layers.sh and README'"'"'s layout)" }; next }
  { from = folder($1); to = folder($2)
    if (from == to || !(from in r)) next
    if (!(to in r) || r[to] >= r[from])
      print "check-layers: lib/" $1 " includes \"" $2 "\": " from " may not include " to \
            " (layer order: core < jsonlogic, crypto < store < store backends < index, embed, redis, webhook" \
            " < policy, ratelimit, cache < jobs < api)" }
' - "$edges")
if [ -n "$layers" ]; then
  echo "$layers"
  bad=1
fi

for d in store/*/; do
  d=${d%/}
  n=$(ls "$d"/*.h 2>/dev/null | wc -l)
  if [ "$n" -ne 1 ]; then
    echo "check-layers: lib/$d has $n internal headers; a backend keeps exactly one"
    bad=1
  fi
done

# Include cycles: a depth-first walk of the file graph from every file.
cycles=$(awk '
  { n[$1]++; to[$1, n[$1]] = $2 }
  function walk(f, path,   i, g) {
    if (f in onpath) { if (!(f in seen_cycle)) { seen_cycle[f] = 1; print path } return }
    if (f in done) return
    onpath[f] = 1
    for (i = 1; i <= n[f]; i++) { g = to[f, i]; walk(g, path " -> " g) }
    delete onpath[f]; done[f] = 1
  }
  END { for (f in n) walk(f, f) }
' "$edges")
if [ -n "$cycles" ]; then
  echo "$cycles" | sed 's/^/check-layers: include cycle: /'
  bad=1
fi

[ "$bad" -eq 0 ] && echo "check-layers: lib/ follows the layer order, no include cycles"
exit "$bad"
