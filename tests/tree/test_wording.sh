#!/bin/sh
# Wording rules the whole tree keeps, checked on the sources (not on build output):
#  - no references to tracker items by number ("issue N"): say what the thing is instead;
#  - library messages never tell the user to run a CLI command: programs that link the library
#    have users who never see the CLI, so a message names the C call or the setting (the CLI
#    may add its own hint).
# once: it reads the sources only, the same whichever build runs it
set -u
top=${MN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 1
failed=0

refs=$(grep -rnIE 'issues? ?[0-9]+' . --exclude-dir=.git --exclude-dir='build*' \
       --exclude-dir=node_modules 2>/dev/null)
if [ -n "$refs" ]; then
  echo "not ok 1 - references to tracker items by number; describe the thing instead:"
  echo "$refs"
  failed=1
else
  echo "ok 1 - no references to tracker items by number"
fi

# A string literal in lib/ (a line with a quote) that names a `manushya ...` command.
cli=$(grep -rnE '"[^"]*`manushya [a-z]' lib include 2>/dev/null | grep -vE '^[^:]+:[0-9]+: *(/?\*|//)')
if [ -n "$cli" ]; then
  echo "not ok 2 - library messages that tell the user to run a CLI command:"
  echo "$cli"
  failed=1
else
  echo "ok 2 - library messages name library calls and settings, not CLI commands"
fi
exit $failed
