#!/bin/sh
# Data kept exactly as given, through the CLI: integers print as integers, JSON comes back as
# written (or is refused, naming the key), a NUL byte never cuts a text short, and a text the
# embedder cannot give a direction is refused, naming the embedder.
# shellcheck shell=sh
. "$MN_TOP/tests/cli/lib.sh"
cli_setup data

DB="$TMP/data.db"
"$M" --db "$DB" tenant create acme >/dev/null 2>&1
"$M" --db "$DB" --tenant acme identity create bot >/dev/null 2>&1
B="--db data.db --tenant acme --as bot"

# ---- integers stay integers ---------------------------------------------------------------------
expect 0 "memory add with the longest ttl" $B --json memory add "kept for ages" \
    --ttl-days 2147483647
check "expires_at prints as an integer, exactly created_at + ttl" python3 -c '
import re, sys
t = open(sys.argv[1]).read()
e = re.search(r"\"expires_at\":(-?[0-9]+)[,}]", t)
c = re.search(r"\"created_at\":([0-9]+)[,}]", t)
sys.exit(0 if e and c and int(e.group(1)) == int(c.group(1)) + 2147483647 * 86400000 else 1)' \
    "$OUT"

# ---- JSON kept as written -----------------------------------------------------------------------
expect 0 "memory add with numbers a double would respell" $B --json memory add "json kept" \
    --meta '{ "big": 9223372036854775808, "f": 1.0, "e": 1E2, "s": "caf\u00e9" }'
KEPT='"metadata":{"big":9223372036854775808,"f":1.0,"e":1E2,"s":"caf\u00e9"}'
check "--json prints the metadata as written, less its whitespace" grep -qF "$KEPT" "$OUT"
ID=$(jget 'd["id"]')
expect 0 "memory update of the metadata" $B memory update "$ID" --meta '{"id": -9007199254740992}'
expect 0 "memory history --json" $B --json memory history "$ID"
check "history keeps both metadata as written" python3 -c '
import sys
t = open(sys.argv[1]).read()
sys.exit(0 if sys.argv[2][len("\"metadata\":"):] in t and "{\"id\":-9007199254740992}" in t
         else 1)' "$OUT" "$KEPT"
expect 1 "an integer past 2^53 that would change is refused (1)" $B memory add "x" \
    --meta '{"user": {"id": 9007199254740993}}'
check "... naming the key and what to do" err_has 'key "user.id".*give it as a string'
expect 1 "a key given twice is refused (1)" $B memory add "x" --meta '{"a": 1, "a": 2}'
check "... naming the key" err_has 'key "a".*twice'
expect 1 "1e999 is refused (1)" $B memory add "x" --meta '{"n": 1e999}'
check "... naming the key" err_has 'key "n".*infinity'
expect 1 "\\u0000 in metadata is refused (1)" $B memory add "x" --meta '{"s": "a\u0000b"}'
check "... naming the key" err_has 'key "s".*NUL'
expect 1 "a claims key given twice is refused (1)" --db data.db --tenant acme identity create \
    carol --claims '{"team": "a", "team": "b"}'
check "... naming the key" err_has 'claims: key "team"'

# ---- import: each line read as the library reads metadata ---------------------------------------
printf '%s\n' '{"text": "imported", "metadata": { "id": 18014398509481984, "f": 2.50 }}' \
    >"$TMP/good.jsonl"
expect 0 "import of a line with exact big integers" $B memory import "$TMP/good.jsonl"
expect 0 "export" $B memory export "$TMP/out.jsonl"
check "the metadata went in and came out as written" \
    grep -q '"metadata":{"id":18014398509481984,"f":2.50}' "$TMP/out.jsonl"
printf '%s\n' '{"text": "fine"}' '{"text": "cut\u0000here"}' >"$TMP/nul.jsonl"
expect 1 "import of a text holding \\u0000 fails (1)" $B memory import "$TMP/nul.jsonl"
check "... naming the line and the key" err_has 'nul.jsonl:2: .*key "text".*NUL'
printf '{"text": "fine"}\n{"text": "raw\000byte"}\n' >"$TMP/raw.jsonl"
expect 1 "import of a line holding a NUL byte fails (1)" $B memory import "$TMP/raw.jsonl"
check "... naming the line and the byte" err_has 'raw.jsonl:2: byte 14 is NUL'
printf '%s\n' '{"text": "one", "text": "two"}' >"$TMP/dup.jsonl"
expect 1 "import of a line with a key given twice fails (1)" $B memory import "$TMP/dup.jsonl"
check "... naming the line and the key" err_has 'dup.jsonl:1: .*key "text".*twice'
expect 0 "list" $B --json memory list
check "nothing of the refused lines was added" json 'sorted(m["text"] for m in d["memories"])
    == ["imported", "json kept", "kept for ages"]'

# ---- a NUL byte in stdin ----------------------------------------------------------------------
printf 'abc\000def' | "$M" $B memory add - >"$OUT" 2>"$ERR"; rc=$?
check "memory add - with a NUL byte fails (1)" test "$rc" -eq 1
check "... saying where it is" err_has 'the text from stdin: byte 4 is NUL'

# ---- a text without a direction -----------------------------------------------------------------
expect 1 "memory add of a text without words fails (1)" $B memory add '!!! ???'
check "... naming the embedder" err_has 'local embedder (model local) made an all-zero vector'
expect 0 "memory search for a text without words is no failure" $B --json memory search '...'
check "... and finds nothing" json 'd["hits"] == []'
expect 0 "list" $B --json memory list
check "nothing more was added" json 'd["count"] == 3'

cli_finish
