#!/bin/sh
# shellcheck disable=SC2086 # $A, $B, $C are option lists split on purpose
# test_scope_cli.sh — an identity lists, searches and exports its own memories unless
# --all-readable; memory search --queries-file searches many queries in one batch.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup scope
A="--db s.db --tenant acme"
B="$A --as bot"
C="$A --as helper"
"$M" --db s.db tenant create acme >/dev/null
"$M" $A identity create bot --role admin >/dev/null
"$M" $A identity create helper --role admin >/dev/null
"$M" $B memory add "The customer prefers green tea" >/dev/null
"$M" $C memory add "Green tea with jasmine on Fridays" >/dev/null
"$M" $C memory add "Refunds take five working days" >/dev/null

# ---- own memories by default --------------------------------------------------------------------
expect 0 "list as bot" $B --json memory list --limit 1
check "its own memory, though helper's are newer" json 'd["count"] == 1
    and d["memories"][0]["text"] == "The customer prefers green tea" and d["next_cursor"] is None'
expect 0 "list as bot --all-readable" $B --json memory list --all-readable
check "every memory it may read" json 'd["count"] == 3'
expect 0 "list as bot --identity helper" $B --json memory list --identity helper
check "the named owner's" json 'd["count"] == 2'
expect 0 "system actor's list" $A --json memory list
check "the whole tenant" json 'd["count"] == 3'
expect 0 "search as bot" $B --json memory search "green tea" --min-similarity -1
check "its own memory only" json '[h["text"] for h in d["hits"]] == ["The customer prefers green tea"]'
expect 0 "search as bot --all-readable" $B --json memory search "green tea" --min-similarity -1 \
    --all-readable
check "every memory it may read" json 'len(d["hits"]) == 3'
expect 0 "export as helper" $C memory export out.jsonl
check "its two memories" test "$(wc -l <out.jsonl)" -eq 2
expect 0 "export as helper --all-readable" $C memory export all.jsonl --all-readable
check "all three" test "$(wc -l <all.jsonl)" -eq 3

# ---- batch search --------------------------------------------------------------------------------
printf '%s\n' "green tea" "" "refunds" "?!" >q.txt
expect 0 "search --queries-file" $B memory search --queries-file q.txt --all-readable --k 1 \
    --mode keyword
check "one JSON line per query, in order, blank lines skipped" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["query"] for l in lines] == ["green tea", "refunds", "?!"], lines
assert len(lines[0]["hits"]) == 1 and "tea" in lines[0]["hits"][0]["text"].lower()
assert lines[0]["next_cursor"] is not None
assert lines[1]["hits"][0]["text"] == "Refunds take five working days"
assert lines[2]["hits"] == [] and lines[2]["next_cursor"] is None' "$OUT"
expect 0 "queries from stdin" $B memory search --queries-file - --all-readable <q.txt
check "... three lines" test "$(wc -l <"$OUT")" -eq 3
expect 2 "a QUERY and --queries-file" $B memory search tea --queries-file q.txt
expect 2 "neither" $B memory search
expect 2 "--queries-file with --all" $B memory search --queries-file q.txt --all
expect 1 "a missing file" $B memory search --queries-file nope.txt
check "... named" grep -q "nope.txt" "$ERR"
: >empty.txt
expect 1 "a file without a query" $B memory search --queries-file empty.txt
expect 1 "a bad option fails the batch, naming the option" $B memory search \
    --queries-file q.txt --k 5000
check "... k" grep -q "k is 5000" "$ERR"

cli_finish
