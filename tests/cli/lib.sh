# lib.sh — what the CLI test scripts share, sourced by each (tests/run.sh runs only test_*.sh).
#   . "$MN_TOP/tests/cli/lib.sh"; cli_setup NAME
# sets M (the manushya binary), TMP (a temp dir, removed at exit, and the working directory),
# a clean environment (no inherited MANUSHYA_*, a private HOME), and the helpers below.
# Prints "ok N - what" / "not ok N - what" (TAP-like); cli_finish ends with the count and
# exits non-zero if any case failed.
# shellcheck shell=sh

: "${MN_BUILD:=build}"
: "${MN_TOP:=$(pwd)}"
M="$MN_TOP/$MN_BUILD/manushya"

cli_setup() {
    if [ ! -x "$M" ]; then
        echo "not ok 1 - $M is not built"
        exit 1
    fi
    command -v python3 >/dev/null 2>&1 || { echo "not ok 1 - python3 is needed"; exit 1; }
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/manushya-$1.XXXXXX") || exit 1
    trap 'rm -rf "$TMP"' EXIT
    trap 'exit 130' INT TERM
    # The default database path must be ours, whatever the caller's environment.
    unset MANUSHYA_DB MANUSHYA_TENANT MANUSHYA_IDENTITY MANUSHYA_CONTEXT MANUSHYA_API_KEY \
        MANUSHYA_MASTER_KEY_FILE \
        XDG_DATA_HOME
    HOME="$TMP/home"
    export HOME
    mkdir -p "$HOME"
    n=0
    failed=0
    OUT="$TMP/out"
    ERR="$TMP/err"
    # Databases get short relative names: option lists like $A are split into words on purpose,
    # and must not depend on $TMP having no spaces.
    cd "$TMP" || exit 1
}

# embed_server DIM: starts the embeddings test server (tests/support/embed_server.py, DIM-
# dimensional vectors) on a free loopback port, killed at exit; sets spid, port and url (its /v1
# base URL); mode JSON steers it (see the server). A test that starts processes of its
# own replaces the EXIT trap afterwards, killing $spid too.
embed_server() {
    python3 "$MN_TOP/tests/support/embed_server.py" --dim "$1" >"$TMP/server.out" &
    spid=$!
    trap 'kill $spid 2>/dev/null; rm -rf "$TMP"' EXIT
    i=0
    while [ ! -s "$TMP/server.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    port=$(sed -n 's/^port //p' "$TMP/server.out")
    [ -n "$port" ] || { echo "not ok 1 - the embeddings test server did not start"; exit 1; }
    url="http://127.0.0.1:$port/v1"
}

cli_finish() {
    echo "# $n cases, $failed failed"
    [ "$failed" -eq 0 ]
}

pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
    n=$((n + 1)); failed=$((failed + 1))
    echo "not ok $n - $1"
    # The last command's output, to see why.
    sed -n '1,5s/^/#   stdout: /p' "$OUT" 2>/dev/null
    sed -n '1,5s/^/#   stderr: /p' "$ERR" 2>/dev/null
}
check() { # check DESCRIPTION COMMAND... : passes when the command succeeds
    d=$1; shift
    if "$@"; then pass "$d"; else fail "$d"; fi
}
# run ARGS...: runs manushya, stdout in $OUT, stderr in $ERR, exit status in $rc.
run() { "$M" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
# expect STATUS DESCRIPTION ARGS...: runs manushya and checks its exit status.
expect() {
    want=$1 d=$2; shift 2
    run "$@"
    if [ "$rc" -eq "$want" ]; then pass "$d"; else
        echo "#   exit status $rc, expected $want"; fail "$d"; fi
}
# json EXPR: evaluates a Python expression over the JSON on $OUT (bound to d).
json() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$OUT" "$1" 2>>"$ERR"
}
# jget EXPR: prints a Python expression over the JSON on $OUT.
jget() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$OUT" "$1"
}
mode() { python3 -c 'import sys,urllib.request
urllib.request.urlopen(sys.argv[1] + "/_control", data=sys.argv[2].encode())' "http://127.0.0.1:$port" "$1" >/dev/null; }
# cli_has FEATURE: the library was built with it (a name `manushya --version` lists).
cli_has() { "$M" --version | grep -q "^features:.* $1\( \|\$\)"; }
# sql DB STATEMENT: runs SQL on a SQLite file past the library (as an attacker or a damaged
# disk would); prints the first column of each row.
sql() {
    python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]): print(row[0])
c.commit()' "$1" "$2"
}
out_is() { [ "$(cat "$OUT")" = "$1" ]; }
out_has() { grep -q -- "$1" "$OUT"; }
err_has() { grep -q -- "$1" "$ERR"; }
is_uuid() { printf '%s\n' "$1" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'; }
