/* Splitting a text into the words keyword search compares (words.h). */
#include "core/words.h"

static int in_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

int mni_words_each(const char *text, mni_word_fn fn, void *ctx)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        while (*p && !in_word(*p))
            p++;
        char word[MNI_WORD_MAX + 1];
        size_t len = 0;
        for (; in_word(*p); p++)
            if (len < MNI_WORD_MAX)
                word[len++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
        if (len == 0)
            continue;
        word[len] = '\0';
        int stop = fn(ctx, word, len);
        if (stop)
            return stop;
    }
    return 0;
}
