#!/bin/sh
# manushya mcp, the Model Context Protocol server: driven by the official TypeScript SDK's
# client (tests/mcp/client.mjs: initialize, tools and their schemas, remember then recall, a
# call a policy denies, bad arguments, ping, cancellation), and by raw lines on
# stdin for what a well-behaved client never sends (malformed JSON, batches, oversized
# messages) and for cancellation that must not depend on timing.
# Node.js and npm run the client; tests/support/npm_ci.sh installs the SDK outside the source tree.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup mcp

cache=$(sh "$MN_TOP/tests/support/npm_ci.sh" "$MN_TOP/tests/mcp" "$TMP/npm.log") ||
    { fail "installing the MCP SDK (npm ci)"; cli_finish; exit 1; }

# ---- a database: tenant acme, alice (an agent), bot (a guest a policy keeps from writing),
# carol (an agent), and an API key of alice's -------------------------------------------------
A="--db m.db --tenant acme"
"$M" --db m.db init >/dev/null &&
    "$M" --db m.db tenant create acme >/dev/null &&
    "$M" $A identity create alice >/dev/null &&
    "$M" $A identity create bot --role guest >/dev/null &&
    "$M" $A identity create carol >/dev/null &&
    pol=$("$M" $A policy add --description no-guest-writes --role guest \
        --rule '{"effect":"deny","actions":["create"],"resource":"memory"}')
check "the test database is ready" [ $? -eq 0 ]
expect 0 "an API key for alice" $A key create --identity alice
key=$(cat "$OUT")

# A database whose texts are embedded by the test server, which can be made slow: a call
# then runs long enough to be cancelled while it runs.
if cli_has http-embed; then
    embed_server 4
    E="--db e.db --embedder openai --embed-url $url --embed-model tiny --embed-dim 4"
    "$M" $E init >/dev/null && "$M" $E tenant create acme >/dev/null &&
        "$M" $E --tenant acme identity create alice >/dev/null
    check "the slow-embedding database is ready" [ $? -eq 0 ]
    slow="$E --tenant acme --as alice"
fi

# ---- the SDK's client ----------------------------------------------------------------------
MN_MCP_BIN="$M" MN_MCP_DB="$TMP/m.db" MN_MCP_KEY="$key" MN_MCP_POLICY="$pol" \
    MN_MCP_SLOW=${slow:+$(echo $slow | sed "s|--db e.db|--db $TMP/e.db|")} \
    MN_MCP_CONTROL=${url:+http://127.0.0.1:$port/_control} \
    MN_MCP_MODULES="$cache/node_modules" node "$MN_TOP/tests/mcp/client.mjs" >"$OUT" 2>"$ERR"
rc=$?
# Its cases, renumbered into ours.
while IFS= read -r line; do
    case $line in
    "ok "*) pass "${line#ok * - }" ;;
    "not ok "*) fail "${line#not ok * - }" ;;
    *) echo "$line" ;;
    esac
done <"$OUT"
check "the SDK client ran to its end (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$ERR"

# ---- raw lines on stdin --------------------------------------------------------------------
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
# mcp LINES...: each argument a line on the server's stdin (written at once); its stdout in
# $OUT, stderr in $ERR, exit status in $rc.
mcp() {
    printf '%s\n' "$@" | "$M" $A --as alice mcp >"$OUT" 2>"$ERR"
    rc=$?
}
# answer ID EXPR: the answers to request ID (r, a list: several for id null) satisfy the
# Python expression over them.
answer() {
    python3 -c 'import json,sys
rs = [json.loads(l) for l in open(sys.argv[1])]
r = [r for r in rs if r.get("id") == json.loads(sys.argv[2])]
sys.exit(0 if r and eval(sys.argv[3]) else 1)' "$OUT" "$1" "$2"
}

mcp '{"jsonrpc":"2.0","id":1,"method":"ping"' "$INIT" '{"jsonrpc":"2.0","id":2,"method":"ping"}' \
    '' "$(printf '{"jsonrpc":"2.0","id":3,"method":"ping"}\r')" '{"jsonrpc":"2.0","id":4,"method":"ping"} x'
check "malformed JSON, trailing garbage: -32700 with id null" answer null 'all(a["error"]["code"] == -32700 for a in r)'
check "the server goes on after it" answer 2 'r[0]["result"] == {}'
check "a CRLF line end is white space; a blank line is nothing" \
    python3 -c 'import json,sys; sys.exit(0 if [json.loads(l)["id"] for l in open(sys.argv[1])] == [None, 0, 2, 3, None] else 1)' "$OUT"
check "EOF on stdin: exit 0, nothing on stderr" [ "$rc" -eq 0 ] && [ ! -s "$ERR" ]
check "stdout holds only JSON-RPC messages" python3 -c 'import json,sys
sys.exit(0 if all(json.loads(l)["jsonrpc"] == "2.0" for l in open(sys.argv[1])) else 1)' "$OUT"

mcp '[{"jsonrpc":"2.0","id":1,"method":"ping"}]' '{"id":3,"method":"ping"}' \
    '{"jsonrpc":"2.0","id":4,"method":"tools/list"}' '{"jsonrpc":"2.0","id":5,"method":"nope"}' \
    '{"jsonrpc":"2.0","id":6,"method":"ping","params":[1]}'
check "a batch is refused: -32600 (not in this protocol revision)" \
    answer null 'r[0]["error"]["code"] == -32600 and "batch" in r[0]["error"]["message"]'
check "no \"jsonrpc\":\"2.0\": -32600 with its id" answer 3 'r[0]["error"]["code"] == -32600'
check "tools/list before initialize: -32600" \
    answer 4 'r[0]["error"]["code"] == -32600 and "initialize" in r[0]["error"]["message"]'
check "an unknown method: -32601" answer 5 'r[0]["error"]["code"] == -32601'
check "params not an object: -32600" answer 6 'r[0]["error"]["code"] == -32600'

mcp "$INIT" '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"x"}}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nope","arguments":{}}}' \
    '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"recall","arguments":[1]}}' \
    '{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}'
check "tools/list with a cursor never given out: -32602" answer 1 'r[0]["error"]["code"] == -32602'
check "an unknown tool: -32602" answer 2 'r[0]["error"]["code"] == -32602 and "nope" in r[0]["error"]["message"]'
check "arguments not an object: -32602" answer 3 'r[0]["error"]["code"] == -32602'
check "initialize twice: -32600" answer 4 'r[0]["error"]["code"] == -32600'

mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
check "a supported older revision is answered in kind" answer 1 'r[0]["result"]["protocolVersion"] == "2025-06-18"'
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
check "an unsupported revision is answered with the latest supported" answer 1 'r[0]["result"]["protocolVersion"] == "2025-11-25"'

# A message past the 4 MiB limit is refused whole, and what follows is read.
python3 -c 'import sys
sys.stdout.write(sys.argv[1] + "\n" + "{\"x\":\"" + "a" * (5 << 20) + "\"}\n" + "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n")' "$INIT" |
    "$M" $A --as alice mcp >"$OUT" 2>"$ERR"
check "a message over 4 MiB: -32600 naming the limit" \
    answer null 'r[0]["error"]["code"] == -32600 and "4194304" in r[0]["error"]["message"]'
check "the next message is read" answer 9 'r[0]["result"] == {}'

# Cancelled before it starts (the cancellation is already on stdin): not run, not answered.
mcp "$INIT" \
    '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"remember","arguments":{"text":"never stored"}}}' \
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"changed my mind"}}' \
    '{"jsonrpc":"2.0","id":8,"method":"ping"}'
check "a request cancelled before it starts is not answered" \
    python3 -c 'import json,sys; sys.exit(0 if [json.loads(l)["id"] for l in open(sys.argv[1])] == [0, 8] else 1)' "$OUT"
expect 0 "memory list" $A --json memory list
check "... and not run: nothing was stored" json 'not [m for m in d["memories"] if m["text"] == "never stored"]'

# Cancelled while it runs (its text is being embedded by the slow server): it runs to its
# end, and its answer is dropped.
if [ -n "$slow" ]; then
    mode '{"mode": "slow", "times": 1, "delay": 1.5}'
    { printf '%s\n' "$INIT" '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"remember","arguments":{"text":"stored anyway"}}}'
      sleep 0.5
      printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}' \
          '{"jsonrpc":"2.0","id":8,"method":"ping"}'
    } | "$M" $slow mcp >"$OUT" 2>"$ERR"
    check "a request cancelled while it runs is not answered" \
        python3 -c 'import json,sys; sys.exit(0 if [json.loads(l)["id"] for l in open(sys.argv[1])] == [0, 8] else 1)' "$OUT"
    expect 0 "memory list" $E --tenant acme --json memory list
    check "... but it ran to its end: the memory is stored" json '"stored anyway" in [m["text"] for m in d["memories"]]'
fi

# Rate limits apply, counted in the server process: the third search in an hour is refused.
"$M" $A ratelimit set-limit --endpoint memory:search --limit 2 --window 3600 >/dev/null
R='{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"recall","arguments":{"query":"tea"}}}'
printf '%s\n' "$INIT" "$R" "$R" "$R" | sed '2s/ID/1/; 3s/ID/2/; 4s/ID/3/' | "$M" $A --as carol mcp >"$OUT" 2>"$ERR"
check "rate limited: two searches answered" answer 2 '"isError" not in r[0]["result"]'
check "... the third a tool error saying so" \
    answer 3 'r[0]["result"]["isError"] and "rate limit" in r[0]["result"]["content"][0]["text"]'

# Acting as: the same checks as every command, before anything is served.
expect 2 "no tenant: a usage error before serving" --db m.db mcp
check "... naming what to give" err_has "no tenant"
expect 2 "mcp takes no arguments" $A mcp extra

cli_finish
