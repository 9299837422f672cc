/* Webhook events: their names, the bit each has in a subscription's event set (as stored),
 * and which audited change (store/audit.h action) raises which. */
#ifndef MNI_CORE_WEBHOOK_EVENT_H
#define MNI_CORE_WEBHOOK_EVENT_H

/* Every event a subscription may name. */
#define MNI_WEBHOOK_EVENTS_ALL 0x3f
/* The names, comma-separated, for messages and help. */
#define MNI_WEBHOOK_EVENT_NAMES \
    "memory.created, memory.updated, memory.deleted, policy.changed, identity.created, " \
    "identity.deleted"

/* The bit of an event name; 0 when there is no such event. */
unsigned mni_webhook_event_bit(const char *name);
/* The event an audited action ("memory:create") raises, 0: none; *name its name. */
unsigned mni_webhook_action_event(const char *action, const char **name);
/* The set bits as a JSON array of names (malloc'd); NULL when out of memory. */
char *mni_webhook_events_json(unsigned bits);

#endif
