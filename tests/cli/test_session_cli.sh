#!/bin/sh
# Conversations and filters through the CLI: memory add --session / --ttl-ms / --expires-at,
# the filter options (comma lists, times, importance, $in) on list, search, count and export,
# memory delete by filter (refused without --yes), memory trim, and bad input that changes
# nothing.
# shellcheck shell=sh
. "$MN_TOP/tests/cli/lib.sh"
cli_setup session

"$M" --db s.db tenant create acme >/dev/null 2>&1
"$M" --db s.db --tenant acme identity create ann >/dev/null 2>&1
"$M" --db s.db --tenant acme identity create bob >/dev/null 2>&1
A="--db s.db --tenant acme --as ann"
S="--db s.db --tenant acme"

# ---- add with a session ------------------------------------------------------------------------
expect 0 "memory add --session" $A --json memory add "Booked a table for two" --session chat-1 \
    --importance 0.9
check "... the memory shows its session" json 'd["session"] == "chat-1"'
ID1=$(jget 'd["id"]')
expect 0 "memory get shows the session" $A memory get "$ID1"
check "... on a line of its own" out_has '^session *chat-1'
for t in "Asked for the wine list" "Prefers a window seat"; do
    "$M" $A memory add "$t" --session chat-1 --importance 0.2 >/dev/null
done
"$M" $A memory add "Planning a trip to Rome" --session chat-2 --type plan >/dev/null
"$M" $A memory add "No conversation here" --meta '{"topic":"misc"}' >/dev/null
"$M" $S --as bob memory add "Bob talks in chat-1 too" --session chat-1 >/dev/null

# ---- filters on list, count, search, export ----------------------------------------------------
expect 0 "memory count --session chat-1" $S memory count --session chat-1
check "... 4 (ann's 3 and bob's 1)" out_is 4
expect 0 "memory count --session chat-1 --identity ann" $S memory count --session chat-1 \
    --identity ann
check "... 3" out_is 3
expect 0 "memory count --session chat-1,chat-2 (any of)" $S memory count --session chat-1,chat-2
check "... 5" out_is 5
expect 0 "memory count --type plan,fact --session chat-2" $S memory count --type plan,fact \
    --session chat-2
check "... 1" out_is 1
expect 0 "memory count --importance-min 0.6" $S --json memory count --importance-min 0.6
check "... the one at 0.9" json 'd["count"] == 1'
expect 0 "memory count --meta with \$in" $S memory count --meta '{"topic":{"$in":["misc","x"]}}'
check "... 1" out_is 1
expect 0 "memory count --created-after tomorrow" $S memory count --created-after 2999-01-01
check "... 0" out_is 0
expect 0 "memory count --created-before an ISO time in the future" $S memory count \
    --created-before 2999-01-01T00:00:00Z
check "... all 6" out_is 6
expect 0 "memory list --session chat-2 --json" $S --json memory list --session chat-2
check "... the Rome plan only" json '[m["text"] for m in d["memories"]] == ["Planning a trip to Rome"]'
expect 0 "memory search --session chat-1 --identity bob" $S --json memory search "chat" \
    --session chat-1 --identity bob --min-similarity -1
check "... bob's only" json '[h["text"] for h in d["hits"]] == ["Bob talks in chat-1 too"]'
expect 0 "memory export --session chat-1" $S memory export "$TMP/chat1.jsonl" --session chat-1
check "... 4 lines, each with its session" test "$(grep -c '"session":"chat-1"' "$TMP/chat1.jsonl")" -eq 4

# ---- import keeps the session ------------------------------------------------------------------
"$M" --db t.db tenant create acme >/dev/null 2>&1
"$M" --db t.db --tenant acme identity create ann >/dev/null 2>&1
"$M" --db t.db --tenant acme identity create bob >/dev/null 2>&1
expect 0 "memory import of the export into another database" --db t.db --tenant acme \
    memory import "$TMP/chat1.jsonl"
expect 0 "... count there by session" --db t.db --tenant acme memory count --session chat-1
check "... 4" out_is 4

# ---- trim and delete by filter -----------------------------------------------------------------
expect 0 "memory trim --session chat-1 --identity ann --keep 1" $S --json memory trim \
    --session chat-1 --identity ann --keep 1
check "... deletes 2" json 'd["deleted"] == 2'
expect 0 "... the newest of ann's chat-1 stays" $S --json memory list --session chat-1 --identity ann
check "... Prefers a window seat" json '[m["text"] for m in d["memories"]] == ["Prefers a window seat"]'
expect 2 "memory trim without --keep is a usage error" $S memory trim --session chat-1
expect 2 "memory delete by filter without --yes is refused" $S memory delete --session chat-1
check "... saying --yes" err_has '--yes'
expect 0 "... nothing was deleted" $S memory count --session chat-1
check "... still 2" out_is 2
expect 2 "memory delete with ids and filters is refused" $S memory delete "$ID1" --session x --yes
expect 0 "memory delete --session chat-1 --yes --hard" $S memory delete --session chat-1 --yes --hard
check "... deletes 2" out_has 'deleted 2 memories (hard'
expect 0 "... chat-1 is empty" $S memory count --session chat-1
check "... 0" out_is 0

# ---- expiry ------------------------------------------------------------------------------------
expect 0 "memory add --ttl-ms 300" $A --json memory add "Short lived" --ttl-ms 300
check "... expires 300 ms after its creation" json 'd["expires_at"] == d["created_at"] + 300'
expect 0 "memory add --expires-at (ISO, far ahead)" $A --json memory add "Until 2999" \
    --expires-at 2999-01-01T00:00:00Z
check "... expires then" json 'd["expires_at"] == 32472144000000'
sleep 1
expect 0 "after 1 s the short lived one is not counted" $S memory count --meta '{}' \
    --created-after 1
check "... 3 live (Rome, misc, Until 2999)" out_is 3

# ---- bad input changes nothing -----------------------------------------------------------------
BEFORE=$(sql s.db "SELECT count(*) FROM memories")
LONG=$(python3 -c 'print("s" * 257)')
expect 1 "a session of 257 bytes is refused" $A memory add "x" --session "$LONG"
check "... naming the session" err_has 'session'
expect 1 "--ttl-days and --ttl-ms together are refused" $A memory add "x" --ttl-days 1 --ttl-ms 5
check "... naming both" err_has 'more than one of ttl_days, ttl_ms and expires_at'
expect 1 "--expires-at in the past is refused" $A memory add "x" --expires-at 1000
check "... saying so" err_has 'not in the future'
expect 2 "--ttl-ms 0 is a usage error" $A memory add "x" --ttl-ms 0
expect 2 "--created-after not a time is a usage error" $S memory count --created-after yesterday
expect 2 "an empty value in a comma list is a usage error" $S memory count --session a,,b
expect 1 "--importance-min above --importance-max is refused" $S memory count \
    --importance-min 0.8 --importance-max 0.2
expect 1 "a bad \$in is refused" $S memory count --meta '{"a":{"$in":[]}}'
check "... saying what \$in takes" err_has 'non-empty array'
check "nothing was added or deleted" test "$(sql s.db "SELECT count(*) FROM memories")" -eq "$BEFORE"

cli_finish
