#!/bin/sh
# shellcheck disable=SC2086 # $A, $BOT, ... are option lists split on purpose (see test_cli.sh)
# test_policy_cli.sh — manushya policy, jsonlogic, --context and bench policy, end to end, on
# throwaway databases; and that the library's policies are enforced on the memory commands.
#
# Run by tests/run.sh from the repo root with MN_BUILD (build dir) and MN_TOP (repo root).
# Prints "ok N - what" / "not ok N - what" (TAP-like) and exits non-zero if any case failed.
# JSON outputs are checked with python3.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup policy-cli
DB=pol.db
A="--db $DB --tenant acme"
BOT="$A --as bot"
BOT2="$A --as bot2"
UNKNOWN=01890a5d-ac96-774b-bcce-b302099a8057

# ---- help and usage errors ----------------------------------------------------------------------
help_ok=1
for gc in "policy" "policy add" "policy list" "policy get" "policy update" "policy delete" \
    "policy test" "jsonlogic" "bench policy"; do
    run $gc --help
    if [ "$rc" -ne 0 ] || ! out_has "^usage: manushya" || [ -s "$ERR" ]; then
        echo "#   manushya $gc --help: exit $rc"
        help_ok=0
    fi
done
check "--help exits 0 with usage on stdout for every new command" [ "$help_ok" -eq 1 ]
run --help
check "manushya --help names the policy and jsonlogic groups and --context" \
    sh -c "grep -q '^  policy ' '$OUT' && grep -q '^  jsonlogic ' '$OUT' && grep -q -- '--context JSON' '$OUT'"
run policy test --help
check "policy test --help documents exit 0 for a deny" grep -q "exit status is 0 whether" "$OUT"

"$M" --db "$DB" tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A identity create bot2 >/dev/null 2>&1
"$M" $A identity create boss --role admin >/dev/null 2>&1
BOT_ID=$("$M" $A identity get bot --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
BOT2_ID=$("$M" $A identity get bot2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "setup: tenant and identities" is_uuid "$BOT_ID"

RULE_DENY_CREATE='{"effect":"deny","actions":["create"],"resource":"memory"}'
expect 2 "policy add without --role is a usage error (2)" $A policy add --rule "$RULE_DENY_CREATE"
expect 2 "policy add without --rule is a usage error (2)" $A policy add --role agent
expect 2 "policy add --priority ten is a usage error (2)" $A policy add --role agent \
    --rule "$RULE_DENY_CREATE" --priority ten
check "the usage error names the option" err_has "--priority"
expect 2 "policy add without a tenant is a usage error (2)" --db "$DB" policy add --role agent \
    --rule "$RULE_DENY_CREATE"
expect 2 "policy update with nothing to change is a usage error (2)" $A policy update "$UNKNOWN"
expect 2 "policy update --active --inactive is a usage error (2)" $A policy update "$UNKNOWN" \
    --active --inactive
expect 2 "policy get without an id is a usage error (2)" $A policy get
expect 2 "policy test without --action is a usage error (2)" $BOT policy test --resource memory
expect 2 "policy list with an argument is a usage error (2)" $A policy list extra

# ---- default policies ---------------------------------------------------------------------------
expect 0 "policy list --json on a new tenant" $A --json policy list
check "a new tenant has default policies for admin and agent" \
    json '{"admin", "agent"} <= {p["role"] for p in d["policies"]}'
check "policy --json shape, rule as an object" json 'all(set(p) == {"id", "tenant_id", "role",
    "rule", "priority", "active", "description", "created_at", "updated_at"}
    and isinstance(p["rule"], dict) and isinstance(p["active"], bool) for p in d["policies"])'
NDEFAULT=$(jget 'len(d["policies"])')
AGENT_DEFAULT=$(jget '[p["id"] for p in d["policies"] if p["role"] == "agent"
    and p["rule"]["resource"] == "memory"][0]')
expect 0 "policy list (human)" $A policy list
check "human list shows an admin and an agent policy" \
    sh -c "grep -Eq '^[0-9a-f-]{36}  admin ' '$OUT' && grep -Eq '^[0-9a-f-]{36}  agent ' '$OUT'"
check "human list rows are aligned (state and summary columns at the same offsets)" python3 -c '
import sys, re
rows = [l.rstrip("\n") for l in open(sys.argv[1])]
cols = {re.search(r"  (active  |inactive)  ", l).end() for l in rows}
sys.exit(0 if rows and len(cols) == 1 else 1)' "$OUT"

# ---- add, get, list, update, delete -------------------------------------------------------------
expect 0 "policy add (human) prints the id" $A policy add --role support \
    --rule '{"effect":"allow","actions":["read","search"],"resource":"memory"}' --priority 7 \
    --description "support reads everything"
P1=$(cat "$OUT")
check "policy add prints a UUID" is_uuid "$P1"
expect 0 "policy add --json --inactive" $A --json policy add --role support --inactive \
    --rule '{"effect":"deny","actions":"*","resource":"memory","conditions":{"ip_restrictions":{"allowed_ranges":["2001:db8::/32"]}}}'
check "policy add --json: the policy object" json 'd["role"] == "support" and d["active"] is False
    and d["priority"] == 0 and d["description"] == "" and d["rule"]["conditions"]["ip_restrictions"]
    == {"allowed_ranges": ["2001:db8::/32"]} and d["created_at"] == d["updated_at"] > 0'
P2=$(jget 'd["id"]')
echo '{"effect": "allow", "actions": ["list"], "resource": "memory"}' >"$TMP/rule.json"
"$M" $A policy add --role support --rule - --priority 3 <"$TMP/rule.json" >"$OUT" 2>"$ERR"; rc=$?
check "policy add --rule - reads the rule from stdin" test "$rc" -eq 0
P3=$(cat "$OUT")

expect 1 "policy add with a rule that is not JSON fails (1)" $A policy add --role agent --rule '{nope'
expect 1 "policy add with a bad field fails (1)" $A policy add --role agent \
    --rule '{"effect":"maybe","actions":["read"],"resource":"memory"}'
check "the error names the bad field" err_has "effect"
expect 1 "policy add with a bad IPv6 range fails (1)" $A policy add --role agent \
    --rule '{"effect":"allow","actions":["read"],"resource":"memory","conditions":{"ip_restrictions":{"allowed_ranges":["10.0.0.0/8","2001:db8::/129"]}}}'
check "the error gives the path of the bad range" err_has "allowed_ranges\[1\]"
expect 0 "list after the failed adds" $A --json policy list
check "failed adds stored nothing" json "len(d['policies']) == $NDEFAULT + 3"
check "list is highest priority first" \
    json 'all(a["priority"] >= b["priority"] for a, b in zip(d["policies"], d["policies"][1:]))'

expect 0 "policy get --json" $A --json policy get "$P1"
check "policy get returns it" json "d['id'] == '$P1' and d['priority'] == 7 and d['active'] is True
    and d['description'] == 'support reads everything' and d['rule']['actions'] == ['read', 'search']"
expect 0 "policy get (human)" $A policy get "$P1"
check "human get shows summary and pretty rule" \
    sh -c "grep -q '^summary      allow read,search memory' '$OUT' && grep -q '\"effect\": \"allow\"' '$OUT'"
expect 3 "policy get of an unknown id is not found (3)" $A policy get "$UNKNOWN"
check "the error names the command and id" grep -q "^manushya: policy get $UNKNOWN: " "$ERR"

expect 0 "policy update (human)" $A policy update "$P1" --priority 9 --description "support reads"
check "update prints what it updated" out_is "updated $P1"
expect 0 "policy update --json --inactive --role" $A --json policy update "$P1" --inactive --role helpdesk
check "update --json: changed fields, the others kept" json "d['id'] == '$P1' and d['active'] is False
    and d['role'] == 'helpdesk' and d['priority'] == 9 and d['description'] == 'support reads'
    and d['rule']['actions'] == ['read', 'search'] and d['updated_at'] >= d['created_at']"
expect 0 "policy update --active --rule" $A --json policy update "$P1" --active \
    --rule '{"effect":"allow","actions":"*","resource":"memory"}'
check "update --rule replaces the rule" json 'd["active"] is True and d["rule"]["actions"] == "*"'
expect 1 "policy update with a bad rule fails (1)" $A policy update "$P1" --rule '{"effect":"allow"}'
expect 0 "get after the failed update" $A --json policy get "$P1"
check "the failed update changed nothing" json 'd["rule"]["actions"] == "*"'
expect 3 "policy update of an unknown id is not found (3)" $A policy update "$UNKNOWN" --priority 1
expect 0 "policy delete" $A policy delete "$P2"
check "delete says so" out_is "deleted $P2"
expect 0 "policy delete --json" $A --json policy delete "$P3"
check "delete --json shape" json "d == {'id': '$P3', 'deleted': True}"
expect 3 "deleted policy is not found (3)" $A policy get "$P2"
expect 3 "deleting it again is not found (3)" $A policy delete "$P2"
expect 0 "policy delete $P1" $A policy delete "$P1"

# ---- who may manage policies --------------------------------------------------------------------
expect 4 "an agent may not add policies with the default policies (4)" $BOT policy add \
    --role agent --rule '{"effect":"allow","actions":"*","resource":"*"}'
expect 4 "an agent may not list policies (4)" $BOT policy list
expect 0 "an admin may list policies" $A --as boss policy list

# ---- policy test --------------------------------------------------------------------------------
OWN="{\"identity_id\":\"$BOT_ID\",\"type\":\"fact\",\"metadata\":{}}"
OTHER="{\"identity_id\":\"$BOT2_ID\",\"type\":\"fact\",\"metadata\":{}}"
expect 0 "policy test: agent reading its own memory" $BOT policy test --action read \
    --resource memory --resource-data "$OWN"
check "human test prints allow, the deciding policy and the reason" sh -c "
    [ \"\$(sed -n 1p '$OUT')\" = allow ] && grep -q '^policy  $AGENT_DEFAULT$' '$OUT' &&
    grep -q '^reason  .' '$OUT'"
expect 0 "policy test --json: allowed" $BOT --json policy test --action read --resource memory \
    --resource-data "$OWN"
check "decision --json shape" json "set(d) == {'allowed', 'policy_id', 'reason'} and
    d['allowed'] is True and d['policy_id'] == '$AGENT_DEFAULT' and d['reason']"
expect 0 "policy test of a deny exits 0 (it is a question)" $BOT policy test --action read \
    --resource memory --resource-data "$OTHER"
check "... and prints deny" sh -c "[ \"\$(sed -n 1p '$OUT')\" = deny ]"
expect 0 "policy test --json: denied" $BOT --json policy test --action read --resource memory \
    --resource-data "$OTHER"
check "a deny for want of an allow has no policy id" \
    json 'd["allowed"] is False and d["policy_id"] is None and d["reason"]'
expect 0 "policy test as the system actor" $A --json policy test --action delete --resource policy
check "the system actor is always allowed, by no policy" \
    json 'd["allowed"] is True and d["policy_id"] is None'
expect 3 "policy test as an unknown identity is not found (3)" --db "$DB" --tenant acme \
    --as nobody policy test --action read --resource memory
expect 1 "policy test with bad --resource-data fails (1)" $BOT policy test --action read \
    --resource memory --resource-data '[1'
echo "$OWN" | "$M" $BOT --json policy test --action read --resource memory \
    --resource-data - >"$OUT" 2>"$ERR"; rc=$?
check "policy test --resource-data - reads stdin" json 'd["allowed"] is True'

# ---- enforcement: a deny policy on memory create ------------------------------------------------
expect 0 "memory add as bot with the default policies" $BOT memory add "bot's first memory"
MEM=$(cat "$OUT")
expect 0 "add a deny policy for agents on memory create" $A policy add --role agent \
    --rule "$RULE_DENY_CREATE" --priority 1 --description "agents may not write"
DENY=$(cat "$OUT")
expect 4 "memory add as bot is denied (4)" $BOT memory add "refused"
check "the denial names the deciding policy" err_has "$DENY"
check "the denial says what was refused" grep -q "^manushya: memory add: .*create" "$ERR"
expect 0 "policy test agrees" $BOT --json policy test --action create --resource memory \
    --resource-data "$OWN"
check "policy test names the deny policy" json "d['allowed'] is False and d['policy_id'] == '$DENY'"
expect 0 "the system actor is not subject to policies: memory add --identity bot" $A memory add \
    "added by the system actor" --identity bot
expect 0 "bot may still read" $BOT memory get "$MEM"
expect 0 "deactivate the deny policy" $A policy update "$DENY" --inactive
expect 0 "an inactive deny does not apply" $BOT memory add "allowed while inactive"
expect 0 "reactivate it" $A policy update "$DENY" --active
expect 4 "denied again (4)" $BOT memory add "refused again"
expect 0 "delete the deny policy" $A policy delete "$DENY"
expect 0 "memory add as bot works again" $BOT memory add "bot's second memory"

# ---- enforcement: one agent cannot read another's memory ---------------------------------------
expect 0 "bot2 adds a memory" $BOT2 memory add "bot2 keeps the launch codes secret"
MEM2=$(cat "$OUT")
expect 4 "bot cannot get bot2's memory (4)" $BOT memory get "$MEM2"
check "the denial says read" grep -q "^manushya: memory get $MEM2: .*read" "$ERR"
expect 0 "bot lists memories" $BOT --json memory list --all
check "bot's list has its own memories and not bot2's" json "'$MEM' in [m['id'] for m in d['memories']]
    and '$MEM2' not in [m['id'] for m in d['memories']]
    and all(m['identity_id'] == '$BOT_ID' for m in d['memories'])"
expect 0 "bot searches for bot2's words" $BOT --json memory search "launch codes secret"
check "bot's search never shows bot2's memory" json "'$MEM2' not in [h['id'] for h in d['hits']]"
expect 4 "bot cannot update bot2's memory (4)" $BOT memory update "$MEM2" --text "mine now"
expect 4 "bot cannot delete bot2's memory (4)" $BOT memory delete "$MEM2"
expect 0 "bot2 reads its own memory, unchanged" $BOT2 --json memory get "$MEM2"
check "bot2's memory is intact" json 'd["text"] == "bot2 keeps the launch codes secret" and d["version"] == 1'
expect 0 "the system actor lists every memory" $A --json memory list --all
check "the system actor sees both agents' memories" json "{'$MEM', '$MEM2'} <= {m['id'] for m in d['memories']}"
expect 0 "the system actor gets bot2's memory" $A memory get "$MEM2"

# ---- --context / MANUSHYA_CONTEXT ---------------------------------------------------------------
expect 0 "add a deny for agents' searches from blocked networks" $A policy add --role agent \
    --priority 60 --description "blocked networks" \
    --rule '{"effect":"deny","actions":["search"],"resource":"memory","conditions":{"ip_restrictions":{"allowed_ranges":["203.0.113.0/24","2001:db8:bad::/48"]}}}'
BLOCK=$(cat "$OUT")
expect 0 "search without a context is allowed" $BOT memory search "first memory"
expect 4 "search with --context from a blocked IPv4 network is denied (4)" $BOT \
    --context '{"ip":"203.0.113.9"}' memory search "first memory"
check "the denial names the network policy" err_has "$BLOCK"
expect 4 "search from a blocked IPv6 network is denied (4)" $BOT \
    --context '{"ip":"2001:db8:bad::17"}' memory search "first memory"
expect 0 "search from another IPv6 address is allowed" $BOT \
    --context '{"ip":"2001:db8:beef::17"}' memory search "first memory"
MANUSHYA_CONTEXT='{"ip":"203.0.113.10"}' "$M" $BOT memory search "first memory" >"$OUT" 2>"$ERR"; rc=$?
check "MANUSHYA_CONTEXT is used (4)" test "$rc" -eq 4
MANUSHYA_CONTEXT='{"ip":"203.0.113.10"}' "$M" $BOT --context '{"ip":"10.0.0.1"}' memory search \
    "first memory" >"$OUT" 2>"$ERR"; rc=$?
check "--context overrides MANUSHYA_CONTEXT" test "$rc" -eq 0
expect 0 "policy test --context (the global option after the command)" $BOT --json policy test \
    --action search --resource memory --context '{"ip":"203.0.113.9"}'
check "policy test sees the context" json "d['allowed'] is False and d['policy_id'] == '$BLOCK'"
expect 0 "the system actor ignores the context" $A --context '{"ip":"203.0.113.9"}' memory search \
    "first memory"
expect 1 "a --context that is not a JSON object fails (1)" $BOT --context '[1,2]' memory list
check "the error names --context" err_has "--context"
expect 1 "a --context that is not JSON fails (1)" $A --context '{ip' memory list
expect 2 "--context without a value is a usage error (2)" $BOT memory list --context

# ---- jsonlogic ----------------------------------------------------------------------------------
expect 0 "jsonlogic {\"+\":[1,2]}" jsonlogic '{"+":[1,2]}'
check "prints 3" out_is 3
expect 0 "jsonlogic var with data" jsonlogic '{"var":"a.b"}' '{"a":{"b":[1,"x"]}}'
check "prints the value as JSON" out_is '[1,"x"]'
expect 0 "jsonlogic var with a default" jsonlogic '{"var":["missing","dflt"]}' '{}'
check "prints a JSON string" out_is '"dflt"'
echo '{"cat":["a",{"var":"b"}]}' | "$M" jsonlogic - '{"b":"c"}' >"$OUT" 2>"$ERR"; rc=$?
check "jsonlogic - reads the rule from stdin" sh -c "[ $rc -eq 0 ] && [ \"\$(cat '$OUT')\" = '\"ac\"' ]"
echo '{"x":[1,2,3]}' | "$M" jsonlogic '{"reduce":[{"var":"x"},{"+":[{"var":"current"},{"var":"accumulator"}]},0]}' - \
    >"$OUT" 2>"$ERR"; rc=$?
check "jsonlogic RULE - reads the data from stdin" sh -c "[ $rc -eq 0 ] && [ \"\$(cat '$OUT')\" = 6 ]"
echo '{"if":[true,"yes","no"]}' | "$M" jsonlogic >"$OUT" 2>"$ERR"; rc=$?
check "jsonlogic without RULE reads stdin" sh -c "[ $rc -eq 0 ] && [ \"\$(cat '$OUT')\" = '\"yes\"' ]"
expect 0 "jsonlogic -- -5 (a negative literal after --)" jsonlogic -- -5
check "prints -5" out_is -5
expect 1 "jsonlogic with an unknown operator fails (1)" jsonlogic '{"and":[true,{"frob":[1]}]}'
check "the message gives the JSON path of the bad node" \
    sh -c "grep -q '^manushya: jsonlogic: ' '$ERR' && grep -q 'and\[1\]' '$ERR' && grep -q frob '$ERR'"
expect 1 "jsonlogic with bad JSON fails (1)" jsonlogic '{"+":[1,'
expect 1 "jsonlogic with bad data fails (1)" jsonlogic '{"var":"a"}' '{bad'
check "the message says it is the data" err_has "data"
expect 2 "jsonlogic - - is a usage error (2)" jsonlogic - - </dev/null
expect 2 "jsonlogic with three arguments is a usage error (2)" jsonlogic 1 2 3

# ---- bench policy -------------------------------------------------------------------------------
expect 0 "bench policy --n 200 --json" --db "$TMP/bench.db" --json bench policy --n 200
check "bench policy --json has the parameters and figures" json 'd["n"] == 200
    and d["policies"] == 10 and d["tenant"] == "bench-policy" and d["threads"] == 1
    and not any(k.startswith("engine") for k in d)
    and d["call_uncached_decisions_per_s"] > 0 and d["call_cached_decisions_per_s"] > 0
    and 0 < d["call_uncached_p50_us"] <= d["call_uncached_p99_us"]
    and 0 < d["call_cached_p50_us"] <= d["call_cached_p99_us"]
    and 0 < d["call_uncached_allowed"] < 200 and d["call_cached_allowed"] == 200'
expect 0 "bench created the 10-policy set in place of the defaults" --db "$TMP/bench.db" \
    --tenant bench-policy --json policy list
check "10 policies for role agent, allow and deny" json 'len(d["policies"]) == 10
    and {p["role"] for p in d["policies"]} == {"agent"}
    and {p["rule"]["effect"] for p in d["policies"]} == {"allow", "deny"}'
expect 0 "bench policy again (human), reusing the tenant" --db "$TMP/bench.db" bench policy --n 100
check "human bench output has the parameters and every figure" sh -c "grep -q '^bench policy  *10 policies' '$OUT' &&
    grep -q '10 active policies' '$OUT' &&
    grep -q '^call uncached .*decisions/s' '$OUT' && grep -q '^call cached .*decisions/s' '$OUT'"
expect 2 "bench policy --n 0 is a usage error (2)" --db "$TMP/bench.db" bench policy --n 0
# The engine alone is the source tree's bench/bench_policy_engine (tests/bench/): the installed
# CLI has no option for it.
expect 2 "bench policy --engine-n is not an option of the CLI (2)" --db "$TMP/bench.db" \
    bench policy --engine-n 1000

cli_finish
