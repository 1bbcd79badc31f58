/* .containerignore / .dockerignore: which context paths COPY and ADD may not
 * see.  The rules of Docker's reference: one pattern a line, '#' lines are
 * comments, patterns are cleaned (filepath.Clean) and a leading '/' dropped,
 * Go filepath.Match syntax (* ? [class] and \ escapes) plus "**" for any
 * number of directories, '!' makes an exception; the last matching line
 * decides, and a path is excluded when it or one of its parent directories
 * matches. */
#ifndef KEEL_BUILD_IGNORE_H
#define KEEL_BUILD_IGNORE_H

#include <stdbool.h>

#include "lib/error.h"

struct keel_ignore;

/* Parse the text of an ignore file (name is used in messages:
 * "NAME:LINE: bad pattern ..."). */
int keel_ignore_parse(const char *name, const char *text, struct keel_ignore **ret,
                      struct keel_error *err);

/* Load <context>/.containerignore, else <context>/.dockerignore; no file
 * gives an empty rule set.  *ret_name (may be NULL) is the file used. */
int keel_ignore_load(int context_fd, const char *context_path, struct keel_ignore **ret,
                     const char **ret_name, struct keel_error *err);

void keel_ignore_free(struct keel_ignore *ig);

/* True when the context-relative path ("dir/file", no leading '/') is
 * excluded. */
bool keel_ignore_excluded(const struct keel_ignore *ig, const char *path);

/* True when some exception ('!') could re-include a path below an excluded
 * directory, so a walk must still descend into it. */
bool keel_ignore_has_exceptions(const struct keel_ignore *ig);

/* Go filepath.Match plus "**": 1 match, 0 no match, -EINVAL bad pattern. */
int keel_ignore_match(const char *pattern, const char *path);

/* A digest of the rules (part of every cache key of a step that reads the
 * context, so changing the ignore file invalidates them). */
const char *keel_ignore_digest(const struct keel_ignore *ig);

#endif
