#!/bin/sh
# tests/ffi/test_ffi.sh — the Python ctypes example (examples/ffi/quickstart.py) against the
# freshly built shared library.
#   1. the struct layouts declared in Python match the C compiler's (sizes and field offsets)
#   2. the example runs against $MN_BUILD/libmanushya.so and prints what it should
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root; default: from this path).
# Prints one "ok" / "not ok" line per check; exits non-zero when any failed.
set -u

. "$(dirname "$0")/../support/build_env.sh"
example=$MN_TOP/examples/ffi/quickstart.py
so=$build/libmanushya.so

failed=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

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

# ---- 1. layouts ---------------------------------------------------------------------------
cat >"$tmp/layout.c" <<'EOF'
#include <manushya.h>
#include <stddef.h>
#include <stdio.h>
#define S(T) printf("%s %zu", #T, sizeof(T))
#define F(T, f) printf(" %s:%zu", #f, offsetof(T, f))
#define E() printf("\n")
int main(void)
{
    S(mn_actor); F(mn_actor, version); F(mn_actor, tenant); F(mn_actor, identity); F(mn_actor, context);
    F(mn_actor, api_key); E();
    S(mn_tenant); F(mn_tenant, id); F(mn_tenant, name); F(mn_tenant, created_at); E();
    S(mn_identity); F(mn_identity, id); F(mn_identity, tenant_id); F(mn_identity, external_id);
    F(mn_identity, role); F(mn_identity, claims); F(mn_identity, active);
    F(mn_identity, created_at); F(mn_identity, updated_at); E();
    S(mn_memory); F(mn_memory, id); F(mn_memory, tenant_id); F(mn_memory, identity_id);
    F(mn_memory, text); F(mn_memory, type); F(mn_memory, metadata); F(mn_memory, importance);
    F(mn_memory, version); F(mn_memory, created_at); F(mn_memory, updated_at);
    F(mn_memory, expires_at); F(mn_memory, deleted); F(mn_memory, seq);
    F(mn_memory, similarity); F(mn_memory, embedding); F(mn_memory, dim);
    F(mn_memory, embed_status); F(mn_memory, embed_error); F(mn_memory, external_key);
    F(mn_memory, recency_factor); F(mn_memory, importance_factor); F(mn_memory, score);
    F(mn_memory, vector_score); F(mn_memory, vector_rank); F(mn_memory, keyword_score);
    F(mn_memory, keyword_rank); F(mn_memory, fused_score); E();
    S(mn_memories); F(mn_memories, count); F(mn_memories, items);
    F(mn_memories, next_cursor); E();
    S(mn_memory_input); F(mn_memory_input, version); F(mn_memory_input, identity);
    F(mn_memory_input, text); F(mn_memory_input, type); F(mn_memory_input, metadata);
    F(mn_memory_input, importance); F(mn_memory_input, ttl_days); F(mn_memory_input, embedding);
    F(mn_memory_input, dim); F(mn_memory_input, external_key); F(mn_memory_input, id); E();
    S(mn_filter); F(mn_filter, version); F(mn_filter, identity); F(mn_filter, type); F(mn_filter, metadata);
    F(mn_filter, flags); E();
    S(mn_list_options); F(mn_list_options, version); F(mn_list_options, filter); F(mn_list_options, limit);
    F(mn_list_options, cursor); E();
    S(mn_search_options); F(mn_search_options, version); F(mn_search_options, query); F(mn_search_options, vector);
    F(mn_search_options, dim); F(mn_search_options, k); F(mn_search_options, min_similarity);
    F(mn_search_options, filter); F(mn_search_options, ef);
    F(mn_search_options, recency_half_life_ms); F(mn_search_options, recency_weight);
    F(mn_search_options, importance_weight); F(mn_search_options, cursor);
    F(mn_search_options, mode); F(mn_search_options, vector_weight);
    F(mn_search_options, keyword_weight); F(mn_search_options, rrf_k);
    F(mn_search_options, flags); E();
    return 0;
}
EOF
if ! $CC -std=c99 -Wall -Werror -I"$MN_TOP/include" -o "$tmp/layout" "$tmp/layout.c" 2>"$tmp/cc.err"; then
  not_ok "layout probe compiles"; sed 's/^/#   /' "$tmp/cc.err"
elif ! "$tmp/layout" >"$tmp/layout.c.txt" || ! "$py" "$example" --layout >"$tmp/layout.py.txt"; then
  not_ok "layout probes run"
elif diff -u "$tmp/layout.c.txt" "$tmp/layout.py.txt" >"$tmp/layout.diff"; then
  ok "ctypes struct layouts match the C header ($(wc -l <"$tmp/layout.c.txt" | tr -d ' ') structs)"
else
  not_ok "ctypes struct layouts differ from the C header (- C, + Python):"
  sed 's/^/#   /' "$tmp/layout.diff"
fi

# ---- 2. the example against the built library --------------------------------------------
# A sanitized library (make SAN=1) needs the ASan runtime loaded first into the interpreter.
preload=""
if [ -n "$sanflags" ]; then
  preload=$($CC -print-file-name=libasan.so)
  echo "# sanitized build: LD_PRELOAD=$preload, leak detection off (the interpreter's own)"
fi
if [ -n "$preload" ]; then
  LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0:${ASAN_OPTIONS:-} \
    "$py" "$example" "$so" >"$tmp/out" 2>"$tmp/err"
else
  "$py" "$example" "$so" >"$tmp/out" 2>"$tmp/err"
fi
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
expect "reports the library version $version" "^libmanushya $version \\(number [0-9]+\\)"
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
