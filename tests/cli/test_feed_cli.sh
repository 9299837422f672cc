#!/bin/sh
# The change feed through the CLI: manushya feed prints each change after --after as a JSON
# line (kind, id, version, owner, type, session), then {"next_seq", "more"}; pages with
# --limit; scoped to the --as identity's memories unless --all-readable; --follow prints
# changes as they come; bad options change nothing.
# shellcheck shell=sh
. "$MN_TOP/tests/cli/lib.sh"
cli_setup feed

"$M" --db f.db tenant create acme >/dev/null 2>&1
"$M" --db f.db --tenant acme identity create ann --role admin >/dev/null 2>&1
"$M" --db f.db --tenant acme identity create bob >/dev/null 2>&1
A="--db f.db --tenant acme --as ann"
S="--db f.db --tenant acme"

# lines EXPR: a Python expression over the JSON lines of $OUT (a list L of objects).
lines() {
    python3 -c 'import json,sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$OUT" "$1" 2>>"$ERR"
}
lget() {
    python3 -c 'import json,sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(eval(sys.argv[2]))' "$OUT" "$1"
}

expect 0 "feed of an empty tenant" $S feed
check "... only the next_seq line, more false" lines 'len(L) == 1 and L[0]["more"] is False'
START=$(lget 'L[-1]["next_seq"]')

KEPT=$("$M" $A memory add "kept as written" --session chat-1 --type note)
CHANGED=$("$M" $A memory add "changed twice")
"$M" $A memory update "$CHANGED" --text "changed once" >/dev/null
"$M" $A memory update "$CHANGED" --text "changed twice now" >/dev/null
SOFT=$("$M" $A memory add "soft-deleted")
"$M" $A memory delete "$SOFT" >/dev/null
BACK=$("$M" $A memory add "deleted and restored")
"$M" $A memory delete "$BACK" >/dev/null
"$M" $A memory restore "$BACK" >/dev/null
GONE=$("$M" $A memory add "deleted for good")
"$M" $A memory delete "$GONE" --hard >/dev/null
BOBS=$("$M" $S --as bob memory add "bob's own")

expect 0 "feed --after START as ann" $A feed --after "$START"
check "... every kind once, in seq order, latest state" lines "[(e['id'], e['kind'], e['version']) for e in L[:-1]] == [('$KEPT', 'created', 1), ('$CHANGED', 'updated', 3), ('$SOFT', 'deleted', 1), ('$BACK', 'restored', 1), ('$GONE', 'purged', 1)]"
check "... type and session as stored" lines 'L[0]["type"] == "note" and L[0]["session"] == "chat-1" and L[1]["session"] is None'
check "... seqs rising, next_seq the last" lines 'all(a["seq"] < b["seq"] for a, b in zip(L[:-2], L[1:-1])) and L[-1]["next_seq"] >= L[-2]["seq"] and L[-1]["more"] is False'
check "... not bob's memory" lines "all(e.get('id') != '$BOBS' for e in L)"
NEXT=$(lget 'L[-1]["next_seq"]')

expect 0 "feed --all-readable as ann" $A feed --after "$START" --all-readable
check "... bob's memory too" lines "any(e.get('id') == '$BOBS' for e in L)"
expect 0 "feed as the system actor" $S feed --after "$START"
check "... 6 changes" lines 'len(L) == 7'

expect 0 "feed --limit 2" $A feed --after "$START" --limit 2
check "... a page of 2, more true" lines 'len(L) == 3 and L[-1]["more"] is True and L[-1]["next_seq"] == L[1]["seq"]'
P2=$(lget 'L[-1]["next_seq"]')
expect 0 "feed --limit 2 --after its next_seq" $A feed --after "$P2" --limit 2
check "... the next two" lines "[e['id'] for e in L[:-1]] == ['$SOFT', '$BACK']"

expect 0 "feed --after NEXT: nothing new" $A feed --after "$NEXT"
check "... only the next_seq line" lines 'len(L) == 1'

# ---- --follow: changes printed as they come ---------------------------------------------------
"$M" $A feed --after "$NEXT" --follow --interval 20 >"$TMP/follow.out" 2>"$TMP/follow.err" &
fpid=$!
trap 'kill $fpid 2>/dev/null; rm -rf "$TMP"' EXIT
LIVE=$("$M" $A memory add "added while following")
i=0
while ! grep -q "$LIVE" "$TMP/follow.out" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill $fpid 2>/dev/null
wait $fpid 2>/dev/null
cp "$TMP/follow.out" "$OUT"
check "feed --follow prints a change made while it waits" lines "len(L) == 1 and L[0]['id'] == '$LIVE' and L[0]['kind'] == 'created'"

# ---- bad input --------------------------------------------------------------------------------
expect 2 "feed --after -1 is a usage error" $A feed --after -1
check "... saying what to give" err_has "give a seq"
expect 2 "feed --after x is a usage error" $A feed --after x
expect 2 "feed --interval 0 is a usage error" $A feed --follow --interval 0
expect 1 "feed --limit 1001 is refused" $A feed --limit 1001
check "... naming the limit" err_has "limit is 1001"
expect 1 "feed --after past the store's seq is refused" $A feed --after 999999
check "... saying so" err_has "past the store's last change"
expect 2 "feed without --tenant" --db f.db feed
expect 0 "feed --help" feed --help
check "... documents --follow" out_has "follow"

cli_finish
