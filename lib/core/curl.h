/* libcurl, loaded when the openai embedder or a webhook delivery first needs it (see
 * core/dl.h), and set up then (curl_global_init: thread-safe since libcurl 7.84). */
#ifndef MNI_CORE_CURL_H
#define MNI_CORE_CURL_H

#include <stddef.h>

/* MN_OK, or MN_EUNSUPPORTED with the reason in err (errlen bytes), naming the library. */
int mni_curl_load(char *err, size_t errlen);

#endif
