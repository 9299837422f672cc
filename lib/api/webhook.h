/* Webhooks in the handle (api/webhook*.c): the delivery threads mn_webhook_start began. */
#ifndef MNI_API_WEBHOOK_H
#define MNI_API_WEBHOOK_H

#include "manushya.h"

/* Stops the handle's delivery threads (each finishes the delivery in hand); mn_close. */
void mni_webhook_close(mn_db *db);

#endif
