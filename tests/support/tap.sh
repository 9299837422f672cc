# tap.sh — the "ok" / "not ok" lines the test scripts print, sourced by each:
#   . "$(dirname "$0")/../support/tap.sh"
# ok WHAT and not_ok WHAT print a line (not_ok counts it in $failed: end with
# [ "$failed" -eq 0 ]); indent FILE... prints files under a line as "#   " comments.
# shellcheck shell=sh

failed=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
indent() { sed 's/^/#   /' "$@"; }
