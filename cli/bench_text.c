/*
 * bench_text.c — deterministic synthetic memories for manushya bench: text i is always the same
 * (whatever the batch size or run), reads like something an agent would store, and varies its
 * vocabulary enough that search has real work to do.
 */
#include "bench_text.h"

#include <stdio.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const names[] = {
    "Priya", "Arjun", "Mei", "Tomasz", "Amara", "Lucas", "Sofia", "Kenji", "Fatima", "Diego",
    "Ingrid", "Oluwaseun", "Hana", "Mateo", "Anika", "Yusuf", "Clara", "Ravi", "Noor", "Elena",
    "Kwame", "Leila", "Bjorn", "Isabel", "Dmitri", "Aiko", "Samir", "Grace", "Pedro", "Zara"};
static const char *const cities[] = {
    "Bengaluru", "Lisbon", "Nairobi", "Osaka", "Toronto", "Berlin", "Lima", "Austin", "Krakow",
    "Seoul", "Cape Town", "Melbourne", "Istanbul", "Oslo", "Mexico City", "Pune", "Dublin"};
static const char *const foods[] = {
    "peanuts", "shellfish", "gluten", "lactose", "sesame", "strawberries", "soy", "eggs",
    "green tea", "dark roast coffee", "oat milk", "masala chai", "sparkling water", "espresso"};
static const char *const projects[] = {
    "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer"};
static const char *const topics[] = {
    "budget", "hiring plan", "roadmap", "security review", "pricing", "migration", "launch date",
    "onboarding flow", "data retention", "vendor contract", "latency regression",
    "quarterly goals"};
static const char *const days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                   "Saturday", "Sunday"};
static const char *const months[] = {"January", "February", "March", "April", "May", "June",
                                     "July", "August", "September", "October", "November",
                                     "December"};
static const char *const devices[] = {"laptop", "phone", "tablet", "router", "smartwatch",
                                      "printer", "headset", "monitor"};
static const char *const problems[] = {
    "a timeout", "a memory leak", "an expired certificate", "a full disk", "a missing index",
    "a race condition", "a wrong timezone", "a broken migration", "rate limiting"};
static const char *const features[] = {"search", "checkout", "export", "login", "notifications",
                                       "the dashboard", "file upload", "billing"};
static const char *const hobbies[] = {"play chess", "go hiking", "bake sourdough", "paint",
                                      "play the violin", "go cycling", "read science fiction",
                                      "practice yoga", "swim"};
static const char *const tools[] = {"PostgreSQL", "Redis", "Kafka", "Terraform", "Grafana",
                                    "Kubernetes", "SQLite", "Prometheus"};
static const char *const teams[] = {"platform", "mobile", "data", "support", "design", "finance",
                                    "infrastructure", "growth"};
static const char *const types[] = {"fact", "preference", "event", "task", "note"};

/* splitmix64: a tiny, good, seedable generator; no global state. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Draws are made up front and named by position: the order in which a compiler evaluates
 * function arguments must not change the texts. */
#define PICK(k, a) ((a)[r[k] % N(a)])
#define NUM(k, lo, hi) ((unsigned)((lo) + r[k] % ((hi) - (lo) + 1)))

const char *bench_type(uint64_t i)
{
    return types[i % N(types)];
}

void bench_text(uint64_t i, char *buf, size_t size)
{
    uint64_t s = i * 0xD1B54A32D192ED03ULL + 42, r[8];
    for (size_t k = 0; k < N(r); k++)
        r[k] = next(&s);
    const char *name = PICK(0, names);
    switch (r[1] % 14) {
    case 0:
        snprintf(buf, size, "%s prefers %s in the morning and %s after lunch", name,
                 PICK(2, foods), PICK(3, foods));
        break;
    case 1:
        snprintf(buf, size, "Meeting with %s about the %s %s moved to %s at %u:00", name,
                 PICK(2, projects), PICK(3, topics), PICK(4, days), NUM(5, 8, 18));
        break;
    case 2:
        snprintf(buf, size, "%s's %s stopped working after the %u.%u update", name,
                 PICK(2, devices), NUM(3, 1, 9), NUM(4, 0, 20));
        break;
    case 3:
        snprintf(buf, size, "The customer in %s asked about %s for order #%u", PICK(2, cities),
                 PICK(3, topics), NUM(4, 1000, 99999));
        break;
    case 4:
        snprintf(buf, size, "Remember that %s is allergic to %s", name, PICK(2, foods));
        break;
    case 5:
        snprintf(buf, size, "%s likes to %s on %s evenings", name, PICK(2, hobbies), PICK(3, days));
        break;
    case 6:
        snprintf(buf, size, "Deploy of %s to staging failed because of %s in %s", PICK(2, projects),
                 PICK(3, problems), PICK(4, features));
        break;
    case 7:
        snprintf(buf, size, "Invoice %u for %s is due on %s %u, amount %u EUR", NUM(2, 100, 9999),
                 PICK(3, projects), PICK(4, months), NUM(5, 1, 28), NUM(6, 50, 20000));
        break;
    case 8:
        snprintf(buf, size, "User reported %s when using %s on the %s", PICK(2, problems),
                 PICK(3, features), PICK(4, devices));
        break;
    case 9:
        snprintf(buf, size, "%s moved from %s to %s in %s %u", name, PICK(2, cities),
                 PICK(3, cities), PICK(4, months), NUM(5, 2015, 2025));
        break;
    case 10:
        snprintf(buf, size, "The %s team decided to use %s for the %s of %s", PICK(2, teams),
                 PICK(3, tools), PICK(4, topics), PICK(5, projects));
        break;
    case 11:
        snprintf(buf, size, "Flight to %s on %s at %02u:%02u, seat %u%c", PICK(2, cities),
                 PICK(3, days), NUM(4, 0, 23), NUM(5, 0, 59), NUM(6, 1, 40),
                 (char)('A' + NUM(7, 0, 5)));
        break;
    case 12:
        snprintf(buf, size, "%s's birthday is on %s %u and they enjoy %s", name, PICK(2, months),
                 NUM(3, 1, 28), PICK(4, foods));
        break;
    default:
        snprintf(buf, size, "Support ticket %u: %s is slow for users in %s since %s",
                 NUM(2, 10000, 999999), PICK(3, features), PICK(4, cities), PICK(5, days));
        break;
    }
}
