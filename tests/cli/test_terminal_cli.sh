#!/bin/sh
# test_terminal_cli.sh — stored and user text never reaches the terminal raw: ESC, BEL, DEL and
# C1 codes in a memory, a policy, an identity's claims or an error message show as visible
# escapes (\x1b, \u009b), bytes that are not UTF-8 as U+FFFD, long text is cut between
# characters, and --json stays valid JSON holding the very same text.
#
# Run by tests/run.sh from the repo root with MN_BUILD (build dir) and MN_TOP (repo root).
# Prints "ok N - what" / "not ok N - what" (TAP-like) and exits non-zero if any case failed.
# shellcheck disable=SC2086 # $A is an option list split on purpose (see test_cli.sh)
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup terminal

# safe FILE: valid UTF-8 holding no control character but the newlines that end lines.
safe() {
    python3 -c 'import sys
t = open(sys.argv[1], "rb").read().decode("utf-8")
sys.exit(any((ord(ch) < 32 and ch != "\n") or 0x7f <= ord(ch) < 0xa0 for ch in t))' "$1" 2>>"$ERR"
}
out_safe() { safe "$OUT"; }
out_has_text() { grep -qF -- "$1" "$OUT"; }
err_safe() { safe "$ERR"; }

A="--db t.db --tenant acme"
"$M" --db t.db tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
# A window title (OSC ... BEL), a screen clear (CSI), CSI as the C1 code U+009B, DEL, a newline
# and a tab.
evil=$(printf 'title \033]0;pwned\007 clear \033[2J csi \302\2332J del \177 nl\nsecond\tline')
shown='title \x1b]0;pwned\x07 clear \x1b[2J csi \u009b2J del \u007f nl\nsecond\tline'

printf '%s' "$evil" >"$TMP/evil.txt"
run $A --as bot memory add - <"$TMP/evil.txt"
check "a memory with terminal controls is stored" [ "$rc" -eq 0 ]
id=$(cat "$OUT")

expect 0 "memory list" $A memory list
check "... prints no control character" out_safe
check "... shows them as escapes" out_has_text "$shown"
expect 0 "memory get" $A memory get "$id"
check "... prints no control character" out_safe
check "... shows the text with its escapes" grep -qxF "text        $shown" "$OUT"
expect 0 "memory search" $A --as bot memory search "title clear"
check "... prints no control character" out_safe
check "... shows the hit with its escapes" out_has_text "$shown"
expect 0 "memory update --text" $A memory update "$id" --text "$(printf 'new \033[31mred')"
expect 0 "memory history" $A memory history "$id"
check "... prints no control character" out_safe
check "... shows both texts, as JSON strings, with their escapes" \
    sh -c "grep -qF 'csi \\u009b2J' '$OUT' && grep -qF 'new \\u001b[31mred' '$OUT'"

expect 0 "memory get --json" $A --json memory get "$id"
check "... is valid JSON, terminal-safe (C1 written \\u009b)" out_safe
check "... holding the exact text" json 'd["text"] == "new \x1b[31mred"'
expect 0 "memory list --json" $A --json memory list --with-deleted
check "... is valid JSON, terminal-safe" out_safe
printf '%s' "$evil" | "$M" $A --as bot memory add - >/dev/null 2>&1
expect 0 "memory list --json, a memory with C1 and DEL" $A --json memory list
check "... is terminal-safe" out_safe
check "... and holds the exact text" \
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(open(sys.argv[2]).read() not in [m["text"] for m in d["memories"]])' "$OUT" "$TMP/evil.txt"

# Long text is cut after 100 characters, between two of them, with "...".
long=$(python3 -c 'print("a" + "\u00fc" * 150)')
"$M" $A --as bot memory add "$long" >/dev/null 2>&1
expect 0 "memory list with a long text of two-byte characters" $A memory list --limit 1
check "... is valid UTF-8, cut after 100 characters with ..." \
    python3 -c 'import sys
line = open(sys.argv[1], "rb").read().decode("utf-8").split("\n")[0]
sys.exit(not line.endswith("  a" + "\u00fc" * 99 + "..."))' "$OUT"
expect 1 "a --context that is not JSON, long and in two-byte characters" \
    $A --context "$long" memory list
check "... is quoted cut between characters, with ..." \
    python3 -c 'import sys
t = open(sys.argv[1], "rb").read().decode("utf-8")
sys.exit(not t.endswith(": a" + "\u00fc" * 79 + "...\n"))' "$ERR"

# Policies and identities: what they store is shown the same way.
expect 0 "a policy with C1 codes in its description and rule" $A policy add --role agent \
    --description "$(printf 'desc \302\2338mhidden')" \
    --rule "$(printf '{"effect":"allow","actions":["read"],"resource":"memory\302\233"}')"
pid=$(cat "$OUT")
expect 0 "policy list" $A policy list
check "... prints no control character" out_safe
check "... shows them as escapes" sh -c "grep -qF 'desc \\u009b8mhidden' '$OUT' &&
                                         grep -qF 'memory\\u009b' '$OUT'"
expect 0 "policy get" $A policy get "$pid"
check "... prints no control character" out_safe
check "... shows the rule with its escapes" out_has '"resource": "memory\\u009b"'
expect 0 "an identity whose claims hold C1 and DEL" $A identity create eve \
    --claims "$(printf '{"team":"a\302\233b\177"}')"
expect 0 "identity get" $A identity get eve
check "... prints no control character" out_safe
check "... shows the claims with escapes" out_has 'a\\u009bb\\u007f'

# Messages quote input: the same rules apply on stderr, invalid UTF-8 included.
expect 1 "memory get with controls and a byte that is not UTF-8 in the id" \
    $A memory get "$(printf 'x\033[2J\377y')"
check "... the message prints no control character" err_safe
check "... and shows the id with escapes" err_has 'x\\x1b\[2J.y'

# JSON Logic results are JSON: C1 comes back escaped, the same string.
expect 0 "jsonlogic with a C1 code in its result" jsonlogic "$(printf '{"cat":["a\302\233","b"]}')"
check "... prints it escaped" out_is '"a\u009bb"'
check "... which is the same JSON string" json 'd == "a\u009bb"'

cli_finish
