#!/bin/sh
# shellcheck disable=SC2086 # $A, $B, $IDB are option lists split on purpose (see below)
# test_cli.sh — the manushya CLI end to end, on throwaway databases.
#
# Run by tests/run.sh from the repo root with MN_BUILD (build dir) and MN_TOP (repo root).
# Prints "ok N - what" / "not ok N - what" (TAP-like) and exits non-zero if any case failed.
# JSON outputs are checked with python3.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup cli
VERSION=$(sed -n 's/^#define MN_VERSION "\(.*\)"/\1/p' "$MN_TOP/include/manushya.h")
DB=main.db
A="--db $DB --tenant acme"

# ---- version, help, usage errors ---------------------------------------------------------------
expect 0 "--version exits 0" --version
check "--version prints the CLI and library versions" \
    sh -c "head -n 1 '$OUT' | grep -qxF 'manushya $VERSION (libmanushya $VERSION)'"
check "then the optional backends the library was built with, and serve when the CLI has it" \
    sh -c "sed -n '2,\$p' '$OUT' | grep -Eqx 'features: (none|serve|(postgres|redis|http-embed)( (redis|http-embed))*( serve)?)'"
expect 0 "--help exits 0" --help
check "--help prints usage to stdout" out_has "^usage: manushya"
expect 2 "no arguments is a usage error (2)"
expect 2 "unknown group is a usage error (2)" frobnicate
expect 2 "group without command is a usage error (2)" memory

help_ok=1
for gc in "init" "tenant" "tenant create" "tenant list" "tenant get" "identity" \
    "identity create" "identity list" "identity get" "identity deactivate" "identity delete" \
    "memory" "memory add" "memory get" "memory list" "memory update" "memory delete" \
    "memory restore" "memory history" "memory search" "memory import" "memory export" \
    "memory purge" "embed" "bench" "bench ingest"; do
    run $gc --help # split "group command" into two words
    if [ "$rc" -ne 0 ] || ! out_has "^usage: manushya" || [ -s "$ERR" ]; then
        echo "#   manushya $gc --help: exit $rc"
        help_ok=0
    fi
done
check "--help exits 0 with usage on stdout for every group and command" [ "$help_ok" -eq 1 ]

expect 2 "unknown option is a usage error (2)" $A memory list --bogus
check "usage error names the option and the command's help" \
    grep -q -- "--bogus.*see manushya memory list --help" "$ERR"
expect 2 "bad number is a usage error (2)" $A memory list --limit ten
check "bad number message names the option" err_has "--limit"
expect 2 "missing argument is a usage error (2)" $A memory get
expect 2 "option without its value is a usage error (2)" $A memory add x --type
expect 2 "memory command without a tenant is a usage error (2)" --db "$DB" memory list
expect 2 "update with nothing to change is a usage error (2)" $A memory update x

# ---- init -------------------------------------------------------------------------------------
expect 0 "init on the default path (no --db, no env)" init
check "default database is created under \$HOME/.local/share/manushya" \
    test -f "$HOME/.local/share/manushya/manushya.db"
XDG_DATA_HOME="$TMP/xdg" "$M" init >"$OUT" 2>"$ERR"; rc=$?
check "init honours XDG_DATA_HOME" test "$rc" -eq 0 -a -f "$TMP/xdg/manushya/manushya.db"
expect 0 "init --embed-dim 64 --json" --db "$TMP/dim64.db" --json init --embed-dim 64
check "init --json reports database and embed_dim" \
    json 'd["embed_dim"] == 64 and d["database"].endswith("dim64.db")'
expect 0 "init of the main database" --db "$DB" init
check "init prints the path and the embedding dimension" \
    sh -c "grep -q '$DB' '$OUT' && grep -q 384 '$OUT'"

# A password in the database URL never reaches the output (port 1: refused at once).
expect 1 "open fails on a server that is not there (1)" \
    --db 'postgres://bob:hunter2@127.0.0.1:1/db?password=swordfish' tenant list
check "the open error masks both forms of password" \
    sh -c "grep -q 'bob:\\*\\*\\*@127.0.0.1:1/db?password=\\*\\*\\*' '$ERR' &&
           ! grep -q -e hunter2 -e swordfish '$ERR'"

# ---- tenants ----------------------------------------------------------------------------------
expect 0 "tenant create" --db "$DB" tenant create acme
TENANT_ID=$(cat "$OUT")
check "tenant create prints a UUID" is_uuid "$TENANT_ID"
expect 1 "creating a tenant twice fails (1)" --db "$DB" tenant create acme
check "the error names what failed" grep -q '^manushya: tenant create acme: ' "$ERR"
expect 0 "second tenant" --db "$DB" tenant create other
expect 0 "tenant list --json" --db "$DB" tenant list --json
check "tenant list --json shape" json '[t["name"] for t in d["tenants"]] == ["acme", "other"] \
    and set(d["tenants"][0]) == {"id", "name", "created_at"}'
expect 0 "tenant list (human)" --db "$DB" tenant list
check "tenant list shows both tenants" sh -c "grep -q acme '$OUT' && grep -q other '$OUT'"
expect 0 "tenant get by name --json" --db "$DB" --json tenant get acme
check "tenant get returns the tenant" json "d['id'] == '$TENANT_ID'"
expect 3 "tenant get of an unknown tenant is not found (3)" --db "$DB" tenant get nobody

# ---- identities -------------------------------------------------------------------------------
expect 0 "identity create with role and claims" $A identity create bot --role agent \
    --claims '{"team":"support"}'
BOT_ID=$(cat "$OUT")
check "identity create prints a UUID" is_uuid "$BOT_ID"
expect 0 "identity create --json" $A --json identity create alice
check "identity --json shape" json 'set(d) == {"id", "tenant_id", "external_id", "role", "claims",
    "active", "created_at", "updated_at"} and d["external_id"] == "alice" and d["active"] is True'
expect 0 "identity get --json" $A identity get bot --json
check "identity get: claims is an object, role kept" \
    json 'd["claims"] == {"team": "support"} and d["role"] == "agent"'
expect 0 "identity list --json" $A --json identity list
check "identity list has both" json 'sorted(i["external_id"] for i in d["identities"]) == ["alice", "bot"]'
expect 0 "identity deactivate" $A identity deactivate alice
expect 0 "identity get after deactivate" $A --json identity get alice
check "deactivated identity is inactive" json 'd["active"] is False'
expect 1 "identity create with bad claims fails (1)" $A identity create carol --claims 'nope'
expect 3 "identity get of an unknown identity is not found (3)" $A identity get nobody

# ---- memories: add, get, list -----------------------------------------------------------------
B="$A --as bot"
expect 0 "memory add" $B memory add "The customer prefers green tea over coffee" \
    --type preference --meta '{"topic":"drinks"}' --importance 0.8
TEA=$(cat "$OUT")
check "memory add prints a UUID" is_uuid "$TEA"
expect 0 "memory add --json" $B --json memory add "Order 1042 shipped on Monday" --type event \
    --meta '{"topic":"orders"}' --ttl-days 30
check "memory --json shape" json 'set(d) == {"id", "tenant_id", "identity_id", "text", "type",
    "metadata", "importance", "version", "created_at", "updated_at", "expires_at", "deleted",
    "embed_status", "embed_error", "external_key", "session", "outcome"}'
check "memory --json values" json "d['identity_id'] == '$BOT_ID' and d['tenant_id'] == \
    '$TENANT_ID' and d['metadata'] == {'topic': 'orders'} and d['version'] == 1 and \
    d['deleted'] is False and d['expires_at'] > d['created_at'] and d['type'] == 'event'"
ORDER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT")
expect 0 "memory add as system actor naming the owner" $A memory add \
    "Refunds are processed within five working days" --identity bot --type policy
echo "The customer speaks Hindi and English" >"$TMP/text"
"$M" $B memory add - <"$TMP/text" >"$OUT" 2>"$ERR"; rc=$?
check "memory add - reads the text from stdin" test "$rc" -eq 0
expect 0 "memory add with a text after --" $B memory add -- "--dashes are text here"
expect 1 "memory add with bad metadata fails (1)" $B memory add "x" --meta '[1,2]'
check "bad metadata error says what failed" grep -q '^manushya: memory add: .*metadata' "$ERR"
expect 1 "memory add with malformed metadata fails (1)" $B memory add "x" --meta '{nope'

expect 0 "memory get --json" $B --json memory get "$TEA"
check "memory get returns it" json "d['id'] == '$TEA' and d['importance'] == 0.8 and \
    d['metadata'] == {'topic': 'drinks'} and d['expires_at'] is None"
expect 0 "memory get (human)" $B memory get "$TEA"
check "memory get shows the text" out_has "green tea"
expect 3 "memory get of an unknown id is not found (3)" $B memory get \
    01890a5d-ac96-774b-bcce-b302099a8057
check "not-found error names the command and id" \
    grep -q '^manushya: memory get 01890a5d-ac96-774b-bcce-b302099a8057: ' "$ERR"

expect 0 "memory list --json" $B memory list --json
check "memory list --json: 5 memories, newest first, no cursor" json 'd["count"] == 5 and
    len(d["memories"]) == 5 and d["next_cursor"] is None and
    d["memories"][0]["text"] == "--dashes are text here"'
expect 0 "memory list --type --meta filter" $B --json memory list --type event --meta '{"topic":"orders"}'
check "filtered list finds only the order" json "[m['id'] for m in d['memories']] == ['$ORDER']"
expect 0 "memory list --limit 2" $B --json memory list --limit 2
check "a short page has a next_cursor" json 'd["count"] == 2 and d["next_cursor"]'
CURSOR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next_cursor"])' "$OUT")
expect 0 "memory list --limit 2 (human) prints the cursor" $B memory list --limit 2
check "human list ends with the next cursor" grep -q "^next cursor: $CURSOR" "$OUT"
expect 0 "memory list --cursor" $B --json memory list --limit 2 --cursor "$CURSOR"
check "the next page continues" json 'd["count"] == 2 and d["memories"][0]["text"] != "--dashes are text here"'
expect 0 "memory list --all --limit 2" $B --json memory list --all --limit 2
check "--all follows every cursor" json 'd["count"] == 5 and len({m["id"] for m in d["memories"]}) == 5
    and d["next_cursor"] is None'

# ---- update, history, delete, restore, purge --------------------------------------------------
expect 0 "memory update" $B memory update "$TEA" --text "The customer prefers green tea, no sugar" \
    --importance 0.9
check "update prints the new version" out_has "version 2"
expect 0 "memory update --json" $B --json memory update "$TEA" --meta '{"topic":"drinks","sugar":false}'
check "update --json: version 3, new metadata" \
    json 'd["version"] == 3 and d["metadata"] == {"topic": "drinks", "sugar": False}'
expect 0 "memory history --json" $B --json memory history "$TEA"
check "history lists the changes, oldest first, with before/after objects" json '
    [h["version"] for h in d["history"]][-2:] == [2, 3] and
    d["history"][-2]["before"]["text"] == "The customer prefers green tea over coffee" and
    d["history"][-2]["after"]["importance"] == 0.9'
expect 0 "memory history (human)" $B memory history "$TEA"
check "human history shows what changed" out_has "importance: 0.8 -> 0.9"
expect 3 "memory update of an unknown id is not found (3)" $B memory update \
    01890a5d-ac96-774b-bcce-b302099a8057 --text x

expect 0 "memory delete (soft)" $B memory delete "$TEA"
expect 3 "deleted memory is not found (3)" $B memory get "$TEA"
expect 0 "memory get --with-deleted" $B --json memory get "$TEA" --with-deleted
check "--with-deleted shows it deleted" json 'd["deleted"] is True'
expect 0 "memory restore" $B memory restore "$TEA"
expect 0 "restored memory is back" $B memory get "$TEA"
run $B memory delete "$TEA" 01890a5d-ac96-774b-bcce-b302099a8057
check "memory delete with one unknown id fails" test "$rc" -ne 0 -a "$rc" -ne 2
expect 0 "... and deletes nothing (all or none)" $B memory get "$TEA"
expect 0 "memory delete --hard" $B --json memory delete "$ORDER" --hard
check "delete --json shape" json "d == {'deleted': ['$ORDER'], 'hard': True}"
expect 3 "hard-deleted memory is gone even --with-deleted (3)" $B memory get "$ORDER" --with-deleted
# Purging is tenant-wide: the default agent policy (own memories only) does not cover it.
expect 4 "memory purge as an agent is denied" $B memory purge
expect 0 "memory purge" $A memory purge
check "purge prints a count" grep -Eq '^purged [0-9]+ expired' "$OUT"
expect 0 "memory purge --json" $A --json memory purge
check "purge --json shape" json 'isinstance(d["purged"], int)'

# ---- search -----------------------------------------------------------------------------------
expect 0 "memory search" $B memory search "what does the customer like to drink, tea or coffee"
check "the relevant memory ranks first" sh -c "head -n 1 '$OUT' | grep -q 'green tea'"
check "human search line: rank, similarity with 3 decimals, type, text" \
    grep -Eq '^ +1  [01]\.[0-9]{3}  preference +The customer prefers green tea' "$OUT"
expect 0 "memory search --json" $B --json memory search "refunds working days" --k 2
check "search --json shape" json 'set(d) == {"query", "k", "took_ms", "hits", "next_cursor"}
    and d["k"] == 2
    and d["query"] == "refunds working days" and isinstance(d["took_ms"], (int, float))
    and 1 <= len(d["hits"]) <= 2 and set(d["hits"][0]) == {"id", "text", "type", "metadata",
    "similarity", "recency_factor", "importance_factor", "score", "importance", "identity_id",
    "created_at"}'
check "search --json: best hit first, metadata an object" json 'd["hits"][0]["type"] == "policy"
    and isinstance(d["hits"][0]["metadata"], dict)
    and all(d["hits"][i]["similarity"] >= d["hits"][i+1]["similarity"] for i in range(len(d["hits"])-1))'
expect 0 "memory search --type filter" $B --json memory search "customer" --type policy \
    --min-similarity -1
check "filtered search returns only that type" json 'd["hits"] and all(h["type"] == "policy" for h in d["hits"])'
expect 0 "memory search --min-similarity 0.99" $B --json memory search "unrelated zebra words" \
    --min-similarity 0.99
check "--min-similarity drops weak hits" json 'd["hits"] == []'

# ---- import / export --------------------------------------------------------------------------
IDB="--db import.db --tenant acme --as bot"
"$M" --db "$TMP/import.db" tenant create acme >/dev/null 2>&1
"$M" --db "$TMP/import.db" --tenant acme identity create bot --role admin >/dev/null 2>&1
"$M" --db "$TMP/import.db" --tenant acme identity create alice >/dev/null 2>&1
cat >"$TMP/good.jsonl" <<'EOF'
{"text": "Priya is allergic to peanuts", "type": "fact", "metadata": {"person": "priya"}, "importance": 0.9}

{"text": "Arjun prefers window seats", "type": "preference", "identity": "alice", "ttl_days": 10}
{"text": "The deploy of Atlas failed on Friday", "id": "01890a5d-ac96-774b-bcce-b302099a8057", "created_at": 1, "updated_at": 2, "version": 7, "expires_at": null}
EOF
expect 0 "memory import of a good file" $IDB memory import "$TMP/good.jsonl"
check "import prints count and rate" grep -Eq '^imported 3 memories in [0-9.]+ s \([0-9]+/s\)$' "$OUT"
expect 0 "imported memories are listed" $IDB --json memory list --all --all-readable
check "import kept text, type, metadata, owner, ttl, id" json '
    {m["text"]: m for m in d["memories"]}["Priya is allergic to peanuts"]["metadata"] == {"person": "priya"}
    and {m["text"]: m for m in d["memories"]}["Arjun prefers window seats"]["expires_at"] is not None
    and {m["text"]: m for m in d["memories"]}["The deploy of Atlas failed on Friday"]["id"]
        == "01890a5d-ac96-774b-bcce-b302099a8057"
    and d["count"] == 3'

printf '%s\n' '{"text": "one"}' '{"text": "two"}' '{"text": "three", "colour": "red"}' \
    '{"text": "four"}' >"$TMP/bad.jsonl"
"$M" --db "$TMP/bad.db" tenant create acme >/dev/null 2>&1
"$M" --db "$TMP/bad.db" --tenant acme identity create bot >/dev/null 2>&1
expect 1 "import with a bad line 3 (batch 2) fails (1)" --db "$TMP/bad.db" --tenant acme --as bot \
    memory import "$TMP/bad.jsonl" --batch 2
check "the error names file and line 3 and the unknown key" \
    grep -q "bad.jsonl:3: .*colour" "$ERR"
check "the error says what was committed and that the batch was rolled back" \
    sh -c "grep -q '2 memories in 1 batch' '$ERR' && grep -q 'rolled back' '$ERR'"
expect 0 "list after the failed import" --db "$TMP/bad.db" --tenant acme --json memory list --all
check "the first batch is committed, the failing one is not" \
    json 'sorted(m["text"] for m in d["memories"]) == ["one", "two"]'
printf '%s\n' '{"text": "x1"}' '{"text": "x2", "identity": "nobody"}' >"$TMP/bad2.jsonl"
expect 3 "import where the library refuses line 2 exits with its code (3: no such identity)" \
    --db "$TMP/bad.db" --tenant acme --as bot memory import "$TMP/bad2.jsonl"
check "library refusal names line 2" grep -q "bad2.jsonl:2: " "$ERR"
expect 0 "nothing of that batch was added" --db "$TMP/bad.db" --tenant acme --json memory list --all
check "still only the first two" json 'd["count"] == 2'
printf 'not json\n' | "$M" --db "$TMP/bad.db" --tenant acme --as bot memory import - >"$OUT" 2>"$ERR"
check "import from stdin: bad JSON on line 1 is reported" grep -q "stdin:1: " "$ERR"
# A NUL byte inside a string would cut the text short; after the value it would hide the rest.
printf '{"text": "cut\000short"}\n{"text": "ok"}\000{"text": "hidden"}\n' >"$TMP/nul.jsonl"
expect 1 "import refuses a line with a NUL byte" --db "$TMP/bad.db" --tenant acme --as bot \
    memory import "$TMP/nul.jsonl"
check "the NUL byte is named, on line 1" grep -q "nul.jsonl:1: byte 14 is NUL" "$ERR"
expect 0 "nothing of it was added" --db "$TMP/bad.db" --tenant acme --json memory list --all
check "still only the first two after the NUL lines" json 'd["count"] == 2'
printf '%s\n' '{"text": "a", "metadata": {"k": 1}, "metadata": {"k": 2}}' >"$TMP/twice.jsonl"
expect 1 "import refuses a line with a key twice" --db "$TMP/bad.db" --tenant acme --as bot \
    memory import "$TMP/twice.jsonl"
check "the key given twice is named" grep -q 'twice.jsonl:1: .*key "metadata".*given twice' "$ERR"

# A full disk, made portable: a file size limit (ulimit -f, SIGXFSZ ignored so that the write
# fails instead of killing the process) far below what a batch of 1000 long memories needs.
python3 -c 'import json
for i in range(3000): print(json.dumps({"text": "memory %d: " % i + "word%d " % i * 80}))' \
    >"$TMP/big.jsonl"
"$M" --db "$TMP/full.db" tenant create acme >/dev/null 2>&1
"$M" --db "$TMP/full.db" --tenant acme identity create bot >/dev/null 2>&1
import_limited() { # import_limited ARGS...: memory import into full.db with at most 1 MB a file
    (ulimit -f 2048 && trap '' XFSZ && exec "$M" --db "$TMP/full.db" --tenant acme --as bot \
        memory import "$TMP/big.jsonl" "$@") >"$OUT" 2>"$ERR"
    rc=$?
}
import_limited
check "import onto a full disk fails (1)" [ "$rc" -eq 1 ]
check "... and says nothing was committed, naming the failing batch from its first line" \
    err_has "nothing committed; the failing batch (lines 1-1000) was rolled back"
expect 0 "... and added nothing" --db "$TMP/full.db" --tenant acme --json memory list
check "... (no memory)" json 'd["count"] == 0'
import_limited --batch 50
check "import in batches of 50 onto a full disk fails (1)" [ "$rc" -eq 1 ]
committed=$(sed -n 's/.*(lines 1-\([0-9]*\)) committed; the failing batch (lines \([0-9]*\)-\([0-9]*\)).*nothing from line \([0-9]*\) on.*/\1 \2 \3 \4/p' "$ERR")
check "... names the committed lines and the failing batch, which follows them ($committed)" \
    sh -c 'set -- $1; [ $# -eq 4 ] && [ "$1" -gt 0 ] && [ "$2" -eq $(($1 + 1)) ] &&
           [ "$3" -eq $(($1 + 50)) ] && [ "$4" -eq "$2" ]' - "$committed"
expect 0 "... and exactly the committed lines are in the database" --db "$TMP/full.db" \
    --tenant acme --json memory list --all
check "... (${committed%% *} memories)" json "d['count'] == ${committed%% *}"

expect 0 "memory export to a file" $B memory export "$TMP/export.jsonl"
check "export reports the count" out_has "^exported 4 memories"
check "export wrote 4 lines" test "$(wc -l <"$TMP/export.jsonl")" -eq 4
expect 0 "memory export to stdout" $B memory export
check "stdout export equals the file" cmp -s "$OUT" "$TMP/export.jsonl"
"$M" --db "$TMP/round.db" tenant create acme >/dev/null 2>&1
"$M" --db "$TMP/round.db" --tenant acme identity create bot >/dev/null 2>&1
expect 0 "export -> import into a fresh database" --db "$TMP/round.db" --tenant acme \
    memory import "$TMP/export.jsonl" --batch 3
"$M" $B --json memory list --all >"$TMP/a.json" 2>>"$ERR"
"$M" --db "$TMP/round.db" --tenant acme --json memory list --all >"$TMP/b.json" 2>>"$ERR"
check "round trip keeps text, type, metadata, importance and owner" python3 -c '
import json, sys
def key(f):
    d = json.load(open(f))
    return sorted((m["text"], m["type"], json.dumps(m["metadata"], sort_keys=True),
                   m["importance"]) for m in d["memories"])
a, b = key(sys.argv[1]), key(sys.argv[2])
sys.exit(0 if a == b and len(a) == 4 else 1)' "$TMP/a.json" "$TMP/b.json"
check "round trip: owners map to the same external id" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if all(l["identity"] == "bot" for l in lines) else 1)' "$TMP/export.jsonl"

# ---- embed ------------------------------------------------------------------------------------
expect 0 "embed two texts" --db "$DB" embed "green tea" "coffee"
check "embed prints one line of 384 numbers per text" python3 -c '
import sys
rows = [l.split() for l in open(sys.argv[1])]
sys.exit(0 if len(rows) == 2 and all(len(r) == 384 for r in rows)
         and all(float(x) == float(x) for r in rows for x in r) else 1)' "$OUT"
expect 0 "embed --json" --db "$TMP/dim64.db" --json embed "hello world"
check "embed --json shape" json 'd["model"] == "local" and d["dim"] == 64 and
    len(d["vectors"]) == 1 and len(d["vectors"][0]) == 64 and
    abs(sum(x * x for x in d["vectors"][0]) - 1) < 1e-3'
expect 2 "embed without text is a usage error (2)" --db "$DB" embed

# ---- environment fallbacks and option placement -----------------------------------------------
MANUSHYA_DB="$DB" MANUSHYA_TENANT=acme MANUSHYA_IDENTITY=bot "$M" --json memory add \
    "Kept through the environment" >"$OUT" 2>"$ERR"; rc=$?
check "MANUSHYA_DB/TENANT/IDENTITY are used" json "d['identity_id'] == '$BOT_ID'"
MANUSHYA_DB="$TMP/nowhere.db" MANUSHYA_TENANT=nobody "$M" --db "$DB" --tenant acme --json \
    memory list >"$OUT" 2>"$ERR"; rc=$?
check "--db and --tenant override the environment" json 'd["count"] == 5'
run memory list --json --db "$DB" --tenant acme --as bot
check "global options are accepted after the command" test "$rc" -eq 0
check "... with their effect" json 'd["count"] == 5'

# ---- identity delete takes its memories ---------------------------------------------------------
expect 0 "identity delete" --db "$TMP/import.db" --tenant acme identity delete alice
expect 3 "deleted identity is not found (3)" --db "$TMP/import.db" --tenant acme identity get alice
expect 0 "list after identity delete" --db "$TMP/import.db" --tenant acme --json memory list --all
check "its memories went with it" json 'd["count"] == 2 and all(m["text"] != "Arjun prefers window seats" for m in d["memories"])'

# ---- bench ------------------------------------------------------------------------------------
expect 0 "bench ingest --n 300 --batch 100 --json" --db "$TMP/bench.db" --json bench ingest \
    --n 300 --batch 100
check "bench --json has the parameters and figures" json 'd["n"] == 300 and d["batch"] == 100
    and d["dim"] == 384 and d["embedder"] == "local" and d["memories_per_s"] > 0
    and d["seconds"] > 0 and d["peak_rss_mib"] > 0 and d["search_queries"] == 100
    and 0 <= d["search_p50_ms"] <= d["search_p99_ms"]'
expect 0 "bench created tenant and identity" --db "$TMP/bench.db" --tenant bench --json \
    memory list --identity bench-agent --limit 1000
check "bench stored N memories" json 'd["count"] == 300'
expect 2 "bench ingest without --n is a usage error (2)" --db "$TMP/bench.db" bench ingest
expect 0 "bench ingest --search-during 1 --json" --db "$TMP/bench2.db" --json bench ingest \
    --n 200 --batch 50 --search-during 1
check "--search-during has both phases and modes, the lag and the catch-up time" json '
    all(d["search_during"][p][m]["searches"] >= 0
        and 0 <= d["search_during"][p][m]["cpu_p50_ms"] <= d["search_during"][p][m]["cpu_p99_ms"]
        for p in ("during", "after") for m in ("vector", "hybrid"))
    and d["search_during"]["after"]["vector"]["searches"] > 0
    and d["search_during"]["lag_at_import_end"] >= 0
    and d["search_during"]["caught_up_seconds"] >= 0'
expect 0 "bench ingest --search-after 1 --json" --db "$TMP/bench3.db" --json bench ingest \
    --n 100 --batch 50 --search-after 1
check "--search-after has the after phase only" json '
    "during" not in d["search_during"] and d["search_during"]["after"]["hybrid"]["searches"] > 0'
expect 2 "--search-during 0 is a usage error (2)" --db "$TMP/bench4.db" bench ingest --n 10 \
    --search-during 0
expect 2 "--search-during with --search-after is a usage error (2)" --db "$TMP/bench4.db" \
    bench ingest --n 10 --search-during 1 --search-after 1
check "a refused bench ingest made no database" [ ! -e "$TMP/bench4.db" ]

cli_finish
