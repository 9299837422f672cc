/*
 * hnswlib_bench.cc — the comparator of `manushya bench ann`: the same measurement, on the same
 * .fvecs/.ivecs files with the same parameters, through Debian's header-only hnswlib
 * (libhnswlib-dev, /usr/include/hnswlib). A benchmark-only program: the library never depends
 * on hnswlib. Built and run by `make bench-ann-hnswlib`, which runs ours first on the same data.
 *
 *   hnswlib_bench --base B.fvecs --queries Q.fvecs --truth T.ivecs [--k 10] [--m 16]
 *                 [--ef-construction 64] [--ef 10,20,40,80,160] [--threads N]
 *                 [--filter-selectivity P] [--json]
 *
 * --quantize and --rerank (ours: int8 codes) are accepted and ignored, hnswlib's vectors being
 * float32 only, so that one ANN_ARGS serves both programs (make bench-ann-hnswlib
 * ANN_ARGS="--quantize int8 ...": our int8 index beside hnswlib's float one).
 * Same as cli/cmd_bench.c (keep the two in step): keys are row numbers; inner product
 * (hnswlib's InnerProductSpace, distance 1 - ip); the build from N threads, addPoint on an
 * index sized for the base; for each ef one untimed pass (its results give recall@k against
 * the truth's first k ids) then timed passes over all queries, single-threaded, for at least
 * 1 s (at most 100); p50/p99 by nearest rank. The filter is the same predicate (splitmix64 of
 * the key, top 53 bits, below P * 2^53) and the truth under it the same exact search. hnswlib
 * 0.6.2 (Debian 12) has no filter argument; its deleted marks work as a filter does (marked
 * nodes are traversed, never returned, and ef counts unmarked ones), so the keys the filter
 * rejects are marked deleted after the build, outside the build time.
 *
 * Bytes per vector: hnswlib does not report its size, so it is counted from its structures
 * (level-0 block, upper link lists, per-element pointer, level and mutex, the 65536 update
 * locks, the label hash map at 32 bytes a node plus its buckets, one visited list); the
 * growth of the resident set during the build is printed too, as for ours.
 */
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace {

const int kMaxEfs = 64;
const double kMinSeconds = 1.0;
const int kMaxPasses = 100;

/* The CLI's cli_thread_cpu: this thread's CPU time, for queries per CPU second. */
double thread_cpu()
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double now()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

[[noreturn]] void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...)
{
    va_list ap;
    fputs("hnswlib_bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

struct Vecs {
    size_t n = 0;
    int dim = 0;
    std::vector<uint32_t> data; /* n * dim words: floats or int32s */
    const float *f() const { return reinterpret_cast<const float *>(data.data()); }
    const int32_t *i() const { return reinterpret_cast<const int32_t *>(data.data()); }
};

/* The same checks and messages as the CLI's reader. */
Vecs read_vecs(const char *path, bool is_float)
{
    const char *kind = is_float ? ".fvecs" : ".ivecs";
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        die("%s is not a regular file", path);
    uint64_t size = (uint64_t)sb.st_size;
    int32_t d32 = 0;
    if (size == 0 || fread(&d32, 4, 1, f) != 1)
        die("%s is empty or shorter than one %s header (4 bytes)", path, kind);
    if (d32 < 1 || d32 > 65536)
        die("%s is not a %s file: its first vector claims dimension %d (expected 1 to 65536)",
            path, kind, (int)d32);
    uint64_t rec = 4 + 4 * (uint64_t)d32;
    if (size % rec)
        die("%s is truncated or not a %s file: %" PRIu64 " bytes are not a whole number of "
            "%" PRIu64 "-byte records of dimension %d",
            path, kind, size, rec, (int)d32);
    Vecs v;
    v.n = (size_t)(size / rec);
    v.dim = d32;
    v.data.resize(v.n * (size_t)d32);
    std::vector<uint32_t> row((size_t)d32 + 1);
    if (fseek(f, 0, SEEK_SET) != 0)
        die("reading %s: %s", path, strerror(errno));
    for (size_t r = 0; r < v.n; r++) {
        if (fread(row.data(), 4, row.size(), f) != row.size())
            die("reading %s: %s", path, ferror(f) ? strerror(errno) : "the file shrank");
        if ((int32_t)row[0] != d32)
            die("%s is not a %s file of one dimension: vector %zu has dimension %d, the first %d",
                path, kind, r, (int)(int32_t)row[0], (int)d32);
        memcpy(&v.data[r * (size_t)d32], row.data() + 1, (size_t)d32 * 4);
    }
    fclose(f);
    if (is_float)
        for (size_t x = 0; x < v.n * (size_t)d32; x++)
            if (!std::isfinite(v.f()[x]))
                die("%s: vector %zu has a value that is not a finite number", path,
                    x / (size_t)d32);
    return v;
}

uint64_t key_hash(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

bool accepted(uint64_t key, uint64_t thr) { return (key_hash(key) >> 11) < thr; }

/* The CLI's exact dot product, operation for operation (built with -ffp-contract=off), so
 * that both programs compute the same filtered truth. */
float dot(const float *a, const float *b, int d)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= d; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (; i < d; i++)
        t += a[i] * b[i];
    return t;
}

void exact_truth(const Vecs &base, const Vecs &qs, const std::vector<int32_t> &rows, size_t k,
                 std::vector<int32_t> &truth)
{
    int d = base.dim;
    truth.assign(qs.n * k, -1);
    std::vector<float> best(k);
    for (size_t qi = 0; qi < qs.n; qi++) {
        const float *q = qs.f() + qi * (size_t)d;
        int32_t *ids = &truth[qi * k];
        size_t have = 0;
        for (int32_t id : rows) {
            float s = dot(q, base.f() + (size_t)id * (size_t)d, d);
            if (have == k && !(s > best[k - 1]))
                continue;
            size_t j = have < k ? have++ : k - 1;
            while (j > 0 && s > best[j - 1]) {
                best[j] = best[j - 1];
                ids[j] = ids[j - 1];
                j--;
            }
            best[j] = s;
            ids[j] = id;
        }
    }
}

size_t rss_bytes()
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long total = 0, res = 0;
    if (!f)
        return 0;
    int ok = fscanf(f, "%llu %llu", &total, &res) == 2;
    fclose(f);
    return ok ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

struct Run {
    int ef;
    double recall, qps, cpu_qps, p50_us, p99_us, mean_us;
    size_t timed;
};

double recall_at(const std::vector<int64_t> &got, const std::vector<size_t> &ngot,
                 const int32_t *truth, size_t tk, size_t nq, size_t k)
{
    double sum = 0;
    size_t counted = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        const int32_t *t = truth + qi * tk;
        size_t want = 0, hit = 0;
        while (want < k && t[want] >= 0)
            want++;
        if (!want)
            continue;
        for (size_t i = 0; i < ngot[qi]; i++)
            for (size_t j = 0; j < want; j++)
                if (got[qi * k + i] == t[j]) {
                    hit++;
                    break;
                }
        sum += (double)hit / (double)want;
        counted++;
    }
    return counted ? sum / (double)counted : 1.0;
}

/* Best first, as mn_ann_search returns them (the order does not change recall). */
size_t search(hnswlib::HierarchicalNSW<float> &h, const float *q, size_t k, int64_t *out)
{
    auto pq = h.searchKnn(q, k);
    size_t m = pq.size();
    for (size_t i = m; i-- > 0;) {
        out[i] = (int64_t)pq.top().second;
        pq.pop();
    }
    return m;
}

Run measure(hnswlib::HierarchicalNSW<float> &h, const Vecs &qs, size_t k, int ef,
            const int32_t *truth, size_t tk)
{
    size_t nq = qs.n;
    h.setEf((size_t)ef);
    std::vector<int64_t> got(nq * k);
    std::vector<size_t> ngot(nq);
    for (size_t qi = 0; qi < nq; qi++)
        ngot[qi] = search(h, qs.f() + qi * (size_t)qs.dim, k, &got[qi * k]);
    std::vector<double> lat;
    lat.reserve(nq * 8);
    std::vector<int64_t> keys(k);
    double total = 0, sum = 0, cpu0 = thread_cpu();
    for (int pass = 0; pass < kMaxPasses && (pass == 0 || total < kMinSeconds); pass++) {
        double t0 = now();
        for (size_t qi = 0; qi < nq; qi++) {
            double s = now();
            search(h, qs.f() + qi * (size_t)qs.dim, k, keys.data());
            double e = now() - s;
            lat.push_back(e * 1e6);
            sum += e;
        }
        total += now() - t0;
    }
    std::sort(lat.begin(), lat.end());
    size_t n = lat.size();
    Run r;
    r.ef = ef;
    r.recall = recall_at(got, ngot, truth, tk, nq, k);
    double cpu = thread_cpu() - cpu0;
    r.qps = total > 0 ? (double)n / total : 0;
    r.cpu_qps = cpu > 0 ? (double)n / cpu : 0;
    r.p50_us = lat[(n * 50 + 99) / 100 - 1];
    r.p99_us = lat[(n * 99 + 99) / 100 - 1];
    r.mean_us = sum / (double)n * 1e6;
    r.timed = n;
    return r;
}

size_t index_bytes(const hnswlib::HierarchicalNSW<float> &h)
{
    size_t b = h.max_elements_ * h.size_data_per_element_;           /* level 0 */
    b += h.max_elements_ * (sizeof(void *) + sizeof(int) + sizeof(std::mutex));
    b += (size_t)hnswlib::HierarchicalNSW<float>::max_update_element_locks * sizeof(std::mutex);
    for (size_t i = 0; i < h.cur_element_count; i++)
        if (h.element_levels_[i] > 0)
            b += h.size_links_per_element_ * (size_t)h.element_levels_[i];
    b += h.label_lookup_.bucket_count() * sizeof(void *) + h.label_lookup_.size() * 32;
    b += h.max_elements_ * sizeof(hnswlib::vl_type); /* one visited list */
    return b;
}

void json_str(const char *k, const char *v, bool comma = true)
{
    printf("\"%s\":\"", k);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    printf("\"%s", comma ? "," : "");
}

bool parse_efs(const char *s, std::vector<int> &efs)
{
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > 100000 || (int)efs.size() >= kMaxEfs ||
            (*end && *end != ','))
            return false;
        efs.push_back((int)v);
        s = *end ? end + 1 : end;
        if (*end && !*s)
            return false;
    }
    return !efs.empty();
}

int int_arg(const char *name, const char *v)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < -2147483647L || x > 2147483647L)
        die("--%s: expected an integer, got '%s'", name, v);
    return (int)x;
}

} // namespace

int main(int argc, char **argv)
{
    const char *base_path = nullptr, *query_path = nullptr, *truth_path = nullptr;
    const char *ef_list = "10,20,40,80,160";
    int k = 10, m = 16, efc = 64, threads = 1;
    bool json = false, filter = false;
    double sel = 1.0;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i], v;
        if (a == "--json") {
            json = true;
            continue;
        }
        size_t eq = a.find('=');
        if (a.compare(0, 2, "--") != 0)
            die("unexpected argument '%s'", argv[i]);
        if (eq != std::string::npos) {
            v = a.substr(eq + 1);
            a = a.substr(0, eq);
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            die("%s needs a value", a.c_str());
        }
        static std::vector<std::string> keep; /* the values outlive the loop */
        keep.push_back(v);
        const char *val = keep.back().c_str();
        if (a == "--base") base_path = val;
        else if (a == "--queries") query_path = val;
        else if (a == "--truth") truth_path = val;
        else if (a == "--k") k = int_arg("k", val);
        else if (a == "--m") m = int_arg("m", val);
        else if (a == "--ef-construction") efc = int_arg("ef-construction", val);
        else if (a == "--ef") ef_list = val;
        else if (a == "--threads") threads = int_arg("threads", val);
        else if (a == "--quantize" || a == "--rerank") continue; /* ours only (above) */
        else if (a == "--filter-selectivity") {
            char *end;
            sel = strtod(val, &end);
            if (!*val || *end || !(sel > 0 && sel <= 1))
                die("--filter-selectivity must be above 0 and at most 1");
            filter = true;
        } else
            die("unknown option %s", a.c_str());
    }
    if (!base_path || !query_path || !truth_path)
        die("--base, --queries and --truth are required");
    std::vector<int> efs;
    if (!parse_efs(ef_list, efs))
        die("--ef: expected a comma-separated list of integers from 1 to 100000, got '%s'",
            ef_list);
    if (k < 1 || k > 1024 || threads < 1 || threads > 64 || m < 2 || m > 100 || efc < 1 ||
        efc > 100000)
        die("--k 1..1024, --threads 1..64, --m 2..100, --ef-construction 1..100000");

    Vecs base = read_vecs(base_path, true), qs = read_vecs(query_path, true), tr;
    if (qs.dim != base.dim)
        die("%s has dimension %d but %s has %d", query_path, qs.dim, base_path, base.dim);
    if (!base.n || !qs.n)
        die("%s holds no vectors", base.n ? query_path : base_path);
    if (base.n > INT32_MAX)
        die("%s holds too many vectors", base_path);
    uint64_t thr = sel >= 1 ? (1ULL << 53) : (uint64_t)(sel * 9007199254740992.0);
    size_t n_acc = base.n;
    double truth_secs = 0;
    std::vector<int32_t> ftruth;
    const int32_t *truth;
    size_t tk;
    bool exact = filter && sel < 1;
    if (!exact) {
        tr = read_vecs(truth_path, false);
        if (tr.n != qs.n)
            die("%s has %zu rows but %s has %zu queries", truth_path, tr.n, query_path, qs.n);
        if (tr.dim < k)
            die("%s gives %d neighbours per query, fewer than --k %d", truth_path, tr.dim, k);
        for (size_t i = 0; i < tr.n * (size_t)tr.dim; i++)
            if (tr.i()[i] < 0 || (size_t)tr.i()[i] >= base.n)
                die("%s: row %zu names base vector %d, outside 0 .. %zu", truth_path,
                    i / (size_t)tr.dim, (int)tr.i()[i], base.n - 1);
        truth = tr.i();
        tk = (size_t)tr.dim;
    } else {
        std::vector<int32_t> rows;
        for (size_t i = 0; i < base.n; i++)
            if (accepted(i, thr))
                rows.push_back((int32_t)i);
        n_acc = rows.size();
        double t0 = now();
        exact_truth(base, qs, rows, (size_t)k, ftruth);
        truth_secs = now() - t0;
        truth = ftruth.data();
        tk = (size_t)k;
    }

    hnswlib::InnerProductSpace space((size_t)base.dim);
    size_t rss0 = rss_bytes();
    double t0 = now();
    hnswlib::HierarchicalNSW<float> h(&space, base.n, (size_t)m, (size_t)efc);
    std::atomic<size_t> next(0);
    auto worker = [&]() {
        for (size_t i; (i = next.fetch_add(1)) < base.n;)
            h.addPoint(base.f() + i * (size_t)base.dim, (hnswlib::labeltype)i);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; t++)
        pool.emplace_back(worker);
    worker();
    for (auto &t : pool)
        t.join();
    double build_secs = now() - t0;
    size_t rss1 = rss_bytes();
    if (filter)
        for (size_t i = 0; i < base.n; i++)
            if (!accepted(i, thr))
                h.markDelete((hnswlib::labeltype)i);

    size_t bytes = index_bytes(h);
    double bpv = (double)bytes / (double)base.n;
    double rss_bpv = rss1 > rss0 ? (double)(rss1 - rss0) / (double)base.n : 0;
    double vps = build_secs > 0 ? (double)base.n / build_secs : 0;
    std::vector<Run> runs;
    for (int ef : efs)
        runs.push_back(measure(h, qs, (size_t)k, ef, truth, tk));

    if (json) {
        printf("{");
        json_str("impl", "hnswlib");
        json_str("version", "0.6.2 (Debian libhnswlib-dev)");
        json_str("base", base_path);
        json_str("queries", query_path);
        json_str("truth", exact ? "exact" : truth_path);
        printf("\"n\":%zu,\"dim\":%d,\"nq\":%zu,\"k\":%d,\"m\":%d,\"ef_construction\":%d,"
               "\"threads\":%d,",
               base.n, base.dim, qs.n, k, m, efc, threads);
        if (filter)
            printf("\"filter_selectivity\":%.6g,", sel);
        else
            printf("\"filter_selectivity\":null,");
        printf("\"filter_accepted\":%zu,\"build_seconds\":%.6g,\"build_vectors_per_s\":%.6g,"
               "\"index_bytes\":%zu,\"bytes_per_vector\":%.6g,"
               "\"rss_growth_bytes_per_vector\":%.6g,\"runs\":[",
               n_acc, build_secs, vps, bytes, bpv, rss_bpv);
        for (size_t i = 0; i < runs.size(); i++)
            printf("%s{\"ef\":%d,\"recall\":%.6g,\"queries_per_s\":%.6g,"
                   "\"queries_per_cpu_s\":%.6g,\"p50_us\":%.5g,"
                   "\"p99_us\":%.5g,\"mean_us\":%.5g,\"timed_queries\":%zu}",
                   i ? "," : "", runs[i].ef, runs[i].recall, runs[i].qps, runs[i].cpu_qps,
                   runs[i].p50_us,
                   runs[i].p99_us, runs[i].mean_us, runs[i].timed);
        printf("]}\n");
        return 0;
    }
    char filt[160] = "none";
    if (filter)
        snprintf(filt, sizeof filt,
                 "hash(key) < %g: %zu of %zu pass (%.3g%%), exact truth in %.2f s; rejected "
                 "keys marked deleted",
                 sel, n_acc, base.n, 100.0 * (double)n_acc / (double)base.n, truth_secs);
    printf("bench ann     hnswlib 0.6.2 (Debian): HNSW m=%d ef_construction=%d, inner product\n"
           "data          %zu base x %d (%s), %zu queries, k=%d, truth %s\n"
           "filter        %s\n"
           "build         %.3f s, %.0f vectors/s (%d thread%s)\n"
           "memory        %.1f bytes/vector counted (%.1f MiB), RSS grew %.1f bytes/vector\n"
           "%-8s %9s %12s %12s %10s %10s   (queries single-threaded)\n",
           m, efc, base.n, base.dim, base_path, qs.n, k,
           exact ? "exact over the filtered set" : truth_path, filt, build_secs, vps, threads,
           threads == 1 ? "" : "s", bpv, (double)bytes / 1048576.0, rss_bpv, "ef", "recall@k",
           "queries/s", "q/cpu-s", "p50 us", "p99 us");
    for (const Run &r : runs)
        printf("%-8d %9.4f %12.0f %12.0f %10.1f %10.1f\n", r.ef, r.recall, r.qps, r.cpu_qps,
               r.p50_us, r.p99_us);
    return 0;
}
