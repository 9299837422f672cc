#!/bin/sh
# manushya serve against a real server on a loopback port: every route, auth, gzip, CORS,
# request ids, rate-limit headers and 429, errors as JSON, bad input of each kind (4xx, nothing
# changed), slowloris, the body limit, TLS, SIGTERM drain, and the OpenAPI document against
# the routes served and manushya-serve(1). On the SQLite file, then on PostgreSQL when
# MN_PG_URL is set (tests/run.sh starts one). The cases are in serve_test.py (stdlib only).
# needs: serve
. "$MN_TOP/tests/cli/lib.sh"
cli_setup serve
rc=0
python3 "$MN_TOP/tests/serve/serve_test.py" "$M" "sqlite:$TMP/serve.db" "$MN_TOP" || rc=1
if [ -n "${MN_PG_URL:-}" ]; then
    python3 "$MN_TOP/tests/serve/serve_test.py" "$M" \
        "$MN_PG_URL?schema=serve_$$&vector=local" "$MN_TOP" || rc=1
fi
exit $rc
