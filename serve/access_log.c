/*
 * access_log.c — one JSON line per answered request: when, the request id, method, path (no
 * query string), status, bytes sent, milliseconds, the API key's public id and the client.
 * Never a key or a body.
 */
#include "serve.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static FILE *log_file;
static int log_owned;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int sv_access_log_open(const char *where)
{
    if (!where || strcmp(where, "-") == 0) {
        log_file = stdout;
        return 0;
    }
    if (strcmp(where, "off") == 0)
        return 0;
    if (!(log_file = fopen(where, "a")))
        return -1;
    log_owned = 1;
    return 0;
}

void sv_access_log(const sv_access *a)
{
    if (!log_file)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ts", (double)((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000));
    cJSON_AddStringToObject(o, "request_id", a->request_id);
    cJSON_AddStringToObject(o, "method", a->method);
    cJSON_AddStringToObject(o, "path", sv_utf8_valid(a->path, strlen(a->path))
                                           ? a->path : "(not UTF-8)");
    cJSON_AddNumberToObject(o, "status", a->status);
    cJSON_AddNumberToObject(o, "bytes", (double)a->bytes);
    cJSON_AddNumberToObject(o, "ms", (double)(int64_t)(a->ms * 1000) / 1000);
    if (a->key_id)
        cJSON_AddStringToObject(o, "key_id", a->key_id);
    cJSON_AddStringToObject(o, "remote", a->remote);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line)
        return;
    pthread_mutex_lock(&log_lock);
    fputs(line, log_file);
    fputc('\n', log_file);
    fflush(log_file);
    pthread_mutex_unlock(&log_lock);
    free(line);
}

void sv_access_log_close(void)
{
    if (log_owned)
        fclose(log_file);
    log_file = NULL;
    log_owned = 0;
}
