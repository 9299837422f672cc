#include "core/metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

_Thread_local unsigned mni_metrics_tslot;
_Thread_local unsigned mni_metrics_tsample;

unsigned mni_metrics_shard_of_thread(void)
{
    static atomic_uint next;
    unsigned s = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) % MNI_METRICS_SHARDS;
    mni_metrics_tslot = s + 1;
    return s;
}

struct mni_metrics *mni_metrics_create(void)
{
    struct mni_metrics *m = calloc(1, sizeof *m);
    /* calloc, not an aligned allocation: its pages come zeroed from the kernel, untouched
     * until a thread writes its shard. Aligned by hand. */
    void *mem = m ? calloc(1, sizeof(struct mni_metrics_shard) * MNI_METRICS_SHARDS + 64) : NULL;
    if (!mem) {
        free(m);
        return NULL;
    }
    m->mem = mem;
    m->shards = (struct mni_metrics_shard *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    return m;
}

void mni_metrics_free(struct mni_metrics *m)
{
    if (m)
        free(m->mem);
    free(m);
}

static const double bounds_s[MNI_HIST_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1, 2.5, 5, 10,
};
static const uint64_t bounds_ns[MNI_HIST_BUCKETS] = {
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000u, 5000000000u, 10000000000u,
};

unsigned mni_metrics_bucket(uint64_t ns)
{
    unsigned i = 0;
    while (i < MNI_HIST_BUCKETS && ns > bounds_ns[i])
        i++;
    return i; /* MNI_HIST_BUCKETS: +Inf */
}

void mni_metrics_sum(const struct mni_metrics *m, uint64_t *vals)
{
    memset(vals, 0, sizeof(uint64_t) * MNI_SLOTS);
    if (!m)
        return;
    for (unsigned s = 0; s < MNI_METRICS_SHARDS; s++)
        for (unsigned i = 0; i < MNI_SLOTS; i++)
            vals[i] += atomic_load_explicit(&m->shards[s].v[i], memory_order_relaxed);
}

/* ---- the table ---------------------------------------------------------------------------- */

enum kind { COUNTER, GAUGE, HISTOGRAM };
enum source { LIVE, SNAP };

static const char *const op_names[] = {
#define MNI_X_(n) #n,
    MNI_METRIC_OPS(MNI_X_)
#undef MNI_X_
};
static const char *const code_names[MNI_CODES_N] = {
    "ok", "error", "invalid", "not_found", "exists", "denied", "limited", "backend",
    "no_memory", "unsupported", "corrupt", "range",
};
static const char *const result_names[MNI_RESULT_N] = { "allowed", "denied" };
static const char *const rl_names[MNI_RL_N] = { "allowed", "limited", "fail_open",
                                                "fail_closed" };
static const char *const path_names[MNI_PATH_N] = { "index", "exact", "server" };
static const char *const pool_names[MNI_POOL_N] = { "sqlite", "postgres", "redis" };
static const char *const jobs_names[MNI_JOBS_N] = { "pending", "failed" };
static const char *const cache_names[MNI_CACHE_N] = { "decision", "embedding", "apikey",
                                                           "identity", "memory", "search" };
static const char *const maint_names[MNI_MAINT_N] = { "wal_checkpoint", "index_save",
                                                      "feed_prune", "expired_purge",
                                                      "embed_cache_prune", "audit_prune",
                                                      "keyword_merge" };
static const char *const isize_names[MNI_ISIZE_N] = { "under_1k", "under_10k", "under_100k",
                                                      "under_1m", "1m_plus" };

/* A label set: up to two labels; the second varies fastest in the slots. */
struct label_set {
    const char *name[2];
    const char *const *values[2];
    unsigned n[2];            /* 0: no such label */
};

static const struct label_set label_sets[MNI_LS__COUNT] = {
    [MNI_LS_NONE] = { { NULL, NULL }, { NULL, NULL }, { 0, 0 } },
    [MNI_LS_OP_CODE] = { { "op", "code" }, { op_names, code_names },
                         { MNI_OP__COUNT, MNI_CODES_N } },
    [MNI_LS_OP] = { { "op", NULL }, { op_names, NULL }, { MNI_OP__COUNT, 0 } },
    [MNI_LS_RESULT] = { { "result", NULL }, { result_names, NULL }, { MNI_RESULT_N, 0 } },
    [MNI_LS_RL] = { { "result", NULL }, { rl_names, NULL }, { MNI_RL_N, 0 } },
    [MNI_LS_PATH] = { { "path", NULL }, { path_names, NULL }, { MNI_PATH_N, 0 } },
    [MNI_LS_POOL] = { { "pool", NULL }, { pool_names, NULL }, { MNI_POOL_N, 0 } },
    [MNI_LS_JOBS] = { { "status", NULL }, { jobs_names, NULL }, { MNI_JOBS_N, 0 } },
    [MNI_LS_CACHE] = { { "cache", NULL }, { cache_names, NULL }, { MNI_CACHE_N, 0 } },
    [MNI_LS_MAINT] = { { "task", NULL }, { maint_names, NULL }, { MNI_MAINT_N, 0 } },
    [MNI_LS_ISIZE] = { { "size", NULL }, { isize_names, NULL }, { MNI_ISIZE_N, 0 } },
};

struct family {
    const char *name, *help;
    enum kind kind;
    enum mni_label_set labels;
    double scale;
    unsigned slot;
};

static const struct family families[MNI_F__COUNT] = {
#define MNI_X_(id, type, src, ls, sc, nm, hp) \
    [MNI_F_##id] = { nm, hp, type, MNI_LS_##ls, sc, MNI_S_##id },
    MNI_METRIC_FAMILIES(MNI_X_)
#undef MNI_X_
};

/* ---- rendering ---------------------------------------------------------------------------- */

static const char *const kind_names[] = { "counter", "gauge", "histogram" };

struct out {
    FILE *f;
    int json;
    int first_series;
};

/* The labels of series i of a family, with an extra one (le) when le is not NULL. */
static void labels(struct out *o, const struct label_set *ls, unsigned i, const char *le)
{
    unsigned idx[2] = { 0, 0 };
    if (ls->n[1]) {
        idx[0] = i / ls->n[1];
        idx[1] = i % ls->n[1];
    } else {
        idx[0] = i;
    }
    int any = 0;
    fputs(o->json ? "{" : "", o->f);
    for (int k = 0; k < 2; k++) {
        if (!ls->n[k])
            continue;
        if (o->json)
            fprintf(o->f, "%s\"%s\":\"%s\"", any ? "," : "", ls->name[k], ls->values[k][idx[k]]);
        else
            fprintf(o->f, "%s%s=\"%s\"", any ? "," : "{", ls->name[k], ls->values[k][idx[k]]);
        any = 1;
    }
    if (le && !o->json) {
        fprintf(o->f, "%sle=\"%s\"", any ? "," : "{", le);
        any = 1;
    }
    fputs(o->json ? "}" : any ? "}" : "", o->f);
}

static void number(struct out *o, const struct family *fam, uint64_t v)
{
    if (fam->kind == GAUGE && fam->scale == 1)
        fprintf(o->f, "%" PRId64, (int64_t)v);
    else if (fam->scale == 1)
        fprintf(o->f, "%" PRIu64, v);
    else
        fprintf(o->f, "%.9g", (double)(int64_t)v * fam->scale);
}

static void series_start(struct out *o, const struct family *fam, const char *suffix,
                         const struct label_set *ls, unsigned i, const char *le)
{
    if (o->json) {
        fprintf(o->f, "%s{\"labels\":", o->first_series ? "" : ",");
        o->first_series = 0;
        labels(o, ls, i, NULL);
    } else {
        fprintf(o->f, "%s%s", fam->name, suffix);
        labels(o, ls, i, le);
        fputc(' ', o->f);
    }
}

static void histogram(struct out *o, const struct family *fam, const struct label_set *ls,
                      unsigned i, const uint64_t *v)
{
    uint64_t cum = 0;
    char le[32];
    if (o->json) {
        series_start(o, fam, "", ls, i, NULL);
        fputs(",\"buckets\":[", o->f);
    }
    for (unsigned b = 0; b <= MNI_HIST_BUCKETS; b++) {
        cum += v[b];
        if (b < MNI_HIST_BUCKETS)
            snprintf(le, sizeof le, "%g", bounds_s[b]);
        else
            snprintf(le, sizeof le, "+Inf");
        if (o->json) {
            fprintf(o->f, "%s{\"le\":\"%s\",\"count\":%" PRIu64 "}", b ? "," : "", le, cum);
        } else {
            series_start(o, fam, "_bucket", ls, i, le);
            fprintf(o->f, "%" PRIu64 "\n", cum);
        }
    }
    double sum = (double)v[MNI_HIST_BUCKETS + 1] * 1e-9;
    if (o->json) {
        fprintf(o->f, "],\"count\":%" PRIu64 ",\"sum\":%.9g}", cum, sum);
    } else {
        series_start(o, fam, "_sum", ls, i, NULL);
        fprintf(o->f, "%.9g\n", sum);
        series_start(o, fam, "_count", ls, i, NULL);
        fprintf(o->f, "%" PRIu64 "\n", cum);
    }
}

/* Whether series i of a family is left out: per-operation series of calls never made (the
 * families labelled by op would be mostly zeros); the "ok" series of an op stays once any
 * call of it was made. */
static int skipped(const struct family *fam, unsigned i, const uint64_t *vals)
{
    if (fam->labels == MNI_LS_OP_CODE) {
        unsigned op = i / MNI_CODES_N, any = 0;
        for (unsigned c = 0; c < MNI_CODES_N; c++)
            any |= vals[fam->slot + op * MNI_CODES_N + c] != 0;
        return !any || (vals[fam->slot + i] == 0 && i % MNI_CODES_N != 0);
    }
    if (fam->labels == MNI_LS_OP) {
        const uint64_t *v = vals + fam->slot + i * MNI_WIDTH_HISTOGRAM;
        for (unsigned b = 0; b <= MNI_HIST_BUCKETS; b++)
            if (v[b])
                return 0;
        return 1;
    }
    return 0;
}

int mni_metrics_render(const uint64_t *vals, int format, FILE *f)
{
    struct out o = { f, format == MNI_METRICS_FORMAT_JSON, 1 };
    if (o.json)
        fputs("{\"metrics\":[", f);
    for (unsigned k = 0; k < MNI_F__COUNT; k++) {
        const struct family *fam = &families[k];
        const struct label_set *ls = &label_sets[fam->labels];
        unsigned n = (ls->n[0] ? ls->n[0] : 1) * (ls->n[1] ? ls->n[1] : 1);
        if (o.json) {
            fprintf(f, "%s{\"name\":\"%s\",\"type\":\"%s\",\"help\":\"%s\",\"series\":[",
                    k ? "," : "", fam->name, kind_names[fam->kind], fam->help);
            o.first_series = 1;
        } else {
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name,
                    kind_names[fam->kind]);
        }
        for (unsigned i = 0; i < n; i++) {
            if (skipped(fam, i, vals))
                continue;
            if (fam->kind == HISTOGRAM) {
                histogram(&o, fam, ls, i, vals + fam->slot + i * MNI_WIDTH_HISTOGRAM);
                continue;
            }
            series_start(&o, fam, "", ls, i, NULL);
            if (o.json)
                fputs(",\"value\":", f);
            number(&o, fam, vals[fam->slot + i]);
            fputs(o.json ? "}" : "\n", f);
        }
        if (o.json)
            fputs("]}", f);
    }
    if (o.json)
        fputs("]}\n", f);
    return ferror(f) ? -1 : 0;
}
