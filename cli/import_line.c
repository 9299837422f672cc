/*
 * import_line.c — one line of a JSON Lines import (cmd_import.c): a memory as
 * {"text": ..., "type": ..., "metadata": {...}, "identity": ..., "importance": ...,
 * "ttl_days": ..., "external_key": ..., "id": ..., "session": ...}. Export adds "created_at", "updated_at",
 * "version" and "expires_at" for the reader's benefit; import ignores those, so an export
 * imports back (ids and keys kept).
 */
#include "import_line.h"
#include "input.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* 1 when s[0..n-1] holds only JSON whitespace. */
static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* The keys a line may have: ours, then those export adds for the reader (ignored). */
static const char *const keys[] = {"text", "type", "identity", "external_key", "id", "session",
                                   "metadata", "importance", "ttl_days", "created_at",
                                   "updated_at", "version", "expires_at"};
enum { K_TEXT, K_TYPE, K_IDENTITY, K_KEY, K_ID, K_SESSION, K_METADATA, K_IMPORTANCE, K_TTL_DAYS,
       K_IGNORED, K_UNKNOWN = sizeof keys / sizeof keys[0] };

/* Turns one parsed line (compact: its compact form) into in / meta. Returns NULL or the reason
 * the line is bad (written into why). A key given twice is bad: which one was meant is anyone's
 * guess (the strict read refuses it already; kept so that the fields stand on their own). */
static const char *parse_fields(const cJSON *doc, const char *compact, mn_memory_input *in,
                                char **meta, char *why, size_t size)
{
    if (!cJSON_IsObject(doc))
        return "not a JSON object";
    unsigned seen = 0;
    for (const cJSON *f = doc->child; f; f = f->next) {
        const char *k = f->string;
        size_t key = 0;
        while (key < K_UNKNOWN && strcmp(k, keys[key]) != 0)
            key++;
        if (key < K_UNKNOWN) {
            if (seen & (1u << key)) {
                snprintf(why, size, "\"%s\" appears twice on the line", k);
                return why;
            }
            seen |= 1u << key;
        }
        /* null = absent = default */
        if ((key >= K_IGNORED && key < K_UNKNOWN) || (cJSON_IsNull(f) && key != K_TEXT))
            continue;
        switch (key) {
        case K_TEXT:
        case K_TYPE:
        case K_IDENTITY:
        case K_KEY:
        case K_ID:
        case K_SESSION: {
            if (!cJSON_IsString(f)) {
                snprintf(why, size, "\"%s\" must be a string", k);
                return why;
            }
            const char **field[] = {&in->text, &in->type, &in->identity, &in->external_key,
                                    &in->id, &in->session};
            *field[key] = f->valuestring;
            break;
        }
        case K_METADATA:
            if (!cJSON_IsObject(f))
                return "\"metadata\" must be a JSON object";
            if (mn_json_compact(compact, "metadata", meta) != MN_OK) {
                snprintf(why, size, "%s", mn_errmsg(NULL));
                return why;
            }
            in->metadata = *meta;
            break;
        case K_IMPORTANCE:
            if (!cJSON_IsNumber(f))
                return "\"importance\" must be a number";
            in->importance = f->valuedouble;
            break;
        case K_TTL_DAYS: {
            double d = cJSON_IsNumber(f) ? f->valuedouble : NAN;
            if (!(d == floor(d) && fabs(d) < 1e9))
                return "\"ttl_days\" must be an integer";
            in->ttl_days = (int)d;
            break;
        }
        default:
            snprintf(why, size, "unknown key \"%s\" (known: text, type, metadata, identity, "
                                "external_key, id, session, importance, ttl_days)", k);
            return why;
        }
    }
    if (!in->text)
        return "missing \"text\"";
    return NULL;
}

int cli_import_line(const char *line, size_t len, mn_memory_input *in, cJSON **doc, char **meta,
                    const char **why, char *msg, size_t msglen)
{
    *in = (mn_memory_input)MN_MEMORY_INPUT_INIT;
    *doc = NULL;
    *meta = NULL;
    *why = NULL;
    if (is_blank(line, len))
        return 0;
    /* A NUL byte would cut a string short without a word (cJSON keeps C strings); the strict
     * read refuses what would not be kept as written (\u0000, a key twice, 2^53 + 1, ...). */
    char *compact = NULL;
    if (!(*why = cli_nul_at(line, len, msg, msglen))) {
        if (mn_json_compact(line, NULL, &compact) != MN_OK)
            *why = snprintf(msg, msglen, "%s", mn_errmsg(NULL)) >= 0 ? msg : "not valid JSON";
        else if (!(*doc = cJSON_Parse(compact)))
            *why = "out of memory";
        else
            *why = parse_fields(*doc, compact, in, meta, msg, msglen);
    }
    mn_free(compact);
    if (!*why)
        return 1;
    cJSON_Delete(*doc);
    mn_free(*meta);
    *doc = NULL;
    *meta = NULL;
    return -1;
}
