#!/bin/sh
# tests/abi/test_frozen.sh — tests/abi/frozen.c, compiled against the frozen 1.0 header only
# (-Itests/abi: never include/), linked to the freshly built libmanushya.so and run. A program
# built against 1.0 must keep working against every later build of major version 1.
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root; default: from this path).
set -u

. "$(dirname "$0")/../support/build_env.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-frozen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -e "$build/libmanushya.so" ]; then
  echo "not ok - $build/libmanushya.so not found: build first (make B=$MN_BUILD)"
  exit 1
fi
# shellcheck disable=SC2086 # $sanflags is a list of flags
if "$CC" -std=c99 -Wall -Wextra -Werror $sanflags -I"$MN_TOP/tests/abi" \
  "$MN_TOP/tests/abi/frozen.c" -L"$build" -lmanushya -Wl,-rpath,"$build" \
  -o "$tmp/frozen" >"$tmp/cc.log" 2>&1; then
  echo "ok - frozen.c builds against tests/abi/manushya-1.0.h"
else
  echo "not ok - frozen.c builds against tests/abi/manushya-1.0.h"
  sed 's/^/#   /' "$tmp/cc.log"
  exit 1
fi
"$tmp/frozen" "$tmp"
