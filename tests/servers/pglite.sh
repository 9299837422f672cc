#!/bin/sh
# PGlite (PostgreSQL compiled to WebAssembly, with pgvector 0.8) behind its socket server, for
# the pgvector path of the PostgreSQL backend. It serves one connection at a time and is slow:
# the tests use it for server-side vector search, native PostgreSQL (postgres.sh) for the rest.
# needs: postgres
#   sh pglite.sh start DIR   prints MN_PGLITE_URL=... once the server accepts connections
#   sh pglite.sh stop DIR
# The npm packages (tests/support/pglite/package-lock.json) are installed once into a cache
# keyed by the lock file, never into the source tree (tests/support/npm_ci.sh).
set -eu
cmd=${1:?usage: pglite.sh start|stop DIR}
dir=${2:?usage: pglite.sh start|stop DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
src="$top/tests/support/pglite"
mkdir -p "$dir"

start() {
  cache=$(sh "$top/tests/support/npm_ci.sh" "$src" "$dir/npm.log")
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  nohup node "$cache/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js" \
    -p "$port" -h 127.0.0.1 -e @electric-sql/pglite-pgvector:vector \
    >"$dir/log" 2>&1 </dev/null &
  echo $! > "$dir/pid"
  # Ready when it accepts a connection (the WebAssembly start takes a few seconds).
  i=0
  until /usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
    i=$((i + 1))
    if [ $i -gt 120 ] || ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      cat "$dir/log" >&2; echo "pglite.sh: the server did not start" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "MN_PGLITE_URL=postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

stop() {
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) echo "pglite.sh: unknown command $cmd" >&2; exit 2 ;;
esac
