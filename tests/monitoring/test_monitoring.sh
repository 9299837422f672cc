#!/bin/sh
# The example monitoring (examples/monitoring): the alert rules pass `promtool check rules`
# and their unit tests (alerts_test.yml: each alert firing for a troubled job and not for a
# healthy one, nor before its `for`) pass `promtool test rules`; the Grafana dashboard is JSON
# whose every query parses as PromQL (checked by promtool as a recording rule); and every
# manushya_ metric the rules and the dashboard name is one the library writes (manushya
# metrics after a bench run). promtool comes with Debian's prometheus package.
. "$MN_TOP/tests/cli/lib.sh"
cli_setup monitoring

if ! command -v promtool >/dev/null 2>&1; then
    echo "not ok 1 - promtool is needed: apt-get install prometheus (scripts/deps.sh --test)"
    exit 1
fi
ex="$MN_TOP/examples/monitoring"
# quiet COMMAND...: its output in $OUT and $ERR, shown when the case fails.
quiet() { "$@" >"$OUT" 2>"$ERR"; }

check "promtool check rules accepts alerts.yml" quiet promtool check rules "$ex/alerts.yml"
check "promtool test rules: the alerts fire when they should, and only then" \
    quiet promtool test rules "$MN_TOP/tests/monitoring/alerts_test.yml"

# Every query of the dashboard as a recording rule ($job as a regex that matches all).
check "grafana.json: every panel query parses as PromQL" sh -c '
python3 - "$1" >dash_rules.yml <<"PY" && promtool check rules dash_rules.yml >/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
assert len(exprs) >= 30, len(exprs)
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    print("      - record: dashboard_query_%d" % i)
    print("        expr: " + json.dumps(e.replace("$job", ".*")))
PY' sh "$ex/grafana.json"

# The metric names the library writes.
run --db b.db bench ingest --n 50 --metrics-out all.prom
sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' all.prom >names
check "the library writes its metric families" test "$(wc -l <names)" -ge 25
check "the rules and the dashboard name only metrics the library writes" python3 - \
    "$ex/alerts.yml" "$ex/grafana.json" names <<'EOF2'
import re, sys
known = set(open(sys.argv[3]).read().split())
bad = set()
for path in sys.argv[1:3]:
    for m in re.findall(r"manushya_[a-z_]+", open(path).read()):
        base = re.sub(r"_(bucket|sum|count)$", "", m)
        if m not in known and base not in known:
            bad.add(m)
if bad:
    print("#   unknown:", " ".join(sorted(bad)))
sys.exit(1 if bad else 0)
EOF2
check "the dashboard has the business panels" python3 -c '
import json, sys
titles = {p["title"] for p in json.load(open(sys.argv[1]))["panels"]}
sys.exit(0 if {"Memories created", "Searches", "Active tenants"} <= titles else 1)' \
    "$ex/grafana.json"

cli_finish
