#!/bin/sh
# Asynchronous embedding from the CLI against a real embeddings server on loopback
# (tests/support/embed_server.py): memory add --embed-async returns a pending memory; a
# `manushya worker` stores it; failures show in jobs list and memory get, jobs retry brings
# them back; and a worker killed with SIGKILL mid-batch, then restarted, finishes every job
# exactly once (the store's change sequence counts the vectors written, the server the texts
# it was sent).
# needs: http-embed
. "$MN_TOP/tests/cli/lib.sh"
cli_setup jobs

embed_server 4
wpid=
trap 'kill $spid $wpid 2>/dev/null; rm -rf "$TMP"' EXIT
base="http://127.0.0.1:$port"
stat() { python3 -c 'import json,sys,urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + "/_stats"))[sys.argv[2]])' "$base" "$1"; }
# The store's change sequence: every memory write and every stored vector takes one.
seq() { python3 -c 'import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT value FROM meta WHERE key = '"'seq'"'").fetchone()[0])' "$1"; }
# Waits up to 30 s until the tenant has no job left.
drained() {
    i=0
    while [ $i -lt 600 ]; do
        "$M" $O --tenant t --json jobs list >"$OUT" 2>"$ERR" && json 'len(d) == 0' && return 0
        sleep 0.05; i=$((i + 1))
    done
    return 1
}

O="--db j.db --embedder openai --embed-url $base/v1 --embed-model tiny --embed-dim 4"
W="worker --retries -1 --poll-ms 50"
expect 0 "a tenant" $O tenant create t
expect 0 "an identity" $O --tenant t identity create agent

# ---- pending, then done --------------------------------------------------------------------
mode '{"mode": "slow", "times": -1, "delay": 30}'
expect 0 "memory add --embed-async returns while the server is stuck" \
    $O --tenant t --as agent --embed-async --json memory add "the cat sat"
check "the memory is pending" json 'd["embed_status"] == "pending" and d["embed_error"] is None'
id=$(jget 'd["id"]')
check "the server was not asked" [ "$(stat requests)" = 0 ]
expect 0 "jobs list" $O --tenant t --json jobs list
check "shows its job" json "len(d) == 1 and d[0]['memory_id'] == '$id' and d[0]['status'] == 'pending'"
mode '{"mode": "ok", "times": 0}'
expect 0 "search" $O --tenant t --as agent --json memory search "the cat sat"
check "does not find a memory without a vector" json 'len(d["hits"]) == 0'
expect 0 "worker --once stores it" $O --json $W --once
check "one stored" json 'd["stored"] == 1 and d["failed"] == 0'
expect 0 "memory get" $O --tenant t --as agent --json memory get "$id"
check "is done" json 'd["embed_status"] == "done"'
expect 0 "search" $O --tenant t --as agent --json memory search "the cat sat"
check "finds it" json "d['hits'][0]['id'] == '$id' and d['hits'][0]['similarity'] > 0.999"
MANUSHYA_EMBED_ASYNC=1 expect 0 "MANUSHYA_EMBED_ASYNC=1 works too" \
    $O --tenant t --as agent --json memory add "env text"
check "pending" json 'd["embed_status"] == "pending"'
expect 0 "worker --once" $O $W --once
check "prints its counts" [ "$(head -n 1 "$OUT")" = "stored 1 vectors, 0 failed attempts" ]

# ---- failures, jobs list and retry -------------------------------------------------------
mode '{"mode": "500", "times": -1}'
expect 0 "add while the server fails" $O --tenant t --as agent --embed-async --json memory add "doomed"
bad=$(jget 'd["id"]')
expect 0 "a worker attempt fails" $O --json $W --once --max-attempts 1
check "one failed attempt" json 'd["stored"] == 0 and d["failed"] == 1'
expect 0 "jobs list --status failed" $O --tenant t --json jobs list --status failed
check "the job is failed with the server's message" json \
    "d[0]['memory_id'] == '$bad' and d[0]['attempts'] == 1 and 'HTTP 500: the model crashed' in d[0]['error']"
expect 0 "jobs list (text)" $O --tenant t jobs list
check "names the memory and the status" sh -c "grep -q '$bad  failed' '$OUT'"
expect 0 "memory get" $O --tenant t --as agent --json memory get "$bad"
check "shows failed and the error" json 'd["embed_status"] == "failed" and "HTTP 500" in d["embed_error"]'
expect 0 "memory get (text)" $O --tenant t --as agent memory get "$bad"
check "has an embedding line" out_has "embedding   failed: "
mode '{"mode": "ok", "times": 0}'
expect 2 "jobs retry needs an id or --all-failed" $O --tenant t jobs retry
expect 2 "not both" $O --tenant t jobs retry "$bad" --all-failed
expect 2 "jobs list --status must be known" $O --tenant t jobs list --status lost
expect 3 "jobs retry of a memory without a job" $O --tenant t jobs retry "$id"
expect 0 "jobs retry --all-failed" $O --tenant t --json jobs retry --all-failed
check "retried one" json 'd == {"retried": 1}'
expect 0 "the worker stores it now" $O --json $W --once
check "stored" json 'd["stored"] == 1 and d["failed"] == 0'
expect 0 "memory get" $O --tenant t --as agent --json memory get "$bad"
check "done" json 'd["embed_status"] == "done" and d["embed_error"] is None'

# ---- a worker killed with SIGKILL mid-batch --------------------------------------------------
N=30
i=0
while [ $i -lt $N ]; do
    "$M" $O --tenant t --as agent --embed-async memory add "kill test $i" >/dev/null || fail "add $i"
    i=$((i + 1))
done
seq0=$(seq j.db)
python3 -c 'import sys,urllib.request
urllib.request.urlopen(sys.argv[1] + "/_reset", data=b"{}")' "$base" >/dev/null
mode '{"mode": "slow", "times": -1, "delay": 30}'
"$M" $O $W --batch 10 --lease-ms 2000 >/dev/null 2>&1 &
wpid=$!
i=0
while [ "$(stat requests)" = 0 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "the worker sent its first batch" [ "$(stat inputs)" = 10 ]
kill -KILL $wpid
wait $wpid 2>/dev/null
wpid=
expect 0 "jobs list after the kill" $O --tenant t --json jobs list
check "all $N jobs are still there" json "len(d) == $N"
check "nothing was stored" [ "$(seq j.db)" = "$seq0" ]
mode '{"mode": "ok", "times": 0}'
"$M" $O $W --batch 10 --lease-ms 2000 >/dev/null 2>"$TMP/worker.err" &
wpid=$!
check "the restarted worker finishes every job" drained
kill -TERM $wpid
wait $wpid
wrc=$?
wpid=
check "SIGTERM stops the worker cleanly" [ "$wrc" = 0 ]
check "each vector was written exactly once (one seq each)" [ "$(seq j.db)" = $((seq0 + N)) ]
check "the server got each text once, and the killed batch's again" \
    [ "$(stat inputs)" = $((N + 10)) ]
expect 0 "search finds a memory of the killed batch" \
    $O --tenant t --as agent --json memory search "kill test 0" --k 1
check "as the top hit" json 'd["hits"][0]["text"] == "kill test 0"'

cli_finish
