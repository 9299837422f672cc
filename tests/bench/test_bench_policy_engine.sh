#!/bin/sh
# tests/bench/test_bench_policy_engine.sh — the policy engine benchmark of the source tree
# (bench/bench_policy_engine.c, built by `make check` and `make bench-policy`, never installed):
# it runs, decides the shared workload (cli/bench_policy_set.c) the same way in every mode, and
# rejects bad options. Figures are printed, not judged.
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root).
set -u
: "${MN_BUILD:=build}"
: "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
case $MN_BUILD in
  /*) tool=$MN_BUILD/bench/bench_policy_engine ;;
  *) tool=$MN_TOP/$MN_BUILD/bench/bench_policy_engine ;;
esac
. "$(dirname "$0")/../support/tap.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$tool" ]; then
  not_ok "$tool is not built (make B=$MN_BUILD check builds it)"
  exit 1
fi
if "$tool" --n 5000 --json >"$tmp/out" 2>"$tmp/err" && python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
modes = [d[m] for m in ("uncached", "cached", "cached_single")]
sys.exit(0 if d["policies"] == 10 and d["calls"] * d["decisions_per_call"] == 512
         and d["rounds"] == 5 and d["decisions_per_round"] == 1024
         and all(m["decisions_per_s"] >= m["median_decisions_per_s"] > 0 for m in modes)
         and len({m["allowed"] for m in modes}) == 1 and 0 < modes[0]["allowed"] < 512
         and d["cache_misses"] == 0 else 1)' "$tmp/out"; then
  ok "--n 5000 --json: every mode decides the same, the cache misses nothing once filled"
else
  not_ok "--n 5000 --json: every mode decides the same, the cache misses nothing once filled"
  sed 's/^/#   /' "$tmp/out" "$tmp/err" | head -n 20
fi
if "$tool" --n 1000 >"$tmp/out" 2>&1 && grep -q '^engine uncached .*decisions/s' "$tmp/out" &&
   grep -q '^engine cached .*decisions/s' "$tmp/out" &&
   grep -q '^engine cached/1 .*decisions/s' "$tmp/out"; then
  ok "human output has every figure"
else
  not_ok "human output has every figure"
  sed 's/^/#   /' "$tmp/out" | head -n 10
fi
"$tool" --n 0 >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q -- '--n 0' "$tmp/err"; then
  ok "--n 0 is refused, naming the value"
else
  not_ok "--n 0 is refused, naming the value (exit $rc)"
fi
"$tool" --frob >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q '^usage:' "$tmp/err"; then
  ok "an unknown option is a usage error (2)"
else
  not_ok "an unknown option is a usage error (2) (exit $rc)"
fi
[ "$failed" -eq 0 ]
