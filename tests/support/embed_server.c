/* Runs tests/support/embed_server.py for a test (see embed_server.h). */
#include "support/embed_server.h"

#include <check.h>
#include <cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void es_start(struct es_server *s, int dim)
{
    const char *top = getenv("MN_TOP");
    char script[1024], dims[16];
    snprintf(script, sizeof script, "%s/tests/support/embed_server.py", top ? top : ".");
    snprintf(dims, sizeof dims, "%d", dim);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execlp("python3", "python3", script, "--dim", dims, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    ck_assert_ptr_nonnull(f);
    s->port = 0;
    ck_assert_msg(fscanf(f, "port %d", &s->port) == 1 && s->port > 0,
                  "the embeddings test server did not start (%s)", script);
    fclose(f);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", s->port);
}

void es_stop(struct es_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    char **buf = ud;
    size_t have = *buf ? strlen(*buf) : 0;
    char *b = realloc(*buf, have + size * n + 1);
    ck_assert_ptr_nonnull(b);
    memcpy(b + have, p, size * n);
    b[have + size * n] = '\0';
    *buf = b;
    return size * n;
}

/* One request to the server's own paths; the answer, malloc'd. */
static char *call(const struct es_server *s, const char *path, const char *post)
{
    char url[128], *out = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    CURL *h = curl_easy_init();
    ck_assert_ptr_nonnull(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    if (post)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    ck_assert_msg(rc == CURLE_OK && out, "test server %s: %s", path, curl_easy_strerror(rc));
    return out;
}

void es_mode(const struct es_server *s, const char *mode, int times, double delay,
             int retry_after)
{
    char body[256];
    snprintf(body, sizeof body, "{\"mode\": \"%s\", \"times\": %d, \"delay\": %g, "
             "\"retry_after\": %d}", mode, times, delay, retry_after);
    free(call(s, "/_control", body));
}

static long stat_of(const struct es_server *s, const char *key, const char *text)
{
    char *body = call(s, "/_stats", NULL);
    cJSON *o = cJSON_Parse(body);
    free(body);
    ck_assert_ptr_nonnull(o);
    const cJSON *v = text ? cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(o, "texts"), text)
                          : cJSON_GetObjectItemCaseSensitive(o, key);
    long n = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
    cJSON_Delete(o);
    return n;
}

long es_stat(const struct es_server *s, const char *key)
{
    return stat_of(s, key, NULL);
}

long es_text_count(const struct es_server *s, const char *text)
{
    return stat_of(s, NULL, text);
}
