#!/bin/sh
# tests/cxx/test_header_std.sh — include/manushya.hpp and tests/cxx/test_cxx.cc with each C++
# compiler there is (g++, clang++), C++17 and C++20, -Wall -Wextra -Werror -pedantic -Wshadow,
# compiled without a warning (syntax only: nothing is linked).
# Environment: MN_TOP (repo root; default: from this path).
# Prints one "ok" / "not ok" line per check; exits non-zero when any failed.
# once: it compiles the sources only, the same whichever build runs it
set -u
MN_TOP=${MN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}

. "$(dirname "$0")/../support/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-cxx-std.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
flags="-Wall -Wextra -Werror -pedantic -Wshadow -I$MN_TOP/include"

compilers=0
for cxx in g++ clang++; do
  command -v "$cxx" >/dev/null 2>&1 || { echo "# $cxx not installed"; continue; }
  compilers=$((compilers + 1))
  for std in c++17 c++20; do
    # shellcheck disable=SC2086
    if "$cxx" -std=$std $flags -fsyntax-only "$MN_TOP/tests/cxx/test_cxx.cc" >"$tmp/log" 2>&1; then
      ok "$cxx -std=$std: manushya.hpp and tests/cxx/test_cxx.cc compile without a warning"
    else
      not_ok "$cxx -std=$std: manushya.hpp and tests/cxx/test_cxx.cc compile without a warning"
      indent "$tmp/log"
    fi
  done
done
[ "$compilers" -gt 0 ] || not_ok "no C++ compiler (g++ comes with build-essential)"
[ "$failed" -eq 0 ]
