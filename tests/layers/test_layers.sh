#!/bin/sh
# The layer check (scripts/check-layers.sh): the tree passes it, and it catches what it is
# for, in a copy of lib/ given an upward include, two headers including each other, and a
# second header in a backend folder.
# once: it reads the sources only, the same whichever build runs it
set -u
top=${MN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
check="$top/scripts/check-layers.sh"
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-layers-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

expect() { # expect WANT_RC NAME DIR PATTERN: the check exits WANT_RC and prints PATTERN
  out=$(sh "$check" "$3" 2>&1); rc=$?
  if [ "$rc" -ne "$1" ] || ! printf '%s\n' "$out" | grep -q -- "$4"; then
    echo "FAIL $2: exit $rc (wanted $1), output:"; printf '%s\n' "$out"; fail=1
  else
    echo "ok   $2"
  fi
}
fresh() { rm -rf "$tmp/t"; mkdir -p "$tmp/t"; cp -R "$top/lib" "$tmp/t/lib"; }

expect 0 "the tree follows the layer order" "$top" "follows the layer order"

fresh
printf '#include "api/handle.h"\n' >> "$tmp/t/lib/core/clock.c"
expect 1 "core including api is refused" "$tmp/t" 'lib/core/clock.c includes "api/handle.h"'

fresh
printf '#include "store/postgres/pg.h"\n' >> "$tmp/t/lib/store/sqlite/sqlite.h"
expect 1 "a backend including the other is refused" "$tmp/t" "store/sqlite may not include store/postgres"

fresh
printf '#include "core/json.h"\n' >> "$tmp/t/lib/core/clock.h"
printf '#include "core/clock.h"\n' >> "$tmp/t/lib/core/json.h"
expect 1 "two headers including each other are refused" "$tmp/t" "include cycle: .*core/clock.h"

fresh
printf '/* a second header */\n' > "$tmp/t/lib/store/sqlite/extra.h"
expect 1 "a backend folder with two headers is refused" "$tmp/t" "lib/store/sqlite has 2 internal headers"

[ "$fail" -eq 0 ]
