/*
 * The embeddings test server (tests/support/embed_server.py) from C: start it on a free
 * loopback port, steer its fault modes, read its request counters, stop it. Each helper
 * asserts (ck_assert) on failure.
 */
#ifndef MNI_TESTS_EMBED_SERVER_H
#define MNI_TESTS_EMBED_SERVER_H

#include <sys/types.h>

struct es_server {
    pid_t pid;
    int port;
    char url[64];   /* base URL for the embedder: http://127.0.0.1:PORT/v1 */
};

/* Starts the server answering dim-dimensional vectors (unless a request asks "dimensions"). */
void es_start(struct es_server *s, int dim);
void es_stop(struct es_server *s);
/* The next times requests (-1: all) answer in mode (see embed_server.py), waiting delay
 * seconds (slow, hang) or asking for retry_after seconds (429). */
void es_mode(const struct es_server *s, const char *mode, int times, double delay,
             int retry_after);
/* Counters: "requests" or "inputs"; es_text_count: how often text was embedded. */
long es_stat(const struct es_server *s, const char *key);
long es_text_count(const struct es_server *s, const char *text);

#endif
