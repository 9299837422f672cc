#!/bin/sh
# tests/abi/test_symbols.sh — the public functions, four ways, must be one list:
#   exported   what the built shared library exports (nm -D --defined-only), each under a
#              version node of the version script
#   declared   what include/manushya.h declares with MN_API
#   versioned  the global names of the version script lib/manushya.map
#   documented what man/libmanushya.3 names as a function (name followed by "(")
# For each way, the names the others have and it lacks are listed. Nothing is hard-coded here:
# every list is read from its file.
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root; default: from this path).
set -u

. "$(dirname "$0")/../support/build_env.sh"
so=$build/libmanushya.so
header=$MN_TOP/include/manushya.h
map=$MN_TOP/lib/manushya.map
man=$MN_TOP/man/libmanushya.3

. "$(dirname "$0")/../support/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-symbols.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ ! -e "$so" ]; then
  not_ok "$so not found: build first (make B=$MN_BUILD)"
  exit 1
fi

# Exported: "ADDR T name@@NODE"; the node itself is an absolute symbol "0 A NODE".
nm -D --defined-only "$so" | awk 'NF >= 3 && $2 != "A" { print $3 }' | sort -u >"$tmp/raw"
sed 's/@.*//' "$tmp/raw" | sort -u >"$tmp/exported"
grep -v '@@MANUSHYA_' "$tmp/raw" >"$tmp/unversioned" || true
# Declared: one MN_API declaration a line, the name right before its "(".
grep '^MN_API' "$header" >"$tmp/api_lines"
sed -n 's/^MN_API[^(]*[ *]\(mn_[a-z0-9_]*\)(.*/\1/p' "$tmp/api_lines" | sort -u >"$tmp/declared"
# Versioned: the names of every "global:" part, comments left out.
sed -e 's|/\*.*\*/||' -e '/\/\*/,/\*\//d' "$map" | awk '
  /global:/ { g = 1; next }
  /local:/ || /}/ { g = 0; next }
  g { gsub(/[ \t;]/, ""); if ($0 != "") print }' | sort -u >"$tmp/versioned"
# Documented: mn_name, then an optional font change and quotes, then "(".
grep -o 'mn_[a-z0-9_]*\(\\f[BIRP]\)\{0,1\}[ "]*(' "$man" | sed 's/[^a-z0-9_].*//' | sort -u \
  >"$tmp/documented"

for list in exported declared versioned documented; do
  if [ -s "$tmp/$list" ]; then
    ok "$list: $(wc -l <"$tmp/$list" | tr -d ' ') functions"
  else
    not_ok "$list: found no function (has the file's format changed?)"
  fi
done
if [ "$(wc -l <"$tmp/api_lines")" -ne "$(wc -l <"$tmp/declared")" ]; then
  not_ok "every MN_API line of manushya.h declares one function (return type, name and '('" \
    "on the line); these do not:"
  sed -n '/^MN_API[^(]*[ *]mn_[a-z0-9_]*(/!s/^/#   /p' "$tmp/api_lines"
fi
if [ -s "$tmp/unversioned" ]; then
  not_ok "every exported symbol has a MANUSHYA_ version node; these have none:"
  sed 's/^/#   /' "$tmp/unversioned"
else
  ok "every exported symbol has a MANUSHYA_ version node"
fi

cat "$tmp/exported" "$tmp/declared" "$tmp/versioned" "$tmp/documented" | sort -u >"$tmp/all"
where() { # LIST: what it is, for messages
  case $1 in
    exported) echo "exported by $MN_BUILD/libmanushya.so" ;;
    declared) echo "declared with MN_API in include/manushya.h" ;;
    versioned) echo "listed in lib/manushya.map" ;;
    documented) echo "documented in man/libmanushya.3" ;;
  esac
}
for list in exported declared versioned documented; do
  comm -23 "$tmp/all" "$tmp/$list" >"$tmp/missing"
  if [ -s "$tmp/missing" ]; then
    not_ok "every public function is $(where "$list"); these are not (but are elsewhere):"
    while read -r name; do
      others=""
      for other in exported declared versioned documented; do
        grep -qx "$name" "$tmp/$other" && others="$others $other"
      done
      echo "#   $name (found:$others)"
    done <"$tmp/missing"
  else
    ok "every public function is $(where "$list")"
  fi
done

[ "$failed" -eq 0 ]
