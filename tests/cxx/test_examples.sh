#!/bin/sh
# tests/cxx/test_examples.sh — examples/agent_chat.cc, the C++ example of the README: built as
# a user builds it (C++17, warnings as errors) against the freshly built shared library, run
# on SQLite and (with MN_PG_URL) PostgreSQL, and its transcript checked: three users, each
# shown only their own memories (the program exits 1 otherwise), a preference changed by an
# upsert kept as one memory at version 2.
# Then the README's C++ example (the ```cpp block of its "C++" section): built, run twice in a
# fresh directory (the second run reuses the database), and it prints its search hit.
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root), CXX (default c++),
# MN_PG_URL (the test PostgreSQL server, when there is one).
# Prints one "ok" / "not ok" line per check; exits non-zero when any failed.
set -u

. "$(dirname "$0")/../support/build_env.sh"
CXX=${CXX:-c++}

. "$(dirname "$0")/../support/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-cxx-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086 # $sanflags is a list of flags
if ! "$CXX" -std=c++17 -Wall -Wextra -Werror -pedantic -Wshadow $sanflags -I"$MN_TOP/include" \
  "$MN_TOP/examples/agent_chat.cc" -L"$build" -lmanushya -Wl,-rpath,"$build" \
  -o "$tmp/agent_chat" >"$tmp/cxx.log" 2>&1; then
  not_ok "examples/agent_chat.cc builds (c++17 -Wall -Wextra -Werror -pedantic)"
  indent "$tmp/cxx.log"
  exit 1
fi
ok "examples/agent_chat.cc builds (c++17 -Wall -Wextra -Werror -pedantic)"

# chat LABEL [DATABASE]: runs agent_chat (on a temporary SQLite file without DATABASE) and
# checks its transcript.
chat() {
  label=$1; shift
  if (cd "$tmp" && TMPDIR=$tmp ./agent_chat "$@") >"$tmp/out" 2>"$tmp/err"; then
    ok "$label: agent_chat runs and exits 0 (no user was shown another's memory)"
  else
    not_ok "$label: agent_chat runs and exits 0"
    indent "$tmp/out" "$tmp/err"
  fi
  has "$label: a change of preference updates the one memory" \
    "ben: preference drink = Actually I switched to green tea in the morning (v2)"
  has "$label: ben's earlier preference was recalled before it changed" \
    "agent> knows: I prefer strong coffee in the morning"
  has "$label: search recalls a user's earlier message" \
    "agent> recalls: I am planning a trip to Kyoto in April"
  has "$label: asha keeps 4 memories" "asha: 4 memories"
  has "$label: ben keeps 2 memories" "ben: 2 memories"
  has "$label: chen keeps 3 memories" "chen: 3 memories"
  if grep -q "coffee" "$tmp/out" && ! sed -n '/^---$/,$p' "$tmp/out" | grep -q coffee; then
    ok "$label: the replaced preference is gone from what the agent keeps"
  else
    not_ok "$label: the replaced preference is gone from what the agent keeps"
  fi
}
has() { # DESCRIPTION LINE: ok when the transcript has LINE exactly
  if grep -qxF "$2" "$tmp/out"; then ok "$1"; else not_ok "$1: no line '$2'"; indent "$tmp/out"; fi
}
chat sqlite
# The temporary database is removed at exit.
if [ -z "$(find "$tmp" -name 'manushya-chat-*')" ]; then
  ok "agent_chat removes its temporary database"
else
  not_ok "agent_chat removes its temporary database"
fi
# On PostgreSQL (the test server run.sh starts), in a schema of this run's own, its vectors
# searched by the library's index.
if [ -n "${MN_PG_URL:-}" ]; then
  chat postgres "$MN_PG_URL?schema=agent_chat_$$&vector=local"
else
  echo "ok - postgres: agent_chat # skip (no MN_PG_URL: tests/run.sh starts the server)"
fi

# ---- the README's C++ example ----------------------------------------------------------------
awk '/^## C\+\+$/ { s = 1; next } /^## / { s = 0 } s && /^```cpp$/ { c = 1; next }
     c && /^```$/ { exit } c { print }' "$MN_TOP/README.md" >"$tmp/readme.cc"
if [ ! -s "$tmp/readme.cc" ]; then
  not_ok "README.md's \"C++\" section has a \`\`\`cpp example"
# shellcheck disable=SC2086
elif "$CXX" -std=c++17 -Wall -Wextra -Werror -pedantic -Wshadow $sanflags -I"$MN_TOP/include" \
  "$tmp/readme.cc" -L"$build" -lmanushya -Wl,-rpath,"$build" -o "$tmp/readme" >"$tmp/cxx.log" 2>&1; then
  ok "the README's C++ example builds"
  mkdir "$tmp/run"
  if (cd "$tmp/run" && ../readme && ../readme) >"$tmp/readme.out" 2>&1 &&
     grep -q '^0\.[0-9]* The customer prefers green tea over coffee$' "$tmp/readme.out"; then
    ok "the README's C++ example runs (twice) and finds its memory"
  else
    not_ok "the README's C++ example runs (twice) and finds its memory"
    indent "$tmp/readme.out"
  fi
else
  not_ok "the README's C++ example builds"
  indent "$tmp/cxx.log"
fi

[ "$failed" -eq 0 ]
