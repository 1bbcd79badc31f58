/* Messages between the runtime and the container's init over a
 * SOCK_SEQPACKET pair: a type, a code and an optional text payload.  EOF
 * means the other side died, which each side treats as an error. */
#ifndef KEEL_RUNTIME_SYNC_H
#define KEEL_RUNTIME_SYNC_H

#include "lib/error.h"

enum keel_sync_type
{
  KEEL_SYNC_GO = 1, /* parent → init: maps and cgroup done; payload: JSON context */
  KEEL_SYNC_HOOKS,  /* init → parent: run prestart/createRuntime hooks now */
  KEEL_SYNC_HOOKS_DONE,
  KEEL_SYNC_READY,       /* init → parent: about to wait for start */
  KEEL_SYNC_ERROR,       /* either way: code = -errno, payload = message */
  KEEL_SYNC_START,       /* parent → init (run): exec the process now */
  KEEL_SYNC_CGROUP_DONE, /* parent → init: the init now sits in its cgroup */
};

/* A fresh close-on-exec SOCK_SEQPACKET pair. */
int keel_sync_pair(int *ret_parent, int *ret_child, struct keel_error *err);

int keel_sync_send(int fd, enum keel_sync_type type, int code, const char *payload);
/* Receive one message; *ret_payload is malloc()ed (NULL when empty). */
int keel_sync_recv(int fd, enum keel_sync_type *ret_type, int *ret_code, char **ret_payload);
/* Receive and insist on `want`; an ERROR message or EOF becomes err. */
int keel_sync_expect(int fd, enum keel_sync_type want, char **ret_payload, struct keel_error *err);

#endif
