#!/bin/sh
# Deduplication and upsert through the CLI: memory add --key updates the key's memory, a
# repeated text adds nothing (--dedup off adds it again), and importing a file twice leaves
# the store as the first import did; export carries each memory's id and external_key back in.
# shellcheck shell=sh
. "$MN_TOP/tests/cli/lib.sh"
cli_setup dedup

"$M" --db dd.db tenant create acme >/dev/null 2>&1
"$M" --db dd.db --tenant acme identity create bot >/dev/null 2>&1
B="--db dd.db --tenant acme --as bot"

# ---- memory add: a key, a repeated text -------------------------------------------------------
expect 0 "memory add --key" $B --json memory add "Order 12 is pending" --key order-12
check "... created, with its key" json 'd["outcome"] == "created" and d["external_key"] == "order-12"'
ID=$(jget 'd["id"]')
expect 0 "memory add with the same key and a new text" $B --json memory add \
    "Order 12 has shipped" --key order-12
check "... updates that memory: version 2, the new text" json \
    'd["id"] == "'"$ID"'" and d["outcome"] == "updated" and d["version"] == 2 and
     d["text"] == "Order 12 has shipped"'
expect 0 "memory history of it" $B --json memory history "$ID"
check "... has the change" out_has 'pending'
expect 0 "audit list" --db dd.db --tenant acme --json audit list --resource "$ID"
check "... the upsert is recorded as an update" json \
    '[e["action"] for e in d] == ["memory:create", "memory:update"]'
expect 0 "memory add of a text the owner has, in other case and spacing" $B memory add \
    "  order 12 HAS   shipped "
check "... prints the memory's id and says it was unchanged" out_is "$ID (unchanged: a memory with this text)"
expect 0 "memory add --dedup off of the same text" $B --dedup off memory add "Order 12 has shipped"
check "... adds another" test "$(cat "$OUT")" != "$ID"
expect 2 "--dedup with a bad threshold is a usage error (2)" $B --dedup near:2 memory add "x"
check "... saying what it takes" err_has 'near:T'

# ---- import twice -------------------------------------------------------------------------------
cat >"$TMP/in.jsonl" <<'JSONL'
{"text": "Lives in Lisbon", "metadata": {"src": "crm"}}
{"text": "Tracking 77 created", "external_key": "t77"}
{"text": "Works at a bakery", "type": "job", "importance": 0.8}
{"text": "lives in  lisbon", "metadata": {"seen": 2}}
{"text": "Tracking 77 delivered", "external_key": "t77"}
JSONL
"$M" --db im.db tenant create acme >/dev/null 2>&1
"$M" --db im.db --tenant acme identity create bot >/dev/null 2>&1
I="--db im.db --tenant acme --as bot"
expect 0 "import" $I memory import "$TMP/in.jsonl"
expect 0 "export after the first import" $I memory export "$TMP/first.jsonl"
check "the repeated lines made no memory of their own" test "$(wc -l <"$TMP/first.jsonl")" -eq 3
check "a key's last line wins" grep -q '"text":"Tracking 77 delivered","type":"fact","metadata":{},"identity":"bot","external_key":"t77"' "$TMP/first.jsonl"
check "a repeated text's metadata merged in" grep -q '"metadata":{"src":"crm","seen":2}' "$TMP/first.jsonl"
AUDIT1=$(sql im.db "SELECT count(*) FROM audit_log")
expect 0 "the same import again" $I --json memory import "$TMP/in.jsonl"
check "... creates and updates nothing" json 'd["imported"] == 5 and d["created"] == 0 and
    d["updated"] == 0 and d["unchanged"] == 5'
expect 0 "export after the second import" $I memory export "$TMP/second.jsonl"
check "the store is as after the first import" cmp -s "$TMP/first.jsonl" "$TMP/second.jsonl"
check "... and so is its audit log" test "$(sql im.db "SELECT count(*) FROM audit_log")" -eq "$AUDIT1"

# ---- export -> import carries the keys ----------------------------------------------------------
"$M" --db rt.db tenant create acme >/dev/null 2>&1
"$M" --db rt.db --tenant acme identity create bot >/dev/null 2>&1
R="--db rt.db --tenant acme --as bot"
expect 0 "import of the export into a new database" $R memory import "$TMP/first.jsonl"
expect 0 "its export" $R memory export "$TMP/round.jsonl"
ids() { python3 -c 'import json,sys
print(sorted((d["id"], d.get("external_key")) for d in map(json.loads, open(sys.argv[1]))))' "$1"; }
check "ids and keys came through" test "$(ids "$TMP/first.jsonl")" = "$(ids "$TMP/round.jsonl")"
expect 0 "memory add with the exported key" $R --json memory add "Tracking 77 returned" --key t77
check "... updates the imported memory" json 'd["outcome"] == "updated" and d["version"] == 2'

cli_finish
