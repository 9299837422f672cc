/*
 * mcp_stdio.c — the stdio transport of the Model Context Protocol: one JSON-RPC message per
 * line on stdin and on stdout, nothing else on stdout.
 *
 * Input is read in blocks and split into lines as it comes, so the server can look at what
 * has already arrived (a cancellation of the request it is about to answer) before taking
 * it. A line longer than MCP_MAX_MESSAGE is not kept: it becomes one too_long entry.
 */
#include "mcp.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Queues the line in->part holds (or a too_long entry) and starts the next. */
static int end_line(mcp_in *in)
{
    size_t len = in->skipping ? 0 : in->plen;
    mcp_line *l = malloc(sizeof *l + len + 1);
    if (!l)
        return -1;
    l->next = NULL;
    l->too_long = in->skipping;
    l->len = len;
    if (len)
        memcpy(l->text, in->part, len);
    l->text[len] = '\0';
    if (in->tail)
        in->tail->next = l;
    else
        in->head = l;
    in->tail = l;
    in->plen = 0;
    in->skipping = 0;
    return 0;
}

/* Adds n bytes to the line being read, or drops them when it is already too long. */
static int add_part(mcp_in *in, const char *s, size_t n)
{
    if (in->skipping)
        return 0;
    if (in->plen + n > MCP_MAX_MESSAGE) {
        in->skipping = 1;
        in->plen = 0;
        return 0;
    }
    if (in->plen + n > in->pcap) {
        size_t cap = in->pcap ? in->pcap : 4096;
        while (cap < in->plen + n)
            cap *= 2;
        char *p = realloc(in->part, cap);
        if (!p)
            return -1;
        in->part = p;
        in->pcap = cap;
    }
    memcpy(in->part + in->plen, s, n);
    in->plen += n;
    return 0;
}

int mcp_in_fill(mcp_in *in, int wait)
{
    char buf[65536];
    if (in->eof)
        return 0;
    struct pollfd p = {.fd = in->fd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, wait ? -1 : 0)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        return 0;
    ssize_t n;
    while ((n = read(in->fd, buf, sizeof buf)) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        in->error = errno;
        in->eof = 1;
        return -1;
    }
    if (n == 0) {
        in->eof = 1;
        /* A last line without its newline is still a message. */
        return in->plen || in->skipping ? end_line(in) : 0;
    }
    for (const char *s = buf, *end = buf + n; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = (size_t)((nl ? nl : end) - s);
        if (add_part(in, s, len) != 0 || (nl && end_line(in) != 0)) {
            in->error = ENOMEM;
            in->eof = 1;
            return -1;
        }
        s += len + (nl != NULL);
    }
    return 0;
}

mcp_line *mcp_in_next(mcp_in *in)
{
    while (!in->head && !in->eof)
        mcp_in_fill(in, 1);
    mcp_line *l = in->head;
    if (l) {
        in->head = l->next;
        if (!in->head)
            in->tail = NULL;
    }
    return l;
}

void mcp_in_free(mcp_in *in)
{
    for (mcp_line *l = in->head, *next; l; l = next) {
        next = l->next;
        free(l);
    }
    free(in->part);
    memset(in, 0, sizeof *in);
}

int mcp_send(cJSON *msg)
{
    /* cJSON escapes every control character in strings: the message is one line. */
    char *s = msg ? cJSON_PrintUnformatted(msg) : NULL;
    cJSON_Delete(msg);
    if (!s)
        return -1;
    int ok = fputs(s, stdout) >= 0 && putchar('\n') != EOF && fflush(stdout) == 0;
    cJSON_free(s);
    return ok ? 0 : -1;
}
