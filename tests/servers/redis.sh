#!/bin/sh
# Debian's redis-server for the tests, in a private directory on a free loopback port: not the
# system service. No persistence, listening on 127.0.0.1 only.
# needs: redis
#   sh redis.sh start DIR    starts it (on the port kept in DIR/port after the first start);
#                            prints MN_REDIS_URL=redis://127.0.0.1:PORT and MN_REDIS_DIR=DIR
#                            (tests that stop and restart the server pass DIR back)
#   sh redis.sh pause DIR    stops the server: start resumes it on the same port
#   sh redis.sh stop DIR     stops it for good
set -eu
cmd=${1:?usage: redis.sh start|pause|stop DIR}
dir=${2:?usage: redis.sh start|pause|stop DIR}
command -v redis-server >/dev/null 2>&1 ||
  { echo "redis.sh: redis-server missing: apt-get install redis-server" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }'
}

start() {
  [ -f "$dir/port" ] || free_port > "$dir/port"
  port=$(cat "$dir/port")
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null ||
    { cat "$dir/redis.log" >&2; exit 1; }
  i=0
  until redis-cli -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "redis.sh: redis-server did not answer on port $port" >&2;
                        cat "$dir/redis.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "MN_REDIS_URL=redis://127.0.0.1:$port"
  echo "MN_REDIS_DIR=$dir"
}

stop() {
  [ -f "$dir/port" ] || return 0
  port=$(cat "$dir/port")
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  i=0
  while redis-cli -p "$port" ping >/dev/null 2>&1 && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
}

case $cmd in
  start) start ;;
  pause) stop ;;
  stop) stop ;;
  *) echo "usage: redis.sh start|pause|stop DIR" >&2; exit 2 ;;
esac
