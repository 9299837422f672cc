#include "core/uuid.h"
#include "core/clock.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* RFC 9562 section 6.2, method 1 (fixed-length dedicated counter): rand_a (12 bits) is a
 * counter that starts at a random value below 2048 each new millisecond and counts up within
 * one, so ids stay ordered; when it overflows, or the clock steps back, the timestamp is carried
 * forward instead. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms = -1;
static unsigned last_seq;

/* Takes the next (millisecond, counter) pair for an id whose random bits are b, into b's
 * first 8 bytes; lock held. */
static int64_t stamp(int64_t ms, unsigned char b[16])
{
    unsigned seq;
    if (ms > last_ms) {
        seq = ((unsigned)b[6] << 8 | b[7]) & 0x7ff; /* leave headroom to count up */
    } else {
        ms = last_ms;
        seq = last_seq + 1;
        if (seq > 0xfff) {
            ms++;
            seq = 0;
        }
    }
    last_ms = ms;
    last_seq = seq;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)((uint64_t)ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (seq >> 8));
    b[7] = (unsigned char)(seq & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    return ms;
}

static void format(const unsigned char b[16], char out[MNI_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

/* Ids a chunk of the random bits are drawn for at once: a draw is a system call (getrandom),
 * which cost more than the rest of an id. */
#define CHUNK 64

int64_t mni_uuid7_many(char (*out)[MNI_UUID_LEN + 1], size_t n)
{
    int64_t ms = 0;
    for (size_t done = 0; done < n;) {
        unsigned char b[CHUNK][16];
        size_t k = n - done < CHUNK ? n - done : CHUNK;
        randombytes_buf(b, k * sizeof b[0]);
        int64_t now = mni_now_ms();
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < k; i++)
            ms = stamp(now, b[i]);
        pthread_mutex_unlock(&lock);
        for (size_t i = 0; i < k; i++)
            format(b[i], out[done + i]);
        done += k;
    }
    return ms;
}

int64_t mni_uuid7(char out[MNI_UUID_LEN + 1])
{
    return mni_uuid7_many((char (*)[MNI_UUID_LEN + 1])out, 1);
}

void mni_uuid_lower(const char *s, char out[MNI_UUID_LEN + 1])
{
    for (int i = 0; i < MNI_UUID_LEN; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
    out[MNI_UUID_LEN] = '\0';
}

int mni_uuid_valid(const char *s)
{
    if (!s || strlen(s) != MNI_UUID_LEN)
        return 0;
    for (int i = 0; i < MNI_UUID_LEN; i++) {
        char c = s[i];
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                                (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}
