#!/bin/sh
# Several servers, one service: three `manushya serve` processes on one PostgreSQL
# (vector=local) and one Redis (rate limits and the read-through cache), behind Debian's nginx
# running examples/deploy/nginx.conf on loopback as the current user, from a temp dir. A memory
# written through one server is read and found through the others at once; a rate limit stays
# exact across the three; a server SIGKILLed under a write load costs no acknowledged write and
# nginx carries on with the other two. Then the first of these again with vector=pgvector, on
# PGlite (when Node.js is there: it serves one connection at a time, so only that part). The
# cases are in nginx_test.py (stdlib only).
# Starts its own PostgreSQL, PGlite and Redis (tests/servers/*.sh: the kill must not touch the
# servers other tests share) and stops everything it started, whatever happens. Skipped, saying
# why, without nginx or without the backends (a build without serve, postgres or redis).
# needs: serve postgres redis
. "$MN_TOP/tests/cli/lib.sh"
cli_setup deploy

features=$("$M" --version | sed -n 's/^features: //p')
for need in serve postgres redis; do
    case " $features " in
        *" $need "*) ;;
        *) echo "ok 1 - # skip: this build has no $need (build with" \
                "WITH_$(echo "$need" | tr a-z A-Z)=1)"; exit 0 ;;
    esac
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
    echo "ok 1 - # skip: nginx is not installed (apt-get install nginx; scripts/deps.sh --test)"
    exit 0
fi
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] ||
    { echo "ok 1 - # skip: PostgreSQL 15 is not installed (scripts/deps.sh --test)"; exit 0; }
command -v redis-server >/dev/null 2>&1 ||
    { echo "ok 1 - # skip: redis-server is not installed (scripts/deps.sh --test)"; exit 0; }

# Every process this test starts: nginx_test.py writes the pids of the servers and nginx to
# WORK/pids as it starts them.
stop_all() {
    # SIGTERM first: nginx's master then stops its workers, which a SIGKILL would leave behind.
    pids=$(cat "$TMP/pids" "$TMP/pgvector/pids" 2>/dev/null)
    for pid in $pids; do kill "$pid" 2>/dev/null; done
    i=0
    for pid in $pids; do
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    sh "$MN_TOP/tests/servers/redis.sh" stop "$TMP/redis" >/dev/null 2>&1
    sh "$MN_TOP/tests/servers/pglite.sh" stop "$TMP/pglite" >/dev/null 2>&1
    sh "$MN_TOP/tests/servers/postgres.sh" stop "$TMP/pg" >/dev/null 2>&1
    cd / && rm -rf "$TMP"
}
trap stop_all EXIT

# From / : as root, PostgreSQL runs as the postgres user, who may not enter $TMP.
(cd / && sh "$MN_TOP/tests/servers/postgres.sh" start "$TMP/pg") >"$TMP/pg.env" || exit 1
sh "$MN_TOP/tests/servers/redis.sh" start "$TMP/redis" >"$TMP/redis.env" || exit 1
pg_url=$(sed -n 's/^MN_PG_URL=//p' "$TMP/pg.env")
redis_url=$(sed -n 's/^MN_REDIS_URL=//p' "$TMP/redis.env")

export MN_NGINX="$NGINX"
rc=0
python3 "$MN_TOP/tests/deploy/nginx_test.py" "$M" "$pg_url?vector=local" "$redis_url" \
    "$MN_TOP" "$TMP" all || rc=1

if ! command -v node >/dev/null 2>&1; then
    echo "# skip: the pgvector run needs Node.js for PGlite (scripts/deps.sh --test)"
    exit $rc
fi
sh "$MN_TOP/tests/servers/pglite.sh" start "$TMP/pglite" 1 >"$TMP/pglite.env" || exit 1
pglite_url=$(sed -n 's/^MN_PGLITE_URL=//p' "$TMP/pglite.env")
mkdir -p "$TMP/pgvector"
echo "# vector=pgvector on PGlite"
python3 "$MN_TOP/tests/deploy/nginx_test.py" "$M" \
    "$pglite_url&vector=pgvector&pool_size=1&pool_overflow=0&pool_idle=0&connect_retry_ms=10000" \
    "$redis_url" "$MN_TOP" "$TMP/pgvector" consistency || rc=1
exit $rc
