/*
 * bench_ann.c — manushya bench ann: the standalone vector index (mn_ann_*) on .fvecs/.ivecs
 * files (ann_vecs.c): build speed, memory, save and load times (copied and mapped), and
 * recall@k, queries/s and latency for each ef. Prints the parameters with the figures;
 * asserts nothing.
 */
#include "ann_vecs.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define ANN_MAX_EFS 64
#define ANN_MIN_SECONDS 1.0 /* timed passes over the queries per ef: at least this long, */
#define ANN_MAX_PASSES 100  /* at least one pass and at most this many */
#define ANN_RUN_ROWS 65536  /* base vectors read and added at once */

/* "10,20,40" into efs[]; 0 on success. */
static int ann_parse_efs(const char *s, int *efs, int *nefs)
{
    *nefs = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > 100000 || *nefs >= ANN_MAX_EFS ||
            (*end && *end != ','))
            return -1;
        efs[(*nefs)++] = (int)v;
        s = *end ? end + 1 : end;
        if (*end && !*s)
            return -1; /* trailing comma */
    }
    return *nefs ? 0 : -1;
}

/* The filter's deterministic predicate: key passes when hash(key) / 2^64 < P (splitmix64's
 * finaliser, top 53 bits). tests/bench/hnswlib_bench.cc uses the same one. */
static uint64_t ann_hash(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static int ann_accept(void *ctx, int64_t key)
{
    return (ann_hash((uint64_t)key) >> 11) < *(const uint64_t *)ctx;
}

static float ann_dot(const float *a, const float *b, int d)
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

/* Exact top-k by inner product among the base rows the filter accepts, fed a run of rows at a
 * time as the base is read (so the base is read once and never held whole): ids (nq * k, best
 * first; equal scores: smaller id first; -1 past the end once finished) with their scores. */
typedef struct ann_truth {
    size_t k, accepted;
    uint64_t thr;
    float *best;  /* nq * k */
    size_t *have; /* per query */
    int32_t *ids; /* nq * k */
    double secs;
} ann_truth;

static void ann_truth_feed(ann_truth *t, const ann_vecs *qs, const float *rows, size_t first,
                           size_t count)
{
    double t0 = cli_now();
    int d = qs->dim;
    size_t k = t->k;
    for (size_t r = 0; r < count; r++) {
        int32_t id = (int32_t)(first + r);
        if (!ann_accept(&t->thr, id))
            continue;
        t->accepted++;
        const float *v = rows + r * (size_t)d;
        for (size_t qi = 0; qi < qs->n; qi++) {
            float s = ann_dot((const float *)qs->data + qi * (size_t)d, v, d);
            float *best = t->best + qi * k;
            int32_t *ids = t->ids + qi * k;
            if (t->have[qi] == k && !(s > best[k - 1]))
                continue; /* ids ascend: an equal score loses to the smaller id kept */
            size_t j = t->have[qi] < k ? t->have[qi]++ : k - 1;
            while (j > 0 && s > best[j - 1]) {
                best[j] = best[j - 1];
                ids[j] = ids[j - 1];
                j--;
            }
            best[j] = s;
            ids[j] = id;
        }
    }
    t->secs += cli_now() - t0;
}

static void ann_truth_finish(ann_truth *t, size_t nq)
{
    for (size_t qi = 0; qi < nq; qi++)
        for (size_t j = t->have[qi]; j < t->k; j++)
            t->ids[qi * t->k + j] = -1;
}

static size_t ann_peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (size_t)ru.ru_maxrss * 1024 : 0; /* Linux: KiB */
}

/* The resident set, and into *anon its anonymous part (the rest is mapped files: page cache the
 * kernel may drop, shared with other processes). */
static size_t ann_rss_bytes(size_t *anon)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib, rss = 0;
    *anon = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
            rss = kib * 1024;
        else if (sscanf(line, "RssAnon: %llu kB", &kib) == 1)
            *anon = (size_t)kib * 1024;
    }
    fclose(f);
    return (size_t)rss;
}

typedef struct ann_run {
    int ef;
    double recall, qps, cpu_qps, p50_us, p99_us, mean_us;
    size_t timed; /* queries timed (passes x queries) */
} ann_run;

/* Recall@k of the results against truth[qi * tk ..] (its first k, fewer when the filtered set
 * is smaller), averaged over the queries. */
static double ann_recall(const int64_t *got, const size_t *ngot, const int32_t *truth, size_t tk,
                         size_t nq, size_t k)
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

static int ann_measure(mn_ann *a, const ann_vecs *qs, size_t k, int ef, mn_ann_accept_fn accept,
                       void *ctx, const int32_t *truth, size_t tk, ann_run *r)
{
    size_t nq = qs->n, cap = nq * 8;
    int64_t *got = malloc(nq * k * sizeof *got);
    size_t *ngot = malloc(nq * sizeof *ngot);
    double *lat = malloc(cap * sizeof *lat);
    int rc = MN_OK;
    if (!got || !ngot || !lat) {
        free(got);
        free(ngot);
        free(lat);
        return cli_error("bench: out of memory for %zu queries", nq);
    }
    /* untimed pass: warms the caches and gives the results for recall */
    for (size_t qi = 0; qi < nq && rc == MN_OK; qi++)
        rc = mn_ann_search_filtered(a, (const float *)qs->data + qi * (size_t)qs->dim, k, ef,
                                    accept, ctx, got + qi * k, NULL, &ngot[qi]);
    size_t timed = 0;
    double total = 0, cpu0 = cli_thread_cpu();
    int64_t keys[1024];
    for (int pass = 0; rc == MN_OK && pass < ANN_MAX_PASSES &&
                       (pass == 0 || total < ANN_MIN_SECONDS); pass++) {
        if (timed + nq > cap) {
            double *nl = realloc(lat, (cap *= 2) * sizeof *lat);
            if (!nl) {
                rc = MN_ENOMEM;
                break;
            }
            lat = nl;
        }
        double t0 = cli_now();
        for (size_t qi = 0; qi < nq && rc == MN_OK; qi++) {
            size_t m;
            double s = cli_now();
            rc = mn_ann_search_filtered(a, (const float *)qs->data + qi * (size_t)qs->dim, k, ef,
                                        accept, ctx, keys, NULL, &m);
            lat[timed++] = (cli_now() - s) * 1e6;
        }
        total += cli_now() - t0;
    }
    if (rc == MN_OK) {
        cli_latency l = cli_latency_of(lat, timed);
        r->ef = ef;
        r->recall = ann_recall(got, ngot, truth, tk, nq, k);
        /* This thread's CPU time: what a search costs when other processes share the cores
         * (wall-clock queries/s also counts the time the scheduler gave to them). */
        double cpu = cli_thread_cpu() - cpu0;
        r->qps = total > 0 ? (double)timed / total : 0;
        r->cpu_qps = cpu > 0 ? (double)timed / cpu : 0;
        r->p50_us = l.p50;
        r->p99_us = l.p99;
        r->mean_us = l.mean;
        r->timed = timed;
    }
    free(got);
    free(ngot);
    free(lat);
    if (rc != MN_OK)
        return cli_error("bench: search at ef %d: %s", ef, mn_errmsg(NULL));
    return CLI_EXIT_OK;
}

/* Saves the index to a file in a new temporary directory and loads it back three times,
 * timing each: the first load follows the write at once (the kernel may still be writing the
 * pages back), the second is what opening an index saved earlier costs when the file is in the
 * page cache, and the resident memory it takes; the third loads with MN_ANN_LOAD_MAP (the
 * floats left in the file's pages) and is kept in *a for the caller to search (the file is
 * removed; its pages stay mapped). The index is freed once saved, so that a loaded copy never
 * sits beside it: at 10M vectors each is about 21 GB. Each loaded copy must hold as many keys
 * as the original. */
typedef struct ann_persist {
    double save_secs, load_secs, reload_secs, map_secs;
    double reload_cpu_secs, map_cpu_secs; /* the loading thread's: steadier under load */
    size_t count; /* keys the saved index holds */
    size_t file_bytes, reload_rss_bytes, reload_anon_bytes;
    size_t map_owned_bytes, map_rss_bytes, map_anon_bytes;
} ann_persist;

/* Saves a to path (timed) and notes its key count and the file's size. */
static int ann_save(const mn_ann *a, const char *path, ann_persist *out)
{
    double t0 = cli_now();
    if (mn_ann_save(a, path) != MN_OK)
        return cli_error("bench: saving the index: %s", mn_errmsg(NULL));
    out->save_secs = cli_now() - t0;
    out->count = mn_ann_count(a);
    struct stat sb;
    out->file_bytes = stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
    return CLI_EXIT_OK;
}

/* One timed load of the saved index into *back: pass 0 right after the save (or first from
 * --load's file), pass 1 again from the page cache, both copied; pass 2 with MN_ANN_LOAD_MAP.
 * A load whose key count differs from the saved one (pass 0 sets it for --load) is an error. */
static int ann_load_pass(const char *path, int pass, ann_persist *out, mn_ann **back)
{
    size_t anon0, anon1, rss0 = ann_rss_bytes(&anon0);
    double cpu0 = cli_thread_cpu(), t0 = cli_now();
    if (mn_ann_load_v2(path, pass == 2 ? MN_ANN_LOAD_MAP : 0, back) != MN_OK)
        return cli_error("bench: loading the saved index %s: %s", path, mn_errmsg(NULL));
    double secs = cli_now() - t0, cpu = cli_thread_cpu() - cpu0;
    size_t rss1 = ann_rss_bytes(&anon1);
    if (pass)
        *(pass == 1 ? &out->reload_cpu_secs : &out->map_cpu_secs) = cpu;
    *(pass == 0 ? &out->load_secs : pass == 1 ? &out->reload_secs : &out->map_secs) = secs;
    *(pass < 2 ? &out->reload_rss_bytes : &out->map_rss_bytes) = rss1 > rss0 ? rss1 - rss0 : 0;
    *(pass < 2 ? &out->reload_anon_bytes : &out->map_anon_bytes) =
        anon1 > anon0 ? anon1 - anon0 : 0;
    if (pass == 2)
        out->map_owned_bytes = mn_ann_bytes(*back);
    if (!out->count)
        out->count = mn_ann_count(*back);
    if (mn_ann_count(*back) != out->count)
        return cli_error("bench: the loaded index holds %zu keys, the saved one %zu",
                         mn_ann_count(*back), out->count);
    return CLI_EXIT_OK;
}

/* The runs of one index as a JSON array. */
static cJSON *ann_runs_json(const ann_run *runs, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "ef", runs[i].ef);
        cJSON_AddItemToObject(r, "recall", cli_json_number(runs[i].recall, 6));
        cJSON_AddItemToObject(r, "queries_per_s", cli_json_number(runs[i].qps, 6));
        cJSON_AddItemToObject(r, "queries_per_cpu_s", cli_json_number(runs[i].cpu_qps, 6));
        cJSON_AddItemToObject(r, "p50_us", cli_json_number(runs[i].p50_us, 5));
        cJSON_AddItemToObject(r, "p99_us", cli_json_number(runs[i].p99_us, 5));
        cJSON_AddItemToObject(r, "mean_us", cli_json_number(runs[i].mean_us, 5));
        cJSON_AddNumberToObject(r, "timed_queries", (double)runs[i].timed);
        cJSON_AddItemToArray(arr, r);
    }
    return arr;
}

/* The runs of one index as table rows. */
static void ann_runs_print(const ann_run *runs, int n)
{
    for (int i = 0; i < n; i++)
        printf("%-8d %9.4f %12.0f %12.0f %10.1f %10.1f\n", runs[i].ef, runs[i].recall,
               runs[i].qps, runs[i].cpu_qps, runs[i].p50_us, runs[i].p99_us);
}

/* The index being measured and what its build (or --load) left to print. */
typedef struct ann_subject {
    mn_ann *a;
    size_t n;            /* vectors indexed (keys 0 .. n - 1) */
    int dim;
    size_t accepted;     /* of them, those the filter passes */
    double build_secs;
    size_t rss_growth;   /* of the resident set during the build */
    size_t bytes;        /* the built (or copied) index's, by mn_ann_bytes */
} ann_subject;

/* Builds the index of the base file, a run of rows at a time, so that the base is never held
 * whole beside the index (at 10M x 384 each is 15 GB); under a filter, the exact truth over
 * the rows it accepts is computed from the same runs. The buffers are touched before the
 * resident size is first read, so that its growth is the index's. */
static int ann_build(cli_ctx *c, ann_vecs_file *base, const mn_ann_params *prm, int threads,
                     const ann_vecs *qs, ann_truth *ft, ann_subject *out)
{
    size_t run = base->n < ANN_RUN_ROWS ? base->n : ANN_RUN_ROWS;
    float *rows = malloc(run * (size_t)base->dim * sizeof *rows);
    int64_t *keys = malloc(run * sizeof *keys);
    char why[4096];
    int rc = CLI_EXIT_ERROR;
    if (!rows || !keys) {
        cli_error("bench: out of memory for runs of %zu vectors", run);
        goto out;
    }
    memset(rows, 0, run * (size_t)base->dim * sizeof *rows);
    memset(keys, 0, run * sizeof *keys);
    int mrc = mn_ann_create(base->dim, prm, &out->a);
    if (mrc != MN_OK) {
        rc = mrc == MN_EINVAL ? cli_usage_error(c, "%s", mn_errmsg(NULL))
                              : cli_error("bench: %s", mn_errmsg(NULL));
        goto out;
    }
    size_t anon, rss0 = ann_rss_bytes(&anon);
    for (size_t first = 0; first < base->n; first += run) {
        size_t cnt = base->n - first < run ? base->n - first : run;
        if (ann_vecs_rows(base, first, cnt, rows, why, sizeof why) != 0) {
            cli_error("bench: %s", why);
            goto out;
        }
        if (ft->best)
            ann_truth_feed(ft, qs, rows, first, cnt);
        for (size_t i = 0; i < cnt; i++)
            keys[i] = (int64_t)(first + i);
        double t0 = cli_now();
        mrc = mn_ann_add_many(out->a, keys, rows, cnt, threads);
        out->build_secs += cli_now() - t0;
        if (mrc != MN_OK) {
            cli_error("bench: building the index: %s", mn_errmsg(NULL));
            goto out;
        }
    }
    size_t rss1 = ann_rss_bytes(&anon);
    out->rss_growth = rss1 > rss0 ? rss1 - rss0 : 0;
    out->accepted = ft->best ? ft->accepted : base->n;
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK) {
        mn_ann_free(out->a);
        out->a = NULL;
    }
    free(rows);
    free(keys);
    return rc;
}

/* The options of one run, parsed and checked. */
typedef struct ann_opts {
    const char *base, *queries, *truth, *save, *load, *quantize;
    int k, m, efc, threads, rerank, qmode;
    int filter_given;
    double sel;
    int efs[ANN_MAX_EFS], nefs;
} ann_opts;

/* Parses and checks the options into *o: CLI_CONTINUE, or the exit code of a usage error (or
 * of --help). */
static int ann_parse_opts(cli_ctx *c, int argc, char **argv, ann_opts *o)
{
    const char *ef_list = "10,20,40,80,160";
    *o = (ann_opts){.quantize = "float32", .k = 10, .m = 16, .efc = 64, .threads = 1,
                    .sel = 1.0};
    const cli_opt opts[] = {{"base", CLI_OPT_STR, &o->base, NULL},
                            {"queries", CLI_OPT_STR, &o->queries, NULL},
                            {"truth", CLI_OPT_STR, &o->truth, NULL},
                            {"k", CLI_OPT_INT, &o->k, NULL},
                            {"m", CLI_OPT_INT, &o->m, NULL},
                            {"ef-construction", CLI_OPT_INT, &o->efc, NULL},
                            {"ef", CLI_OPT_STR, &ef_list, NULL},
                            {"threads", CLI_OPT_INT, &o->threads, NULL},
                            {"filter-selectivity", CLI_OPT_NUM, &o->sel, &o->filter_given},
                            {"quantize", CLI_OPT_STR, &o->quantize, NULL},
                            {"rerank", CLI_OPT_INT, &o->rerank, NULL},
                            {"save", CLI_OPT_STR, &o->save, NULL},
                            {"load", CLI_OPT_STR, &o->load, NULL},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!!o->base == !!o->load)
        return cli_usage_error(c, "give --base (build an index) or --load (a saved one), "
                                  "one of them");
    if (!o->queries || !o->truth)
        return cli_usage_error(c, "--queries and --truth are required");
    if (o->load && (o->save || o->filter_given))
        return cli_usage_error(c, "--%s needs --base: --load measures the saved index as it is",
                               o->save ? "save" : "filter-selectivity");
    if (ann_parse_efs(ef_list, o->efs, &o->nefs) != 0)
        return cli_usage_error(c, "--ef: expected a comma-separated list of 1 to %d integers "
                                  "from 1 to 100000, got '%s'",
                               ANN_MAX_EFS, ef_list);
    if (o->k < 1 || o->k > 1024)
        return cli_usage_error(c, "--k must be 1 to 1024");
    if (o->threads < 1 || o->threads > 64)
        return cli_usage_error(c, "--threads must be 1 to 64");
    if (o->filter_given && !(o->sel > 0 && o->sel <= 1))
        return cli_usage_error(c, "--filter-selectivity must be above 0 and at most 1");
    o->qmode = strcmp(o->quantize, "int8") == 0 ? MN_ANN_INT8 : MN_ANN_FLOAT32;
    if (o->qmode == MN_ANN_FLOAT32 && strcmp(o->quantize, "float32") != 0)
        return cli_usage_error(c, "--quantize must be float32 or int8, got '%s'", o->quantize);
    return CLI_CONTINUE;
}

/* Checks that the queries and the truth file fit the index of sub (read from src): the same
 * dimension, something to search, truth rows that name its vectors. CLI_EXIT_OK or an error
 * said. */
static int ann_check_inputs(const ann_opts *o, const char *src, const ann_subject *sub,
                            const ann_vecs *qs, const ann_vecs *tr)
{
    if (qs->dim != sub->dim)
        return cli_error("bench: %s has dimension %d but %s has %d", o->queries, qs->dim, src,
                         sub->dim);
    if (!sub->n || !qs->n)
        return cli_error("bench: %s holds no vectors", sub->n ? o->queries : src);
    if (sub->n > INT32_MAX)
        return cli_error("bench: %s holds %zu vectors, more than the truth file's ids can name",
                         src, sub->n);
    if (!tr->data)
        return CLI_EXIT_OK;
    if (tr->n != qs->n)
        return cli_error("bench: %s has %zu rows but %s has %zu queries", o->truth, tr->n,
                         o->queries, qs->n);
    if ((size_t)tr->dim < (size_t)o->k)
        return cli_error("bench: %s gives %d neighbours per query, fewer than --k %d", o->truth,
                         tr->dim, o->k);
    const int32_t *t = tr->data;
    for (size_t i = 0; i < tr->n * (size_t)tr->dim; i++)
        if (t[i] < 0 || (size_t)t[i] >= sub->n)
            return cli_error("bench: %s: row %zu names base vector %d, outside 0 .. %zu",
                             o->truth, i / (size_t)tr->dim, (int)t[i], sub->n - 1);
    return CLI_EXIT_OK;
}

/* What one run measured, for the printers. */
typedef struct ann_report {
    const ann_opts *o;
    const ann_subject *sub;
    const ann_persist *persist;
    size_t nq;
    int exact;             /* the truth computed over the filtered set */
    double truth_secs;     /* ...in this long */
    const ann_run *runs;   /* per ef: the built (or copied) index */
    const ann_run *mruns;  /* per ef: the mapped one */
} ann_report;

static double ann_per_vector(const ann_report *r, size_t bytes)
{
    return (double)bytes / (double)r->sub->n;
}

static double ann_build_rate(const ann_subject *sub)
{
    return sub->build_secs > 0 ? (double)sub->n / sub->build_secs : 0;
}

/* All but the keys, states and levels (10 bytes a vector, read) of a mapped file stays in its
 * pages. */
static double ann_mapped_per_vector(const ann_report *r)
{
    return ann_per_vector(r, r->persist->file_bytes) - 10.0;
}

static void ann_add_string_or_null(cJSON *o, const char *name, const char *value)
{
    if (value)
        cJSON_AddStringToObject(o, name, value);
    else
        cJSON_AddNullToObject(o, name);
}

static int ann_print_json(const ann_report *r)
{
    const ann_opts *a = r->o;
    const ann_subject *sub = r->sub;
    const ann_persist *p = r->persist;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "impl", "libmanushya");
    cJSON_AddStringToObject(o, "version", mn_version());
    ann_add_string_or_null(o, "base", a->base);
    ann_add_string_or_null(o, "load", a->load);
    ann_add_string_or_null(o, "save", a->save);
    cJSON_AddStringToObject(o, "queries", a->queries);
    cJSON_AddStringToObject(o, "truth", r->exact ? "exact" : a->truth);
    cJSON_AddNumberToObject(o, "n", (double)sub->n);
    cJSON_AddNumberToObject(o, "dim", sub->dim);
    cJSON_AddNumberToObject(o, "nq", (double)r->nq);
    cJSON_AddNumberToObject(o, "k", a->k);
    if (a->base) { /* a loaded index keeps its file's parameters, not given here */
        cJSON_AddNumberToObject(o, "m", a->m);
        cJSON_AddNumberToObject(o, "ef_construction", a->efc);
        cJSON_AddNumberToObject(o, "threads", a->threads);
        cJSON_AddStringToObject(o, "quantize", a->quantize);
        cJSON_AddNumberToObject(o, "rerank", a->rerank);
    }
    if (a->filter_given)
        cJSON_AddItemToObject(o, "filter_selectivity", cli_json_number(a->sel, 6));
    else
        cJSON_AddNullToObject(o, "filter_selectivity");
    cJSON_AddNumberToObject(o, "filter_accepted", (double)sub->accepted);
    cJSON_AddItemToObject(o, "build_seconds", cli_json_number(sub->build_secs, 6));
    cJSON_AddItemToObject(o, "build_vectors_per_s", cli_json_number(ann_build_rate(sub), 6));
    cJSON_AddNumberToObject(o, "index_bytes", (double)sub->bytes);
    cJSON_AddItemToObject(o, "bytes_per_vector",
                          cli_json_number(ann_per_vector(r, sub->bytes), 6));
    cJSON_AddItemToObject(o, "rss_growth_bytes_per_vector",
                          cli_json_number(ann_per_vector(r, sub->rss_growth), 6));
    cJSON_AddItemToObject(o, "save_seconds", cli_json_number(p->save_secs, 6));
    cJSON_AddItemToObject(o, "load_seconds", cli_json_number(p->load_secs, 6));
    cJSON_AddItemToObject(o, "reload_seconds", cli_json_number(p->reload_secs, 6));
    cJSON_AddItemToObject(o, "reload_cpu_seconds", cli_json_number(p->reload_cpu_secs, 6));
    cJSON_AddNumberToObject(o, "file_bytes", (double)p->file_bytes);
    cJSON_AddItemToObject(o, "reload_rss_bytes_per_vector",
                          cli_json_number(ann_per_vector(r, p->reload_rss_bytes), 6));
    cJSON_AddItemToObject(o, "reload_anon_bytes_per_vector",
                          cli_json_number(ann_per_vector(r, p->reload_anon_bytes), 6));
    cJSON_AddItemToObject(o, "peak_rss_mib",
                          cli_json_number((double)ann_peak_rss_bytes() / 1048576.0, 6));
    cJSON_AddItemToObject(o, "runs", ann_runs_json(r->runs, a->nefs));
    cJSON_AddItemToObject(o, "map_load_seconds", cli_json_number(p->map_secs, 6));
    cJSON_AddItemToObject(o, "map_load_cpu_seconds", cli_json_number(p->map_cpu_secs, 6));
    cJSON_AddItemToObject(o, "map_bytes_per_vector",
                          cli_json_number(ann_per_vector(r, p->map_owned_bytes), 6));
    cJSON_AddItemToObject(o, "map_mapped_bytes_per_vector",
                          cli_json_number(ann_mapped_per_vector(r), 6));
    cJSON_AddItemToObject(o, "map_anon_bytes_per_vector",
                          cli_json_number(ann_per_vector(r, p->map_anon_bytes), 6));
    cJSON_AddItemToObject(o, "map_runs", ann_runs_json(r->mruns, a->nefs));
    return cli_json_emit(o);
}

static void ann_print_text(const ann_report *r)
{
    const ann_opts *a = r->o;
    const ann_subject *sub = r->sub;
    const ann_persist *p = r->persist;
    char filt[128] = "none";
    if (a->filter_given)
        snprintf(filt, sizeof filt, "hash(key) < %g: %zu of %zu pass (%.3g%%), exact truth in "
                 "%.2f s", a->sel, sub->accepted, sub->n,
                 100.0 * (double)sub->accepted / (double)sub->n, r->truth_secs);
    char rr[32] = "all", built[160], kind[160], saved[64] = "(saved before)";
    if (a->rerank)
        snprintf(rr, sizeof rr, "%d", a->rerank);
    if (a->base) {
        int int8 = a->qmode == MN_ANN_INT8;
        snprintf(kind, sizeof kind, "m=%d ef_construction=%d, inner product, %s%s%s", a->m,
                 a->efc, a->quantize, int8 ? " codes, re-ranked: " : "", int8 ? rr : "");
        snprintf(built, sizeof built, "%.3f s, %.0f vectors/s (%d thread%s)", sub->build_secs,
                 ann_build_rate(sub), a->threads, a->threads == 1 ? "" : "s");
        snprintf(saved, sizeof saved, "save %.3f s,", p->save_secs);
    } else {
        snprintf(kind, sizeof kind, "inner product, the saved file's parameters");
        snprintf(built, sizeof built, "none: loaded from %s", a->load);
    }
    printf("bench ann     libmanushya %s: HNSW %s\n"
           "data          %zu base x %d (%s), %zu queries, k=%d, truth %s\n"
           "filter        %s\n"
           "build         %s\n"
           "memory        %.1f bytes/vector reported (%.1f MiB), RSS grew %.1f bytes/vector, "
           "peak RSS %.0f MiB\n"
           "persistence   %s load %.3f s at once, %.3f s again (%.3f s of CPU; file "
           "%.1f MiB, checksums and structure checked)\n"
           "loaded again  RSS grew %.1f bytes/vector, %.1f of them anonymous\n"
           "%-8s %9s %12s %12s %10s %10s   (queries single-threaded; the %s index)\n",
           mn_version(), kind, sub->n, sub->dim, a->base ? a->base : a->load, r->nq, a->k,
           r->exact ? "exact over the filtered set" : a->truth, filt, built,
           ann_per_vector(r, sub->bytes), (double)sub->bytes / 1048576.0,
           ann_per_vector(r, sub->rss_growth), (double)ann_peak_rss_bytes() / 1048576.0, saved,
           p->load_secs, p->reload_secs, p->reload_cpu_secs,
           (double)p->file_bytes / 1048576.0, ann_per_vector(r, p->reload_rss_bytes),
           ann_per_vector(r, p->reload_anon_bytes), "ef", "recall@k", "queries/s", "q/cpu-s",
           "p50 us", "p99 us", a->base ? "built" : "loaded");
    ann_runs_print(r->runs, a->nefs);
    printf("loaded mapped %.3f s, %.3f s of CPU (MN_ANN_LOAD_MAP): %.1f bytes/vector of its "
           "own (mn_ann_bytes), %.1f of the file (floats, codes, links) read from its pages; "
           "anonymous memory grew %.1f bytes/vector\n"
           "%-8s %9s %12s %12s %10s %10s   (the mapped index, the same graph)\n",
           p->map_secs, p->map_cpu_secs, ann_per_vector(r, p->map_owned_bytes),
           ann_mapped_per_vector(r), ann_per_vector(r, p->map_anon_bytes), "ef", "recall@k",
           "queries/s", "q/cpu-s", "p50 us", "p99 us");
    ann_runs_print(r->mruns, a->nefs);
}

/* Every ef of the list, searched on a: the runs, in order. */
static int ann_measure_all(mn_ann *a, const ann_opts *o, const ann_vecs *qs, uint64_t *thr,
                           const ann_vecs *tr, ann_run *runs)
{
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < o->nefs && rc == CLI_EXIT_OK; i++)
        rc = ann_measure(a, qs, (size_t)o->k, o->efs[i], o->filter_given ? ann_accept : NULL,
                         thr, tr->data, (size_t)tr->dim, &runs[i]);
    return rc;
}

int cli_bench_ann(cli_ctx *c, int argc, char **argv)
{
    ann_opts o;
    int rc = ann_parse_opts(c, argc, argv, &o);
    if (rc != CLI_CONTINUE)
        return rc;
    ann_vecs_file base = {.fd = -1};
    ann_vecs qs = {0}, tr = {0};
    ann_truth ft = {0};
    ann_subject sub = {0};
    ann_persist persist = {0};
    ann_run runs[ANN_MAX_EFS], mruns[ANN_MAX_EFS];
    char why[4096], dir[CLI_TEMP_DIR_MAX] = "", tmp[CLI_TEMP_DIR_MAX + 16];
    const char *src = o.base ? o.base : o.load;
    if (o.base && ann_vecs_open(o.base, 1, &base, why, sizeof why) != 0)
        return cli_error("bench: %s", why);
    rc = CLI_EXIT_ERROR;
    if (ann_read_vecs(o.queries, 1, &qs, why, sizeof why) != 0 ||
        ((!o.filter_given || o.sel >= 1) &&
         ann_read_vecs(o.truth, 0, &tr, why, sizeof why) != 0)) {
        cli_error("bench: %s", why);
        goto out;
    }
    /* A saved index is loaded (copied) twice first: the second copy is the one searched as a
     * built one would be. */
    if (o.load) {
        for (int pass = 0; pass < 2; pass++) {
            mn_ann_free(sub.a);
            sub.a = NULL;
            if (ann_load_pass(o.load, pass, &persist, &sub.a) != CLI_EXIT_OK)
                goto out;
        }
        sub.n = sub.accepted = mn_ann_count(sub.a);
        sub.dim = mn_ann_dim(sub.a);
    } else {
        sub.n = base.n;
        sub.dim = base.dim;
    }
    if (ann_check_inputs(&o, src, &sub, &qs, &tr) != CLI_EXIT_OK)
        goto out;

    uint64_t thr = o.sel >= 1 ? (1ULL << 53) : (uint64_t)(o.sel * 9007199254740992.0);
    int exact = o.filter_given && o.sel < 1;
    if (exact) {
        size_t nk = qs.n * (size_t)o.k;
        ft = (ann_truth){.k = (size_t)o.k, .thr = thr, .best = malloc(nk * sizeof *ft.best),
                         .have = calloc(qs.n, sizeof *ft.have), .ids = malloc(nk * sizeof *ft.ids)};
        tr = (ann_vecs){.n = qs.n, .dim = o.k, .data = ft.ids};
        if (!ft.best || !ft.have || !ft.ids) {
            cli_error("bench: out of memory for the exact truth of %zu queries", qs.n);
            goto out;
        }
    }
    const mn_ann_params prm = {.version = MN_ANN_PARAMS_VERSION, .m = o.m,
                               .ef_construction = o.efc, .quantize = o.qmode,
                               .rerank = o.rerank};
    if (o.base) {
        rc = ann_build(c, &base, &prm, o.threads, &qs, &ft, &sub);
        if (rc != CLI_EXIT_OK)
            goto out;
        rc = CLI_EXIT_ERROR;
        if (exact)
            ann_truth_finish(&ft, qs.n);
    }
    sub.bytes = mn_ann_bytes(sub.a);
    rc = ann_measure_all(sub.a, &o, &qs, &thr, &tr, runs);
    if (rc != CLI_EXIT_OK)
        goto out;
    /* A built index is saved (to --save's file, kept, or a temporary one) and loaded back
     * twice, each copy freed before the next load, as a process opening it would. */
    const char *path = o.load ? o.load : o.save;
    if (!path) {
        rc = cli_temp_dir("bench-ann", dir, sizeof dir);
        if (rc != CLI_EXIT_OK)
            goto out;
        snprintf(tmp, sizeof tmp, "%s/index", dir);
        path = tmp;
    }
    rc = CLI_EXIT_ERROR;
    if (o.base) {
        if (ann_save(sub.a, path, &persist) != CLI_EXIT_OK)
            goto out;
        for (int pass = 0; pass < 2; pass++) {
            mn_ann_free(sub.a);
            sub.a = NULL;
            if (ann_load_pass(path, pass, &persist, &sub.a) != CLI_EXIT_OK)
                goto out;
        }
    } else {
        struct stat sb;
        persist.file_bytes = stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
    }
    mn_ann_free(sub.a);
    sub.a = NULL;
    if (ann_load_pass(path, 2, &persist, &sub.a) != CLI_EXIT_OK)
        goto out;
    /* The mapped index searched as the built one was: the same graph, so the same recall; the
     * speed tells what reading the floats from the file's pages costs. */
    rc = ann_measure_all(sub.a, &o, &qs, &thr, &tr, mruns);
    if (rc != CLI_EXIT_OK)
        goto out;
    const ann_report report = {.o = &o, .sub = &sub, .persist = &persist, .nq = qs.n,
                               .exact = exact, .truth_secs = ft.secs, .runs = runs,
                               .mruns = mruns};
    if (c->json)
        rc = ann_print_json(&report);
    else
        ann_print_text(&report);
out:
    mn_ann_free(sub.a);
    if (*dir)
        cli_temp_dir_remove(dir);
    ann_vecs_close(&base);
    free(qs.data);
    free(tr.data); /* the exact truth's ids when filtered */
    free(ft.best);
    free(ft.have);
    return rc;
}
