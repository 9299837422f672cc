/*
 * cmd_serve.c — manushya serve: the HTTP API (serve/) on the database of the global options,
 * until SIGTERM or SIGINT.
 */
#include "cli.h"
#include "serve.h"

#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

static int run_serve(cli_ctx *c, int argc, char **argv)
{
    sv_options o = {.listen = "127.0.0.1:8080", .threads = 16, .max_connections = 1000,
                     .timeout_s = 30, .drain_s = 10, .access_log = "-"};
    int max_body = 1 << 20, workers = 0, no_webhooks = 0;
    mn_webhook_options wo = MN_WEBHOOK_OPTIONS_INIT;
    const cli_opt opts[] = {{"listen", CLI_OPT_STR, &o.listen, NULL},
                            {"threads", CLI_OPT_INT, &o.threads, NULL},
                            {"max-connections", CLI_OPT_INT, &o.max_connections, NULL},
                            {"timeout", CLI_OPT_INT, &o.timeout_s, NULL},
                            {"max-body", CLI_OPT_INT, &max_body, NULL},
                            {"drain", CLI_OPT_INT, &o.drain_s, NULL},
                            {"cors-origin", CLI_OPT_STR, &o.cors, NULL},
                            {"access-log", CLI_OPT_STR, &o.access_log, NULL},
                            {"tls-cert", CLI_OPT_STR, &o.tls_cert, NULL},
                            {"tls-key", CLI_OPT_STR, &o.tls_key, NULL},
                            {"embed-workers", CLI_OPT_INT, &workers, NULL},
                            {"no-webhooks", CLI_OPT_FLAG, &no_webhooks, NULL},
                            CLI_WEBHOOK_OPTS(wo), {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (o.threads < 1 || o.threads > 256)
        return cli_usage_error(c, "--threads: give 1..256, not %d", o.threads);
    if (o.max_connections < 1 || o.max_connections > 100000)
        return cli_usage_error(c, "--max-connections: give 1..100000, not %d",
                               o.max_connections);
    if (o.timeout_s < 1 || o.timeout_s > 3600)
        return cli_usage_error(c, "--timeout: give 1..3600 seconds, not %d", o.timeout_s);
    if (max_body < 1)
        return cli_usage_error(c, "--max-body: give a size in bytes of at least 1, not %d",
                               max_body);
    if (o.drain_s < 0 || o.drain_s > 3600)
        return cli_usage_error(c, "--drain: give 0..3600 seconds, not %d", o.drain_s);
    if (workers < 0 || workers > 64)
        return cli_usage_error(c, "--embed-workers: give 0..64, not %d", workers);
    o.max_body = (size_t)max_body;
    if (c->tenant || c->identity || c->api_key)
        return cli_usage_error(c, "serve acts for the API key of each request: give no "
                                  "--tenant, --as or --api-key");
    /* Blocked before the library and the server start their threads, which inherit the mask:
     * sv_run takes the signal in this thread and drains. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* A long-lived process counts its own calls: in Redis when given, else in the handle. */
    c->cfg.ratelimit = c->cfg.redis_url ? MN_RATELIMIT_REDIS : MN_RATELIMIT_MEMORY;
    c->cfg.embed_workers = workers;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    /* Deliveries run beside the requests, in the library's threads; mn_close stops them. A
     * build without libcurl serves without them, and says so. */
    if (!no_webhooks && (rc = mn_webhook_start(c->db, &wo)) != MN_OK) {
        if (rc != MN_EUNSUPPORTED)
            return cli_fail(c, rc, "serve: webhooks");
        cli_line(stderr, "manushya serve: %s", mn_errmsg(c->db));
    }
    if (sv_access_log_open(o.access_log) != 0)
        return cli_error("serve: --access-log %s: %s", o.access_log, strerror(errno));
    rc = sv_run(c->db, &o);
    sv_access_log_close();
    return rc;
}

static const cli_cmd cmds[] = {
    {NULL, run_serve,
     "serve [--listen ADDR:PORT] [--threads N] [--max-connections N] [--timeout S] "
     "[--max-body BYTES] [--drain S] [--cors-origin LIST] [--access-log FILE|-|off] "
     "[--tls-cert PEM --tls-key PEM] [--embed-workers N] [--no-webhooks] "
     "[--webhook-threads N] [--webhook-batch N] [--webhook-max-attempts N] "
     "[--webhook-retry-ms MS] [--webhook-timeout-ms MS] [--webhook-lease-ms MS] "
     "[--webhook-poll-ms MS]",
     "Serves the HTTP API (manushya-serve(1)) on the database until SIGTERM or SIGINT, then\n"
     "stops accepting, lets the requests in flight finish and closes the database. Every\n"
     "request acts for its API key (Authorization: Bearer mk_... or X-API-Key); make the\n"
     "first one with `manushya --tenant T key create --identity ADMIN`. GET /openapi.json\n"
     "lists the routes.\n"
     "  --listen ADDR:PORT    where to listen: default 127.0.0.1:8080; [::1]:PORT for IPv6;\n"
     "                        port 0 picks a free one (the first line on stderr names it)\n"
     "  --threads N           threads answering requests, each polling its connections\n"
     "                        with epoll: default 16 (a call that waits, a write behind\n"
     "                        another, holds up only its own thread's connections)\n"
     "  --max-connections N   open connections at most (more wait to be accepted): 1000\n"
     "  --timeout S           a connection idle or sending this long is closed: default 30\n"
     "  --max-body BYTES      larger bodies get 413: default 1048576\n"
     "  --drain S             on SIGTERM, wait this long at most for requests in flight:\n"
     "                        default 10\n"
     "  --cors-origin LIST    comma-separated origins browsers may call from (* for any)\n"
     "  --access-log WHERE    one JSON line per request: - stdout (default), a file, or off\n"
     "  --tls-cert PEM, --tls-key PEM  serve HTTPS (GnuTLS, through libmicrohttpd)\n"
     "  --embed-workers N     threads embedding the jobs of --embed-async adds: default 0\n"
     "Webhook deliveries (manushya webhook --help) are made by a background thread:\n"
     CLI_WEBHOOK_HELP},
};
const cli_group cli_group_serve = {"serve", "the HTTP API (manushya-serve(1))", cmds, 1};
