#!/bin/sh
# shellcheck disable=SC2086 # $A, $B are option lists split on purpose
# test_search_cli.sh — memory search's relevance floor, ranking and paging, and list pages
# filled after policies, through the CLI.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup search
A="--db s.db --tenant acme"
B="$A --as bot"
"$M" --db s.db tenant create acme >/dev/null
"$M" $A identity create bot --role agent >/dev/null

i=0
for t in "The customer prefers green tea" "Green tea with jasmine on Fridays" \
    "Refunds take five working days" "The order number is ZX-4471" "Tea is served at four" \
    "The office plants need water" "Green apples are in season"; do
    i=$((i + 1))
    "$M" $B memory add "$t" --importance "0.$i" >/dev/null
done

# ---- the relevance floor ----------------------------------------------------------------------
expect 0 "search with the default floor" $B --json memory search "volcanic eruption"
check "an unrelated query finds nothing by default" json 'd["hits"] == []'
expect 0 "--min-similarity -1: no floor" $B --json memory search "volcanic eruption" \
    --min-similarity -1 --k 100
check "... every memory" json 'len(d["hits"]) == 7'

# ---- ranking (by vector: the relevance is the similarity) --------------------------------------
expect 0 "search green tea" $B --json memory search "green tea" --k 100 --mode vector
check "hits carry similarity, factors of 1 and score" json 'all(h["recency_factor"] == 1
    and h["importance_factor"] == 1 and abs(h["score"] - h["similarity"]) < 1e-6
    for h in d["hits"])'
first=$(jget 'd["hits"][0]["text"]')
check "the closest first" test "$first" = "Green tea with jasmine on Fridays"
expect 0 "--importance-weight 1" $B --json memory search "green tea" --k 100 \
    --importance-weight 1 --mode vector
check "importance reorders: score = similarity x importance, best first" json '
    all(abs(h["score"] - h["similarity"] * h["importance"]) < 1e-5
        and abs(h["importance_factor"] - h["importance"]) < 1e-6 for h in d["hits"])
    and [h["score"] for h in d["hits"]] == sorted([h["score"] for h in d["hits"]], reverse=True)
    and d["hits"][0]["text"] == "Green apples are in season"'
expect 0 "--recency-half-life 7d" $B --json memory search "green tea" --recency-half-life 7d
check "memories of the last minute keep (almost) all their score" json '
    all(0.999 < h["recency_factor"] <= 1 for h in d["hits"])'
expect 2 "--recency-half-life without a unit is a usage error" $B memory search tea \
    --recency-half-life 7
check "... saying what to give" grep -q 'give a time with its unit' "$ERR"
expect 1 "--importance-weight 2 is refused" $B memory search tea --importance-weight 2
check "... naming the field" grep -q 'importance_weight is 2; give a weight from 0 to 1' "$ERR"

# ---- paging -----------------------------------------------------------------------------------
expect 0 "one page of everything" $B --json memory search tea --min-similarity -1 --k 100
all=$(jget '[h["id"] for h in d["hits"]]')
expect 0 "--all in pages of 2" $B --json memory search tea --min-similarity -1 --k 2 --all
check "--all: the same hits in the same order, no cursor left" json "
    [h['id'] for h in d['hits']] == $all and d['next_cursor'] is None"
expect 0 "first page of 3" $B --json memory search tea --min-similarity -1 --k 3
cursor=$(jget 'd["next_cursor"]')
expect 0 "--cursor: the next page" $B --json memory search tea --min-similarity -1 --k 3 \
    --cursor "$cursor"
check "... holds hits 4 to 6" json "[h['id'] for h in d['hits']] == $all[3:6]"
expect 0 "a page in text" $B memory search tea --min-similarity -1 --k 3
check "prints the cursor of the next page last" sh -c "tail -n 1 '$OUT' | grep -q '^next cursor: c2'"
expect 1 "--cursor of another search is refused" $B memory search coffee --min-similarity -1 \
    --k 3 --cursor "$cursor"
check "... saying so" grep -q 'belongs to another search' "$ERR"
expect 1 "--cursor garbage is refused" $B memory search tea --cursor garbage
check "... saying what to pass" grep -q 'is not one that a search returned; pass next_cursor' "$ERR"

# ---- list pages filled after policies ---------------------------------------------------------
"$M" $A policy add --role agent --rule '{"effect":"deny","actions":["read"],"resource":"memory",
    "conditions":{"resource_conditions":{"memory_types":["secret"]}}}' >/dev/null
"$M" $B memory add "the one visible note" --type note >/dev/null
for s in 1 2 3 4 5 6 7 8; do "$M" $B memory add "secret number $s" --type secret >/dev/null; done
expect 0 "memory list --limit 1 past eight hidden memories" $B --json memory list --limit 1
check "the page holds the visible note, not nothing" json '
    [m["text"] for m in d["memories"]] == ["the one visible note"]'
expect 0 "memory list --all --limit 2" $B --json memory list --all --limit 2
check "every visible memory, none hidden" json 'd["count"] == 8 and d["next_cursor"] is None
    and all(m["type"] != "secret" for m in d["memories"])'

cli_finish
