#!/bin/sh
# tests/python/test_python.sh — the Python package (bindings/python) against the freshly built
# library:
#   1. `pip install` of bindings/python into a new venv works offline (Debian's setuptools, no
#      build isolation, no index), and installs the typed package (py.typed);
#   2. its pytest suite (bindings/python/tests) runs against that installed copy, with
#      MANUSHYA_LIBRARY set to $MN_BUILD's library: every case on a fresh SQLite file and, when
#      MN_PG_URL is set (tests/run.sh starts PostgreSQL), on PostgreSQL too; without it those
#      cases are skipped and the summary (-rs) says why.
# A sanitized build (make SAN=1) is loaded into the interpreter with the ASan runtime preloaded
# and leak detection off (with_library, tests/support/build_env.sh).
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root), MN_PG_URL (optional).
set -u

. "$(dirname "$0")/../support/build_env.sh"
so=$build/libmanushya.so.1
pkg=$MN_TOP/bindings/python

. "$(dirname "$0")/../support/tap.sh"

# Debian's interpreter: python3-pytest, python3-venv and python3-setuptools are its packages
# (scripts/deps.sh --test), whatever other python3 comes first on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 2>/dev/null || true)
if [ -z "$py" ] || ! "$py" -c 'import pytest, setuptools, venv' 2>/dev/null; then
  not_ok "python3 with pytest, setuptools and venv (scripts/deps.sh --test installs them)"
  exit 1
fi
if [ ! -e "$so" ]; then
  not_ok "$so not found: build first (make B=$MN_BUILD)"
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-python.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- 1. offline install into a venv -------------------------------------------------------
# --system-site-packages: the venv sees Debian's pytest and setuptools; --no-index: nothing is
# downloaded; the build tree is copied so that the source tree gets no build/ or egg-info.
cp -R "$pkg" "$tmp/src"
if "$py" -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1 &&
   "$tmp/venv/bin/python" -m pip install --no-index --no-build-isolation --no-cache-dir \
     --disable-pip-version-check -q "$tmp/src" >"$tmp/pip.log" 2>&1; then
  ok "pip install bindings/python into a venv, offline"
else
  not_ok "pip install bindings/python into a venv, offline"
  sed 's/^/#   /' "$tmp/venv.log" "$tmp/pip.log"
  exit 1
fi
where=$(cd "$tmp" && "$tmp/venv/bin/python" -c \
  'import manushya, os; d = os.path.dirname(manushya.__file__); print(d if os.path.exists(os.path.join(d, "py.typed")) else "")')
case $where in
  "$tmp/venv/"*) ok "the installed package is the venv's, with py.typed" ;;
  *) not_ok "the installed package is the venv's, with py.typed (got '$where')" ;;
esac

# ---- 2. pytest against the installed package ----------------------------------------------
[ -n "${MN_PG_URL:-}" ] || echo "# MN_PG_URL is not set: the PostgreSQL cases are skipped"
# From $tmp, so that the source tree is not on sys.path: the tests import the installed copy.
(
  cd "$tmp" || exit 1
  export MANUSHYA_LIBRARY="$so" MN_TOP PYTHONDONTWRITEBYTECODE=1
  with_library "$tmp/venv/bin/python" -m pytest -q -rs -p no:cacheprovider "$pkg/tests"
)
rc=$?
if [ "$rc" -eq 0 ]; then
  ok "pytest bindings/python/tests"
else
  not_ok "pytest bindings/python/tests (exit $rc)"
fi

[ "$failed" -eq 0 ]
