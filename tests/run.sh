#!/bin/sh
# Runs every test program given as arguments, then every tests/*/test_*.sh script, and prints
# one closing line "N passed, N failed". Environment: MN_BUILD (the build dir, e.g. build).
# Each program/script is one test unit; its own output says which case failed.
set -u
: "${MN_BUILD:=build}"
export MN_BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
export MN_TOP="$top"
passed=0; failed=0; failures=""
run() {
  name=$1; shift
  printf '== %s\n' "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $name"; fi
}
for bin in "$@"; do
  run "$(basename "$bin")" "$bin"
done
for script in "$top"/tests/*/test_*.sh; do
  [ -e "$script" ] || continue
  run "$(basename "$script")" sh "$script"
done
[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
