#!/bin/sh
# Encryption at rest from the command line: key new-master, init --encrypt, the master key by
# MANUSHYA_MASTER_KEY_FILE or --master-key-file, no plain text in the database file, a
# missing or wrong key refused at open with a hint, a value moved to another row refused,
# key rotate-master, key rotate-tenant (also after a kill half-way).
. "$MN_TOP/tests/cli/lib.sh"
cli_setup crypt

expect 0 "key new-master" key new-master k1
check "the file is private and holds 64 hex digits" sh -c \
    "[ \"\$(stat -c %a k1)\" = 600 ] && grep -Eqx '[0-9a-f]{64}' k1"
expect 1 "an existing file is never overwritten" key new-master k1
check "and says so" err_has "never overwritten"
cp k1 k1.before
expect 1 "init --encrypt without a key" --db e.db init --encrypt
check "names where the key goes" err_has "MANUSHYA_MASTER_KEY_FILE"

export MANUSHYA_MASTER_KEY_FILE="$TMP/k1"
expect 0 "init --encrypt" --db e.db --json init --encrypt
check "says encrypted" json 'd["encrypted"] is True'
A="--db e.db --tenant acme"
"$M" --db e.db tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
expect 0 "memory add" $A --as bot memory add "the launch code is swordfish" --meta '{"vault":"tuna"}'
MID=$(cat "$OUT")
"$M" $A --as bot memory add "a second memory" >/dev/null 2>&1
expect 0 "memory list shows the text" $A memory list
check "in the clear" out_has "swordfish"
expect 0 "a metadata filter works" $A --json memory list --meta '{"vault":"tuna"}'
check "one memory, metadata readable" json 'len(d["memories"]) == 1 and d["memories"][0]["metadata"] == {"vault": "tuna"}'
expect 0 "search works" $A --json memory search swordfish
check "the memory first" json 'd["hits"][0]["id"] == "'"$MID"'"'
check "no plain text in the database's files" sh -c "! grep -q -e swordfish -e tuna e.db*"

unset MANUSHYA_MASTER_KEY_FILE
expect 1 "no key: refused at open" $A memory list
check "with the hint" err_has "key new-master"
"$M" key new-master k2 >/dev/null 2>&1
expect 1 "another key: refused" --master-key-file k2 $A memory list
check "says it does not open the database" err_has "does not open this database"
expect 0 "--master-key-file" --master-key-file k1 $A memory list

export MANUSHYA_MASTER_KEY_FILE="$TMP/k1"
OTHER=$(sql e.db "SELECT id FROM memories WHERE id <> '$MID'")
sql e.db "UPDATE memories SET text = (SELECT text FROM memories WHERE id = '$MID') WHERE id = '$OTHER'"
expect 1 "a value moved to another row does not open" $A memory get "$OTHER"
check "and is named" err_has "does not open"
expect 0 "the row it came from still does" $A memory get "$MID"
"$M" $A memory delete "$OTHER" --hard >/dev/null 2>&1

expect 0 "key rotate-master" --db e.db key rotate-master k2
expect 1 "the old key no longer opens it" $A memory list
export MANUSHYA_MASTER_KEY_FILE="$TMP/k2"
expect 0 "the new one does" $A memory list
check "with the same memories" out_has "swordfish"

expect 0 "key rotate-tenant" --db e.db key rotate-tenant acme --batch 1
check "says it is done" out_has "re-keyed tenant acme"
KEYS="SELECT count(*) FROM data_keys d JOIN tenants t ON t.id = d.tenant_id WHERE t.name ="
check "one data key left" test "$(sql e.db "$KEYS 'acme'")" = 1
expect 0 "still readable" $A memory get "$MID"
check "the text" out_has "swordfish"
expect 2 "rotate-tenant --batch 0" --db e.db key rotate-tenant acme --batch 0
expect 3 "rotate-tenant of an unknown tenant" --db e.db key rotate-tenant nobody

# Killed half-way: run again, it goes on and ends with one key.
"$M" --db e.db bench ingest --n 3000 >/dev/null 2>&1
"$M" --db e.db key rotate-tenant bench --batch 5 >/dev/null 2>&1 &
kpid=$!
sleep 0.3
kill -9 $kpid 2>/dev/null
wait $kpid 2>/dev/null
expect 0 "rotate-tenant after a kill" --db e.db key rotate-tenant bench --batch 500
check "no re-key left half-done" test "$(sql e.db "SELECT count(*) FROM meta WHERE key LIKE 'rekey:%'")" = 0
check "one data key for bench" test "$(sql e.db "$KEYS 'bench'")" = 1
expect 0 "bench's memories read" --db e.db --tenant bench --json memory list --limit 1000
check "all 1000 of the page" json 'len(d["memories"]) == 1000'

# A plain database stays plain and cannot be turned encrypted once it has tenants.
"$M" --db p.db tenant create acme >/dev/null 2>&1
expect 1 "init --encrypt on a database with tenants" --db p.db init --encrypt
check "says it is chosen at creation" err_has "created"
expect 0 "it still opens, plain" --db p.db --json init
check "not encrypted" json 'd["encrypted"] is False'
cli_finish
