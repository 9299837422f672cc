#!/bin/sh
# PGlite (PostgreSQL compiled to WebAssembly, with pgvector 0.8) behind its socket server, for
# the pgvector path of the PostgreSQL backend. It serves one connection at a time and is slow:
# the tests use it for server-side vector search, native PostgreSQL (postgres.sh) for the rest.
# needs: postgres
#   sh pglite.sh start DIR [N]   starts N servers (default 2) and prints MN_PGLITE_URL=...
#                                (then MN_PGLITE_URL_2=... and so on) once they accept
#                                connections: make check splits its PGlite suite over two
#   sh pglite.sh stop DIR
# The npm packages (tests/support/pglite/package-lock.json) are installed once into a cache
# keyed by the lock file, never into the source tree (tests/support/npm_ci.sh).
set -eu
cmd=${1:?usage: pglite.sh start|stop DIR}
dir=${2:?usage: pglite.sh start|stop DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
src="$top/tests/support/pglite"
mkdir -p "$dir"

# The server of index I (1, 2, ...) keeps its pid and log in DIR/pid[_I] and DIR/log[_I].
suffix() { [ "$1" -eq 1 ] || echo "_$1"; }

start() {
  count=${1:-2}
  cache=$(sh "$top/tests/support/npm_ci.sh" "$src" "$dir/npm.log")
  i=1 ports=
  while [ "$i" -le "$count" ]; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    nohup node "$cache/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js" \
      -p "$port" -h 127.0.0.1 -e @electric-sql/pglite-pgvector:vector \
      >"$dir/log$(suffix "$i")" 2>&1 </dev/null &
    echo $! > "$dir/pid$(suffix "$i")"
    ports="$ports $port"
    i=$((i + 1))
  done
  # Each is ready when it accepts a connection (the WebAssembly start takes a few seconds).
  i=1
  for port in $ports; do
    x=$(suffix "$i")
    tries=0
    until /usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
      tries=$((tries + 1))
      if [ $tries -gt 120 ] || ! kill -0 "$(cat "$dir/pid$x")" 2>/dev/null; then
        cat "$dir/log$x" >&2; echo "pglite.sh: server $i did not start" >&2; exit 1
      fi
      sleep 0.5
    done
    echo "MN_PGLITE_URL$x=postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    i=$((i + 1))
  done
}

stop() {
  for f in "$dir"/pid "$dir"/pid_*; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

case $cmd in
  start) start "${3:-}" ;;
  stop) stop ;;
  *) echo "pglite.sh: unknown command $cmd" >&2; exit 2 ;;
esac
