#!/bin/sh
# --index-quantize (MANUSHYA_INDEX_QUANTIZE): a database's HNSW index with int8 codes finds
# what the float one finds, a database switches between the two (the saved index is rebuilt),
# and a bad value is a usage error (2) saying what it takes.
# shellcheck shell=sh
. "$MN_TOP/tests/cli/lib.sh"
cli_setup index-quantize

"$M" --db q.db tenant create acme >/dev/null 2>&1
"$M" --db q.db --tenant acme identity create bot >/dev/null 2>&1
B="--db q.db --tenant acme --as bot"

# shellcheck disable=SC2086
for t in "the ferry to Tangier leaves at nine" "quarterly invoice for the bakery" \
    "Lisbon apartment lease renewal" "grandmother's recipe for custard tarts"; do
    expect 0 "memory add with int8 codes: $t" $B --index-quantize int8 memory add "$t"
done
# shellcheck disable=SC2086
expect 0 "memory search with int8 codes" $B --index-quantize int8:20 --json memory search \
    "ferry Tangier" --mode vector
check "... finds the memory first" json 'd["hits"][0]["text"] == "the ferry to Tangier leaves at nine"'
export MANUSHYA_INDEX_QUANTIZE=float32
# shellcheck disable=SC2086
expect 0 "the same search on float32 (index rebuilt)" $B --json memory search "ferry Tangier" \
    --mode vector
check "... finds the same first" json 'd["hits"][0]["text"] == "the ferry to Tangier leaves at nine"'
unset MANUSHYA_INDEX_QUANTIZE

# shellcheck disable=SC2086
expect 2 "--index-quantize int4" $B --index-quantize int4 memory list
check "... names the choices" err_has "float32, int8 or int8:R"
# shellcheck disable=SC2086
expect 2 "--index-quantize int8:0" $B --index-quantize int8:0 memory list
export MANUSHYA_INDEX_QUANTIZE=bogus
# shellcheck disable=SC2086
expect 2 "MANUSHYA_INDEX_QUANTIZE=bogus" $B memory list
unset MANUSHYA_INDEX_QUANTIZE

cli_finish
