#!/bin/sh
# Secrets never shown by the CLI: hostile database, Redis and embedder URLs, and an API key the
# embeddings server (tests/support/embed_server.py) echoes back. No secret on stdout, stderr or
# in --json, whether the command fails or succeeds (on the PostgreSQL server of tests/run.sh,
# MN_PG_URL, when it is there). Every secret holds S3CRET or Q7TAIL.
# needs: http-embed
. "$MN_TOP/tests/cli/lib.sh"
cli_setup secrets
embed_server 4

no_secret() { check "$1: no secret shown" sh -c "! grep -q -e S3CRET -e Q7TAIL '$OUT' '$ERR'"; }

n_url=0
for u in \
    'postgres://app:S3CRET@[::1/db' \
    'postgres://app:S3CRET%ZZ@127.0.0.1:1/db' \
    'postgres://app:S3CRET#Q7TAIL@127.0.0.1:1/db' \
    'postgres://app:S3CRET?Q7TAIL@127.0.0.1:1/db' \
    'postgres://app:S3CRET@Q7TAIL@127.0.0.1:1/db' \
    'postgres://app@127.0.0.1:1/db?pass%77ord=S3CRET' \
    'postgres://app@127.0.0.1:1/db?sslpassword=S3CRET&sslmode=bogus' \
    'postgres://app@127.0.0.1:1/db?read_url=postgres%3A%2F%2Fapp%3AS3CRET%40127.0.0.1%3A1%2Fdb' \
    'mysql://app:S3CRET@127.0.0.1:1/db'; do
    n_url=$((n_url + 1))
    expect 1 "database URL $n_url: init fails" --db "$u" init
    no_secret "database URL $n_url"
    check "database URL $n_url: the URL is shown, masked" err_has '\*\*\*'
    expect 1 "database URL $n_url: init --json fails" --db "$u" --json init
    no_secret "database URL $n_url, --json"
done

expect 1 "a Redis URL with a query is refused" \
    --db r.db --redis 'redis://:S3CRET?Q7TAIL@127.0.0.1:1' --tenant t ratelimit peek
no_secret "Redis URL"

# The embedder: the server echoes the Authorization header and the key; a URL's password and a
# key in its query come back in a 404's path.
O="--db e.db --embedder openai --embed-dim 4"
mode '{"mode": "401_echo", "times": -1}'
MANUSHYA_EMBED_API_KEY='sk-S3CRET' expect 1 "a server echoing the key" $O --embed-url "$url" embed hi
check "it says what the server said" err_has "HTTP 401: bad credentials: Bearer \*\*\* (key \*\*\*)"
no_secret "API key"
OPENAI_API_KEY='k S3CRET!Q7TAIL' expect 1 "a key no Bearer rule would find" $O --embed-url "$url" \
    --json embed hi
no_secret "API key, --json"
mode '{"mode": "ok", "times": 0}'
expect 1 "a key in the URL's query" $O --embed-url "$url?api_key=S3CRET" embed hi
check "the server's 404 is shown" err_has "HTTP 404"
no_secret "embed URL query"
expect 1 "a password in the URL" $O --embed-url "http://app:S3CRET@127.0.0.1:$port/v1?key=Q7TAIL" \
    --json embed hi
no_secret "embed URL password"

# Success shows the URL too: init on the test PostgreSQL, with a password it ignores (trust).
if [ -n "${MN_PG_URL:-}" ]; then
    pg=$(printf '%s' "$MN_PG_URL" | sed 's|://postgres@|://postgres:S3CRET@|')
    pg="$pg?schema=secrets_cli&vector=local&sslpassword=Q7TAIL&application_name=S3CRET"
    expect 0 "init on PostgreSQL with secrets in the URL" --db "$pg" init
    no_secret "init"
    check "init prints the URL, masked" out_has 'postgres:\*\*\*@'
    expect 0 "init --json" --db "$pg" --json init
    no_secret "init --json"
    check "--json has the masked URL" json \
        '"sslpassword=***" in d["database"] and "application_name=S3CRET" not in d["database"]'
fi

cli_finish
