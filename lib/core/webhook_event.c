/* Webhook events (webhook_event.h). */
#include "core/webhook_event.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} events[] = {
    {"memory.created", 0x01}, {"memory.updated", 0x02}, {"memory.deleted", 0x04},
    {"policy.changed", 0x08}, {"identity.created", 0x10}, {"identity.deleted", 0x20},
};
#define NEVENTS (sizeof events / sizeof events[0])

/* Audited actions and the events they raise: a restore brings a memory back as it was, an
 * update to a subscriber; a purge of expired memories deletes them. */
static const struct {
    const char *action;
    unsigned bit;
} raised[] = {
    {"memory:create", 0x01}, {"memory:update", 0x02}, {"memory:restore", 0x02},
    {"memory:delete", 0x04}, {"memory:purge", 0x04},
    {"policy:create", 0x08}, {"policy:update", 0x08}, {"policy:delete", 0x08},
    {"identity:create", 0x10}, {"identity:delete", 0x20},
};

unsigned mni_webhook_event_bit(const char *name)
{
    for (size_t i = 0; name && i < NEVENTS; i++)
        if (strcmp(events[i].name, name) == 0)
            return events[i].bit;
    return 0;
}

unsigned mni_webhook_action_event(const char *action, const char **name)
{
    for (size_t i = 0; i < sizeof raised / sizeof raised[0]; i++) {
        if (strcmp(raised[i].action, action) != 0)
            continue;
        for (size_t e = 0; e < NEVENTS; e++)
            if (events[e].bit == raised[i].bit)
                *name = events[e].name;
        return raised[i].bit;
    }
    return 0;
}

char *mni_webhook_events_json(unsigned bits)
{
    size_t cap = 3;
    for (size_t i = 0; i < NEVENTS; i++)
        cap += strlen(events[i].name) + 3;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    *p++ = '[';
    for (size_t i = 0; i < NEVENTS; i++) {
        if (!(bits & events[i].bit))
            continue;
        if (p > out + 1)
            *p++ = ',';
        size_t n = strlen(events[i].name);
        *p++ = '"';
        memcpy(p, events[i].name, n);
        p += n;
        *p++ = '"';
    }
    *p++ = ']';
    *p = '\0';
    return out;
}
