#!/bin/sh
# manushya tenant delete: refused without --yes (a usage error that changes nothing), then the
# tenant and everything of it gone (later commands exit 3), another tenant untouched; an
# unknown tenant is exit 3.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup erase

A="--db e.db --tenant acme"
"$M" --db e.db tenant create acme >/dev/null 2>&1
"$M" --db e.db tenant create other >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A --as bot memory add "the acme secret" >/dev/null 2>&1
"$M" --db e.db --tenant other identity create bot2 >/dev/null 2>&1
"$M" --db e.db --tenant other --as bot2 memory add "the other text" >/dev/null 2>&1

expect 2 "tenant delete without --yes is a usage error (2)" --db e.db tenant delete acme
check "the message says to add --yes" err_has "--yes"
expect 0 "and changed nothing" $A --json memory list
check "the memory is still there" json 'len(d["memories"]) == 1'
expect 2 "tenant delete without a name (2)" --db e.db tenant delete --yes
expect 0 "tenant delete --yes" --db e.db tenant delete acme --yes
check "prints nothing" out_is ""
expect 3 "the tenant is gone (3)" --db e.db tenant get acme
expect 3 "its memories with it (3)" $A memory list
expect 3 "deleting it again: not found (3)" --db e.db tenant delete acme --yes
expect 3 "an unknown tenant (3)" --db e.db tenant delete nobody --yes
expect 0 "the other tenant is untouched" --db e.db --tenant other --json memory list
check "with its memory" json 'len(d["memories"]) == 1 and d["memories"][0]["text"] == "the other text"'
expect 0 "tenant delete --help" tenant delete --help
check "the help names --yes" out_has "--yes"
cli_finish
