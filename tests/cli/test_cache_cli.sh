#!/bin/sh
# The read-through cache from the command line: cache stats and clear say what the handle's
# cache is and did; bench cache prints its figures with their parameters, and refuses bad
# ones.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup cache

D="--db c.db"
"$M" $D init >/dev/null 2>&1

expect 0 "cache stats" $D --json cache stats
check "SQLite has no cache by default" json 'd["backend"] == "off" and d["hits"] == 0'
expect 0 "cache clear with no cache" $D cache clear

expect 0 "bench cache" $D --json bench cache --n 200 --memories 50 --queries 10
check "has the parameters" json 'd["backend"] == "memory" and d["n"] == 200 and d["memories"] == 50 and d["search_mix"]["queries"] == 10'
check "has each run's figures and the speed-ups" json 'all(d[p][r]["calls_per_s"] > 0 and d[p][r]["p50_us"] > 0 for p, r in (("get", "hit"), ("get", "miss"), ("search_mix", "cached"), ("search_mix", "uncached"))) and d["get"]["speedup"] > 0 and d["search_mix"]["speedup"] > 0'
expect 0 "bench cache, text" $D bench cache --n 100 --memories 20 --queries 5
check "names what it timed" grep -q "mn_memory_search, 5 query texts round robin" "$OUT"
expect 0 "bench cache with more memories than calls" $D bench cache --n 10 --memories 50 --queries 2
expect 2 "bench cache --queries 0" $D bench cache --queries 0
check "names the bounds" err_has "--queries 1..1000000"
expect 2 "bench cache --backend bogus" $D bench cache --backend bogus

cli_finish
