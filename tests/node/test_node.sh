#!/bin/sh
# tests/node/test_node.sh — the Node.js package (bindings/node) against the freshly built
# library: `node --test` runs tests/node/*.test.js (struct layouts against the C compiler's,
# loading, errors, the whole API on SQLite files in a temp dir and, when tests/run.sh started
# it, on PostgreSQL: MN_PG_URL; the README's example as written) and tests/node/typed.ts,
# compiled first by tsc --strict against the package's declarations (index.d.ts); then the
# search benchmark once with small figures (bindings/node/bench/search.js).
# koffi and typescript (a devDependency, for this test only) come from the npm cache of
# tests/support/npm_ci.sh (never the source tree); the package is found as `manushya` through
# a directory of the temp dir linking to it, as an installed one is: both through NODE_PATH.
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root), MN_PG_URL (optional).
set -u

. "$(dirname "$0")/../support/build_env.sh"
MN_TOP=$(cd "$MN_TOP" && pwd) # the package is linked to by this path from the temp dir
so=$build/libmanushya.so.1

for tool in node npm; do
  command -v $tool >/dev/null 2>&1 || {
    echo "not ok - $tool not found (scripts/deps.sh --test installs it)"; exit 1; }
done
if [ ! -e "$so" ]; then
  echo "not ok - $so not found: build first (make B=$MN_BUILD)"
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-node.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cache=$(sh "$MN_TOP/tests/support/npm_ci.sh" "$MN_TOP/bindings/node" "$tmp/npm.log") || {
  echo "not ok - npm ci of bindings/node (see above)"; exit 1; }
mkdir -p "$tmp/modules"
ln -s "$MN_TOP/bindings/node" "$tmp/modules/manushya"
export NODE_PATH="$tmp/modules:$cache/node_modules"
export MANUSHYA_LIBRARY="$so" MN_TOP
[ -n "${MN_PG_URL:-}" ] || echo "# MN_PG_URL is not set: the PostgreSQL cases are skipped"

# A sanitized library (make SAN=1) needs the ASan runtime loaded first into node; leak
# detection off (node's own allocations at exit are not ours).
if [ -n "$sanflags" ]; then
  LD_PRELOAD=$($CC -print-file-name=libasan.so)
  ASAN_OPTIONS=detect_leaks=0:${ASAN_OPTIONS:-}
  export LD_PRELOAD ASAN_OPTIONS
  echo "# sanitized build: LD_PRELOAD=$LD_PRELOAD, leak detection off"
fi

failed=0
if node "$cache/node_modules/typescript/bin/tsc" --strict --module commonjs --target es2020 \
    --moduleResolution node10 --baseUrl "$tmp/modules" --outDir "$tmp/ts" \
    "$MN_TOP/tests/node/typed.ts"; then
  echo "ok - tests/node/typed.ts type-checks against index.d.ts (tsc --strict)"
else
  echo "not ok - tests/node/typed.ts type-checks against index.d.ts (tsc --strict)"; failed=1
fi
(cd "$tmp" && node --test "$MN_TOP"/tests/node/*.test.js "$tmp/ts/typed.js") || failed=1

# The benchmark runs and prints both figures (its numbers are not checked: they are figures).
if (cd "$tmp" && node "$MN_TOP/bindings/node/bench/search.js" --memories 200 --calls 50) \
    >"$tmp/bench.out" 2>&1 && grep -q '^C  *mn_memory_search' "$tmp/bench.out" &&
    grep -q '^node  *memories.search' "$tmp/bench.out"; then
  echo "ok - bench/search.js prints the C and the Node figures"
else
  echo "not ok - bench/search.js prints the C and the Node figures"
  sed 's/^/#   /' "$tmp/bench.out"
  failed=1
fi
[ "$failed" -eq 0 ]
