#!/bin/sh
# test_bench_make.sh — `make bench-ingest` and `make bench-policy` leave no temporary directory
# behind, whether the benchmark succeeds or fails (BENCH_N keeps the runs small).
#
# Run by tests/run.sh from the repo root with MN_BUILD (build dir) and MN_TOP (repo root).
# Prints "ok N - what" / "not ok N - what" (TAP-like) and exits non-zero if any case failed.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup bench-make
command -v make >/dev/null 2>&1 || { echo "not ok 1 - make is needed"; exit 1; }

# make TARGET [VAR=VALUE...]: the repository's Makefile on this build, temporary files in
# $TMP/scratch; the exit status in $rc.
mk() {
    TMPDIR="$TMP/scratch" make -s -C "$MN_TOP" B="$MN_BUILD" "$@" >"$OUT" 2>"$ERR"; rc=$?
}
scratch_empty() { [ -z "$(ls -A "$TMP/scratch")" ]; }
mkdir -p "$TMP/scratch"

mk bench-ingest BENCH_N=300
check "make bench-ingest BENCH_N=300 succeeds" [ "$rc" -eq 0 ]
check "... ingests the 300 memories asked for" out_has "300 memories in"
check "... and removes its temporary directory" scratch_empty

mk bench-policy BENCH_N=0
check "make bench-policy with a refused option fails" [ "$rc" -ne 0 ]
check "... and still removes its temporary directory" scratch_empty

mk bench-policy BENCH_N=2000
check "make bench-policy BENCH_N=2000 succeeds" [ "$rc" -eq 0 ]
check "... and removes its temporary directory" scratch_empty

cli_finish
