/* CVE-2019-5736 defence: a process in the container that gets hold of the
 * runtime's /proc/PID/exe must not be able to write through it to the
 * binary on the host.  Commands that enter a container re-execute the
 * runtime from a sealed memfd copy first; a binary already on a read-only
 * mount (as on a Keel host, /usr) is safe as it is and is used directly. */
#ifndef KEEL_RUNTIME_SELFEXEC_H
#define KEEL_RUNTIME_SELFEXEC_H

#include "lib/error.h"

/* Returns 0 when running from a safe image (sealed memfd or read-only
 * mount); otherwise re-executes and only returns on failure. */
int keel_selfexec_ensure(char **argv, char **envp, struct keel_error *err);

/* 1 when /proc/self/exe is a sealed memfd, 0 if not. */
int keel_selfexec_is_sealed(void);

#endif
