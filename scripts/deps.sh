#!/bin/sh
# Installs the Debian packages libmanushya needs. Idempotent.
#   scripts/deps.sh               build + demo packages
#   scripts/deps.sh --test        also what `make check` needs
#   scripts/deps.sh --check[-test]  exit 0 when everything is already there, 1 otherwise
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu

# libpq: the postgres store; hiredis: Redis counters and caches; libcurl: HTTP embedders;
# libsodium: SHA-256 (embedding cache keys) and random bytes (ids, index tokens).
BUILD_PKGS="build-essential pkg-config libsqlite3-dev libcjson-dev libpq-dev libhiredis-dev libcurl4-openssl-dev libsodium-dev"
# zlib1g-dev: sqlite3.pc names -lz for static links (the install test links statically);
# groff-base: the install test renders the man pages.
# postgresql-15, redis-server: the servers the tests start on loopback (never the system services);
# Node.js + npm (PGlite with pgvector) are checked by command below: a machine may have them
# from another source (NodeSource bundles npm; Debian splits it into its own package).
TEST_PKGS="check python3 sqlite3 zlib1g-dev groff-base postgresql-15 redis-server"

mode=${1:-}
case "$mode" in
  ""|--check) pkgs=$BUILD_PKGS ;;
  --test|--check-test) pkgs="$BUILD_PKGS $TEST_PKGS" ;;
  *) echo "usage: scripts/deps.sh [--test] [--check|--check-test]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done

case "$mode" in
  --test|--check-test)
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm" ;;
esac

case "$mode" in
  --check|--check-test) [ -z "$missing" ]; exit $? ;;
esac

[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
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
