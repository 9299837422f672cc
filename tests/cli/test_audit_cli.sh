#!/bin/sh
# manushya audit verify|list|export|retention|prune: entries of changes and denials, the
# filters, JSON lines, the retention setting, who may read and prune; then the SQLite file edited with the sqlite3 command (an entry
# edited, one deleted, two swapped, after a prune too), and verify names the first bad seq.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup audit

A="--db a.db --tenant acme"
"$M" --db a.db tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A identity create boss --role admin >/dev/null 2>&1
for i in 1 2 3; do "$M" $A --as bot memory add "note $i" >/dev/null 2>&1; done
M1=$("$M" $A --json --as bot memory add "the one" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$M" $A --as bot policy list >/dev/null 2>&1 # denied: an agent may not read policies

expect 0 "audit verify" $A audit verify
check "counts the entries" out_is "7 entries verified"
expect 0 "audit verify --json" $A --json audit verify
check "as an object" json 'd == {"verified": 7}'
expect 0 "audit list" $A audit list
check "one line an entry" [ "$(wc -l <"$OUT")" -eq 7 ]
check "the denial shows" sh -c "grep 'policy:list' '$OUT' | grep -q denied"
expect 0 "audit list --json" $A --json audit list
check "seq 1..7, chained" json '[e["seq"] for e in d] == list(range(1, 8)) and
    all(d[i]["prev_hash"] == d[i - 1]["hash"] for i in range(1, 7))'
expect 0 "--action prefix" $A --json audit list --action memory:
check "the four memories" json 'len(d) == 4 and all(e["action"] == "memory:create" for e in d)'
expect 0 "--resource" $A --json audit list --resource "$M1"
check "the entry naming it" json 'len(d) == 1 and d[0]["resources"] == ["'"$M1"'"]'
expect 0 "--identity, --outcome" $A --json audit list --identity bot --outcome denied
check "bot's denial" json 'len(d) == 1 and d[0]["action"] == "policy:list"'
expect 0 "--until a date long past" $A --json audit list --until 2001-01-01
check "nothing" json 'd == []'
expect 0 "--since a date" $A --json audit list --since 2001-01-01T00:00:00Z
check "everything" json 'len(d) == 7'
expect 0 "--after and --limit page" $A --json audit list --after 2 --limit 3
check "3, 4, 5" json '[e["seq"] for e in d] == [3, 4, 5]'
expect 2 "a bad time" $A audit list --since yesterday
check "is named" err_has "since"
expect 1 "a bad outcome" $A audit list --outcome maybe
expect 0 "audit export" $A audit export --action memory:
check "JSON lines" sh -c "[ \$(wc -l <'$OUT') -eq 4 ] && python3 -c 'import json,sys
[json.loads(l) for l in open(sys.argv[1])]' '$OUT'"

expect 4 "an agent may not read the log" $A --as bot audit list
expect 4 "nor verify it" $A --as bot audit verify
expect 0 "an admin may" $A --as boss audit verify
check "and the two refusals were recorded" out_is "9 entries verified"

# ---- tampering, past the library -------------------------------------------------------------
snapshot() { cp a.db t.db; }
T="--db t.db --tenant acme"
bad_at() { # DESCRIPTION SEQ: audit verify fails naming entry SEQ
    expect 1 "$1" $T audit verify
    check "names entry $2" err_has "entry $2 "
}
snapshot
sqlite3 t.db "UPDATE audit_log SET resources = '[]' WHERE seq = 3"
bad_at "an entry edited" 3
snapshot
sqlite3 t.db "DELETE FROM audit_log WHERE seq = 5"
bad_at "an entry deleted" 5
snapshot
sqlite3 t.db "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 6;
UPDATE audit_log SET seq = 6 WHERE seq = -1"
bad_at "two entries swapped" 2
expect 1 "a broken chain is not pruned" $T audit prune --older-than-days 0
check "says why" err_has "entry 2 "

# ---- retention ------------------------------------------------------------------------------
expect 0 "audit retention, none set" $A audit retention
check "says so" out_has "no retention set"
expect 2 "prune without an age or a retention" $A audit prune
expect 0 "audit retention --days 30" $A --json audit retention --days 30
check "shows it in ms" json 'd == {"retention_ms": 2592000000}'
expect 1 "a prune below the retention is refused" $A audit prune --older-than-days 1
check "naming the setting" err_has "mn_audit_retention_set"
expect 0 "audit prune takes the retention's age" $A audit prune
check "nothing that old" out_is "removed 0 entries"
expect 4 "an agent may not set it" $A --as bot audit retention --days 0
expect 0 "no minimum again" $A audit retention --days 0
expect 0 "nothing a day old" $A audit prune --older-than-days 1
check "removes nothing" out_is "removed 0 entries"
expect 4 "an agent may not prune" $A --as bot audit prune --older-than-days 0
sleep 0.01
expect 0 "prune everything before now" $A --json audit prune --older-than-days 0
check "the 13 entries go (the refusals and retention changes too)" json 'd == {"removed": 13}'
expect 0 "what is left verifies" $A audit verify
check "the prune's own entry" out_is "1 entries verified"
"$M" $A --as bot memory add "after the prune" >/dev/null 2>&1
expect 0 "the chain goes on" $A --json audit list
check "from seq 14" json '[e["seq"] for e in d] == [14, 15] and d[0]["action"] == "audit:prune"'
snapshot
sqlite3 t.db "UPDATE audit_log SET at = at + 1 WHERE seq = 15"
bad_at "an edit after a prune" 15
snapshot
sqlite3 t.db "DELETE FROM audit_checkpoints"
bad_at "the checkpoint removed" 1
cli_finish
