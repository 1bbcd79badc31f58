/* linux.seccomp of the OCI runtime spec, through libseccomp. */
#ifndef KEEL_RUNTIME_SECCOMP_H
#define KEEL_RUNTIME_SECCOMP_H

#include <json-c/json.h>

#include "lib/error.h"

/* Check linux.seccomp completely (default action, architectures, flags,
 * every syscall name, action, errnoRet and argument condition) without
 * loading anything.  Runs in `create` before any state exists, so every
 * mistake is reported while nothing needs cleaning up.  NULL is fine.
 *
 * It also compiles the filter, or reads it from the cache of compiled
 * programs ($KEEL_SECCOMP_CACHE_DIR, else /run/keel-runtime/seccomp-cache
 * for root, $XDG_RUNTIME_DIR/keel-runtime/seccomp-cache otherwise; an empty
 * $KEEL_SECCOMP_CACHE_DIR turns the cache off), and keeps the program in
 * memory for keel_seccomp_load() in this process or a fork/clone of it.
 * Call it in the runtime before the container's init is cloned, so the
 * init loads in microseconds instead of compiling for milliseconds.
 *
 * Unknown syscall names are refused, unlike runc and crun which skip names
 * their libseccomp does not know: a typo would otherwise silently become
 * the default action.  The containers-common default profile of Debian 12
 * resolves completely with its libseccomp 2.5.4. */
int keel_seccomp_validate(json_object *seccomp, struct keel_error *err);

/* Build the filter and load it into the calling process (the container's
 * init, just before execve).  When the profile uses SCMP_ACT_NOTIFY the
 * listener fd is returned in *ret_notify_fd, else -1; hand it to the
 * runtime (which calls keel_seccomp_send_listener) before execve.
 *
 * Uses the program keel_seccomp_validate() prepared for the same profile;
 * without one it compiles here, and never reads the cache, whose path may
 * lie inside the container's rootfs by now.  It does not set
 * no_new_privs: without it (process.noNewPrivileges false) the caller
 * needs CAP_SYS_ADMIN, and the error says so.  NULL loads nothing. */
int keel_seccomp_load(json_object *seccomp, int *ret_notify_fd, struct keel_error *err);

/* Send a notify fd to linux.seccomp.listenerPath as the runtime spec says:
 * one SCM_RIGHTS message carrying the fd with the container process state
 * JSON (ociVersion, fds ["seccompFd"], pid, metadata, state) as payload. */
int keel_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                               struct keel_error *err);

#endif
