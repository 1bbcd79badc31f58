/* OCI hooks: each runs with the container state on stdin, its own args and
 * env, and an optional timeout in seconds after which it is killed. */
#ifndef KEEL_RUNTIME_HOOKS_H
#define KEEL_RUNTIME_HOOKS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "lib/error.h"

/* True when hooks has at least one hook of this kind. */
bool keel_hooks_have(json_object *hooks, const char *kind);

/* Run every hook of `kind` in order; the first failure stops the rest and
 * is returned ("hooks.poststart[0] '/bin/x': exited with status 3"). */
int keel_hooks_run(json_object *hooks, const char *kind, const char *state_json,
                   struct keel_error *err);

#endif
