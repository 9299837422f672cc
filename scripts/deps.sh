#!/bin/sh
# Installs the Debian packages libmanushya needs. Idempotent.
#   scripts/deps.sh               build + demo packages
#   scripts/deps.sh --test        also what `make check` needs
#   scripts/deps.sh --check[-test]  exit 0 when everything is already there, 1 otherwise
#   scripts/deps.sh --require [--test]  the same, saying what is missing and how to install it
#                                 (what plain `make` runs: it never installs anything)
# As root it runs apt-get; otherwise it prints the exact command to run.
# The build's switches come from the environment (WITH_POSTGRES=0 etc., default 1): a backend
# switched off needs neither its library nor the server its tests use.
set -eu

: "${WITH_POSTGRES:=1}" "${WITH_REDIS:=1}" "${WITH_CURL:=1}" "${WITH_SERVE:=1}"
# libpq: the postgres store; hiredis: Redis counters and caches; libcurl: HTTP embedders;
# libsodium: SHA-256 (embedding cache keys) and random bytes (ids, index tokens).
BUILD_PKGS="build-essential pkg-config libsqlite3-dev libcjson-dev libsodium-dev"
# zlib1g-dev: sqlite3.pc names -lz for static links (the install test links statically);
# groff-base: the install test renders the man pages; abigail-tools: make abi-check (abidw,
# abidiff).
# postgresql-15, redis-server: the servers the tests start on loopback (never the system services);
# clang, libclang-rt-14-dev: the libFuzzer harnesses (tests/fuzz), built with clang and its
# fuzzer runtime; prometheus: its promtool checks the metrics output and the example alert
# rules (tests/cli/test_metrics_cli.sh, tests/monitoring/); python3-pytest, python3-venv,
# python3-setuptools: the Python package's tests (tests/python: an offline pip install into a
# venv, then pytest);
# Node.js + npm (PGlite with pgvector) are checked by command below: a machine may have them
# from another source (NodeSource bundles npm; Debian splits it into its own package).
TEST_PKGS="check python3 sqlite3 zlib1g-dev groff-base abigail-tools clang libclang-rt-14-dev"
TEST_PKGS="$TEST_PKGS prometheus python3-pytest python3-venv python3-setuptools"
if [ "$WITH_POSTGRES" = 1 ]; then
  BUILD_PKGS="$BUILD_PKGS libpq-dev"; TEST_PKGS="$TEST_PKGS postgresql-15"
fi
if [ "$WITH_REDIS" = 1 ]; then
  BUILD_PKGS="$BUILD_PKGS libhiredis-dev"; TEST_PKGS="$TEST_PKGS redis-server"
fi
[ "$WITH_CURL" = 1 ] && BUILD_PKGS="$BUILD_PKGS libcurl4-openssl-dev"
# libmicrohttpd-dev, zlib1g-dev: manushya serve, the HTTP API (its server and gzip).
[ "$WITH_SERVE" = 1 ] && BUILD_PKGS="$BUILD_PKGS libmicrohttpd-dev zlib1g-dev"
# nginx: three servers behind examples/deploy/nginx.conf (tests/deploy/test_nginx.sh; run as
# the current user from a temp dir, never the system service).
[ "$WITH_SERVE" = 1 ] && [ "$WITH_POSTGRES" = 1 ] && [ "$WITH_REDIS" = 1 ] &&
  TEST_PKGS="$TEST_PKGS nginx"

mode=${1:-}
[ "$mode" = --require ] && [ "${2:-}" = --test ] && mode=--require-test
case "$mode" in
  ""|--check|--require) pkgs=$BUILD_PKGS ;;
  --test|--check-test|--require-test) pkgs="$BUILD_PKGS $TEST_PKGS" ;;
  *) echo "usage: scripts/deps.sh [--test] [--check|--check-test|--require [--test]]" >&2
     exit 2 ;;
esac

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done

case "$mode" in
  --test|--check-test|--require-test)
    if [ "$WITH_POSTGRES" = 1 ]; then
      command -v node >/dev/null 2>&1 || missing="$missing nodejs"
      command -v npm >/dev/null 2>&1 || missing="$missing npm"
    fi ;;
esac

case "$mode" in
  --check|--check-test) [ -z "$missing" ]; exit $? ;;
esac

[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
case "$mode" in
  --require*)
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with \`make deps\` (as root), or:  apt-get update && $cmd" >&2
    exit 1 ;;
esac
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run as root:  apt-get update && $cmd" >&2
  exit 1
fi
