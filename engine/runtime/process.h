/* The runtime-spec process object applied to the calling process, in the
 * order the kernel requires: oom score, rlimits, working directory, LSM
 * labels, bounding set, groups and ids, the other capability sets, umask,
 * no_new_privs.  Seccomp is loaded here only when no_new_privs is off (it
 * then needs CAP_SYS_ADMIN, which is about to go); otherwise the caller
 * loads it as the very last step before execve. */
#ifndef KEEL_RUNTIME_PROCESS_H
#define KEEL_RUNTIME_PROCESS_H

#include <json-c/json.h>

#include "lib/error.h"
#include "runtime/spec.h"

struct keel_process_opts
{
  bool userns;          /* in a user namespace whose setgroups may be denied */
  json_object *seccomp; /* linux.seccomp or NULL */
  int *ret_notify_fd;   /* where a seccomp notify fd goes when loaded here */
};

int keel_process_apply(const struct keel_process *p, const struct keel_process_opts *opts,
                       struct keel_error *err);

/* Find args[0] along the process's PATH (or the default PATH) in the
 * current root; *ret is malloc()ed. */
int keel_process_find_exec(const struct keel_process *p, char **ret, struct keel_error *err);

/* Seccomp as the last step when no_new_privs is on (else a no-op). */
int keel_process_late_seccomp(const struct keel_process *p, const struct keel_process_opts *opts,
                              struct keel_error *err);

/* Mark every fd from `from` on close-on-exec (CVE-2024-21626: nothing of
 * the runtime's may reach the container). */
int keel_process_cloexec_from(int from);

#endif
