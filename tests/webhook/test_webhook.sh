#!/bin/sh
# Webhooks end to end, on SQLite and (when tests/run.sh started it, MN_PG_URL) PostgreSQL:
# subscriptions and their bad input, the outbox written with each change, deliveries to a
# real loopback receiver (tests/webhook/receiver.py) that verifies every signature, a 500
# then a 200, a timeout, dead letters and their retry, and a worker SIGKILLed mid-delivery
# whose delivery another makes after the lease, with the same idempotency id.
# needs: http-embed
# (deliveries are made with libcurl, like the HTTP embedder's requests)
. "$MN_TOP/tests/cli/lib.sh"
cli_setup webhook

: >"$TMP/secrets"
: >"$TMP/log"
python3 "$MN_TOP/tests/webhook/receiver.py" "$TMP/secrets" "$TMP/log" >"$TMP/receiver.out" &
rpid=$!
wpid=
trap 'kill $rpid $wpid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/receiver.out" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
port=$(sed -n 's/^port //p' "$TMP/receiver.out")
[ -n "$port" ] || { echo "not ok 1 - the webhook receiver did not start"; exit 1; }
base="http://127.0.0.1:$port"

# A short timeout (the /slow receiver answers after 3 s), retries after 1..2 s (so that one
# worker run makes one attempt of each), 2 attempts, all claimed in one batch.
FAST="--no-maintenance --webhook-retry-ms 2000 --webhook-timeout-ms 300 \
--webhook-max-attempts 2 --webhook-batch 3 --webhook-lease-ms 1500"
# The worker killed mid-delivery: one delivery at a time, a lease of 20 s (the test waits for
# it to run out).
KILL="--no-maintenance --webhook-batch 1 --webhook-timeout-ms 15000 --webhook-lease-ms 20000"

# log_count PYEXPR: how many receiver log lines e satisfy it.
log_count() {
    python3 -c 'import json,sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += bool(eval(sys.argv[2]))
print(n)' "$TMP/log" "$1"
}
# deliveries DB: the tenant's deliveries as JSON on $OUT.
deliveries() { run $A --json webhook deliveries; }
# add OPTIONS NAME PATH EVENTS: a subscription to $base/PATH/NAME, its secret recorded for the
# receiver under /PATH, its id in $hook.
add() {
    run $1 --tenant acme --json webhook add --url "$base/$3/$2" --events "$4"
    hook=$(jget 'd["id"]')
    printf '/%s %s\n' "$3" "$(jget 'd["secret"]')" >>"$TMP/secrets"
}

suite() { # suite NAME DB
    name=$1 D=$2
    # The receiver's secrets and log are per suite.
    : >"$TMP/secrets"
    : >"$TMP/log"
    expect 0 "$name: init" --db "$D" init
    expect 0 "$name: tenant" --db "$D" tenant create acme
    expect 0 "$name: agent identity" --db "$D" --tenant acme identity create bob
    A="--db $D --tenant acme"

    # Bad input: a clear error, nothing stored.
    expect 1 "$name: an ftp URL is refused" $A webhook add --url ftp://x/y --events memory.created
    check "$name: ... saying what to give" err_has 'http:// or https://'
    expect 1 "$name: a URL without a host is refused" $A webhook add --url http:///x \
        --events memory.created
    expect 1 "$name: an unknown event is refused" $A webhook add --url "$base/ok" \
        --events memory.created,memory.exploded
    check "$name: ... naming it and the known ones" sh -c \
        "grep -q 'memory.exploded' '$ERR' && grep -q 'identity.deleted' '$ERR'"
    expect 1 "$name: an event named twice is refused" $A webhook add --url "$base/ok" \
        --events memory.created,memory.created
    expect 2 "$name: --events is required" $A webhook add --url "$base/ok"
    expect 2 "$name: --url is required" $A webhook add --events memory.created
    expect 0 "$name: nothing was stored" $A --json webhook list
    check "$name: ... the list is empty" json 'd == []'
    expect 4 "$name: an agent may not add webhooks" $A --as bob webhook add --url "$base/ok" \
        --events memory.created
    expect 3 "$name: removing an unknown webhook" $A webhook remove \
        01a24e84-e934-75fb-a3bb-ce9ecc61c82d

    add "--db $D" "$name" ok memory.created,memory.deleted; ok=$hook
    check "$name: add prints the secret once" sh -c "grep -Eq '^/ok whsec_[0-9a-f]{64}$' '$TMP/secrets'"
    add "--db $D" "$name" flaky memory.created
    add "--db $D" "$name" slow memory.created; slow=$hook
    expect 0 "$name: list" $A --json webhook list
    check "$name: ... three, no secret" json 'len(d) == 3 and all("secret" not in w for w in d) and d[0]["events"] == ["memory.created", "memory.deleted"]'
    expect 0 "$name: the audit log has the adds" $A --json audit list --action webhook:create --outcome ok
    check "$name: ... three entries" json 'len(d) == 3'

    # The outbox: one delivery per subscription that wants the event, none for others.
    expect 0 "$name: an identity (no subscription wants it)" $A identity create carol
    deliveries
    check "$name: ... queues nothing" json 'd == []'
    expect 0 "$name: a memory" $A --as bob --json memory add "the outbox test"
    mem=$(jget 'd["id"]')
    deliveries
    check "$name: ... queues three pending deliveries of one event" json 'len(d) == 3 and all(x["status"] == "pending" and x["event"] == "memory.created" for x in d) and len(set(x["event_id"] for x in d)) == 1'
    event=$(jget 'd[0]["event_id"]')

    # First round: /ok delivered, /flaky answered 500, /slow timed out.
    expect 0 "$name: worker --once" $A worker --once $FAST
    check "$name: ... /ok got it, signed, with the idempotency id in header and body" test \
        "$(log_count "e['path'] == '/ok' and e['sig_ok'] and e['event_id'] == '$event' and e['body_id'] == '$event' and e['data']['ids'] == ['$mem'] and e['type'] == 'memory.created'")" -ge 1
    check "$name: ... /flaky answered 500" test "$(log_count "e['path'] == '/flaky' and e.get('status') == 500 and e['sig_ok']")" -eq 1
    deliveries
    check "$name: ... /ok done, /flaky pending after HTTP 500, /slow pending after a timeout" json '
sorted((x["status"], x["http_status"], x["attempts"]) for x in d) == [("done", 200, 1), ("pending", 0, 1), ("pending", 500, 1)] and any("timed out" in (x["error"] or "").lower() or "timeout" in (x["error"] or "").lower() for x in d)'
    sleep 2.1
    expect 0 "$name: worker --once again, after the backoff" $A worker --once $FAST
    check "$name: ... /flaky got the same event again and took it" test \
        "$(log_count "e['path'] == '/flaky' and e['event_id'] == '$event' and e.get('status') == 200")" -eq 1
    deliveries
    check "$name: ... /slow is dead after its 2 attempts" json '
sorted((x["status"], x["attempts"]) for x in d) == [("dead", 2), ("done", 1), ("done", 2)]'
    dead=$(jget '[x["id"] for x in d if x["status"] == "dead"][0]')
    expect 0 "$name: retry the dead one" $A --json webhook retry "$dead"
    check "$name: ... one retried" json 'd["retried"] == 1'
    run $A --json webhook deliveries --status pending
    check "$name: ... pending again, attempts 0" json "[(x['id'], x['attempts']) for x in d] == [($dead, 0)]"
    expect 3 "$name: retry of a delivery that is not dead" $A webhook retry "$dead"
    expect 2 "$name: retry of a bad id" $A webhook retry abc

    # A test event, to one subscription alone.
    expect 0 "$name: webhook test" $A --json webhook test "$ok"
    expect 0 "$name: ... delivered" $A worker --once $FAST --no-webhooks
    expect 0 "$name: ... by a worker" $A worker --once --no-maintenance \
        --webhook-retry-ms 100 --webhook-timeout-ms 200 --webhook-max-attempts 1
    check "$name: ... /ok got webhook.test, signed" test \
        "$(log_count "e['path'] == '/ok' and e['type'] == 'webhook.test' and e['sig_ok']")" -eq 1

    # Removing a webhook removes its deliveries.
    expect 0 "$name: remove" $A webhook remove "$slow"
    run $A --json webhook deliveries --webhook "$slow"
    check "$name: ... its deliveries went with it" json 'd == []'
    expect 3 "$name: ... removing it again" $A webhook remove "$slow"
    # A worker killed mid-delivery: another makes it after the lease, same event id.
    add "--db $D" "$name" hang memory.deleted
    expect 0 "$name: a delete" $A --as bob memory delete "$mem"
    "$M" $A worker $KILL >"$TMP/worker.out" 2>&1 &
    wpid=$!
    i=0
    while [ "$(log_count "e['path'] == '/hang' and e.get('held')")" -eq 0 ] && [ $i -lt 200 ]; do
        sleep 0.05; i=$((i + 1)); done
    kill -9 $wpid; wait $wpid 2>/dev/null; wpid=
    held=$(python3 -c 'import json,sys
print([json.loads(l)["event_id"] for l in open(sys.argv[1]) if json.loads(l).get("held")][-1])' "$TMP/log")
    run $A --json webhook deliveries --webhook "$hook"
    check "$name: the killed worker's delivery is pending, claimed once" json \
        "[(x['event_id'], x['status'], x['attempts']) for x in d] == [('$held', 'pending', 1)]"
    lease_end=$(jget 'd[0]["next_at"]')
    expect 0 "$name: a worker before the lease ran out" $A worker --once $KILL
    # Only a worker that ended before the lease did surely claimed before it ran out.
    if [ "$(date +%s%3N)" -lt "$lease_end" ]; then
        check "$name: ... leaves it alone" test \
            "$(log_count "e['event_id'] == '$held' and e['path'] == '/hang'")" -eq 1
    else
        echo "# the machine is too slow to see a worker run within the lease: not checked"
    fi
    python3 -c 'import sys,time; time.sleep(max(0, int(sys.argv[1]) / 1000 - time.time()) + 0.2)' "$lease_end"
    expect 0 "$name: a worker after the lease" $A worker --once $KILL
    check "$name: ... redelivers it with the same idempotency id" test \
        "$(log_count "e['path'] == '/hang' and e['event_id'] == '$held' and e.get('status') == 200 and e['sig_ok']")" -eq 1
    run $A --json webhook deliveries --webhook "$hook"
    check "$name: ... done, on its second attempt" json 'len(d) == 1 and d[0]["status"] == "done" and d[0]["attempts"] == 2'

    expect 0 "$name: the audit chain is intact" $A audit verify
}

suite sqlite w.db
if [ -n "${MN_PG_URL:-}" ]; then
    suite postgres "$MN_PG_URL?schema=wh_$$&vector=local"
else
    echo "# MN_PG_URL is not set: PostgreSQL skipped (tests/run.sh starts it)"
fi

# An encrypted database keeps the secret sealed, and still signs with it.
expect 0 "encrypted: master key" key new-master mk
E="--db e.db --master-key-file mk"
: >"$TMP/secrets"
expect 0 "encrypted: init" $E init --encrypt
expect 0 "encrypted: tenant" $E tenant create acme
add "$E" enc ok memory.created
secret=$(sed -n 's|^/ok ||p' "$TMP/secrets")
check "encrypted: the stored secret is not the secret" test \
    "$(sql e.db "SELECT count(*) FROM webhooks WHERE secret = '$secret'")" -eq 0
sealed=$(sql e.db "SELECT secret FROM webhooks")
expect 0 "encrypted: an identity" $E --tenant acme identity create eve
expect 0 "encrypted: a memory" $E --tenant acme --as eve memory add "sealed"
: >"$TMP/log"
expect 0 "encrypted: a worker" $E worker --once $FAST
check "encrypted: ... delivered, the signature verified" test \
    "$(log_count "e['path'] == '/ok' and e['sig_ok'] and e['type'] == 'memory.created'")" -eq 1
# A re-key seals the secret again under the new data key before the old one is destroyed.
expect 0 "encrypted: re-key the tenant" $E key rotate-tenant acme
check "encrypted: ... the secret was sealed again" test \
    "$(sql e.db "SELECT count(*) FROM webhooks WHERE secret = '$sealed'")" -eq 0
expect 0 "encrypted: a memory after the re-key" $E --tenant acme --as eve memory add "resealed"
expect 0 "encrypted: a worker" $E worker --once $FAST
check "encrypted: ... delivered, signed with the same secret" test \
    "$(log_count "e['path'] == '/ok' and e['sig_ok'] and e['type'] == 'memory.created'")" -eq 2

cli_finish
