/* The container's filesystem view: mounts, devices, pivot_root, masked and
 * read-only paths.  Runs inside the container's mount namespace, in the
 * container's init before it execs; every target is resolved inside the
 * rootfs (lib/path.h) so a symlink in an image cannot aim a mount at the
 * host. */
#ifndef KEEL_RUNTIME_ROOTFS_H
#define KEEL_RUNTIME_ROOTFS_H

#include <stdbool.h>

#include "lib/error.h"
#include "runtime/spec.h"

struct keel_rootfs_opts
{
  bool no_pivot;             /* MS_MOVE + chroot instead of pivot_root (initramfs roots) */
  bool userns;               /* inside a new user namespace: bind devices, keep locked flags */
  json_object *cgroup_state; /* for "cgroup" mounts on v1 and hybrid hosts */
  /* Called after mounts are done, before pivot_root (createRuntime and
   * createContainer hooks).  May be NULL. */
  int (*before_pivot)(void *userdata, struct keel_error *err);
  /* Called before a cgroup or cgroup2 mount: the container must be in its
   * cgroup (and cgroup namespace) first.  May be NULL. */
  int (*before_cgroup_mount)(void *userdata, struct keel_error *err);
  void *userdata;
};

/* Mounts and devices under the rootfs, then pivot_root into it. */
int keel_rootfs_setup(struct keel_spec *s, const struct keel_rootfs_opts *opts,
                      struct keel_error *err);

/* After pivot_root: masked and read-only paths, a read-only root, and the
 * final propagation of "/". */
int keel_rootfs_finish(struct keel_spec *s, const struct keel_rootfs_opts *opts,
                       struct keel_error *err);

#endif
