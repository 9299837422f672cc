#!/bin/sh
# manushya ratelimit: limits per tenant (status, set-limit), decisions (hit, peek) with exit 5
# when limited, counters shared between processes through Redis (MN_REDIS_URL from
# tests/servers/redis.sh), the library's own calls limited for identities, and bad input.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup ratelimit

A="--db rl.db --tenant acme"
"$M" --db rl.db tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A identity create boss --role admin >/dev/null 2>&1

expect 0 "status lists the built-in limits" $A --json ratelimit status
check "status has the guide's limits" json 'any(l["endpoint"] == "memory:create" and
    l["limit"] == 1000 and l["window_ms"] == 3600000 and not l["overridden"] for l in d["limits"])'
expect 0 "set-limit as the tenant" $A ratelimit set-limit --endpoint app:ping --limit 2 --window 60
expect 0 "status shows it" $A --json ratelimit status
check "the tenant's own limit is listed" json 'any(l["endpoint"] == "app:ping" and
    l["limit"] == 2 and l["overridden"] for l in d["limits"])'
expect 4 "an agent may not set limits" $A --as bot ratelimit set-limit --endpoint app:ping --limit 9
expect 2 "set-limit needs --limit or --builtin" $A ratelimit set-limit --endpoint app:ping
expect 1 "a zero limit is refused" $A ratelimit set-limit --endpoint app:ping --limit 0
check "and says why" grep -q "limit is 0" "$ERR"
expect 1 "a malformed endpoint is refused" $A ratelimit hit --endpoint "App Ping"
check "and says what a name is" grep -q "resource:action" "$ERR"
expect 2 "a bad --n is a usage error" $A ratelimit hit --endpoint app:ping --n x

# Without Redis every process counts alone: each run sees a fresh window.
expect 0 "hit without Redis" $A --as bot --json ratelimit hit --endpoint app:ping --n 2
check "the decision is reported" json 'd["allowed"] and d["remaining"] == 0 and d["limit"] == 2'
expect 5 "3 calls never fit a limit of 2" $A --as bot ratelimit hit --endpoint app:ping --n 3
expect 0 "hit, human-readable" $A --as bot ratelimit hit --endpoint memory:create
check "the window in whole seconds" out_has "left per 3600 s\\($\\| \\)"
expect 0 "a window of 1.5 s" $A ratelimit set-limit --endpoint app:half --limit 5 --window 1.5
expect 0 "peek, human-readable" $A --as bot ratelimit peek --endpoint app:half
check "a fraction of a second is printed exactly" out_has "left per 1.5 s$"
expect 0 "status, human-readable" $A ratelimit status
check "status prints whole seconds next to their unit" \
    sh -c "grep -q '^memory:create  *1000 per 3600 s  *built-in\$' '$OUT' &&
           grep -q '^app:half  *5 per 1.5 s  *tenant\$' '$OUT'"
expect 5 "6 calls never fit a limit of 5" $A --as bot ratelimit hit --endpoint app:half --n 6
check "never fits is said as such" out_has "left per 1.5 s  never fits"
expect 0 "an admin's limit is doubled" $A --as boss --json ratelimit peek --endpoint app:ping --n 4
check "limit x2" json 'd["limit"] == 4 and d["allowed"]'

if [ -n "${MN_REDIS_URL:-}" ]; then
    R="$A --redis $MN_REDIS_URL"
    expect 0 "reset through Redis" $R ratelimit reset --endpoint app:ping
    expect 0 "hit 1 through Redis" $R --as bot ratelimit hit --endpoint app:ping
    expect 0 "hit 2 in another process" $R --as bot ratelimit hit --endpoint app:ping
    expect 5 "hit 3 is limited (exit 5)" $R --as bot ratelimit hit --endpoint app:ping
    check "with the time to wait" grep -q "retry after" "$OUT"
    MANUSHYA_REDIS=$MN_REDIS_URL expect 5 "MANUSHYA_REDIS selects Redis too" $A --as bot \
        ratelimit peek --endpoint app:ping
    expect 0 "set memory:create to 1" $A ratelimit set-limit --endpoint memory:create --limit 1
    expect 0 "reset it" $R ratelimit reset --endpoint memory:create
    expect 0 "an agent's first add" $R --as bot memory add "first"
    expect 5 "its second add is limited" $R --as bot memory add "second"
    expect 0 "the tenant itself is not limited" $R memory add "third" --identity bot
    expect 0 "back to the built-in limit" $A ratelimit set-limit --endpoint memory:create --builtin
    # A call's size costs nothing more: 3e6 calls at once under a limit of 1e9 are decided
    # and counted well within the Redis reply timeout.
    expect 0 "set app:bulk to 1e9" $A ratelimit set-limit --endpoint app:bulk --limit 1000000000
    expect 0 "3e6 calls at once" $R --as bot --json ratelimit hit --endpoint app:bulk --n 3000000
    check "are counted, not passed unchecked" json 'd["allowed"] and d["checked"] and
        d["remaining"] == 997000000'
fi
if cli_has redis; then
    expect 1 "rediss:// is not supported" $A --redis rediss://127.0.0.1:1 ratelimit status
    check "and says why" grep -q "TLS" "$ERR"
    expect 1 "a malformed Redis URL" $A --redis redis://host:notaport ratelimit status
    check "is explained" grep -q "port" "$ERR"
else
    expect 1 "--redis in a build without Redis" $A --redis redis://127.0.0.1:1 ratelimit status
    check "names the build switch" grep -q "needs a build with WITH_REDIS=1" "$ERR"
fi
cli_finish
