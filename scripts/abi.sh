#!/bin/sh
# scripts/abi.sh — the shared library's ABI against the stored baseline, with Debian's
# abigail-tools (abidw, abidiff). Run from the repository's root (make abi-check and
# make abi-baseline do).
#   scripts/abi.sh check LIB      compares LIB (the built libmanushya.so.X.Y.Z) with
#                                 tests/abi/SONAME.abi; fails on any incompatible change: a
#                                 function removed, a type, parameter or member changed.
#                                 Additions pass: new functions, members appended at the end of
#                                 public structs (tests/abi/suppressions.abignore).
#   scripts/abi.sh baseline LIB   writes tests/abi/SONAME.abi from LIB and, for a MAJOR.0.x
#                                 release, the frozen header tests/abi/manushya-MAJOR.0.h that
#                                 tests/abi/frozen.c is built against.
# Only what include/manushya.h defines counts: internal types are opaque to the check.
set -eu

usage() { echo "usage: scripts/abi.sh check|baseline LIB" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1 lib=$2
case $cmd in check|baseline) ;; *) usage ;; esac

for tool in abidw abidiff readelf; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "abi: $tool not found: scripts/deps.sh --test installs it (abigail-tools, binutils)" >&2
      exit 1; }
done
[ -f "$lib" ] || { echo "abi: $lib not found: build it first (make)" >&2; exit 1; }
# Without DWARF abidw sees only symbol names and no type change could be found.
readelf -S "$lib" | grep -q '\.debug_info' ||
  { echo "abi: $lib has no debug information: build with -g (the default CFLAGS has it)" >&2
    exit 1; }
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ -n "$soname" ] || { echo "abi: $lib has no SONAME" >&2; exit 1; }
baseline=tests/abi/$soname.abi

# The ABI of LIB as far as the public header defines it, into $1. Paths are left out, so that
# the stored file does not depend on where the tree was built.
dump() {
  abidw --headers-dir include --drop-private-types --exported-interfaces-only \
    --no-corpus-path --no-comp-dir-path --short-locs --out-file "$1" "$lib"
}

if [ "$cmd" = baseline ]; then
  dump "$baseline"
  echo "abi: wrote $baseline"
  version=$(sed -n 's/^#define MN_VERSION "\(.*\)"/\1/p' include/manushya.h)
  major=${version%%.*}
  case $version in
    "$major".0.*)
      cp include/manushya.h "tests/abi/manushya-$major.0.h"
      echo "abi: wrote tests/abi/manushya-$major.0.h (the frozen header of $major.0)" ;;
    *)
      echo "abi: kept tests/abi/manushya-$major.0.h (only a $major.0 release writes it)" ;;
  esac
  exit 0
fi

[ -f "$baseline" ] ||
  { echo "abi: no baseline $baseline for $soname: a new major version starts one with" \
      "make abi-baseline" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dump "$tmp/current.abi"
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 the ABIs differ, 8 they differ
# incompatibly (a symbol removed). Anything it still reports once additions and appended
# members are left out is a break: a type change only sets bit 4.
rc=0
abidiff --no-added-syms --suppressions tests/abi/suppressions.abignore \
  "$baseline" "$tmp/current.abi" >"$tmp/report" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
  echo "abi: $lib keeps the ABI of $baseline"
  exit 0
fi
sed 's/^/abi: /' "$tmp/report"
if [ $((rc & 3)) -ne 0 ]; then
  echo "abi: abidiff failed (exit $rc)" >&2
else
  echo "abi: $lib breaks the ABI of $baseline (abidiff exit $rc). A release of the same" \
    "major version may only add (libmanushya(3), ABI AND COMPATIBILITY); a deliberate break" \
    "needs a new major version and a new baseline (make abi-baseline)." >&2
fi
exit 1
