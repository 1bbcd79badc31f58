/* keel build: a Containerfile and a context directory → an image in the
 * store.  Only the stages the target needs are built, each instruction one
 * step over a working container (build/working.h).  With layers on (the
 * default, as podman build) every step is committed as an untagged image
 * and remembered in a step cache keyed by the parent image, the expanded
 * instruction, the build args in scope and a digest of everything the step
 * reads (context files after the ignore rules, heredoc bodies, --from
 * images); a hit prints "--> Using cache <id>".  Names are given only to
 * the final image, after it is committed: a failed build tags nothing.
 *
 * Remote sources (ADD https://..., git) are refused: keel build never
 * fetches from the network itself; base images come through the resolver
 * the caller supplies (the CLI's: store lookup, then pull per --pull). */
#ifndef KEEL_BUILD_BUILDER_H
#define KEEL_BUILD_BUILDER_H

#include <stdbool.h>
#include <stdio.h>

#include "build/working.h"
#include "image/store.h"
#include "lib/digest.h"
#include "lib/error.h"

/* Find (or pull) an image; writes its id.  -ENOENT with err when absent. */
typedef int (*keel_build_resolve_fn)(void *userdata, const char *ref, const char *platform,
                                     char ret_id[KEEL_DIGEST_MAX], struct keel_error *err);

struct keel_build_opts
{
  const char *context;     /* directory */
  const char *file;        /* NULL: CONTEXT/Containerfile, else CONTEXT/Dockerfile */
  char *const *tags;       /* full names, NULL-terminated (may be NULL) */
  char *const *build_args; /* "K=V" or "K" (value from the environment) */
  char *const *labels;     /* "K=V", set on the final image */
  const char *target;      /* stage name; NULL: the last stage */
  const char *platform;    /* NULL: the host's */
  bool no_cache;
  bool layers;
  bool default_network_set;
  enum keel_working_network network; /* RUN's network unless RUN --network says */
  const char *runtime_root;
  FILE *out; /* progress lines ("STEP 1/5: ...", "--> Using cache ...") */
  keel_build_resolve_fn resolve;
  void *resolve_userdata;
};

#define KEEL_BUILD_OPTS_INIT                                                                       \
  {                                                                                                \
    .layers = true, .network = KEEL_WORKING_NET_BRIDGE                                             \
  }

/* Build; ret_id gets the final image id.  Errors are one line, naming the
 * Containerfile and line where one is to blame. */
int keel_build(struct keel_store *s, const struct keel_build_opts *o, char ret_id[KEEL_DIGEST_MAX],
               struct keel_error *err);

#endif
