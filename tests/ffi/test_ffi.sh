#!/bin/sh
# tests/ffi/test_ffi.sh — the Python example (examples/ffi/quickstart.py, over the package in
# bindings/python, imported from the source tree) runs against the freshly built shared library
# and prints what it should. The package's struct layouts are checked against the C compiler's
# by its own tests (tests/python/test_python.sh).
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root; default: from this path).
# Prints one "ok" / "not ok" line per check; exits non-zero when any failed.
set -u

. "$(dirname "$0")/../support/build_env.sh"
example=$MN_TOP/examples/ffi/quickstart.py
so=$build/libmanushya.so.1

. "$(dirname "$0")/../support/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-ffi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

py=$(command -v python3 2>/dev/null || true)
if [ -z "$py" ]; then
  not_ok "python3 not found (scripts/deps.sh --test installs it)"
  exit 1
fi
if [ ! -e "$so" ]; then
  not_ok "$so not found: build first (make B=$MN_BUILD)"
  exit 1
fi

# ---- the example against the built library --------------------------------------------
# A sanitized library (make SAN=1) needs the ASan runtime loaded first (with_library).
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
with_library "$py" "$example" "$so" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ]; then
  ok "quickstart.py exits 0"
else
  not_ok "quickstart.py exits 0 (got $rc)"
fi

version=$(sed -n 's/^#define MN_VERSION "\(.*\)"/\1/p' "$MN_TOP/include/manushya.h")
expect() { # DESCRIPTION EXTENDED-REGEX
  if grep -Eq -- "$2" "$tmp/out"; then ok "$1"; else not_ok "$1 (no line matching /$2/)"; fi
}
expect "reports the library version $version" "^libmanushya $version loaded from "
expect "creates the tenant" '^tenant acme \([0-9a-f-]{36}\)$'
expect "creates the identity with its role" '^identity support-bot role=agent \([0-9a-f-]{36}\)$'
expect "adds one memory at version 1" '^added [0-9a-f-]{36} v1 \[preference\] The customer prefers green tea'
expect "adds a batch of 4 and gets 4 ids back" '^added 4 more: ([0-9a-f-]{36}, ){3}[0-9a-f-]{36}$'
expect "text search ranks the tea preference first" \
  '^  hit 1 similarity 0\.[0-9]{3} \[preference\] The customer prefers green tea over coffee$'
expect "metadata-filtered search finds both order memories" \
  '^search "order 1042" metadata \{"topic":"orders"\}: 2 hit\(s\)$'
expect "list filtered by type returns the 2 facts" '^list type=fact: 2 memories$'
expect "finishes" '^ok$'
# Every hit of the filtered search must be one of the two order memories.
others=$(awk '/^search "order 1042"/ { on = 1; next } on && /^  hit/ { print; next } { on = 0 }' \
  "$tmp/out" | grep -vc 'order #1042')
if [ "$others" -eq 0 ]; then
  ok "metadata filter keeps out the other topics"
else
  not_ok "metadata filter keeps out the other topics ($others other hit(s))"
fi
if [ -s "$tmp/err" ]; then
  echo "# stderr:"; sed 's/^/#   /' "$tmp/err"
fi
if [ "$failed" -ne 0 ]; then
  echo "# output:"; sed 's/^/#   /' "$tmp/out"
fi

[ "$failed" -eq 0 ]
