/* Shared test harness; see harness.h. */
#include "support/harness.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"

/* ---- memory and strings --------------------------------------------------------------------- */
static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;
static void **kept;
static size_t nkept, capkept;
static int cleanup_registered;
static char *root_dir;
static pid_t root_pid;
static unsigned dir_counter;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* The list of servers th_server started (any test process may append to it), under the root. */
static const char *servers_list(char *path, size_t size)
{
    snprintf(path, size, "%s/servers", root_dir);
    return path;
}

static int server_script(const char *kind, const char *what, const char *dir, char *cmd,
                         size_t size)
{
    const char *top = getenv("MN_TOP");
    if (!top)
        return -1;
    snprintf(cmd, size, "sh '%s/tests/servers/%s.sh' %s '%s'", top, kind, what, dir);
    return 0;
}

/* Stops the servers of th_server that are still running (their stop is harmless twice). */
static void stop_servers(void)
{
    char path[4096], line[4096], cmd[8192];
    FILE *f = fopen(servers_list(path, sizeof path), "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        if (server_script(line, "stop", tab + 1, cmd, sizeof cmd - 32) == 0) {
            strcat(cmd, " >/dev/null 2>&1");
            if (system(cmd) != 0)
                fprintf(stderr, "# %s failed\n", cmd);
        }
    }
    fclose(f);
}

static void cleanup(void)
{
    if (root_dir && root_pid == getpid())
        stop_servers();
    if (root_dir && root_pid == getpid() && !getenv("TH_KEEP_TMP"))
        nftw(root_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    pthread_mutex_lock(&keep_mu);
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    free(kept);
    kept = NULL;
    nkept = capkept = 0;
    free(root_dir);
    root_dir = NULL;
    pthread_mutex_unlock(&keep_mu);
}

static void register_cleanup_locked(void)
{
    if (!cleanup_registered) {
        cleanup_registered = 1;
        atexit(cleanup);
    }
}

/* Makes the process-wide root directory; without Check calls, so main() may call it before the
 * runner forks. 0 on success. */
static int make_root_locked(void)
{
    register_cleanup_locked();
    if (root_dir)
        return 0;
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/mn-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return -1;
    root_dir = strdup(tmpl);
    root_pid = getpid();
    return root_dir ? 0 : -1;
}

void th_init(void)
{
    pthread_mutex_lock(&keep_mu);
    int rc = make_root_locked();
    pthread_mutex_unlock(&keep_mu);
    if (rc != 0) {
        fprintf(stderr, "th_init: cannot make a temporary directory: %s\n", strerror(errno));
        exit(EXIT_FAILURE);
    }
}

void *th_keep(void *p)
{
    if (!p)
        return NULL;
    pthread_mutex_lock(&keep_mu);
    register_cleanup_locked();
    if (nkept == capkept) {
        capkept = capkept ? capkept * 2 : 64;
        kept = realloc(kept, capkept * sizeof *kept);
        if (!kept)
            abort();
    }
    kept[nkept++] = p;
    pthread_mutex_unlock(&keep_mu);
    return p;
}

const char *th_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    return th_keep(s);
}

int th_has_word(const char *msg, const char *words)
{
    if (!msg || !words)
        return 0;
    const char *w = words;
    while (*w) {
        const char *bar = strchr(w, '|');
        size_t len = bar ? (size_t)(bar - w) : strlen(w);
        char buf[128];
        if (len > 0 && len < sizeof buf) {
            memcpy(buf, w, len);
            buf[len] = '\0';
            if (strcasestr(msg, buf))
                return 1;
        }
        if (!bar)
            break;
        w = bar + 1;
    }
    return 0;
}

/* ---- files and directories ------------------------------------------------------------------ */
const char *th_tmpdir(void)
{
    pthread_mutex_lock(&keep_mu);
    /* A test process forked by the runner after th_init() uses the runner's root, which the
     * runner removes when it exits, so that a failed test (Check ends it with _exit) leaves
     * nothing behind either. Without th_init() the test process makes its own. */
    if (make_root_locked() != 0) {
        pthread_mutex_unlock(&keep_mu);
        ck_abort_msg("mkdtemp under %s: %s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                     strerror(errno));
    }
    char path[4096];
    for (;;) {
        snprintf(path, sizeof path, "%s/d%u-%ld", root_dir, ++dir_counter, (long)getpid());
        if (mkdir(path, 0700) == 0)
            break;
        if (errno != EEXIST) {
            pthread_mutex_unlock(&keep_mu);
            ck_abort_msg("mkdir(%s): %s", path, strerror(errno));
        }
    }
    pthread_mutex_unlock(&keep_mu);
    return th_fmt("%s", path);
}

const char *th_server(const char *kind, const char *what, const char *dir)
{
    char cmd[8192];
    ck_assert_msg(server_script(kind, what, dir, cmd, sizeof cmd) == 0,
                  "MN_TOP comes from tests/run.sh");
    ck_assert_msg(root_dir, "th_server: DIR comes from th_tmpdir()");
    if (strcmp(what, "start") == 0) {
        /* Noted before it starts: a start that fails halfway may have left a server. */
        char path[4096], entry[4200];
        int n = snprintf(entry, sizeof entry, "%s\t%s\n", kind, dir);
        int fd = open(servers_list(path, sizeof path), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ck_assert_msg(fd >= 0 && write(fd, entry, (size_t)n) == n, "%s: %s", path,
                      strerror(errno));
        close(fd);
    }
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p, "%s: %s", cmd, strerror(errno));
    char line[1024];
    const char *url = NULL;
    while (fgets(line, sizeof line, p)) {
        char *eq = strstr(line, "_URL=");
        if (!url && strncmp(line, "MN_", 3) == 0 && eq) {
            line[strcspn(line, "\n")] = 0;
            url = th_fmt("%s", eq + 5);
        }
    }
    ck_assert_msg(pclose(p) == 0, "%s failed", cmd);
    return url;
}

const char *th_tmppath(const char *name)
{
    return th_fmt("%s/%s", th_tmpdir(), name);
}

const char *th_sqlite_url(void)
{
    return th_fmt("sqlite:%s", th_tmppath("test.db"));
}

char *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return th_keep(buf);
}

void th_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "fopen(%s): %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

int th_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int th_tmp_leftovers(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? th_fmt("%.*s", (int)(slash - path), path) : ".";
    const char *prefix = th_fmt("%s.tmp", slash ? slash + 1 : path);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

uint64_t th_file_hash(const char *path)
{
    size_t len;
    char *b = th_read_file(path, &len);
    if (!b)
        return 0;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)b[i];
        h *= 1099511628211ull;
    }
    return h ^ len;
}

void th_random_bytes(void *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed ? seed : 0x9e3779b9u;
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)(x >> 7);
    }
}

const char *th_store_url(int i)
{
    static unsigned n;
    if (i == 0)
        return th_sqlite_url();
    const char *u = getenv("MN_PG_URL");
    if (!u || !*u) {
        printf("# skip: postgres: MN_PG_URL is not set\n");
        return NULL;
    }
    return th_fmt("%s?schema=s%ld_%u_%lld&vector=local", u, (long)getpid(), n++,
                  (long long)th_now_ms() % 100000000);
}

int64_t th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int th_is_uuid7(const char *s)
{
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return s[14] == '7' && strchr("89ab", s[19]) != NULL;
}

void th_assert_reported(const char *call, const mn_db *db, int rc)
{
    ck_assert_msg(strcmp(mn_strerror(rc), mn_strerror(-1)) != 0,
                  "%s: returned %d, which is no documented code", call, rc);
    ck_assert_msg(mn_errcode(db) == rc, "%s: returned %d (%s) but mn_errcode reports %d", call,
                  rc, mn_strerror(rc), mn_errcode(db));
    ck_assert_msg(*mn_errmsg(db) && strcmp(mn_errmsg(db), "not an error") != 0,
                  "%s: returned %d (%s) without a message", call, rc, mn_strerror(rc));
}

/* ---- opening ---------------------------------------------------------------------------------- */
mn_db *th_open(const char *url, const mn_config *cfg)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, url, cfg);
    ck_assert_msg(rc == MN_OK, "mn_open(%s): rc %d (%s): %s", url, rc, mn_strerror(rc),
                  mn_errmsg(db));
    ck_assert_ptr_nonnull(db);
    return db;
}

mn_db *th_open_fresh(void)
{
    return th_open(th_sqlite_url(), NULL);
}

/* ---- creating things -------------------------------------------------------------------------- */
const char *th_tenant(mn_db *db, const char *name)
{
    mn_tenant *t = NULL;
    TH_OK(db, mn_tenant_create(db, name, &t));
    ck_assert_ptr_nonnull(t);
    const char *id = th_fmt("%s", t->id);
    mn_tenant_free(t);
    return id;
}

/* Store tests act across owners (alice reads bob's memories, ...): their identities are admins,
 * whom the default policies let do everything; what policies allow is tested on its own. */
const char *th_identity(mn_db *db, const char *tenant, const char *external_id)
{
    mn_actor sys = TH_ACTOR(.tenant = tenant, .identity = NULL);
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_create(db, &sys, external_id, "admin", NULL, &i));
    ck_assert_ptr_nonnull(i);
    const char *id = th_fmt("%s", i->id);
    mn_identity_free(i);
    return id;
}

const char *th_add_in(mn_db *db, const mn_actor *actor, const mn_memory_input *in)
{
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_add(db, actor, in, &m));
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(m->id);
    const char *id = th_fmt("%s", m->id);
    mn_memory_free(m);
    return id;
}

const char *th_add(mn_db *db, const mn_actor *actor, const char *owner, const char *text)
{
    mn_memory_input in = TH_IN(.identity = owner, .text = text);
    return th_add_in(db, actor, &in);
}

mn_memory *th_get(mn_db *db, const mn_actor *actor, const char *id, unsigned flags)
{
    mn_memory *m = NULL;
    int rc = mn_memory_get(db, actor, id, flags, &m);
    ck_assert_msg(rc == MN_OK, "mn_memory_get(%s): rc %d (%s): %s", id, rc, mn_strerror(rc),
                  mn_errmsg(db));
    ck_assert_ptr_nonnull(m);
    return m;
}

/* ---- counting --------------------------------------------------------------------------------- */
size_t th_count_tenants(mn_db *db)
{
    mn_tenants *l = NULL;
    TH_OK(db, mn_tenant_list(db, &l));
    ck_assert_ptr_nonnull(l);
    size_t n = l->count;
    mn_tenants_free(l);
    return n;
}

size_t th_count_identities(mn_db *db, const mn_actor *actor)
{
    mn_identities *l = NULL;
    TH_OK(db, mn_identity_list(db, actor, &l));
    ck_assert_ptr_nonnull(l);
    size_t n = l->count;
    mn_identities_free(l);
    return n;
}

const char **th_list_ids(mn_db *db, const mn_actor *actor, const mn_filter *filter, int limit,
                         size_t *n)
{
    size_t cap = 64, count = 0;
    const char **ids = malloc(cap * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    th_keep(ids);
    mn_list_options opt = {.version = MN_LIST_OPTIONS_VERSION, .limit = limit};
    if (filter)
        opt.filter = filter;
    const char *cursor = NULL;
    for (int pages = 0;; pages++) {
        ck_assert_msg(pages < 100000, "list does not end");
        opt.cursor = cursor;
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_list(db, actor, &opt, &l));
        ck_assert_ptr_nonnull(l);
        for (size_t i = 0; i < l->count; i++) {
            if (count == cap) {
                cap *= 2;
                /* the kept pointer changes: keep the new block, leak-free via a fresh copy */
                const char **bigger = th_keep(malloc(cap * sizeof *ids));
                ck_assert_ptr_nonnull(bigger);
                memcpy(bigger, ids, count * sizeof *ids);
                ids = bigger;
            }
            ids[count++] = th_fmt("%s", l->items[i]->id);
        }
        cursor = l->next_cursor ? th_fmt("%s", l->next_cursor) : NULL;
        mn_memories_free(l);
        if (!cursor)
            break;
    }
    *n = count;
    return ids;
}

int th_ids_contain(const char **ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

size_t th_count_memories(mn_db *db, const mn_actor *actor, unsigned flags)
{
    mn_filter f = {.version = MN_FILTER_VERSION, .flags = flags};
    size_t n;
    th_list_ids(db, actor, &f, 1000, &n);
    return n;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    if (!s)
        s = "\x01(null)";
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    h ^= 0xff;
    return h * 1099511628211ull;
}

static uint64_t hash_i64(uint64_t h, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return hash_str(h, buf);
}

void th_state_get(mn_db *db, th_state *out)
{
    memset(out, 0, sizeof *out);
    uint64_t h = 1469598103934665603ull;
    mn_tenants *tl = NULL;
    TH_OK(db, mn_tenant_list(db, &tl));
    out->tenants = tl->count;
    for (size_t t = 0; t < tl->count; t++) {
        h = hash_str(h, tl->items[t]->id);
        h = hash_str(h, tl->items[t]->name);
        mn_actor sys = TH_ACTOR(.tenant = tl->items[t]->id, .identity = NULL);
        mn_identities *il = NULL;
        TH_OK(db, mn_identity_list(db, &sys, &il));
        out->identities += il->count;
        for (size_t i = 0; i < il->count; i++) {
            h = hash_str(h, il->items[i]->id);
            h = hash_str(h, il->items[i]->external_id);
            h = hash_str(h, il->items[i]->role);
            h = hash_str(h, il->items[i]->claims);
            h = hash_i64(h, il->items[i]->active);
            h = hash_i64(h, il->items[i]->updated_at);
        }
        mn_identities_free(il);

        mn_list_options opt = {.version = MN_LIST_OPTIONS_VERSION,
                               .limit = 1000,
                               .filter = &(mn_filter){.version = MN_FILTER_VERSION,
                                                      .flags = MN_WITH_DELETED | MN_WITH_EXPIRED}};
        char *cursor = NULL;
        for (;;) {
            opt.cursor = cursor;
            mn_memories *ml = NULL;
            TH_OK(db, mn_memory_list(db, &sys, &opt, &ml));
            out->memories += ml->count;
            for (size_t i = 0; i < ml->count; i++) {
                const mn_memory *m = ml->items[i];
                h = hash_str(h, m->id);
                h = hash_str(h, m->identity_id);
                h = hash_str(h, m->text);
                h = hash_str(h, m->type);
                h = hash_str(h, m->metadata);
                h = hash_i64(h, (int64_t)llround(m->importance * 1e9));
                h = hash_i64(h, m->version);
                h = hash_i64(h, m->deleted);
                h = hash_i64(h, m->seq);
                h = hash_i64(h, m->expires_at);
                mn_history *hist = NULL;
                TH_OK(db, mn_memory_history(db, &sys, m->id, &hist));
                out->history += hist->count;
                for (size_t k = 0; k < hist->count; k++) {
                    h = hash_i64(h, hist->items[k]->version);
                    h = hash_str(h, hist->items[k]->before);
                    h = hash_str(h, hist->items[k]->after);
                }
                mn_history_free(hist);
            }
            free(cursor);
            cursor = ml->next_cursor ? strdup(ml->next_cursor) : NULL;
            mn_memories_free(ml);
            if (!cursor)
                break;
        }
    }
    mn_tenants_free(tl);
    out->hash = h;
}

void th_assert_state_eq(const th_state *b, const th_state *a, const char *what)
{
    ck_assert_msg(b->tenants == a->tenants && b->identities == a->identities &&
                      b->memories == a->memories && b->history == a->history && b->hash == a->hash,
                  "%s changed the store: tenants %zu->%zu identities %zu->%zu memories %zu->%zu "
                  "history %zu->%zu hash %016llx->%016llx",
                  what, b->tenants, a->tenants, b->identities, a->identities, b->memories,
                  a->memories, b->history, a->history, (unsigned long long)b->hash,
                  (unsigned long long)a->hash);
}

/* ---- vectors and JSON ------------------------------------------------------------------------- */
double th_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double th_dot(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++)
        s += (double)a[i] * b[i];
    return s;
}

double th_norm(const float *a, int dim)
{
    return sqrt(th_dot(a, a, dim));
}

float *th_embed(mn_db *db, const char *text)
{
    int dim = mn_embed_dim(db);
    ck_assert_int_gt(dim, 0);
    float *v = th_keep(calloc((size_t)dim, sizeof *v));
    ck_assert_ptr_nonnull(v);
    TH_OK(db, mn_embed(db, text, v, dim));
    return v;
}

int th_json_eq(const char *a, const char *b)
{
    cJSON *x = a ? cJSON_Parse(a) : NULL, *y = b ? cJSON_Parse(b) : NULL;
    int eq = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

int th_json_contains(const char *hay, const char *needle)
{
    cJSON *x = hay ? cJSON_Parse(hay) : NULL, *y = needle ? cJSON_Parse(needle) : NULL;
    int c = x && y && mni_json_contains(x, y);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return c;
}

const char *th_json_str(const char *json, const char *key)
{
    cJSON *x = json ? cJSON_Parse(json) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, key);
    const char *r = cJSON_IsString(v) ? th_fmt("%s", v->valuestring) : NULL;
    cJSON_Delete(x);
    return r;
}

double th_json_num(const char *json, const char *key)
{
    cJSON *x = json ? cJSON_Parse(json) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, key);
    double r = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(x);
    return r;
}

double th_metric_sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1; /* absent */
}

const char *th_json_obj(const char *json, const char *key)
{
    cJSON *x = json ? cJSON_Parse(json) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, key);
    const char *r = NULL;
    if (cJSON_IsString(v)) {
        cJSON *inner = cJSON_Parse(v->valuestring);
        char *p = inner ? cJSON_PrintUnformatted(inner) : NULL;
        r = p ? th_fmt("%s", p) : th_fmt("%s", v->valuestring);
        free(p);
        cJSON_Delete(inner);
    } else if (v) {
        char *p = cJSON_PrintUnformatted(v);
        r = th_fmt("%s", p);
        free(p);
    }
    cJSON_Delete(x);
    return r;
}

int th_run(Suite *s)
{
    th_init();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int th_built_with(unsigned feature, const char *what)
{
    if (mn_features() & feature)
        return 1;
    printf("# skip: %s: this build has no %s\n", what, mn_feature_name(feature));
    fflush(stdout);
    return 0;
}

mn_memory_changes th_changes_of(const mn_memory_input *in)
{
    mn_memory_changes c = {.version = MN_MEMORY_CHANGES_VERSION,
                           .text = in->text,
                           .type = in->type,
                           .metadata = in->metadata,
                           .importance = in->importance,
                           .embedding = in->embedding,
                           .dim = in->dim};
    c.set = (in->text ? MN_MEMORY_SET_TEXT : 0) | (in->type ? MN_MEMORY_SET_TYPE : 0) |
            (in->metadata ? MN_MEMORY_SET_METADATA : 0) |
            (in->importance != MN_IMPORTANCE_DEFAULT ? MN_MEMORY_SET_IMPORTANCE : 0) |
            (in->embedding || in->dim ? MN_MEMORY_SET_EMBEDDING : 0);
    return c;
}

/* ---- a cacheable embedder ------------------------------------------------------------------ */

void th_hash_embed(const char *text, float *out)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (int d = 0; d < TH_HASH_DIM; d++)
        out[d] = 0.1f + (float)((h >> (d * 8)) & 0xff) / 255.0f;
}

static int hash_embed(void *ctx, const char *const *texts, size_t n, float *out, char *errbuf,
                      size_t errlen)
{
    (void)ctx, (void)errbuf, (void)errlen;
    for (size_t i = 0; i < n; i++)
        th_hash_embed(texts[i], out + i * TH_HASH_DIM);
    return 0;
}

const mn_embedder th_hash_embedder = { .version = MN_EMBEDDER_VERSION, .name = "hash",
                                       .model = "hash-8", .dim = TH_HASH_DIM,
                                       .embed = hash_embed };
