/* Erasing: statements run in one write with the same arguments (an identity's rows, a
 * tenant's), written once for both. */
#include "store/driver.h"
#include "core/error.h"

int mni_erase(struct mni_store *s, int64_t nseq, const enum mni_stmt *steps, size_t n,
              const struct mni_args *a, const char *doing, const struct mni_audit *au)
{
    struct mni_tx *tx;
    int64_t seq, changed = 0;
    int rc = s->driver->begin(s, nseq, &seq, &tx);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = s->driver->exec(s, tx, steps[i], a, &changed, NULL, doing);
    if (rc == MN_OK && changed == 0)
        rc = MN_ENOTFOUND;
    rc = mni_audit_end(s, tx, au, rc);
    if (rc == MN_OK && s->driver->erased)
        s->driver->erased(s);
    return rc;
}
