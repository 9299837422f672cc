#!/bin/sh
# Runs every test program given as arguments, then every tests/*/test_*.sh script, and prints
# one closing line "N passed, N failed". Environment: MN_BUILD (the build dir, e.g. build).
# Each program/script is one test unit; its own output says which case failed.
#
# Servers: every tests/servers/NAME.sh is started first (`NAME.sh start DIR` in a private temp
# dir; it prints VAR=VALUE lines, e.g. the server's URL, which are exported to every test) and
# stopped at the end (`NAME.sh stop DIR`), whatever happened. A server that cannot start fails
# the run: the tests that need it would otherwise be skipped silently.
set -u
: "${MN_BUILD:=build}"
export MN_BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
export MN_TOP="$top"
servers=$(mktemp -d "${TMPDIR:-/tmp}/mn-servers.XXXXXX")
stop_servers() {
  for s in "$top"/tests/servers/*.sh; do
    [ -e "$s" ] || continue
    n=$(basename "$s" .sh)
    [ -d "$servers/$n" ] && sh "$s" stop "$servers/$n" >/dev/null 2>&1
  done
  rm -rf "$servers"
}
trap stop_servers EXIT
trap 'exit 130' INT TERM
for s in "$top"/tests/servers/*.sh; do
  [ -e "$s" ] || continue
  n=$(basename "$s" .sh)
  mkdir -p "$servers/$n"
  printf '== starting %s\n' "$n"
  if ! vars=$(sh "$s" start "$servers/$n"); then
    echo "tests: server $n did not start (see above)"
    exit 1
  fi
  for v in $vars; do export "$v"; done
done
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
