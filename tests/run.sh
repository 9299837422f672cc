#!/bin/sh
# Runs every test program given as arguments, then every tests/*/test_*.sh script, and prints
# one closing line "N passed, N failed" (", N skipped" when a build left some out).
# Environment: MN_BUILD (the build dir, e.g. build); MN_NOT_BUILT (test programs the build's
# switches left out, named by the Makefile) and MN_BUILD_OPTIONS (its WITH_* switches).
# Each program/script is one test unit; its own output says which case failed.
#
# A build without a backend (make WITH_POSTGRES=0 ...): a server or script whose header has a
# line "# needs: FEATURE" (a name `manushya --version` lists, e.g. postgres, redis, http-embed)
# is skipped, visibly, when the build lacks it.
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
case $MN_BUILD in
  /*) cli=$MN_BUILD/manushya ;;
  *) cli=$top/$MN_BUILD/manushya ;;
esac
features=$("$cli" --version 2>/dev/null | sed -n 's/^features: //p')
switched_off=$(printf '%s\n' ${MN_BUILD_OPTIONS:-} | grep '=0$' | paste -sd ' ' -)
skipped=0
# missing FILE: prints the feature FILE needs that this build lacks (nothing when none).
missing() {
  for need in $(sed -n 's/^# needs: //p' "$1"); do
    case " $features " in *" $need "*) ;; *) echo "$need"; return ;; esac
  done
}
skip() { # NAME WHY
  printf '== %s: skipped, %s\n' "$1" "$2"
  skipped=$((skipped + 1))
}
for s in "$top"/tests/servers/*.sh; do
  [ -e "$s" ] || continue
  n=$(basename "$s" .sh)
  need=$(missing "$s")
  if [ -n "$need" ]; then
    printf '== not starting %s: this build has no %s (%s)\n' "$n" "$need" "$switched_off"
    continue
  fi
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
for name in ${MN_NOT_BUILT:-}; do
  skip "$name" "not built: it needs a backend this build leaves out ($switched_off)"
done
for script in "$top"/tests/*/test_*.sh; do
  [ -e "$script" ] || continue
  need=$(missing "$script")
  if [ -n "$need" ]; then
    skip "$(basename "$script")" "this build has no $need ($switched_off)"
    continue
  fi
  run "$(basename "$script")" sh "$script"
done
[ -n "$failures" ] && echo "failed:$failures"
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
