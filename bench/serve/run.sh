#!/bin/sh
# make bench-serve: manushya serve under wrk on the embedded default (SQLite, HNSW, the local
# embedder), on this machine. A fresh database holds MEMORIES memories (the example data set
# repeated, made distinct); the server runs with THREADS threads, its limits raised so that the
# load measures the server, not the limiter. Then, with wrk at CONNECTIONS open connections for
# SECONDS each: the mixed workload (search 70%, add 20%, get 10%), then each route alone, each
# connection asking again as soon as it has its answer (closed loop); then "users": the same
# mix from CONNECTIONS users who each wait THINK_MS (0.5 to 1.5 times, at random) between an
# answer and their next request, for USERS_SECONDS (ROUTES: the runs, default "mix search add
# get users"); then search on one connection, beside the server's own time for the same
# requests (its access log), to show the server's overhead against the client's wait.
# Prints the figures and their parameters, and the load average before each run (the machine
# may be shared); the goal is the guide's p95 < 200 ms, no errors.
#   bench/serve/run.sh MANUSHYA
set -eu
M=$1
: "${CONNECTIONS:=1000}" "${SECONDS_EACH:=20}" "${THREADS:=16}" "${MEMORIES:=5000}"
: "${ROUTES:=mix search add get users}" "${THINK_MS:=10000}" "${USERS_SECONDS:=60}"
command -v wrk >/dev/null || { echo "bench-serve: needs wrk: apt-get install wrk" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/manushya-bench-serve.XXXXXX")
spid=
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
db="sqlite:$d/bench.db"

"$M" --db "$db" tenant create bench >/dev/null
"$M" --db "$db" --tenant bench identity create loader --role admin >/dev/null
key=$("$M" --db "$db" --tenant bench key create --identity loader)
for e in memory:create memory:search memory:read '*'; do
    "$M" --db "$db" --tenant bench ratelimit set-limit --endpoint "$e" --limit 1000000000 \
        >/dev/null
done
python3 - "$here/../../examples/data/memories.jsonl" "$MEMORIES" >"$d/seed.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
for i in range(int(sys.argv[2])):
    r = dict(rows[i % len(rows)])
    r["text"] = f"{r['text']} (note {i})"
    print(json.dumps(r))
PY
"$M" --db "$db" --tenant bench --as loader memory import "$d/seed.jsonl" >/dev/null
"$M" --db "$db" --tenant bench --json memory list --limit 1000 |
    python3 -c 'import json,sys; [print(m["id"]) for m in json.load(sys.stdin)["memories"]]' \
    >"$d/ids"

ulimit -n 8192 2>/dev/null || true
"$M" --db "$db" serve --listen 127.0.0.1:0 --threads "$THREADS" \
    --max-connections $((CONNECTIONS + 100)) --access-log "$d/access.log" 2>"$d/serve.err" &
spid=$!
port=
for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$d/serve.err")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$d/serve.err" >&2; exit 1; }
url=http://127.0.0.1:$port

echo "manushya serve under wrk: $MEMORIES memories (SQLite, local embedder), $THREADS server" \
     "threads, $(nproc) cores, wrk -t2 -c$CONNECTIONS -d${SECONDS_EACH}s"
# Waits until the server has answered what the last run left queued (its access log stops
# growing), so that no run counts another's requests.
quiet() {
    last=-1
    for _ in $(seq 120); do
        size=$(wc -c <"$d/access.log")
        [ "$size" -eq "$last" ] && return
        last=$size
        sleep 1
    done
}
run() { # ROUTE CONNECTIONS SECONDS [THINK_MS [LABEL]]: wrk's summary lines
    quiet
    : >"$d/access.log"
    t=$(($2 < 2 ? $2 : 2))
    echo "  (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    MN_KEY=$key MN_IDS=$d/ids MN_ROUTE=$1 MN_THINK_MS=${4:-0} MN_FIRST=$((($2 + t - 1) / t)) \
        wrk -t$t -c"$2" -d"$3s" --timeout 10s --latency \
        -s "$here/mix.lua" "$url" >"$d/wrk.out" 2>&1 || { cat "$d/wrk.out"; return 1; }
    python3 - "${5:-$1}" "$d/wrk.out" "$d/access.log" <<'PY'
import json, re, sys
route, out, log = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
p50, p95, p99 = (int(x) / 1000 for x in re.search(r"percentiles_us (\d+) (\d+) (\d+)",
                                                    out).groups())
rps = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
total = re.search(r"(\d+) requests in", out).group(1)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
sockerr = re.search(r"Socket errors: (.*)", out)
print(f"{route:7s} client: {rps} req/s, {total} requests, p50 {p50:.1f} ms,"
      f" p95 {p95:.1f} ms, p99 {p99:.1f} ms;"
      f" non-2xx {non2xx.group(1) if non2xx else 0};"
      f" socket errors {sockerr.group(1) if sockerr else 'none'}")
by = {}
for line in open(log):
    e = json.loads(line)
    name = {"POST /v1/memory/search": "search", "POST /v1/memory": "add"}.get(
        f"{e['method']} {e['path']}", "get" if e["path"].startswith("/v1/memory/") else "other")
    by.setdefault(name, []).append(e["ms"])
for name, v in sorted(by.items()):
    v.sort()
    q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
    print(f"          server {name:6s}: {len(v)} requests, p50 {q(.5):.2f} ms, p95 {q(.95):.2f}"
          f" ms, p99 {q(.99):.2f} ms (in the server: auth, JSON, the library call)")
PY
}
for r in $ROUTES; do
    if [ "$r" = users ]; then
        echo "users: $CONNECTIONS users, each waiting ${THINK_MS} ms (x0.5..1.5) between an" \
             "answer and their next request (the mix; each user's first request is a get)," \
             "${USERS_SECONDS}s:"
        run mix "$CONNECTIONS" "$USERS_SECONDS" "$THINK_MS" users
    else
        run "$r" "$CONNECTIONS" "$SECONDS_EACH"
    fi
done
echo "one connection:"
run search 1 5
