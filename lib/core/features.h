/*
 * The optional parts of a build (the Makefile's WITH_* switches): what mn_features() reports,
 * and the one message for asking a build for a part it was made without. The switches reach
 * the code as MN_WITH_* in the generated build_options.h; only the backend registries and
 * features.c read them.
 */
#ifndef MNI_CORE_FEATURES_H
#define MNI_CORE_FEATURES_H

#include "manushya.h"

/* Records MN_EUNSUPPORTED on db: "WHAT needs a build with WITH_X=1 (this library was built
 * without LIB)", for the MN_FEATURE_* bit feature, and returns it. what names what was asked
 * for ("postgres://", "the openai embedder"), never a URL with its secrets. */
int mni_unbuilt(const mn_db *db, unsigned feature, const char *what);

#endif
