/*
 * cmd_worker.c — manushya worker: runs the store's embedding jobs (asynchronous embedding)
 * until SIGTERM or SIGINT, in the library's own worker threads (mn_config
 * embed_workers), or with --once in this thread until no job is due. A worker killed without
 * warning loses nothing: the jobs it held come back when their lease runs out. It runs the
 * scheduled maintenance too (mn_config.maintenance: the handle's thread; --once: one run at
 * the end), unless --no-maintenance, and the webhook deliveries (mn_webhook_start's threads;
 * --once: batches until none is due), unless --no-webhooks.
 */
#include "cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

/* Starts the handle's webhook delivery threads. A build without libcurl makes none: said,
 * and the worker goes on with the rest. */
static int start_webhooks(cli_ctx *c, const mn_webhook_options *wo)
{
    int rc = mn_webhook_start(c->db, wo);
    if (rc == MN_EUNSUPPORTED) {
        cli_line(stderr, "manushya worker: %s", mn_errmsg(c->db));
        return CLI_EXIT_OK;
    }
    return rc == MN_OK ? CLI_EXIT_OK : cli_fail(c, rc, "worker: webhooks");
}

/* --once: webhook batches until none is due (*delivered, *failed counting them). */
static int deliver_once(cli_ctx *c, const sigset_t *stop, const mn_webhook_options *wo,
                        size_t *delivered, size_t *failed)
{
    struct timespec zero = {0, 0};
    int rc = MN_OK;
    while (sigtimedwait(stop, NULL, &zero) < 0) {
        size_t d = 0, f = 0;
        rc = mn_webhook_run(c->db, wo, &d, &f);
        *delivered += d;
        *failed += f;
        if (rc != MN_OK || d + f == 0)
            break;
    }
    return rc == MN_EUNSUPPORTED ? MN_OK : rc;
}

/* --once: batches until none is due, stopping between two when a signal came; then the
 * webhook deliveries that are due (wo, NULL: none), then the maintenance that is due
 * (maintain). */
static int run_once(cli_ctx *c, const sigset_t *stop, int batch, int maintain,
                    const mn_webhook_options *wo)
{
    size_t stored = 0, failed = 0;
    struct timespec zero = {0, 0};
    int rc = MN_OK;
    while (sigtimedwait(stop, NULL, &zero) < 0) {
        size_t d = 0, f = 0;
        rc = mn_job_run(c->db, (size_t)batch, &d, &f);
        stored += d;
        failed += f;
        if (rc != MN_OK || d + f == 0)
            break;
    }
    if (rc != MN_OK)
        return cli_fail(c, rc, "worker");
    size_t delivered = 0, undelivered = 0;
    if (wo && (rc = deliver_once(c, stop, wo, &delivered, &undelivered)) != MN_OK)
        return cli_fail(c, rc, "worker: webhooks");
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    int mrc = maintain ? mn_maintenance_run(c->db, MN_MAINT_ALL, &r) : MN_OK;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "stored", (double)stored);
        cJSON_AddNumberToObject(o, "failed", (double)failed);
        cJSON_AddNumberToObject(o, "webhooks_delivered", (double)delivered);
        cJSON_AddNumberToObject(o, "webhooks_failed", (double)undelivered);
        cli_maintenance_report(c, &r, o);
        rc = cli_json_emit(o);
    } else {
        printf("stored %zu vectors, %zu failed attempts\n", stored, failed);
        printf("delivered %zu webhooks, %zu failed attempts\n", delivered, undelivered);
        rc = cli_maintenance_report(c, &r, NULL);
    }
    return mrc == MN_OK ? rc : cli_fail(c, mrc, "worker: maintenance");
}

static int run_worker(cli_ctx *c, int argc, char **argv)
{
    int threads = 1, once = 0, no_maintenance = 0, no_webhooks = 0;
    mn_config *cfg = &c->cfg;
    mn_webhook_options wo = MN_WEBHOOK_OPTIONS_INIT;
    const cli_opt opts[] = {{"threads", CLI_OPT_INT, &threads, NULL},
                            {"once", CLI_OPT_FLAG, &once, NULL},
                            {"no-maintenance", CLI_OPT_FLAG, &no_maintenance, NULL},
                            {"maintenance-poll-ms", CLI_OPT_INT, &cfg->maintenance_poll_ms,
                             NULL},
                            {"audit-retention-days", CLI_OPT_INT, &cfg->audit_retention_days,
                             NULL},
                            {"batch", CLI_OPT_INT, &cfg->embed_batch, NULL},
                            {"lease-ms", CLI_OPT_INT, &cfg->embed_lease_ms, NULL},
                            {"poll-ms", CLI_OPT_INT, &cfg->embed_poll_ms, NULL},
                            {"max-attempts", CLI_OPT_INT, &cfg->embed_max_attempts, NULL},
                            {"retry-ms", CLI_OPT_INT, &cfg->embed_retry_ms, NULL},
                            {"retries", CLI_OPT_INT, &cfg->embed_retries, NULL},
                            {"no-webhooks", CLI_OPT_FLAG, &no_webhooks, NULL},
                            CLI_WEBHOOK_OPTS(wo), {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (threads < 1 || threads > 64)
        return cli_usage_error(c, "--threads: give 1..64, not %d", threads);
    /* Blocked before the library starts its threads, which inherit the mask: the signal is
     * taken here, and the threads finish their batch while mn_close stops them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    cfg->embed_workers = once ? 0 : threads;
    cfg->maintenance = !once && !no_maintenance;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if (once)
        return run_once(c, &stop, cfg->embed_batch, !no_maintenance,
                        no_webhooks ? NULL : &wo);
    if (!no_webhooks && (rc = start_webhooks(c, &wo)) != CLI_EXIT_OK)
        return rc;
    if (!c->json)
        fprintf(stderr, "manushya worker: %d thread%s running embedding jobs%s%s; stop with "
                "SIGTERM or Ctrl-C\n", threads, threads == 1 ? "" : "s",
                no_webhooks ? "" : ", webhook deliveries",
                no_maintenance ? "" : ", and the scheduled maintenance");
    int sig = 0;
    sigwait(&stop, &sig);
    return CLI_EXIT_OK; /* cli_close, after this, lets the threads finish their batches */
}

static const cli_cmd cmds[] = {
    {NULL, run_worker,
     "worker [--threads N] [--once] [--batch N] [--lease-ms MS] [--poll-ms MS]\n"
     "       [--max-attempts N] [--retry-ms MS] [--retries N] [--no-maintenance]\n"
     "       [--maintenance-poll-ms MS] [--audit-retention-days N] [--no-webhooks]\n"
     "       [--webhook-threads N] [--webhook-batch N] [--webhook-max-attempts N]\n"
     "       [--webhook-retry-ms MS] [--webhook-timeout-ms MS] [--webhook-lease-ms MS]\n"
     "       [--webhook-poll-ms MS]",
     "Runs the embedding jobs of every tenant that memory add/update queued with\n"
     "--embed-async: claims due jobs for a lease, embeds them in batches with the\n"
     "database's embedder (give --embedder, --embed-url, ... as for any command), and stores\n"
     "each vector with its job's acknowledgement. Runs until SIGTERM or SIGINT, then\n"
     "finishes the batches in hand. A worker killed outright loses nothing: its jobs come\n"
     "back after their lease. Several workers may run at once, on one machine or more.\n"
     "It also runs the scheduled maintenance tasks when they are due (see manushya\n"
     "maintenance run --help); of several workers one runs each task, the others skip it.\n"
     "And it makes the webhook deliveries that are due (see manushya webhook --help): each\n"
     "claimed for a lease, so that one a worker killed held is made again by another.\n"
     "  --threads N       worker threads (default 1)\n"
     "  --once            run in this thread until no job is due, then the webhook deliveries\n"
     "                    and the maintenance that are due, print the counts (--json:\n"
     "                    {\"stored\", \"failed\", \"webhooks_delivered\", \"webhooks_failed\",\n"
     "                    \"maintenance\"}) and exit\n"
     "  --no-maintenance  run no maintenance task\n"
     "  --maintenance-poll-ms MS  look for due maintenance this often (default 60000)\n"
     "  --audit-retention-days N  the audit task keeps N days of the audit log (default 0:\n"
     "                    forever, the task is off)\n"
     "  --batch N         jobs claimed and embedded together (default 100)\n"
     "  --lease-ms MS     a claimed job returns to the queue after MS when its worker died\n"
     "                    (default 300000)\n"
     "  --poll-ms MS      idle threads look for due jobs this often (default 1000)\n"
     "  --max-attempts N  attempts before a job stays failed (default 5)\n"
     "  --retry-ms MS     delay before a failed job's next attempt, doubling (default 1000)\n"
     "  --retries N       HTTP retries within one attempt (default 3; -1 none)\n"
     CLI_WEBHOOK_HELP},
};
const cli_group cli_group_worker = {"worker", "run the embedding jobs (asynchronous embedding)",
                                    cmds, 1};
