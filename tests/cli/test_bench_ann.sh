#!/bin/sh
# test_bench_ann.sh — manushya bench ann end to end on tiny .fvecs/.ivecs files made here with
# python3 (standard library only): the human and --json outputs, the filter, and that bad,
# truncated or mismatched files are clear errors (exit 1, the file named) and bad options
# usage errors (exit 2).
#
# Run by tests/run.sh from the repo root with MN_BUILD (build dir) and MN_TOP (repo root).
# Prints "ok N - what" / "not ok N - what" (TAP-like) and exits non-zero if any case failed.
set -u

. "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}/tests/cli/lib.sh"
cli_setup bench-ann

# ---- data: 600 clustered unit vectors of dimension 16, 25 queries, exact top-20 truth ------
python3 - <<'EOF' || { echo "not ok 1 - making the test files"; exit 1; }
import math, random, struct
rnd = random.Random(7)
D, N, Q, T = 16, 600, 25, 20
def unit(v):
    s = math.sqrt(sum(x * x for x in v))
    return [x / s for x in v]
centres = [unit([rnd.gauss(0, 1) for _ in range(D)]) for _ in range(12)]
def point():
    c = rnd.choice(centres)
    return unit([x + 0.2 * rnd.gauss(0, 1) for x in c])
base = [point() for _ in range(N)]
qs = [point() for _ in range(Q)]
def write(path, rows, fmt):
    with open(path, "wb") as f:
        for r in rows:
            f.write(struct.pack("<i", len(r)) + struct.pack("<%d%s" % (len(r), fmt), *r))
# float32 scores, as the bench would compute them, ties by smaller id
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]
base32 = [[f32(x) for x in r] for r in base]
truth = []
for q in qs:
    q32 = [f32(x) for x in q]
    sc = sorted(range(N), key=lambda i: (-sum(a * b for a, b in zip(q32, base32[i])), i))
    truth.append(sc[:T])
write("base.fvecs", base, "f")
write("query.fvecs", qs, "f")
write("gt.ivecs", truth, "i")
# bad files
raw = open("base.fvecs", "rb").read()
rec = 4 + 4 * D
open("trunc.fvecs", "wb").write(raw[:len(raw) - 10])
open("empty.fvecs", "wb").write(b"")
open("short.fvecs", "wb").write(b"\x10\x00")
open("hugedim.fvecs", "wb").write(struct.pack("<i", 1 << 30) + raw[4:])
open("zerodim.fvecs", "wb").write(struct.pack("<i", 0) + raw[4:])
mixed = bytearray(raw)
mixed[5 * rec:5 * rec + 4] = struct.pack("<i", D + 1)
open("mixed.fvecs", "wb").write(bytes(mixed))
nan = bytearray(raw)
nan[3 * rec + 8:3 * rec + 12] = struct.pack("<f", float("nan"))
open("nan.fvecs", "wb").write(bytes(nan))
write("q8.fvecs", [q[:8] for q in qs], "f")
write("gt_few_rows.ivecs", truth[:-1], "i")
write("gt_narrow.ivecs", [t[:5] for t in truth], "i")
write("gt_range.ivecs", [[N + 3] + t[1:] for t in truth], "i")
gt = open("gt.ivecs", "rb").read()
open("gt_trunc.ivecs", "wb").write(gt[:-3])
EOF

F="--base base.fvecs --queries query.fvecs --truth gt.ivecs"

# ---- runs -----------------------------------------------------------------------------------
# shellcheck disable=SC2086 # $F is an option list
expect 0 "bench ann runs" bench ann $F --ef 10,80
check "it prints build figures" out_has "vectors/s"
check "it prints bytes per vector" out_has "bytes/vector"
check "it prints a row per ef" sh -c "grep -Eq '^10 +0\.[0-9]+' '$OUT' && grep -Eq '^80 +[01]\.[0-9]+' '$OUT'"

# shellcheck disable=SC2086
expect 0 "bench ann --json" --json bench ann $F --ef 10,80 --k 10 --m 8 --ef-construction 40 \
    --threads 2
check "--json is one object with the parameters and figures" json 'd["impl"] == "libmanushya"
    and d["n"] == 600 and d["dim"] == 16 and d["nq"] == 25 and d["k"] == 10 and d["m"] == 8
    and d["ef_construction"] == 40 and d["threads"] == 2 and d["filter_selectivity"] is None
    and d["build_seconds"] > 0 and d["build_vectors_per_s"] > 0
    and d["bytes_per_vector"] > 16 * 4 and d["index_bytes"] > 0
    and [r["ef"] for r in d["runs"]] == [10, 80]
    and all(0 <= r["recall"] <= 1 and r["queries_per_s"] > 0
            and 0 < r["p50_us"] <= r["p99_us"] and r["timed_queries"] >= 25
            for r in d["runs"])'
check "recall at ef 80 on 600 vectors is high" json 'd["runs"][1]["recall"] >= 0.95'

# shellcheck disable=SC2086
expect 0 "bench ann --filter-selectivity 0.25 --json" --json bench ann $F --ef 40 \
    --filter-selectivity 0.25
check "the filter keeps about a quarter and recall holds" json 'd["filter_selectivity"] == 0.25
    and 90 <= d["filter_accepted"] <= 210 and d["truth"] == "exact"
    and d["runs"][0]["recall"] >= 0.9'

# shellcheck disable=SC2086
expect 0 "bench ann --quantize int8 --json" --json bench ann $F --ef 80 --quantize int8
check "int8 codes: named, more bytes than float32, recall holds" json 'd["quantize"] == "int8"
    and d["rerank"] == 0 and d["bytes_per_vector"] > 16 * 4 + 16
    and d["runs"][0]["recall"] >= 0.95'
# shellcheck disable=SC2086
expect 0 "bench ann --quantize int8 --rerank 10" bench ann $F --ef 40 --quantize int8 --rerank 10
check "the header names the codes and the re-ranking" out_has "int8 codes, re-ranked: 10"

# ---- --save keeps the index, --load measures it without building -----------------------------
# shellcheck disable=SC2086
expect 0 "bench ann --quantize int8 --save saved.idx --json" --json bench ann $F --ef 40,80 \
    --quantize int8 --save saved.idx
check "the index is kept where --save said" test -s saved.idx
cp "$OUT" built.json
expect 0 "bench ann --load saved.idx --json" --json bench ann --load saved.idx \
    --queries query.fvecs --truth gt.ivecs --ef 40,80
check "the loaded index is the built one: same keys, same recall, no build" python3 -c '
import json, sys
b, l = json.load(open("built.json")), json.load(open(sys.argv[1]))
assert l["load"] == "saved.idx" and l["base"] is None and l["build_seconds"] == 0, l
assert l["n"] == b["n"] == 600 and "m" not in l, l
assert [r["recall"] for r in l["runs"]] == [r["recall"] for r in b["runs"]], (l, b)
assert [r["recall"] for r in l["map_runs"]] == [r["recall"] for r in b["map_runs"]], (l, b)
' "$OUT"
expect 0 "bench ann --load (human output)" bench ann --load saved.idx --queries query.fvecs \
    --truth gt.ivecs --ef 40
check "it says the index was loaded, not built" out_has "none: loaded from saved.idx"
head -c 1000 saved.idx > cut.idx
expect 1 "--load of a truncated index" bench ann --load cut.idx --queries query.fvecs \
    --truth gt.ivecs
check "the message names the file" err_has "cut.idx"

# ---- a base of several runs: bench ann reads and adds 65,536 vectors at a time ---------------
python3 - <<'EOF2' || { echo "not ok - making the multi-run files"; exit 1; }
import math, random, struct
rnd = random.Random(11)
N, Q, T, D = 70000, 20, 10, 4
def rows(n):
    out = []
    for _ in range(n):
        v = [rnd.gauss(0, 1) for _ in range(D)]
        s = math.sqrt(sum(x * x for x in v))
        out.append([x / s for x in v])
    return out
base, qs = rows(N), rows(Q)
def write(path, rs, fmt):
    with open(path, "wb") as f:
        for r in rs:
            f.write(struct.pack("<i", len(r)) + struct.pack("<%d%s" % (len(r), fmt), *r))
write("big.fvecs", base, "f")
write("bigq.fvecs", qs, "f")
write("bigt.ivecs", [sorted(range(N), key=lambda i: -sum(a * b for a, b in zip(q, base[i])))[:T]
                     for q in qs], "i")
raw, rec = open("big.fvecs", "rb").read(), 4 + 4 * D
nan = bytearray(raw)
nan[69000 * rec + 8:69000 * rec + 12] = struct.pack("<f", float("nan"))
open("bignan.fvecs", "wb").write(bytes(nan))
mixed = bytearray(raw)
mixed[66000 * rec:66000 * rec + 4] = struct.pack("<i", 3)  # D is 4
open("bigmixed.fvecs", "wb").write(bytes(mixed))
EOF2
B="--base big.fvecs --queries bigq.fvecs --truth bigt.ivecs --ef 80"
# shellcheck disable=SC2086 # $B is an option list
expect 0 "bench ann on 70,000 vectors (two runs) --json" --json bench ann $B --threads 2
check "every vector is indexed and found" json 'd["n"] == 70000 and d["runs"][0]["recall"] >= 0.95'
# shellcheck disable=SC2086
expect 0 "the same under a filter --json" --json bench ann $B --filter-selectivity 0.5
check "the exact truth covers both runs" json '33000 <= d["filter_accepted"] <= 37000
    and d["truth"] == "exact" and d["runs"][0]["recall"] >= 0.95'
expect 1 "a NaN in the second run" bench ann --base bignan.fvecs --queries bigq.fvecs \
    --truth bigt.ivecs --ef 10
check "the message names the vector by its row in the file" err_has "bignan.fvecs: vector 69000"
expect 1 "another dimension in the second run" bench ann --base bigmixed.fvecs \
    --queries bigq.fvecs --truth bigt.ivecs --ef 10
check "the message names the row" err_has "vector 66000 has dimension 3"

# ---- bad files: exit 1, a message naming the file ------------------------------------------
bad_file() { # bad_file DESCRIPTION PATTERN ARGS...
    d=$1 pat=$2; shift 2
    run bench ann "$@" --ef 10
    if [ "$rc" -eq 1 ] && err_has "$pat"; then pass "$d"; else
        echo "#   exit status $rc, expected 1 with '$pat'"; fail "$d"; fi
}
bad_file "a truncated base file" "trunc.fvecs is truncated" \
    --base trunc.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "a truncated truth file" "gt_trunc.ivecs is truncated" \
    --base base.fvecs --queries query.fvecs --truth gt_trunc.ivecs
bad_file "an empty file" "empty.fvecs is empty" \
    --base empty.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "a file shorter than a header" "short.fvecs is empty or shorter" \
    --base short.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "an absurd dimension" "hugedim.fvecs is not a .fvecs file" \
    --base hugedim.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "dimension 0" "zerodim.fvecs is not a .fvecs file" \
    --base zerodim.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "vectors of different dimensions" "vector 5 has dimension 17" \
    --base mixed.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "a NaN in the base" "nan.fvecs: vector 3" \
    --base nan.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "a missing file" "cannot open nosuch.fvecs" \
    --base nosuch.fvecs --queries query.fvecs --truth gt.ivecs
bad_file "queries of another dimension" "q8.fvecs has dimension 8" \
    --base base.fvecs --queries q8.fvecs --truth gt.ivecs
bad_file "a truth file with fewer rows than queries" "gt_few_rows.ivecs has 24 rows" \
    --base base.fvecs --queries query.fvecs --truth gt_few_rows.ivecs
bad_file "a truth file narrower than k" "fewer than --k 10" \
    --base base.fvecs --queries query.fvecs --truth gt_narrow.ivecs
bad_file "a truth id outside the base" "names base vector 603" \
    --base base.fvecs --queries query.fvecs --truth gt_range.ivecs

# ---- usage errors: exit 2 -------------------------------------------------------------------
expect 2 "--base is required" bench ann --queries query.fvecs --truth gt.ivecs
check "the message names --base and --load" err_has "give --base (build an index) or --load"
expect 2 "--base and --load together" bench ann --base base.fvecs --load saved.idx \
    --queries query.fvecs --truth gt.ivecs
expect 2 "--load with --save" bench ann --load saved.idx --save again.idx \
    --queries query.fvecs --truth gt.ivecs
check "the message says --save needs --base" err_has "--save needs --base"
expect 2 "--load with --filter-selectivity" bench ann --load saved.idx --queries query.fvecs \
    --truth gt.ivecs --filter-selectivity 0.5
# shellcheck disable=SC2086
expect 2 "a bad --ef list" bench ann $F --ef 10,,20
# shellcheck disable=SC2086
expect 2 "--ef 0" bench ann $F --ef 0
# shellcheck disable=SC2086
expect 2 "--filter-selectivity 0" bench ann $F --filter-selectivity 0
# shellcheck disable=SC2086
expect 2 "--filter-selectivity 1.5" bench ann $F --filter-selectivity 1.5
# shellcheck disable=SC2086
expect 2 "--m 1 (the library's message)" bench ann $F --m 1
check "the message names m" err_has "m is 1"
# shellcheck disable=SC2086
expect 2 "--threads 0" bench ann $F --threads 0
# shellcheck disable=SC2086
expect 2 "--quantize int4" bench ann $F --quantize int4
check "the message names the choices" err_has "float32 or int8"
# shellcheck disable=SC2086
expect 2 "--rerank without int8 (the library's message)" bench ann $F --rerank 5
check "the message says rerank needs int8" err_has "rerank applies to MN_ANN_INT8 only"
# shellcheck disable=SC2086
expect 2 "--rerank -1" bench ann $F --quantize int8 --rerank -1
expect 0 "bench ann --help" bench ann --help
check "help names the formats" out_has ".fvecs"

cli_finish
