/* libcurl, loaded when the openai embedder or a webhook delivery first needs it (see
 * core/dl.h), and set up then (curl_global_init: thread-safe since libcurl 7.84). */
#ifndef MNI_CORE_CURL_H
#define MNI_CORE_CURL_H

#include <stddef.h>

/* MN_OK, or MN_EUNSUPPORTED with "WHAT needs libcurl: " and the loader's reason in err
 * (errlen bytes). */
int mni_curl_load(const char *what, char *err, size_t errlen);

#endif
