/* The public structs that carry a version (see "Structs that grow" in manushya.h): for each,
 * the sizes of its versions, which every entry point reading or writing one and its
 * mn_*_init() use through core/abi.h. A new field appended to a struct adds its version here. */
#ifndef MNI_API_ABI_STRUCTS_H
#define MNI_API_ABI_STRUCTS_H

#include "core/abi.h"

extern const struct mni_abi_struct mni_abi_config, mni_abi_actor, mni_abi_filter,
    mni_abi_list_options, mni_abi_search_options, mni_abi_memory_input, mni_abi_memory_changes,
    mni_abi_policy_input, mni_abi_policy_changes, mni_abi_apikey_input, mni_abi_audit_filter,
    mni_abi_ann_params, mni_abi_embed_stats, mni_abi_embedder,
    mni_abi_ratelimit_result, mni_abi_ratelimit_stats, mni_abi_maintenance_report,
    mni_abi_cache_stats, mni_abi_webhook_input, mni_abi_webhook_options;
extern const struct mni_abi_struct mni_abi_feed_query;

#endif
