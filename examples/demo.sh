#!/bin/sh
# examples/demo.sh — a short tour of the manushya CLI on a fresh embedded database.
#
#   make demo                              builds, then runs this script
#   MN_BUILD=build examples/demo.sh        the same, once `make` has run (from the repo root)
#
# It creates a database in a temporary directory, a tenant "demo" and an agent identity
# "assistant", imports examples/data/memories.jsonl (about 300 memories of one family's life and
# work), then searches, lists, updates, deletes and restores, and removes the directory at exit.
# Needs only the CLI. When python3 is installed, search hits are printed from the --json output
# as one line each; without it, the CLI's own output is shown.
set -eu

: "${MN_BUILD:=build}"
top=$(cd "$(dirname "$0")/.." && pwd)
case $MN_BUILD in
  /*) cli=$MN_BUILD/manushya ;;
  *) cli=$top/$MN_BUILD/manushya ;;
esac
data=$top/examples/data/memories.jsonl

if [ ! -x "$cli" ]; then
  echo "demo: $cli not found: run 'make' first (or 'make demo')" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/manushya-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The database and the tenant come from the environment, so the commands below stay short.
# No MANUSHYA_IDENTITY: tenant and identity administration runs as the tenant's system actor,
# the memory commands name the agent with --as.
MANUSHYA_DB="sqlite:$tmp/demo.db"
MANUSHYA_TENANT=demo
export MANUSHYA_DB MANUSHYA_TENANT
unset MANUSHYA_IDENTITY

py=$(command -v python3 2>/dev/null || true)

# Prints a command the way a person would type it.
print_cmd() {
  line='$ manushya'
  for a in "$@"; do
    case $a in
      *"'"*) a="\"$a\"" ;;
      *[!A-Za-z0-9_./:=,@+-]* | "") a="'$a'" ;;
    esac
    line="$line $a"
  done
  printf '%s\n' "$line"
}

# Prints a command, then runs it.
show() {
  print_cmd "$@"
  "$cli" "$@"
}

step() {
  printf '\n== %s\n' "$*"
}

# One line per hit: similarity, type, text (cut to fit), topic. Reads the --json output of
# `memory search`.
fmt_hits='
import json, sys
r = json.load(sys.stdin)
hits = r.get("hits", [])
print("   %d hit(s) in %.2f ms" % (len(hits), r.get("took_ms", 0.0)))
for h in hits:
    text = h.get("text", "")
    if len(text) > 92:
        text = text[:89] + "..."
    topic = (h.get("metadata") or {}).get("topic", "")
    print("   %.3f  %-10s %s  [%s]" % (h.get("similarity", 0.0), h.get("type", ""), text, topic))
'

# search QUERY [options]: shows the command, then the hits.
search() {
  if [ -n "$py" ]; then
    print_cmd --as assistant memory search "$@"
    "$cli" --json --as assistant memory search "$@" | "$py" -c "$fmt_hits"
  else
    show --as assistant memory search "$@"
  fi
}

# The first "id" of a JSON document (a memory, or the first hit of a search).
first_id() {
  grep -o '"id"[[:space:]]*:[[:space:]]*"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'
}

echo "manushya demo: $("$cli" --version)"
echo "database: $MANUSHYA_DB (removed at exit)"

step "1. A tenant owns everything below it; an identity is who a memory belongs to"
show tenant create demo
show identity create assistant --role agent --claims '{"team":"household"}'

step "2. Import $(wc -l <"$data" | tr -d ' ') memories (one JSON object a line; all or none per batch)"
show --as assistant memory import "$data" --batch 100

step "3. Search: the local embedder matches words, word pairs and character trigrams"
search "what does the user like to eat" --k 5
search "upcoming trip to Japan" --k 5
search "database migration deadline" --k 3
search "allergies" --k 4

step "4. Search with filters: type, and metadata containment"
search "what to do before the Japan trip" --type task --k 5
search "birthday" --meta '{"person":"anaya"}' --k 3

step "5. List: newest first, filtered"
show --as assistant memory list --type task --meta '{"topic":"work"}' --limit 5

step "6. Update a memory, then read its history (before and after of every change)"
id=$("$cli" --json --as assistant memory search "database migration deadline" --k 1 | first_id)
show --as assistant memory update "$id" \
  --text "The database migration deadline moved to 21 March, after the second rehearsal." \
  --importance 1
show --as assistant memory history "$id"
search "database migration deadline" --k 2

step "7. Soft delete and restore"
show --as assistant memory delete "$id"
search "database migration deadline" --k 2
print_cmd --as assistant memory get "$id"
rc=0
"$cli" --as assistant memory get "$id" >/dev/null 2>&1 || rc=$?
if [ "$rc" -ne 3 ]; then
  echo "demo: expected exit 3 (not found) for a soft-deleted memory, got $rc" >&2
  exit 1
fi
echo "   exit 3 (not found): a soft-deleted memory is hidden ..."
print_cmd --as assistant memory get "$id" --with-deleted
"$cli" --as assistant memory get "$id" --with-deleted >/dev/null
echo "   ... but --with-deleted still finds it, and restore brings it back"
show --as assistant memory restore "$id"
search "database migration deadline" --k 2

printf '\ndemo: done. Try it yourself:\n'
echo "  $MN_BUILD/manushya --help"
echo "  man -l man/manushya.1"
