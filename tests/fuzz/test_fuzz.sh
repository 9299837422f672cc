#!/bin/sh
# test_fuzz.sh — the libFuzzer harnesses (tests/fuzz/fuzz_NAME.c, built by `make fuzz-build`
# into build-fuzz/fuzz/): each replays its corpus (tests/fuzz/corpus/NAME/: small valid inputs
# and every crash found so far, fixed), then fuzzes FUZZ_SECONDS from it. One line per harness:
# inputs replayed, runs and seconds fuzzed. A crash, leak, undefined behaviour, broken property
# or input slower than 10 s fails the harness with libFuzzer's report; the input is kept in
# FUZZ_WORK/crash/ (fix the bug, then add the input to the corpus).
#
# Run by tests/run.sh (make check: FUZZ_SECONDS 6) and by make fuzz (FUZZ_SECONDS=N, default
# 60, FUZZ_WORK=build-fuzz: what the fuzzer learns is kept in build-fuzz/corpus/NAME/ for the
# next run). FUZZ_WORK defaults to a temporary directory, removed. Exits non-zero if any failed.
# The harnesses read every URL kind, so make check builds them only with every backend:
# needs: postgres redis http-embed
# once: it fuzzes build-fuzz/, a build of its own, the same whichever build runs it
set -u
top=${MN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bins="$top/build-fuzz/fuzz"
seconds=${FUZZ_SECONDS:-6}
# make check fuzzes from a fixed seed (FUZZ_SEED, default 1), so that a run fails the same way
# again and a new finding shows up in `make fuzz` (random seeds) rather than as a flaky check.
seed=${FUZZ_SEED:-$([ -n "${FUZZ_WORK:-}" ] || echo 1)}
if [ -n "${FUZZ_WORK:-}" ]; then
    work=$FUZZ_WORK
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/mn-fuzz.XXXXXX") || exit 1
    trap 'rm -rf "$work"' EXIT
    trap 'exit 130' INT TERM
fi
mkdir -p "$work/crash" || exit 1
log="$work/fuzz.log"
failed=0
found=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    bin="$bins/$name"
    corpus="$top/tests/fuzz/corpus/$short"
    found=$((found + 1))
    if [ ! -x "$bin" ]; then
        echo "not ok - $name is not built (make fuzz-build)"
        failed=$((failed + 1))
        continue
    fi
    # Every corpus input once: a crash fixed once stays fixed.
    set -- "$corpus"/*
    if [ ! -e "$1" ]; then
        echo "not ok - $name has no corpus in tests/fuzz/corpus/$short"
        failed=$((failed + 1))
        continue
    fi
    replayed=$#
    if ! "$bin" "$@" >"$log" 2>&1; then
        echo "not ok - $name: an input of its corpus fails:"
        grep -E 'Running:|ERROR|SUMMARY|fuzz:|runtime error' "$log" | tail -n 8 | sed 's/^/#   /'
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work/corpus/$short"
    dict="$top/tests/fuzz/$short.dict"
    set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$work/crash/$short-"
    [ -f "$dict" ] && set -- "$@" -dict="$dict"
    [ -n "$seed" ] && set -- "$@" -seed="$seed"
    if "$bin" "$@" "$work/corpus/$short" "$corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
        echo "ok - $name: $replayed corpus inputs replayed; ${runs:-?} runs in ${secs:-?} s"
    else
        echo "not ok - $name: fuzzing found a failure ($(grep -m1 'INFO: Seed' "$log")):"
        grep -E 'ERROR|SUMMARY|fuzz:|runtime error|Test unit written' "$log" | tail -n 8 |
            sed 's/^/#   /'
        failed=$((failed + 1))
    fi
done
echo "# $found harnesses, $failed failed"
[ "$found" -gt 0 ] && [ "$failed" -eq 0 ]
