/* Control groups for containers: cgroup v2, v1, hybrid hosts (v1
 * controllers plus a cgroup2 mount), and the systemd driver over sd-bus.
 *
 * The container's cgroup is described by a JSON object (the "cgroup state")
 * that keel_cgroup_enter() returns and the runtime stores in the
 * container's state file; every later operation (update, freeze, pids,
 * destroy) works from that object alone, in a different process. */
#ifndef KEEL_RUNTIME_CGROUP_H
#define KEEL_RUNTIME_CGROUP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

enum keel_cgroup_mode
{
  KEEL_CGROUP_V1,     /* only v1 hierarchies */
  KEEL_CGROUP_HYBRID, /* v1 controllers and a cgroup2 mount at /sys/fs/cgroup/unified */
  KEEL_CGROUP_V2,     /* unified hierarchy at /sys/fs/cgroup */
};

/* What the host has, read once from /sys/fs/cgroup. */
int keel_cgroup_detect(enum keel_cgroup_mode *ret, struct keel_error *err);

/* cgroupsPath: an absolute path is taken as it is under every hierarchy's
 * root; a relative one under the runtime's own cgroup (/proc/self/cgroup);
 * ".." never climbs above a hierarchy's root, and a path resolving to the
 * root itself is refused.  Absent: "/keel/<id>".  With systemd it is
 * "slice:prefix:name" (absent: "system.slice:keel:<id>"): the container
 * gets the transient unit "prefix-name.scope" (Delegate=yes) in that slice. */
struct keel_cgroup_opts
{
  const char *id;         /* container id */
  const char *path;       /* linux.cgroupsPath or NULL: relative, absolute, or slice:prefix:name */
  bool systemd;           /* --systemd-cgroup: create a transient scope through sd-bus */
  json_object *resources; /* linux.resources or NULL */
  json_object *annotations;
};

/* Refuse resources the host cannot apply, values of the wrong type or out
 * of range, device rules that do not parse, a bad cgroupsPath, and
 * --systemd-cgroup where systemd is not running.  No side effects. */
int keel_cgroup_validate(const struct keel_cgroup_opts *opts, struct keel_error *err);

/* Create the container's cgroup, apply resources, move pid into it (pid 0:
 * create and configure only).  The device policy is always default-deny
 * plus the devices every container needs, after the config's rules (last
 * match wins).  On failure the directories this call created are removed
 * again if empty; pid is never killed here.  *ret_state is the caller's to
 * json_object_put() and to store. */
int keel_cgroup_enter(const struct keel_cgroup_opts *opts, pid_t pid, json_object **ret_state,
                      struct keel_error *err);

/* The state keel_cgroup_enter() would return, computed without creating
 * anything: written to the container's state before the cgroup exists, it
 * lets keel_cgroup_destroy() clean up after a runtime killed mid-create. */
int keel_cgroup_resolve(const struct keel_cgroup_opts *opts, json_object **ret_state,
                        struct keel_error *err);

/* Move pid into a cgroup keel_cgroup_enter() made with pid 0 (cgroupfs
 * driver only; the systemd driver needs the pid at creation); with
 * unified_only, into its unified hierarchy only (v2, hybrid), leaving the
 * v1 ones to keel_cgroup_attach_self_v1().  Split from enter so the
 * runtime can overlap the kernel's RCU grace period of a move with the
 * container's own setup. */
int keel_cgroup_attach(json_object *state, pid_t pid, bool unified_only, struct keel_error *err);

/* Move the calling process, which must have a single thread, into the v1
 * hierarchies of a cgroup keel_cgroup_enter() made with pid 0.  It moves
 * itself as a thread ("0" into "tasks"), which spares the global lock a
 * move by pid takes and the RCU grace period (~10 ms) taking it costs;
 * it needs the host's cgroupfs in its mount namespace and the rights to
 * write there (no user namespace). */
int keel_cgroup_attach_self_v1(json_object *state, struct keel_error *err);

/* Apply new linux.resources (keel-runtime update); only what resources
 * names changes.  On v2 a new device filter replaces the old one and its id
 * is recorded in state: store state again afterwards. */
int keel_cgroup_update(json_object *state, json_object *resources, struct keel_error *err);

/* Freeze or thaw every process (pause / resume); waits until the kernel
 * reports the new state. */
int keel_cgroup_freeze(json_object *state, bool frozen, struct keel_error *err);

/* True when the cgroup is frozen. */
int keel_cgroup_is_frozen(json_object *state, bool *ret, struct keel_error *err);

/* Every pid in the container's cgroup (keel-runtime ps, kill --all). */
int keel_cgroup_pids(json_object *state, pid_t **ret, size_t *ret_n, struct keel_error *err);

/* SIGKILL whatever still runs, wait for the cgroup to empty, remove it (and
 * stop the systemd scope).  Idempotent: a cgroup already gone is success. */
int keel_cgroup_destroy(json_object *state, struct keel_error *err);

/* Host directory of the container's cgroup for one v1 controller (or the
 * unified one when controller is NULL), for bind-mounting cgroups into the
 * container.  NULL when there is none. */
const char *keel_cgroup_path(json_object *state, const char *controller);

#endif
