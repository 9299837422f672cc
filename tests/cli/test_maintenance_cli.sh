#!/bin/sh
# Scheduled maintenance from the command line: maintenance run runs the due tasks and says
# what became of each (ran with its items, not due, busy, off), --task picks tasks, --force
# runs them now, a task another process holds is skipped; bad input is refused; worker --once
# runs the due maintenance at its end, and a running worker runs a task once it is due.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup maintenance

D="--db m.db"
A="$D --tenant acme"
"$M" $D init >/dev/null 2>&1
"$M" $D tenant create acme >/dev/null 2>&1
"$M" $A identity create bot >/dev/null 2>&1
"$M" $A --as bot memory add "gone soon" --ttl-days 1 >/dev/null 2>&1
sql m.db "UPDATE memories SET expires_at = 1"

expect 0 "maintenance run" $D --json maintenance run
check "purge ran and purged the expired memory" json 'd["purge"]["status"] == "ran" and d["purge"]["items"] == 1 and d["purge"]["error"] is None'
check "every task but audit ran" json 'all(d[t]["status"] == "ran" for t in ("purge", "cache", "feed", "index", "keywords"))'
check "audit is off without a retention" json 'd["audit"]["status"] == "off"'
check "the memory is gone" [ "$(sql m.db 'SELECT count(*) FROM memories')" = 0 ]

expect 0 "run again at once" $D maintenance run
check "nothing is due" [ "$(grep -c 'not due' "$OUT")" = 5 ]
expect 0 "--task and --force" $D --json maintenance run --task purge,index --force
check "just those ran" json 'sorted(d) == ["index", "purge"] and d["purge"]["status"] == "ran"'
expect 0 "--audit-retention-days turns audit on" $D --json maintenance run --task audit --audit-retention-days 30
check "audit ran" json 'd["audit"]["status"] == "ran"'

# An import of several batches (a keyword index segment each) merges them at its end.
i=0
while [ $i -lt 30 ]; do echo "{\"text\": \"imported note $i about word$i\"}"; i=$((i + 1)); done \
    > "$TMP/notes.jsonl"
expect 0 "an import of three batches" $A --as bot memory import "$TMP/notes.jsonl" --batch 10
check "leaves the keyword index one segment" [ "$(sql m.db 'SELECT count(DISTINCT segid) FROM memory_fts_idx')" = 1 ]
expect 0 "keywords forced after it" $D --json maintenance run --task keywords --force
check "has nothing to merge" json 'd["keywords"]["status"] == "ran" and d["keywords"]["items"] == 0'
expect 0 "a search after the import" $A --as bot --json memory search word17 --mode keyword
check "finds its memory" out_has "imported note 17 about word17"

# Another process holds the cache task's lease: skipped, forced or not.
sql m.db "UPDATE maintenance SET holder = 'other', lease_until = 9999999999999 WHERE task = 'cache'"
expect 0 "a task held elsewhere" $D maintenance run --task cache --force
check "is skipped as busy" out_has "another process runs it"
sql m.db "UPDATE maintenance SET lease_until = 0 WHERE task = 'cache'"

expect 2 "an unknown task" $D maintenance run --task purge,bogus
check "is named with the choices" err_has 'no task "bogus"; give purge, cache'
expect 2 "an empty task list" $D maintenance run --task ,
expect 1 "a negative retention" $D maintenance run --audit-retention-days -1
check "names the setting" err_has "audit_retention_days"
expect 1 "a poll too short" $D worker --once --maintenance-poll-ms 1
check "names the setting" err_has "maintenance_poll_ms"

# worker --once: the embedding jobs, then the maintenance that is due.
sql m.db "UPDATE maintenance SET last_run_at = 0 WHERE task = 'purge'"
expect 0 "worker --once" $D --json worker --once
check "ran the due purge, skipped the rest" json 'd["maintenance"]["purge"]["status"] == "ran" and d["maintenance"]["cache"]["status"] == "not-due"'
expect 0 "worker --once --no-maintenance" $D --json worker --once --no-maintenance
check "runs none" json 'd["maintenance"] == {}'

# A running worker runs a task once it is due (its row's last run moved back an hour).
"$M" $D worker --maintenance-poll-ms 50 >/dev/null 2>"$TMP/worker.err" &
wpid=$!
trap 'kill $wpid 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 0.3
before=$(sql m.db "SELECT last_run_at FROM maintenance WHERE task = 'purge'")
sql m.db "UPDATE maintenance SET last_run_at = last_run_at - 3600000 WHERE task = 'purge'"
i=0
while [ "$(sql m.db "SELECT last_run_at FROM maintenance WHERE task = 'purge'")" -le "$before" ] &&
      [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "the worker ran purge again" [ "$(sql m.db "SELECT last_run_at FROM maintenance WHERE task = 'purge'")" -gt "$before" ]
kill -TERM $wpid
wait $wpid
wrc=$?
check "SIGTERM stops the worker cleanly" [ "$wrc" = 0 ]
check "and it said maintenance runs" grep -q "scheduled maintenance" "$TMP/worker.err"

cli_finish
