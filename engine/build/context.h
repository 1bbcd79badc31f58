/* The build context as COPY and ADD see it: sources checked to stay inside
 * it (no "..", no absolute paths, no symlink leading out), wildcards
 * expanded (Go filepath.Match per path component), .containerignore
 * applied, and a digest of everything a step would read (paths, types,
 * modes, owners, sizes, contents, link targets) for the layer cache. */
#ifndef KEEL_BUILD_CONTEXT_H
#define KEEL_BUILD_CONTEXT_H

#include <stdbool.h>

#include "build/ignore.h"
#include "lib/digest.h"
#include "lib/error.h"

struct keel_digest_ctx;

/* Expand one COPY/ADD source (already variable-expanded) into cleaned
 * context-relative paths ("." for the whole context), appended to *list
 * (a NULL-terminated vector grown with keel_strv_*).  Messages name the
 * source; the caller adds "FILE:LINE: ". */
int keel_context_sources(int ctxfd, const struct keel_ignore *ig, const char *src, char ***list,
                         struct keel_error *err);

/* Feed the digest of path (context-relative; a directory recursively,
 * ignore rules applied) into ctx. */
int keel_context_digest(int ctxfd, const struct keel_ignore *ig, const char *path,
                        struct keel_digest_ctx *ctx, struct keel_error *err);

/* Open a context-relative path, refusing any escape (RESOLVE_BENEATH);
 * flags as for openat.  -EXDEV when it would leave the context. */
int keel_context_open(int ctxfd, const char *path, int flags);

/* True when a source has an unescaped * ? or [. */
bool keel_context_has_wildcard(const char *s);

/* Expand a wildcard source inside another root (an image's rootfs for
 * COPY --from); no ignore rules.  Paths come back relative to the root. */
int keel_context_glob(int rootfd, const char *pattern, char ***list, struct keel_error *err);

#endif
