#!/bin/sh
# tests/support/npm_ci.sh SRC LOG — installs the npm packages of SRC (a directory holding
# package.json and package-lock.json) with `npm ci` once into a cache keyed by the lock file
# (MN_NPM_CACHE, else ~/.cache/manushya), never into the source tree, and prints the cache
# directory (its node_modules/ holds the packages). npm's output goes to LOG; on failure it is
# shown and the script exits 1.
set -eu
src=${1:?usage: npm_ci.sh SRC LOG}
log=${2:?usage: npm_ci.sh SRC LOG}
for tool in node npm; do
  command -v $tool >/dev/null 2>&1 || {
    echo "npm_ci.sh: $tool missing: apt-get install nodejs npm (scripts/deps.sh --test)" >&2; exit 1; }
done
key=$(sha256sum < "$src/package-lock.json" | cut -c1-16)
cache="${MN_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/manushya}/$(basename "$src")-$key"
if [ ! -f "$cache/ok" ]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  cp "$src/package.json" "$src/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 ||
    { cat "$log" >&2; echo "npm_ci.sh: npm ci in $src failed (see above)" >&2; exit 1; }
  touch "$cache/ok"
fi
echo "$cache"
