/* The versions of the public structs and their mn_*_init() functions: see abi_structs.h. */
#include "api/abi_structs.h"

#include <stddef.h>

/* One struct's table: sizes[v - 1] is the size of version v, the last one sizeof the struct.
 * When a field is appended, its struct's _VERSION goes up by one and the size of the old
 * version is added here before sizeof, as offsetof(type, new_field). */
#define MNI_ABI_TABLE(type, name, ...)                                                         \
    static const size_t name##_sizes[] = { __VA_ARGS__ };                                      \
    const struct mni_abi_struct mni_abi_##name = {                                             \
        #type, sizeof name##_sizes / sizeof name##_sizes[0], name##_sizes };

/* A table and the init function that sets the version and clears the rest. */
#define MNI_ABI_STRUCT(type, name, ...)                                                        \
    MNI_ABI_TABLE(type, name, __VA_ARGS__)                                                     \
    int type##_init(type *s, unsigned version)                                                 \
    {                                                                                          \
        return mni_abi_init(&mni_abi_##name, s, version);                                     \
    }

MNI_ABI_STRUCT(mn_config, config, offsetof(mn_config, master_key_file),
               offsetof(mn_config, dedup), offsetof(mn_config, ratelimit_scope),
               offsetof(mn_config, hnsw_quantize), sizeof(mn_config))
MNI_ABI_STRUCT(mn_actor, actor, offsetof(mn_actor, api_key), sizeof(mn_actor))
MNI_ABI_STRUCT(mn_filter, filter, offsetof(mn_filter, session), sizeof(mn_filter))
MNI_ABI_STRUCT(mn_list_options, list_options, sizeof(mn_list_options))
MNI_ABI_STRUCT(mn_search_options, search_options, offsetof(mn_search_options, recency_half_life_ms),
               sizeof(mn_search_options))
MNI_ABI_STRUCT(mn_memory_changes, memory_changes, sizeof(mn_memory_changes))
MNI_ABI_STRUCT(mn_policy_input, policy_input, sizeof(mn_policy_input))
MNI_ABI_STRUCT(mn_apikey_input, apikey_input, sizeof(mn_apikey_input))
MNI_ABI_STRUCT(mn_audit_filter, audit_filter, sizeof(mn_audit_filter))
MNI_ABI_STRUCT(mn_policy_changes, policy_changes, sizeof(mn_policy_changes))
MNI_ABI_STRUCT(mn_ann_params, ann_params, offsetof(mn_ann_params, quantize),
               sizeof(mn_ann_params))
MNI_ABI_STRUCT(mn_embed_stats, embed_stats, sizeof(mn_embed_stats))
MNI_ABI_STRUCT(mn_embedder, embedder, sizeof(mn_embedder))
MNI_ABI_STRUCT(mn_ratelimit_result, ratelimit_result, sizeof(mn_ratelimit_result))
MNI_ABI_STRUCT(mn_ratelimit_stats, ratelimit_stats, sizeof(mn_ratelimit_stats))
MNI_ABI_STRUCT(mn_maintenance_report, maintenance_report,
               offsetof(mn_maintenance_report, tasks[5]), sizeof(mn_maintenance_report))
MNI_ABI_STRUCT(mn_cache_stats, cache_stats, sizeof(mn_cache_stats))
MNI_ABI_STRUCT(mn_feed_query, feed_query, sizeof(mn_feed_query))
MNI_ABI_STRUCT(mn_webhook_input, webhook_input, sizeof(mn_webhook_input))
MNI_ABI_STRUCT(mn_webhook_options, webhook_options, sizeof(mn_webhook_options))
MNI_ABI_TABLE(mn_memory_input, memory_input, offsetof(mn_memory_input, external_key),
              offsetof(mn_memory_input, session), sizeof(mn_memory_input))

/* mn_memory_input's importance defaults to MN_IMPORTANCE_DEFAULT, not to zero. */
int mn_memory_input_init(mn_memory_input *s, unsigned version)
{
    int rc = mni_abi_init(&mni_abi_memory_input, s, version);
    if (rc == MN_OK)
        s->importance = MN_IMPORTANCE_DEFAULT;
    return rc;
}
