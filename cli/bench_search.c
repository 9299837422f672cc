/*
 * bench_search.c — manushya bench search: what each search mode finds, and how fast, on a
 * generated corpus whose answers are known. Runs on a fresh temporary database (tenant
 * "bench", agent "bench-agent"), removed afterwards.
 *
 * The corpus: N memories, each six words naming six of 4096 concepts; every concept has three
 * synonyms (made-up words of three syllables). One memory in ten also holds a code such as
 * "ord483920", unique to it. The bench's own embedder (a plug-in: mn_config.embedder_plugin)
 * knows concepts, not words: synonyms embed alike, and a word with a digit (a code) not at all,
 * as a model's vocabulary blurs an order number.
 *
 * Three classes of queries, each with one right answer, its target memory:
 *   rare:    the target's code and two of its words (the embedder cannot see the code);
 *   keyword: three of the target's words, verbatim (no paraphrase);
 *   vector:  four of the target's concepts, each through another synonym (no word shared).
 * For every mode and class: recall@k (the target among the first k) and MRR (1/its rank,
 * 0 beyond k); for every mode the latency of its searches, p50 and p99. Asserts nothing.
 */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONCEPTS 4096
#define SYNONYMS 3
#define WORDS_PER_MEMORY 6
#define DIM 256
#define CODE_EVERY 10
#define BATCH 1000
#define TEXT_MAX 128

enum { RARE, KEYWORD, VECTOR, CLASSES };
static const char *const class_names[CLASSES] = {"rare", "keyword", "vector"};
static const int modes[] = {MN_SEARCH_VECTOR, MN_SEARCH_KEYWORD, MN_SEARCH_HYBRID};
#define MODES 3

static const char consonants[] = "bdfgklmnprstvzh", vowels[] = "aeiou";
#define SYLLABLES ((sizeof consonants - 1) * (sizeof vowels - 1))

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Synonym s of concept c: three syllables, so that a word tells its concept back. */
static void word_of(int c, int s, char *out)
{
    unsigned x = (unsigned)(c * SYNONYMS + s);
    for (int i = 0; i < 3; i++, x /= SYLLABLES) {
        out[2 * i] = consonants[x % SYLLABLES / (sizeof vowels - 1)];
        out[2 * i + 1] = vowels[x % SYLLABLES % (sizeof vowels - 1)];
    }
    out[6] = '\0';
}

/* The concept of a six-letter made-up word, or -1 (a code, or any other word). */
static int concept_of(const char *w, size_t len)
{
    if (len != 6)
        return -1;
    unsigned x = 0, scale = 1;
    for (int i = 0; i < 3; i++, scale *= SYLLABLES) {
        const char *c = memchr(consonants, w[2 * i], sizeof consonants - 1);
        const char *v = memchr(vowels, w[2 * i + 1], sizeof vowels - 1);
        if (!c || !v)
            return -1;
        x += scale * (unsigned)((c - consonants) * (int)(sizeof vowels - 1) + (v - vowels));
    }
    return x / SYNONYMS < CONCEPTS ? (int)(x / SYNONYMS) : -1;
}

/* The embedder: a bag of concepts, each spread over two of DIM coordinates. */
static int concept_embed(void *ctx, const char *const *texts, size_t n, float *out,
                         char *errbuf, size_t errlen)
{
    (void)ctx, (void)errbuf, (void)errlen;
    for (size_t i = 0; i < n; i++) {
        float *v = out + i * DIM;
        memset(v, 0, DIM * sizeof *v);
        v[0] = 0.01f; /* a text of codes alone is no zero vector */
        for (const char *p = texts[i]; *p;) {
            size_t len = strcspn(p, " ");
            int c = concept_of(p, len);
            if (c >= 0) {
                uint64_t h = mix((uint64_t)c);
                v[h % DIM] += 1.0f;
                v[(h >> 32) % DIM] += 0.5f;
            }
            p += len + (p[len] == ' ');
        }
    }
    return 0;
}

static const mn_embedder concept_embedder = {.version = MN_EMBEDDER_VERSION, .name = "concepts",
                                             .model = "bench-concepts-256", .dim = DIM,
                                             .embed = concept_embed};

/* Memory i: its concepts, the synonym each one uses, and its code (0: none). */
struct memory_plan {
    int concept[WORDS_PER_MEMORY], synonym[WORDS_PER_MEMORY];
    unsigned code;
};

static void plan(int i, struct memory_plan *m)
{
    for (int w = 0; w < WORDS_PER_MEMORY; w++) {
        uint64_t h = mix((uint64_t)i * 131 + (uint64_t)w);
        m->concept[w] = (int)(h % CONCEPTS);
        m->synonym[w] = (int)((h >> 32) % SYNONYMS);
    }
    m->code = i % CODE_EVERY == 0 ? 100000u + (unsigned)i : 0;
}

static void text_of(const struct memory_plan *m, char *out)
{
    char *p = out;
    for (int w = 0; w < WORDS_PER_MEMORY; w++) {
        word_of(m->concept[w], m->synonym[w], p);
        p += 6;
        *p++ = ' ';
    }
    if (m->code)
        p += sprintf(p, "ord%u ", m->code);
    p[-1] = '\0';
}

/* Query q of class cls, in out; returns its target memory. */
static int query_of(int cls, int q, int n, char *out)
{
    int target = (int)(mix((uint64_t)q * 7 + (uint64_t)cls) % (uint64_t)n);
    if (cls == RARE)
        target -= target % CODE_EVERY;
    struct memory_plan m;
    plan(target, &m);
    char *p = out;
    int words = cls == RARE ? 2 : cls == KEYWORD ? 3 : 4;
    for (int w = 0; w < words; w++) {
        int s = cls == VECTOR ? (m.synonym[w] + 1) % SYNONYMS : m.synonym[w];
        word_of(m.concept[w], s, p);
        p += 6;
        *p++ = ' ';
    }
    if (cls == RARE)
        p += sprintf(p, "ord%u ", m.code);
    p[-1] = '\0';
    return target;
}

static const mn_actor agent = {.version = MN_ACTOR_VERSION, .tenant = "bench",
                               .identity = "bench-agent"};

/* Adds the corpus; ids[i] receives memory i's id. */
static int ingest(cli_ctx *c, mn_db *db, int n, char **ids, double *seconds)
{
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    int rc = mn_tenant_create(db, "bench", NULL);
    if (rc == MN_OK)
        rc = mn_identity_create(db, &sys, "bench-agent", "agent", NULL, NULL);
    static char texts[BATCH][TEXT_MAX];
    mn_memory_input in[BATCH];
    double t0 = cli_now();
    for (int start = 0; rc == MN_OK && start < n; start += BATCH) {
        size_t count = (size_t)(n - start < BATCH ? n - start : BATCH);
        for (size_t j = 0; j < count; j++) {
            struct memory_plan m;
            plan(start + (int)j, &m);
            text_of(&m, texts[j]);
            in[j] = (mn_memory_input)MN_MEMORY_INPUT_INIT;
            in[j].text = texts[j];
        }
        char **got = NULL;
        rc = mn_memory_add_many(db, &agent, in, count, &got, NULL);
        for (size_t j = 0; rc == MN_OK && j < count; j++) {
            ids[start + (int)j] = got[j];
            got[j] = NULL;
        }
        if (got)
            mn_strings_free(got, count);
    }
    *seconds = cli_now() - t0;
    return rc == MN_OK ? CLI_EXIT_OK : cli_fail(c, rc, "bench search: adding the corpus");
}

struct figures {
    double recall[CLASSES], mrr[CLASSES];
    cli_latency lat; /* milliseconds, over every class */
};

static int run_mode(cli_ctx *c, mn_db *db, int mode, int n, int nq, int k, char **ids,
                    double *samples, struct figures *f)
{
    for (int cls = 0; cls < CLASSES; cls++) {
        int found = 0;
        double rr = 0;
        for (int q = 0; q < nq; q++) {
            char text[TEXT_MAX];
            int target = query_of(cls, q, n, text);
            mn_search_options so = MN_SEARCH_OPTIONS_INIT;
            so.query = text;
            so.k = k;
            so.mode = mode;
            mn_memories *hits = NULL;
            double t0 = cli_now();
            int rc = mn_memory_search(db, &agent, &so, &hits);
            samples[cls * nq + q] = (cli_now() - t0) * 1e3;
            if (rc != MN_OK)
                return cli_fail(c, rc, "bench search: searching \"%s\"", text);
            for (size_t i = 0; i < hits->count; i++)
                if (strcmp(hits->items[i]->id, ids[target]) == 0) {
                    found++;
                    rr += 1.0 / (double)(i + 1);
                    break;
                }
            mn_memories_free(hits);
        }
        f->recall[cls] = (double)found / nq;
        f->mrr[cls] = rr / nq;
    }
    f->lat = cli_latency_of(samples, (size_t)(CLASSES * nq));
    return CLI_EXIT_OK;
}

static void print(const cli_ctx *c, int n, int nq, int k, double ingest_s,
                  const struct figures *f)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "memories", n);
        cJSON_AddNumberToObject(o, "queries_per_class", nq);
        cJSON_AddNumberToObject(o, "k", k);
        cJSON_AddItemToObject(o, "ingest_s", cli_json_number(ingest_s, 4));
        cJSON *ms = cJSON_AddObjectToObject(o, "modes");
        for (int m = 0; m < MODES; m++) {
            cJSON *mo = cJSON_AddObjectToObject(ms, cli_search_mode_name(modes[m]));
            for (int cls = 0; cls < CLASSES; cls++) {
                cJSON *co = cJSON_AddObjectToObject(mo, class_names[cls]);
                cJSON_AddItemToObject(co, "recall", cli_json_number(f[m].recall[cls], 4));
                cJSON_AddItemToObject(co, "mrr", cli_json_number(f[m].mrr[cls], 4));
            }
            cJSON_AddItemToObject(mo, "p50_ms", cli_json_number(f[m].lat.p50, 4));
            cJSON_AddItemToObject(mo, "p99_ms", cli_json_number(f[m].lat.p99, 4));
        }
        cli_json_emit(o);
        return;
    }
    printf("bench search: %d memories (%d concepts x %d synonyms, a code in 1 of %d), "
           "%d queries per class, k=%d, SQLite, libmanushya %s; ingest %.1f s\n", n, CONCEPTS,
           SYNONYMS, CODE_EVERY, nq, k, mn_version(), ingest_s);
    printf("  %-8s", "mode");
    for (int cls = 0; cls < CLASSES; cls++)
        printf("  %-7s R@%-2d MRR ", class_names[cls], k);
    printf("   p50 ms  p99 ms\n");
    for (int m = 0; m < MODES; m++) {
        printf("  %-8s", cli_search_mode_name(modes[m]));
        for (int cls = 0; cls < CLASSES; cls++)
            printf("  %12.3f %5.3f", f[m].recall[cls], f[m].mrr[cls]);
        printf("  %7.3f %7.3f\n", f[m].lat.p50, f[m].lat.p99);
    }
}

int cli_bench_search(cli_ctx *c, int argc, char **argv)
{
    int n = 10000, nq = 200, k = 10;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, NULL},
                            {"queries", CLI_OPT_INT, &nq, NULL},
                            {"k", CLI_OPT_INT, &k, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (n < CODE_EVERY || n > 10000000 || nq < 1 || nq > 100000 || k < 1 || k > 1000)
        return cli_usage_error(c, "give --n %d..10000000, --queries 1..100000, --k 1..1000",
                               CODE_EVERY);
    mn_config cfg = c->cfg;
    cfg.embedder = NULL;
    cfg.embed_dim = 0;
    cfg.embedder_plugin = &concept_embedder;
    char dir[CLI_TEMP_DIR_MAX] = "";
    mn_db *db = NULL;
    rc = cli_bench_open(c, "bench-search", &cfg, dir, sizeof dir, &db);
    char **ids = calloc((size_t)n, sizeof *ids);
    double *samples = malloc((size_t)(CLASSES * nq) * sizeof *samples);
    if (rc == CLI_EXIT_OK && (!ids || !samples))
        rc = cli_error("bench search: out of memory");
    double ingest_s = 0;
    if (rc == CLI_EXIT_OK)
        rc = ingest(c, db, n, ids, &ingest_s);
    /* The figures are the caught-up index's: bench ingest --search-after times the searches
     * made while it catches up. The keyword index is merged, as the keywords maintenance task
     * leaves it (each batch wrote a segment of it). */
    if (rc == CLI_EXIT_OK)
        cli_wait_for_index(db);
    int mrc = rc == CLI_EXIT_OK ? mn_maintenance_run(db, MN_MAINT_KEYWORDS | MN_MAINT_FORCE,
                                                     NULL) : MN_OK;
    if (mrc != MN_OK)
        rc = cli_fail(c, mrc, "bench search: merging the keyword index");
    struct figures f[MODES] = {0};
    /* One untimed pass first: the pages are read. */
    if (rc == CLI_EXIT_OK)
        rc = run_mode(c, db, MN_SEARCH_HYBRID, n, nq, k, ids, samples, &f[0]);
    for (int m = 0; rc == CLI_EXIT_OK && m < MODES; m++)
        rc = run_mode(c, db, modes[m], n, nq, k, ids, samples, &f[m]);
    if (rc == CLI_EXIT_OK)
        print(c, n, nq, k, ingest_s, f);
    if (ids)
        mn_strings_free(ids, (size_t)n);
    free(samples);
    mn_close(db);
    if (*dir)
        cli_temp_dir_remove(dir);
    return rc;
}
