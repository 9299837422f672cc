#!/bin/sh
# Debian's PostgreSQL 15 for the tests, in a private directory on a free loopback port: not the
# system service. Trust authentication, listening on 127.0.0.1 only.
# needs: postgres
#   sh postgres.sh start DIR    initdb (first time) + pg_ctl start; prints MN_PG_URL=... and
#                               MN_PG_DIR=DIR
#   sh postgres.sh pause DIR    stops the server, keeping its data: start resumes it on the same
#                               port (the fault tests stop a server of their own this way: never
#                               the shared one, which the units running meanwhile use)
#   sh postgres.sh stop DIR     stops it for good and removes its data (again: does nothing)
# PostgreSQL refuses to run as root: as root, the cluster runs as the postgres user from a
# directory of its own (named in DIR/cluster; DIR itself may not be reachable for that user).
set -eu
cmd=${1:?usage: postgres.sh start|pause|stop DIR}
dir=${2:?usage: postgres.sh start|pause|stop DIR}
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/pg_ctl" ] || { echo "postgres.sh: $bin/pg_ctl missing: apt-get install postgresql-15" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }'
}

start() {
  if [ ! -f "$dir/cluster" ]; then
    if [ "$(id -u)" = 0 ]; then
      cluster=$(mktemp -d "${TMPDIR:-/tmp}/mn-pg.XXXXXX")
      chown postgres "$cluster"
    else
      cluster="$dir/pg"
      mkdir -p "$cluster"
    fi
    echo "$cluster" > "$dir/cluster"
    free_port > "$dir/port"
    # fsync off: a disposable test cluster (the figures of bench ingest say so too).
    as_owner "$bin/initdb" -D "$cluster/data" -U postgres -A trust -E UTF8 --locale=C \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  cluster=$(cat "$dir/cluster")
  port=$(cat "$dir/port")
  as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $cluster -c fsync=off -c max_connections=300 -c shared_buffers=128MB" \
    start >/dev/null || { cat "$cluster/log" >&2; exit 1; }
  echo "MN_PG_URL=postgresql://postgres@127.0.0.1:$port/postgres"
  echo "MN_PG_DIR=$dir"
}

stop() {
  [ -f "$dir/cluster" ] || return 0
  cluster=$(cat "$dir/cluster")
  as_owner "$bin/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null 2>&1 || true
}

case $cmd in
  start) start ;;
  pause) stop ;;
  stop)
    stop
    if [ -f "$dir/cluster" ]; then rm -rf "$(cat "$dir/cluster")" "$dir/cluster"; fi
    ;;
  *) echo "postgres.sh: unknown command $cmd" >&2; exit 2 ;;
esac
