/*
 * bench_pg_copy — the ceiling for `manushya bench ingest` into PostgreSQL: a raw binary COPY
 * of the same rows into the same server, with nothing of the library in between (the aim:
 * ingest should reach at least half of it). bench/ingest_pg.sh runs both in one go.
 *
 * "The same rows" means: the memories table of a database the library created (so the same
 * columns, hash partitions, indexes, and the server-computed keyword tsvector with its GIN
 * index), filled with bench ingest's texts and types (cli/bench_text.c, memory i = text i), for
 * one identity of a tenant no other row has, each row as bench ingest writes it: a
 * time-ordered UUID-shaped id, metadata "{}", importance 0.5, version 1, created_at = updated_at = now, never expiring,
 * not deleted, a seq of its own, a SHA-256 content hash (64 hex digits) and the embedding as
 * the column stores it with vector=local: dim native-order float32 in a bytea. The vectors are
 * deterministic pseudo-random unit vectors made before the clock starts (nothing here embeds:
 * the figure is what the server and the wire take), so run bench ingest with vector=local too.
 * Rows go in batches, each one transaction holding one COPY, as the library's batch does.
 *
 *   bench_pg_copy --db URL --n N [--batch B] [--dim D]
 *
 * Prints rows/s and the parameters. Asserts nothing.
 */
#include "bench_text.h"
#include "store/postgres/pg.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLUMNS \
    "id, tenant_id, identity_id, text, type, metadata, importance, version, created_at, " \
    "updated_at, expires_at, deleted, seq, embedding, content_hash"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A time-ordered UUID-shaped id, as the library's (UUIDv7: the milliseconds first), so that
 * the indexes on id take them in order as they take the library's; i orders those of one
 * millisecond. */
static void make_id(char out[37], uint64_t i)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t ms = (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
    snprintf(out, 37, "%08llx-%04llx-7%03x-8%03x-%012llx",
             (unsigned long long)(ms >> 16) & 0xffffffffu, (unsigned long long)(ms & 0xffff),
             (unsigned)randombytes_uniform(0x1000), (unsigned)randombytes_uniform(0x1000),
             (unsigned long long)(i & 0xffffffffffffu));
}

/* Row i of the COPY data: as the header comment says. */
static void put_row(struct pgs_copybuf *b, uint64_t i, const char *tenant, const char *identity,
                    int64_t now, const float *vec, int dim)
{
    char id[37], text[BENCH_TEXT_MAX], hex[crypto_hash_sha256_BYTES * 2 + 1];
    unsigned char hash[crypto_hash_sha256_BYTES];
    make_id(id, i);
    bench_text(i, text, sizeof text);
    crypto_hash_sha256(hash, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    pgs_copy_u16(b, 15);
    pgs_copy_text(b, id);
    pgs_copy_text(b, tenant);
    pgs_copy_text(b, identity);
    pgs_copy_text(b, text);
    pgs_copy_text(b, bench_type(i));
    pgs_copy_text(b, "{}");
    pgs_copy_f64(b, 0.5);
    pgs_copy_i64(b, 1);
    pgs_copy_i64(b, now);
    pgs_copy_i64(b, now);
    pgs_copy_i64(b, 0);
    uint32_t zero = 0;
    pgs_copy_field(b, &zero, 4);
    pgs_copy_i64(b, (int64_t)i + 1);
    pgs_copy_field(b, vec, (size_t)dim * sizeof *vec);
    pgs_copy_text(b, hex);
}

static void fail(PGconn *pg, PGresult *r, const char *doing)
{
    fprintf(stderr, "bench_pg_copy: %s: %s", doing, PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
    exit(1);
}

static void run(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail(pg, r, sql);
    PQclear(r);
}

/* One batch: BEGIN, one COPY of rows [start, start + m), COMMIT. */
static void copy_batch(PGconn *pg, const char *data, size_t len)
{
    run(pg, "BEGIN");
    PGresult *r = PQexec(pg, "COPY memories (" COLUMNS ") FROM STDIN (FORMAT binary)");
    if (PQresultStatus(r) != PGRES_COPY_IN)
        fail(pg, r, "COPY");
    PQclear(r);
    if (PQputCopyData(pg, data, (int)len) != 1 || PQputCopyEnd(pg, NULL) != 1)
        fail(pg, NULL, "sending the COPY data");
    while ((r = PQgetResult(pg))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail(pg, r, "COPY");
        PQclear(r);
    }
    run(pg, "COMMIT");
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long n = 0, batch = 1000, dim = 384;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--db"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--n"))
            n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            batch = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--dim"))
            dim = atol(argv[i + 1]);
        else
            n = -1;
    }
    if (!url || n < 1 || batch < 1 || dim < 1 || argc % 2 == 0) {
        fprintf(stderr, "usage: bench_pg_copy --db POSTGRES_URL --n N [--batch B] [--dim D]\n"
                        "  POSTGRES_URL: a libpq URL (no libmanushya options) of a database "
                        "libmanushya created with vector=local\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK)
        fail(pg, NULL, "connecting");

    /* Before the clock: the vectors, and each batch's COPY data. */
    float *vecs = malloc((size_t)n * (size_t)dim * sizeof *vecs);
    size_t *ends = malloc(((size_t)(n + batch - 1) / (size_t)batch) * sizeof *ends);
    if (!vecs || !ends) {
        fprintf(stderr, "bench_pg_copy: out of memory for %ld vectors\n", n);
        return 1;
    }
    uint32_t seed = 12345;
    for (long i = 0; i < n; i++) {
        float *v = vecs + (size_t)i * (size_t)dim, norm = 0;
        for (long d = 0; d < dim; d++) {
            seed = seed * 1664525u + 1013904223u;
            v[d] = (float)(seed >> 8) / (float)(1 << 24) - 0.5f;
            norm += v[d] * v[d];
        }
        for (long d = 0; d < dim; d++)
            v[d] /= sqrtf(norm);
    }
    char tenant[37], identity[37];
    make_id(tenant, 0);
    make_id(identity, 1);
    int64_t now = (int64_t)time(NULL) * 1000;
    struct pgs_copybuf b = {0};
    size_t nbatches = 0;
    for (long start = 0; start < n; start += batch) {
        long m = n - start < batch ? n - start : batch;
        pgs_copy_header(&b);
        for (long j = 0; j < m; j++)
            put_row(&b, (uint64_t)(start + j), tenant, identity, now,
                    vecs + (size_t)(start + j) * (size_t)dim, (int)dim);
        pgs_copy_trailer(&b);
        ends[nbatches++] = b.n;
    }
    if (b.oom) {
        fprintf(stderr, "bench_pg_copy: out of memory\n");
        return 1;
    }

    double t0 = now_s();
    for (size_t k = 0; k < nbatches; k++) {
        size_t from = k ? ends[k - 1] : 0;
        copy_batch(pg, b.p + from, ends[k] - from);
    }
    double secs = now_s() - t0;
    printf("bench_pg_copy  n=%ld batch=%ld dim=%ld (binary COPY, one transaction per batch, "
           "tenant %s)\n"
           "copy          %ld rows in %.3f s = %.0f rows/s\n",
           n, batch, dim, tenant, n, secs, secs > 0 ? (double)n / secs : 0);
    PQfinish(pg);
    free(b.p);
    free(vecs);
    free(ends);
    return 0;
}
