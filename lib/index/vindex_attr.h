/* The attributes a vector index partition keeps per key, so that a filtered search can decide
 * during graph traversal (identity, type, session, created and updated times, importance,
 * soft-deleted, expiry) without reading the store: one dense array of fixed-size records, an
 * open-addressing key -> record table, interned identity ids, types and sessions, and per
 * identity and per session the list of its keys (to enumerate a small filtered set for an
 * exact scan). Not thread-safe: the partition's lock guards it (vindex.c). */
#ifndef MNI_INDEX_VINDEX_ATTR_H
#define MNI_INDEX_VINDEX_ATTR_H

#include <stddef.h>
#include <stdint.h>

/* A key's values besides its names. */
struct vx_values {
    int64_t seq;        /* of the change applied last */
    int64_t expires_at; /* 0 = never */
    int64_t created_at, updated_at;
    double importance;
    uint64_t vhash;     /* of the vector: tells a new vector from a change of attributes */
    int deleted;        /* soft-deleted */
};

struct vx_attr {
    int64_t key;
    int64_t seq, expires_at, created_at, updated_at;
    double importance;
    uint64_t vhash;
    int32_t ident;      /* interned identity id */
    int32_t type;       /* interned type */
    int32_t session;    /* interned session, -1: none */
    int32_t ipos;       /* position in its identity's key list */
    int32_t spos;       /* position in its session's key list */
    uint8_t deleted;    /* soft-deleted */
    uint8_t mark;       /* scratch (load checks) */
};

struct vx_names {
    char **s;
    size_t n, cap;
    int32_t *map; /* hash -> index, -1 empty */
    size_t mcap;
};

struct vx_keys {
    int64_t *k;
    size_t n, cap;
};

struct vx_attrs {
    struct vx_attr *a;
    size_t n, cap;
    uint64_t *map; /* key -> index in a (low 32 bits) under the top 32 bits of the key's hash,
                    * so that a probe reads a only on a likely match; all ones: empty; at most
                    * half full */
    size_t mcap;
    struct vx_names idents, types, sessions;
    struct vx_keys *by_ident;   /* idents.n lists (capacity idents.cap) */
    struct vx_keys *by_session; /* sessions.n lists (capacity sessions.cap) */
    size_t *type_count;         /* types.n counts */
    size_t ndeleted;
};

void vx_attrs_init(struct vx_attrs *t);
void vx_attrs_free(struct vx_attrs *t);
/* The record index of key, or -1. */
int32_t vx_attrs_find(const struct vx_attrs *t, int64_t key);
/* The interned id of s, or -1 when no key ever had it. */
int32_t vx_name_find(const struct vx_names *n, const char *s);
/* Sets key's attributes, adding it when absent. MN_OK or MN_ENOMEM (then nothing changed). */
int vx_attrs_put(struct vx_attrs *t, int64_t key, const struct vx_values *v, const char *ident,
                 const char *type, const char *session /* NULL: none */);
/* Removes key (nothing when absent). */
void vx_attrs_del(struct vx_attrs *t, int64_t key);
/* Bytes held. */
size_t vx_attrs_bytes(const struct vx_attrs *t);

/* path.tmp then rename, checksummed (XXH64), with the caller's seq and token. MN_EBACKEND on
 * I/O. */
int vx_attrs_save(const struct vx_attrs *t, const char *path, int64_t seq, uint64_t token);
/* Into an initialised, empty t. MN_ENOTFOUND (no file), MN_ECORRUPT (damaged, truncated, not
 * ours), MN_ENOMEM, MN_EBACKEND. On failure t is left empty. */
int vx_attrs_load(const char *path, struct vx_attrs *t, int64_t *seq, uint64_t *token);

/* vx_attrs_load in parts, for a caller that checks the payload's checksum on one thread while
 * another parses it (the checksum of a 6 MB file is a fifth of its load): map, then sum and
 * parse in any order or at once, then unmap once both are done. The parse checks all but the
 * payload's checksum (the header's is its own) and is safe on any bytes; what it built must
 * not be used unless the sum is MN_OK too. */
struct vx_attr_file {
    const unsigned char *buf;
    size_t size;
};
/* MN_OK, MN_ENOTFOUND (no file), MN_ECORRUPT (shorter than a header), MN_ENOMEM, MN_EBACKEND. */
int vx_attr_file_map(const char *path, struct vx_attr_file *f);
/* MN_OK or MN_ECORRUPT. */
int vx_attr_file_sum(const struct vx_attr_file *f);
/* The sum (mod MNI_DIGEST_P) of the records' digest terms (store/store.h, mni_digest_term of
 * each key and seq), which the store's digest is compared with when the file is loaded: read
 * from the file by one thread while another parses it. MN_OK or MN_ECORRUPT. */
int vx_attr_file_digest(const struct vx_attr_file *f, int64_t *sum);
/* Into an initialised, empty t (left empty on failure): as vx_attrs_load but the sum. */
int vx_attr_file_parse(const struct vx_attr_file *f, struct vx_attrs *t, int64_t *seq,
                       uint64_t *token);
void vx_attr_file_unmap(struct vx_attr_file *f);

#endif
