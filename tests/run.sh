#!/usr/bin/env bash
# Runs every test program given as arguments, then every tests/*/test_*.sh script, and prints
# one closing line "N passed, N failed" (", N skipped" when a build left some out).
# Environment: MN_BUILD (the build dir, e.g. build); MN_NOT_BUILT (test programs the build's
# switches left out, named by the Makefile) and MN_BUILD_OPTIONS (its WITH_* switches).
# Each program/script is one test unit; its own output says which case failed.
#
# Units run MN_TEST_JOBS at a time (default: twice the cores; 1 runs them one after another):
# most of a unit's time is waiting on a server, a child process or a disk flush, not on a core.
# Every unit gets its own temp dirs, database schemas and ports, so none depends on another;
# each one's output is kept apart and printed whole when it ends, under a line with its wall and
# CPU time, and the slowest units are listed at the end. Units start longest first, by the
# times this build's last run recorded (in $MN_BUILD/test-times) or, in a build that has not
# run them yet, by tests/times (a reference run's, kept in the tree), so that a long one does
# not start last.
#
# A build without a backend (make WITH_POSTGRES=0 ...): a server or script whose header has a
# line "# needs: FEATURE" (a name `manushya --version` lists, e.g. postgres, redis, http-embed)
# is skipped, visibly, when the build lacks it.
#
# A script whose header has a line "# once: WHY" checks what no build changes (the sources, or a
# build of its own): with MN_TEST_ONCE_DONE=1 (.ci/run's later passes, after the first ran it)
# it is skipped, visibly.
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
# The units: their names, and the programs or scripts (run by sh) that are them.
names=(); paths=()
for bin in "$@"; do
  names+=("$(basename "$bin")"); paths+=("$bin")
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
  if [ "${MN_TEST_ONCE_DONE:-0}" = 1 ] && grep -q '^# once: ' "$script"; then
    skip "$(basename "$script")" "the same in every build, and run by an earlier pass"
    continue
  fi
  names+=("$(basename "$script")"); paths+=("$script")
done

# Longest first, by the last run's wall times ("NAME SECONDS" lines); units it did not see go
# first of all, as their time is unknown.
times_file=$MN_BUILD/test-times
case $times_file in /*) ;; *) times_file=$top/$times_file ;; esac
declare -A last=()
for f in "$times_file" "$top/tests/times"; do
  [ -r "$f" ] || continue
  while read -r name secs; do
    case $name in '#'* | '') continue ;; esac
    last[$name]=$secs
  done <"$f"
  break
done
order=$(for i in "${!names[@]}"; do
  printf '%s %s\n' "${last[${names[$i]}]:-1e9}" "$i"
done | sort -k1,1gr | cut -d' ' -f2)

declare -A unit_of=() # running units: process id -> unit index
out=$(mktemp -d "${TMPDIR:-/tmp}/mn-tests.XXXXXX")
# Each unit runs in a process group of its own (set -m), so that an interrupted run stops
# every unit still running, with its children, before the servers go.
set -m
stop_units() {
  for pid in "${!unit_of[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
}
trap 'stop_units; stop_servers; rm -rf "$out"' EXIT
jobs=${MN_TEST_JOBS:-$(( 2 * $(nproc 2>/dev/null || echo 1) ))}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

# launch I: starts unit I in the background; its output, exit status and times go to $out/I.*
launch() {
  local i=$1
  (
    local run=("${paths[$i]}")
    case ${paths[$i]} in *.sh) run=(sh "${paths[$i]}") ;; esac
    TIMEFORMAT='%R %U %S'
    { time "${run[@]}" >"$out/$i.log" 2>&1 </dev/null; } 2>"$out/$i.time"
    echo $? >"$out/$i.rc"
  ) &
  unit_of[$!]=$i
}

# finish: waits for one running unit to end, then prints its output and counts it.
finish() {
  local pid="" i rc wall user sys
  wait -n -p pid
  [ -n "$pid" ] || return 0 # a signal, not a unit
  i=${unit_of[$pid]}
  unset "unit_of[$pid]"
  running=$((running - 1))
  rc=$(cat "$out/$i.rc" 2>/dev/null || echo 1)
  read -r wall user sys <"$out/$i.time" 2>/dev/null || { wall=0; user=0; sys=0; }
  awk -v n="${names[$i]}" -v w="$wall" -v u="$user" -v s="$sys" \
    'BEGIN { printf "== %s (%.1f s, CPU %.1f s)\n", n, w, u + s }'
  cat "$out/$i.log"
  printf '%s %s\n' "${names[$i]}" "$wall" >>"$out/times"
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures="$failures ${names[$i]}"
  fi
}

passed=0; failed=0; failures=""; : >"$out/times"
running=0
started=$(date +%s)
for i in $order; do
  while [ "$running" -ge "$jobs" ]; do finish; done
  launch "$i"
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  finish
done
cp "$out/times" "$times_file" 2>/dev/null
echo "== slowest units ($jobs at a time, $(( $(date +%s) - started )) s in all):"
sort -k2,2gr "$out/times" | head -n 8 | sed 's/^/   /'
[ -n "$failures" ] && echo "failed:$failures"
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
