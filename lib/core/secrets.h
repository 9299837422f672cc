/* The secrets a handle holds, and the one function that keeps them out of what the library
 * says: every error message (core/error.c), every log line, the URL mn_db_url() shows. */
#ifndef MNI_CORE_SECRETS_H
#define MNI_CORE_SECRETS_H

#include <stddef.h>

/* Filled while the handle opens, read-only once it is open (so threads share it unlocked). */
struct mni_secrets {
    char **v;
    size_t n, cap;
};

/* Learns the len bytes at v as a secret (nothing for len 0). MN_OK or MN_ENOMEM. */
int mni_secrets_add(struct mni_secrets *s, const char *v, size_t len);
/* Learns the secrets of a URL (NULL: none), each as written and %-decoded: the password of
 * its user:password@ part (for redis://, a user alone is the password), the value of every
 * query parameter whose name says secret (password, sslpassword, key, token, ...; the name
 * %-decoded), and the value of any parameter that is itself a URL holding a secret (read_url),
 * with the secrets of that URL. MN_OK or MN_ENOMEM. */
int mni_secrets_add_url(struct mni_secrets *s, const char *url);
/* Wipes and frees them. */
void mni_secrets_free(struct mni_secrets *s);

/* Writes in into out (size bytes, cut to fit) with every secret of s (NULL: none known) and,
 * as a second line of defence, every secret that the rules of mni_secrets_add_url find in any
 * URL in the text, every "Bearer TOKEN" and the secret of every API key (mk_ID_SECRET: its
 * SECRET) replaced by "***". out must not overlap in. */
void mni_redact(const struct mni_secrets *s, const char *in, char *out, size_t size);

#endif
