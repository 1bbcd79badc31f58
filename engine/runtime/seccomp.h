/* linux.seccomp of the OCI runtime spec, through libseccomp. */
#ifndef KEEL_RUNTIME_SECCOMP_H
#define KEEL_RUNTIME_SECCOMP_H

#include <json-c/json.h>

#include "lib/error.h"

/* Check linux.seccomp completely (default action, architectures, flags,
 * every syscall name, action, errnoRet and argument condition) without
 * loading anything.  Runs in `create` before any state exists, so every
 * mistake is reported while nothing needs cleaning up. */
int keel_seccomp_validate(json_object *seccomp, struct keel_error *err);

/* Build the filter and load it into the calling process (the container's
 * init, just before execve).  When the profile uses SCMP_ACT_NOTIFY the
 * listener fd is returned in *ret_notify_fd, else -1. */
int keel_seccomp_load(json_object *seccomp, int *ret_notify_fd, struct keel_error *err);

/* Send a notify fd to linux.seccomp.listenerPath as the runtime spec says:
 * one SCM_RIGHTS message carrying the fd with the container process state
 * JSON (ociVersion, fds ["seccompFd"], pid, metadata, state) as payload. */
int keel_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                               struct keel_error *err);

#endif
