/*
 * libmicrohttpd, loaded when `manushya serve` starts rather than linked: with GnuTLS and the
 * libraries it brings it is ~10 shared objects that every other CLI command (a one-shot
 * `manushya memory search`) would pay the dynamic loader for at its start. The loader is the
 * library's (lib/core/dl.h, compiled into the CLI as well); every libmicrohttpd function
 * server.c calls is listed here with microhttpd.h's prototype.
 */
#include "serve.h"
#include "core/dl.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>

#define LIBMHD(F)                                                                                 \
    F(return, enum MHD_Result, MHD_add_response_header,                                           \
      (struct MHD_Response *response, const char *header, const char *content),                   \
      (response, header, content))                                                                \
    F(return, struct MHD_Response *, MHD_create_response_from_buffer,                             \
      (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))        \
    F(, void, MHD_destroy_response, (struct MHD_Response *response), (response))                  \
    F(return, int, MHD_get_connection_values,                                                     \
      (struct MHD_Connection *connection, enum MHD_ValueKind kind,                                \
       MHD_KeyValueIterator iterator, void *iterator_cls),                                        \
      (connection, kind, iterator, iterator_cls))                                                 \
    F(return, enum MHD_Result, MHD_is_feature_supported, (enum MHD_FEATURE feature), (feature))   \
    F(return, const char *, MHD_lookup_connection_value,                                          \
      (struct MHD_Connection *connection, enum MHD_ValueKind kind, const char *key),              \
      (connection, kind, key))                                                                    \
    F(return, enum MHD_Result, MHD_queue_response,                                                \
      (struct MHD_Connection *connection, unsigned int status_code,                               \
       struct MHD_Response *response),                                                           \
      (connection, status_code, response))                                                        \
    F(return, MHD_socket, MHD_quiesce_daemon, (struct MHD_Daemon *daemon), (daemon))              \
    F(return, struct MHD_Daemon *, MHD_start_daemon_va,                                           \
      (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,            \
       MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),                                   \
      (flags, port, apc, apc_cls, dh, dh_cls, ap))                                                \
    F(, void, MHD_stop_daemon, (struct MHD_Daemon *daemon), (daemon))

/* The variadic ones: looked up with the others, defined by hand below. */
#define LIBMHD_VA(F)                                                                              \
    F(, void, MHD_get_connection_info, (void), ())                                                \
    F(, void, MHD_get_daemon_info, (void), ())

#define LIBMHD_ALL(F) LIBMHD(F) LIBMHD_VA(F)
#define WRAP(kw, ret, name, params, args) MNI_DL_WRAP(libmhd, kw, ret, name, params, args)
#define SKIP(kw, ret, name, params, args)

MNI_DL_DEFINE(libmhd, "libmicrohttpd.so.12", NULL, LIBMHD_ALL, SKIP)
LIBMHD(WRAP)

int sv_mhd_load(void)
{
    if (mni_dl_load(&libmhd) == MN_OK)
        return 0;
    fprintf(stderr, "manushya serve: %s\n", libmhd.why);
    return -1;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

/* The two info calls take no argument after the type for the types server.c asks for
 * (MHD_CONNECTION_INFO_CLIENT_ADDRESS, MHD_DAEMON_INFO_BIND_PORT): none is passed on. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type,
                                                        ...)
{
    typedef const union MHD_ConnectionInfo *(*fn)(struct MHD_Connection *,
                                                  enum MHD_ConnectionInfoType, ...);
    return ((fn)mni_dl_fn(&libmhd, MNI_DL_MHD_get_connection_info))(connection, info_type);
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
                                                enum MHD_DaemonInfoType info_type, ...)
{
    typedef const union MHD_DaemonInfo *(*fn)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
    return ((fn)mni_dl_fn(&libmhd, MNI_DL_MHD_get_daemon_info))(daemon, info_type);
}
