#!/bin/sh
# tests/abi/test_abi_check.sh — make abi-check as part of make check: the built shared library
# against the stored ABI baseline (scripts/abi.sh check). Fails on any incompatible change.
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root; default: from this path).
set -u

. "$(dirname "$0")/../support/build_env.sh"
cd "$MN_TOP" || exit 1
if scripts/abi.sh check "$(readlink -f "$build/libmanushya.so")"; then
  echo "ok - $MN_BUILD/libmanushya.so keeps the ABI of the baseline"
else
  echo "not ok - $MN_BUILD/libmanushya.so keeps the ABI of the baseline"
  exit 1
fi
