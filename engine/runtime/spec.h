/* config.json of an OCI bundle, parsed and validated in one pass before
 * anything is created.  Scalars the start path uses every time are copied
 * into C fields; sections owned by one module (seccomp, resources, hooks,
 * sysctl, devices) stay json_object pointers into the parsed document and
 * are validated by that module. */
#ifndef KEEL_RUNTIME_SPEC_H
#define KEEL_RUNTIME_SPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "lib/error.h"

enum keel_ns_type
{
  KEEL_NS_USER,
  KEEL_NS_PID,
  KEEL_NS_NET,
  KEEL_NS_IPC,
  KEEL_NS_UTS,
  KEEL_NS_MOUNT,
  KEEL_NS_CGROUP,
  KEEL_NS_TIME,
  KEEL_NS_COUNT,
};

struct keel_ns
{
  bool wanted;      /* listed in linux.namespaces */
  const char *path; /* join this one instead of creating */
};

struct keel_idmap
{
  uint32_t container_id, host_id, size;
};

struct keel_mount
{
  const char *destination;
  const char *type;
  const char *source;
  unsigned long flags;       /* MS_* applied by mount(2) */
  unsigned long clear_flags; /* MS_* asked off explicitly (rw, suid, ...) */
  unsigned long propagation; /* MS_SHARED / MS_SLAVE / MS_PRIVATE / MS_UNBINDABLE (| MS_REC) */
  bool bind, recursive_ro;
  char *data; /* options that are not flags, comma-joined */
};

struct keel_rlimit
{
  int resource;
  const char *name;
  struct rlimit limit;
};

enum
{
  KEEL_CAP_BOUNDING,
  KEEL_CAP_EFFECTIVE,
  KEEL_CAP_INHERITABLE,
  KEEL_CAP_PERMITTED,
  KEEL_CAP_AMBIENT,
  KEEL_CAP_SETS,
};

struct keel_process
{
  bool terminal;
  unsigned short console_height, console_width;
  char **args;
  char **env;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  mode_t umask;
  bool has_caps;
  uint64_t caps[KEEL_CAP_SETS];
  struct keel_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
  const char *apparmor_profile;
  const char *selinux_label;
};

struct keel_spec
{
  json_object *doc; /* the whole parsed config.json (owned) */
  char *bundle;     /* absolute */
  char *rootfs;     /* absolute */
  bool root_readonly;
  struct keel_process process;
  bool has_process;
  const char *hostname, *domainname;
  struct keel_ns ns[KEEL_NS_COUNT];
  struct keel_idmap *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;
  struct keel_mount *mounts;
  size_t n_mounts;
  const char *cgroups_path;
  unsigned long rootfs_propagation; /* 0 = default (rslave then private) */
  char **masked_paths, **readonly_paths;
  json_object *seccomp, *resources, *hooks, *sysctl, *devices, *annotations, *time_offsets;
  const char *mount_label;
};

/* Read bundle/config.json and validate every field the runtime applies. */
int keel_spec_load(const char *bundle, struct keel_spec **ret, struct keel_error *err);
/* Parse a config document given as a string (bundle used for the rootfs path). */
int keel_spec_parse(const char *bundle, const char *json, size_t len, struct keel_spec **ret,
                    struct keel_error *err);
/* Parse a runtime-spec Process object (exec --process). */
int keel_process_parse(json_object *o, const char *ctx, struct keel_process *ret,
                       struct keel_error *err);
void keel_process_clear(struct keel_process *p);
void keel_spec_free(struct keel_spec *s);

/* Name of a namespace type in the spec ("pid", "network", ...). */
const char *keel_ns_name(enum keel_ns_type t);
/* CLONE_NEW* flag for a namespace type. */
int keel_ns_clone_flag(enum keel_ns_type t);

/* Capability name ("CAP_SYS_ADMIN") to number, -1 when unknown. */
int keel_cap_from_name(const char *name);
const char *keel_cap_name(int cap);
/* Highest capability the running kernel knows. */
int keel_cap_last(void);

/* The runtime-spec mount option table: flag, clear, propagation or data. */
int keel_mount_parse_options(json_object *options, const char *ctx, struct keel_mount *m,
                             struct keel_error *err);

#endif
