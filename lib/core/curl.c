/* libcurl loaded on first use (core/curl.h, core/dl.h). Every libcurl function the library
 * calls is listed here, with curl.h's prototype; the three that take a variable argument
 * (setopt, getinfo, share_setopt) forward it by the type libcurl reads for the option. */
#define CURL_DISABLE_TYPECHECK /* its macros would rename the definitions below */
#include "core/curl.h"
#include "core/dl.h"
#include "manushya.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>

#define LIBCURL(F)                                                                                \
    F(, void, curl_easy_cleanup, (CURL *curl), (curl))                                            \
    F(return, CURL *, curl_easy_init, (void), ())                                                 \
    F(return, CURLcode, curl_easy_perform, (CURL *curl), (curl))                                  \
    F(return, const char *, curl_easy_strerror, (CURLcode code), (code))                          \
    F(return, time_t, curl_getdate, (const char *p, const time_t *unused), (p, unused))           \
    F(return, CURLcode, curl_global_init, (long flags), (flags))                                  \
    F(return, CURLMcode, curl_multi_add_handle, (CURLM *multi_handle, CURL *curl_handle),         \
      (multi_handle, curl_handle))                                                                \
    F(return, CURLMcode, curl_multi_cleanup, (CURLM *multi_handle), (multi_handle))               \
    F(return, CURLMsg *, curl_multi_info_read, (CURLM *multi_handle, int *msgs_in_queue),         \
      (multi_handle, msgs_in_queue))                                                              \
    F(return, CURLM *, curl_multi_init, (void), ())                                               \
    F(return, CURLMcode, curl_multi_perform, (CURLM *multi_handle, int *running_handles),         \
      (multi_handle, running_handles))                                                            \
    F(return, CURLMcode, curl_multi_poll,                                                         \
      (CURLM *multi_handle, struct curl_waitfd extra_fds[], unsigned int extra_nfds,              \
       int timeout_ms, int *ret),                                                                 \
      (multi_handle, extra_fds, extra_nfds, timeout_ms, ret))                                     \
    F(return, CURLMcode, curl_multi_remove_handle, (CURLM *multi_handle, CURL *curl_handle),      \
      (multi_handle, curl_handle))                                                                \
    F(return, CURLSHcode, curl_share_cleanup, (CURLSH *share), (share))                           \
    F(return, CURLSH *, curl_share_init, (void), ())                                              \
    F(return, struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *data), \
      (list, data))                                                                               \
    F(, void, curl_slist_free_all, (struct curl_slist *list), (list))

/* The variadic ones: looked up with the others, defined by hand below. */
#define LIBCURL_VA(F)                                                                             \
    F(, void, curl_easy_setopt, (void), ())                                                       \
    F(, void, curl_easy_getinfo, (void), ())                                                      \
    F(, void, curl_share_setopt, (void), ())

#define LIBCURL_ALL(F) LIBCURL(F) LIBCURL_VA(F)
#define WRAP(kw, ret, name, params, args) MNI_DL_WRAP(libcurl, kw, ret, name, params, args)
#define SKIP(kw, ret, name, params, args)

static int setup(void);
MNI_DL_DEFINE(libcurl, "libcurl.so.4", setup, LIBCURL_ALL, SKIP)
LIBCURL(WRAP)

static int setup(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK;
}

int mni_curl_load(const char *what, char *err, size_t errlen)
{
    if (mni_dl_load(&libcurl) == MN_OK)
        return MN_OK;
    snprintf(err, errlen, "%s needs libcurl: %s", what, libcurl.why);
    return MN_EUNSUPPORTED;
}

/* An option's argument is a long, an object or function pointer, a curl_off_t or a blob
 * pointer, by the option's number (CURLOPTTYPE_*), as libcurl reads it. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    typedef CURLcode (*by_long)(CURL *, CURLoption, long);
    typedef CURLcode (*by_ptr)(CURL *, CURLoption, void *);
    typedef CURLcode (*by_off)(CURL *, CURLoption, curl_off_t);
    void *f = mni_dl_fn(&libcurl, MNI_DL_curl_easy_setopt);
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = ((by_long)f)(curl, option, va_arg(ap, long));
    else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
        rc = ((by_off)f)(curl, option, va_arg(ap, curl_off_t));
    else
        rc = ((by_ptr)f)(curl, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    typedef CURLcode (*fn)(CURL *, CURLINFO, void *);
    va_list ap;
    va_start(ap, info);
    CURLcode rc = ((fn)mni_dl_fn(&libcurl, MNI_DL_curl_easy_getinfo))(curl, info,
                                                                       va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* CURLSHOPT_SHARE and _UNSHARE take a curl_lock_data (an int); the others a pointer. */
CURLSHcode curl_share_setopt(CURLSH *share, CURLSHoption option, ...)
{
    typedef CURLSHcode (*by_int)(CURLSH *, CURLSHoption, int);
    typedef CURLSHcode (*by_ptr)(CURLSH *, CURLSHoption, void *);
    void *f = mni_dl_fn(&libcurl, MNI_DL_curl_share_setopt);
    va_list ap;
    va_start(ap, option);
    CURLSHcode rc = option == CURLSHOPT_SHARE || option == CURLSHOPT_UNSHARE
                        ? ((by_int)f)(share, option, va_arg(ap, int))
                        : ((by_ptr)f)(share, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}
