#!/bin/sh
# Metrics and health from the CLI: `manushya metrics` (Prometheus text, --json) and the
# metrics of a real workload (bench ingest --metrics-out) pass `promtool check metrics`;
# `manushya health` prints its checks and exits 0 healthy, 2 failing (a file that is no
# database); bench ingest --metrics-compare runs both modes. promtool comes with Debian's
# prometheus package (scripts/deps.sh --test).
. "$MN_TOP/tests/cli/lib.sh"
cli_setup metrics

if ! command -v promtool >/dev/null 2>&1; then
    echo "not ok 1 - promtool is needed: apt-get install prometheus (scripts/deps.sh --test)"
    exit 1
fi

D="--db m.db"
expect 0 "tenant create" $D tenant create acme
expect 0 "metrics prints the Prometheus text format" $D metrics
check "it has the families, with HELP and TYPE" \
    grep -q '^# TYPE manushya_calls_total counter$' "$OUT"
check "the store's figures: one tenant" grep -q '^manushya_tenants 1$' "$OUT"
check "promtool check metrics accepts manushya metrics" sh -c "promtool check metrics <'$OUT'"

expect 0 "metrics --json" $D --json metrics
check "JSON: the same families, each with its series" \
    json 'any(m["name"] == "manushya_call_duration_seconds" and m["type"] == "histogram"
              for m in d["metrics"]) and all("series" in m for m in d["metrics"])'

expect 0 "bench ingest --metrics-out" --db b.db bench ingest --n 300 --metrics-out b.prom
check "a workload's metrics: adds, searches and their latencies" \
    sh -c 'grep -q "^manushya_memories_created_total 300$" b.prom &&
           grep -q "^manushya_calls_total{op=\"memory_search\",code=\"ok\"} 100$" b.prom &&
           grep -q "^manushya_call_duration_seconds_count{op=\"memory_search\"} 100$" b.prom'
check "promtool check metrics accepts them" sh -c 'promtool check metrics <b.prom'

expect 0 "health of a sound database" $D health
check "it lists each check" sh -c "grep -q '^ok$' '$OUT' && grep -q ' store ' '$OUT' &&
                                    grep -q ' disk ' '$OUT'"
expect 0 "health --json --probe-embed" $D --json health --probe-embed
check "JSON: status ok, every check with a reason" \
    json 'd["status"] == "ok" and all(c["reason"] for c in d["checks"]) and
          {"store", "schema", "redis", "embedder", "index", "jobs", "disk"} <=
          {c["name"] for c in d["checks"]}'
printf 'this is not a database, only some text that is long enough to be read\n' >bad.db
expect 2 "health exits 2 when the database cannot be opened" --db bad.db health

expect 0 "bench ingest --metrics-compare" --db c.db bench ingest --n 200 --metrics-compare 1
check "it prints both modes" grep -q 'metrics off .* on .* slower' "$OUT"
expect 2 "--metrics-compare wants rounds >= 1" --db c.db bench ingest --n 10 \
    --metrics-compare -1

cli_finish
