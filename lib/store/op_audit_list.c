/* Reading the audit log (mn_audit_list) and its retention setting, written once over the
 * driver (driver.h). */
#include "store/audit.h"
#include "store/driver.h"
#include "store/types.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int mni_op_audit_list(struct mni_store *s, const char *tenant_id,
                      const struct mni_audit_query *q, mn_audit_entries **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, q->action);
    mni_arg_text(&a, q->identity_id);
    mni_arg_text(&a, q->resource);
    mni_arg_text(&a, q->outcome);
    mni_arg_int(&a, q->since);
    mni_arg_int(&a, q->until ? q->until : INT64_MAX);
    mni_arg_int(&a, q->after_seq);
    mni_arg_int(&a, q->limit);
    mn_audit_entries *l = calloc(1, sizeof *l);
    if (!l)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory reading the audit log");
    int rc = mni_query_list(s, MNI_AUDIT_LIST, &a, &mni_map_audit, sizeof(mn_audit_entry),
                            mni_audit_entry_clear, (void ***)&l->items, &l->count,
                            "reading the audit log");
    if (rc != MN_OK) {
        mn_audit_entries_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

static int read_ms(void *ctx, const struct mni_row *r)
{
    *(int64_t *)ctx = r->ops->integer(r, 0);
    return 1;
}

int mni_op_audit_retention_get(struct mni_store *s, const char *tenant_id, int64_t *keep_ms)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    *keep_ms = 0;
    return s->driver->read(s, NULL, MNI_AUDIT_RETENTION_GET, &a, read_ms, keep_ms,
                           "reading the audit log's retention");
}

int mni_op_audit_retention_set(struct mni_store *s, const char *tenant_id, int64_t keep_ms,
                               const struct mni_audit *au)
{
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)keep_ms);
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, ms);
    return mni_op_audited_exec(s, MNI_AUDIT_RETENTION_SET, &a, NULL, NULL,
                               "recording the audit log's retention", au);
}
