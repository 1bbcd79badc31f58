/* The stage graph of a multi-stage Containerfile: which stages a target
 * needs (FROM <stage>, COPY --from=<stage>, RUN --mount=from=<stage>), in
 * the order to build them, with cycles and undefined stage numbers refused
 * as "FILE:LINE: ...". */
#ifndef KEEL_BUILD_STAGES_H
#define KEEL_BUILD_STAGES_H

#include <stddef.h>

#include "build/containerfile.h"
#include "build/expand.h"

/* The stage a reference names (a stage name, case-insensitive, or a stage
 * number), or -ENOENT when it is not a stage (then it is an image), or
 * -ERANGE for a number past the last stage. */
int keel_stage_ref(const struct keel_containerfile *cf, const char *ref);

/* Stages to build for target (NULL: the last stage), dependencies first;
 * x expands references that use global ARGs.  *ret is n_stages long,
 * *ret_n says how many are used. */
int keel_stage_plan(const struct keel_containerfile *cf, const char *target,
                    const struct keel_expand *x, size_t **ret, size_t *ret_n,
                    struct keel_error *err);

/* The stage an instruction depends on (COPY --from, FROM), or -ENOENT. */
int keel_stage_deps(const struct keel_containerfile *cf, size_t stage, const struct keel_expand *x,
                    int (*fn)(size_t dep, unsigned line, void *ud), void *ud,
                    struct keel_error *err);

#endif
