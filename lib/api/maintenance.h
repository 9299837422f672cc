/*
 * Scheduled maintenance (mn_maintenance_run): the tasks, their intervals and their leases
 * (store/op_maintenance.c), and the handle's own thread that runs the due ones
 * (mn_config.maintenance, on a worker of jobs/).
 */
#ifndef MNI_API_MAINTENANCE_H
#define MNI_API_MAINTENANCE_H

#include "manushya.h"

#include <stdint.h>

/* A run holds a task's lease this long at most: a process that died mid-run frees the task
 * then. Longer than any task takes, shorter than the longest interval. */
#define MNI_MAINT_LEASE_MS (15 * 60 * 1000)
#define MNI_MAINT_DEFAULT_POLL_MS 60000
#define MNI_MAINT_MAX_POLL_MS 86400000
#define MNI_MAINT_MAX_RETENTION_DAYS 36500

/* One task (api/maintenance_tasks.c): its bit, its name (the key of its row in the store),
 * its label in the metrics (core/metrics.h MNI_MAINT_*), how often it is due, and its work,
 * which counts what it did in *items. */
struct mni_maint_task {
    unsigned bit;
    const char *name;
    unsigned metric;
    int64_t interval_ms;
    /* 1 when the handle's settings turn the task off (it is then skipped: MN_MAINT_OFF). */
    int (*off)(const mn_db *db);
    int (*run)(mn_db *db, int64_t *items);
};
/* The tasks, by bit: mni_maint_tasks[i].bit == 1u << i. */
extern const struct mni_maint_task mni_maint_tasks[MN_MAINT_NTASKS];

/* Checks the maintenance settings of mn_config and fills their defaults (from settle_config). */
int mni_maintenance_settle(mn_db *db);
/* Starts the handle's maintenance thread when mn_config.maintenance asks for it: last in
 * mn_open, once everything it uses is up. */
int mni_maintenance_open(mn_db *db);
/* Stops it (a task in hand is finished first): first in mn_close. */
void mni_maintenance_close(mn_db *db);

#endif
