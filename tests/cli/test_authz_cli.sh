#!/bin/sh
# shellcheck disable=SC2086 # $A, $BOT, ... are option lists split on purpose (see test_cli.sh)
# test_authz_cli.sh — the ways an identity could pass for another, or learn what it may not see,
# end to end: an empty identity, names shaped like ids, a policy "when" that is not one
# operation, a malformed context.ip, and the existence of identities named in a filter.
#
# Run by tests/run.sh from the repo root with MN_BUILD (build dir) and MN_TOP (repo root).
# Prints "ok N - what" / "not ok N - what" (TAP-like) and exits non-zero if any case failed.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup authz-cli
DB=authz.db
A="--db $DB --tenant acme"
BOT="$A --as bot"

"$M" --db "$DB" tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A identity create boss --role admin >/dev/null 2>&1
BOSS_ID=$("$M" $A identity get boss --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "setup: tenant and identities" is_uuid "$BOSS_ID"
identities() { "$M" $A --json identity list | python3 -c 'import json,sys
print(len(json.load(sys.stdin)["identities"]))'; }
N=$(identities)

# ---- an empty identity is never the system actor ------------------------------------------------
export MANUSHYA_IDENTITY=bot
expect 2 "--as \"\" is a usage error (2), not the system actor" $A --as "" identity create x \
    --role admin
check "... that says the identity is empty" err_has "identity is empty"
MANUSHYA_IDENTITY=
expect 2 "MANUSHYA_IDENTITY set but empty is a usage error (2)" $A identity create x --role admin
unset MANUSHYA_IDENTITY
expect 2 "--as= (empty) is a usage error (2)" $A --as= memory list
check "nothing was created" [ "$(identities)" -eq "$N" ]
expect 4 "as bot, identity create --role admin is denied (4)" $BOT identity create x --role admin

# ---- names shaped like ids ----------------------------------------------------------------------
expect 1 "identity create named after the admin's id fails (1)" $A identity create "$BOSS_ID"
check "... saying it has the form of an id" err_has "UUID"
check "nothing was created" [ "$(identities)" -eq "$N" ]
expect 0 "so --as the admin's id is still the admin" $A --as "$BOSS_ID" --json identity get "$BOSS_ID"
check "... the admin itself" json 'd["external_id"] == "boss"'
TENANT_ID=$("$M" --db "$DB" --json tenant get acme | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect 1 "tenant create named after another tenant's id fails (1)" --db "$DB" tenant create "$TENANT_ID"
check "... saying it has the form of an id" err_has "UUID"

# ---- a policy's "when" must be one operation ----------------------------------------------------
RULE='{"effect":"allow","actions":["read"],"resource":"memory","when":'
for w in '{"==":[1,2],"!":true}' '[{"==":[1,2]}]' '{}' '"no"' '1' 'null' \
    '{"and":[{"var":"actor.id"},{"==":[1,2],"!":true}]}'; do
    expect 1 "policy add with \"when\": $w fails (1)" $A policy add --role agent --rule "$RULE$w}"
    check "... and names \"when\"" err_has "when"
done
expect 0 "\"when\": true is a condition" $A policy add --role agent --rule "$RULE"'true}'
expect 0 "jsonlogic itself still takes a literal object" --json jsonlogic '{"a":1,"b":2}'
check "... and returns it" json 'd == {"a": 1, "b": 2}'

# ---- a malformed context.ip fails closed --------------------------------------------------------
"$M" $A memory add "bot's note" --identity bot >/dev/null 2>&1
MEM=$("$M" $A --json memory list --all | python3 -c 'import json,sys; print(json.load(sys.stdin)["memories"][0]["id"])')
expect 0 "deny bot's reads from 10.0.0.0/8" $A policy add --role agent --priority 90 --rule \
    '{"effect":"deny","actions":["read"],"resource":"memory","conditions":{"ip_restrictions":{"allowed_ranges":["10.0.0.0/8"]}}}'
expect 4 "from 10.1.2.3, bot may not read its memory (4)" $BOT --context '{"ip":"10.1.2.3"}' memory get "$MEM"
expect 0 "from 192.0.2.1 it may" $BOT --context '{"ip":"192.0.2.1"}' memory get "$MEM"
expect 0 "without context.ip the deny does not apply" $BOT memory get "$MEM"
for ip in '"10.1.2.3:8080"' '" 10.1.2.3"' '"[::ffff:10.1.2.3]"' '"10.1.2.3/32"' '167838211' 'null'; do
    expect 4 "context.ip $ip is not an address: the deny applies (4)" $BOT \
        --context "{\"ip\":$ip}" memory get "$MEM"
done
check "... and the reason says why" err_has "not an IP address"

# ---- whether an identity exists is not an agent's to learn --------------------------------------
"$M" $A memory add "the boss's secret" --identity boss >/dev/null 2>&1
expect 0 "bot lists memories of the admin: an empty list" $BOT --json memory list --identity boss
check "... empty" json 'd["memories"] == []'
expect 0 "bot lists memories of an identity that does not exist: the same answer" $BOT --json \
    memory list --identity nosuch
check "... empty" json 'd["memories"] == []'
expect 0 "search as bot for the admin's memories: nothing" $BOT --json memory search "secret" \
    --identity boss
check "... empty" json 'd["hits"] == []'
expect 0 "search for those of an identity that does not exist: the same answer" $BOT --json \
    memory search "secret" --identity nosuch
check "... empty" json 'd["hits"] == []'

cli_finish
