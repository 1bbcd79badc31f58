/* Private to the cgroup module: host layout, the per-container context
 * built from the state JSON, the resource "plan" (which file gets which
 * value), and the backends (v1, v2, eBPF device filter, systemd). */
#ifndef KEEL_RUNTIME_CGROUP_INTERNAL_H
#define KEEL_RUNTIME_CGROUP_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime/cgroup.h"

#define CG_ROOT     "/sys/fs/cgroup"
#define CG_UNIFIED  "/sys/fs/cgroup/unified"
#define CG_MAX_HIER 16

/* Seconds destroy waits for killed processes to leave, freeze for the
 * kernel to report the new state, the systemd driver for its job. */
#define CG_TIMEOUT_USEC (5 * 1000000ULL)

/* One v1 hierarchy as /proc/self/cgroup names it ("memory", "cpu,cpuacct",
 * "name=systemd"), where it is mounted, and where the runtime itself sits
 * in it.  In v2 and hybrid mode the unified hierarchy is kept apart. */
struct cg_hier
{
  char *name;
  char *mnt;
  char *self;
};

struct cg_host
{
  enum keel_cgroup_mode mode;
  size_t n;
  struct cg_hier h[CG_MAX_HIER];
  char *unified_self;        /* the runtime's own path in the unified hierarchy */
  char *unified_controllers; /* cgroup.controllers of the unified root */
};

/* Host layout, read once per process and cached. */
int cg_host_get(const struct cg_host **ret, struct keel_error *err);
/* Parse a /proc/self/cgroup document into host (tests feed their own). */
int cg_host_parse_self(struct cg_host *host, const char *doc, struct keel_error *err);
void cg_host_clear(struct cg_host *host);
/* True when the host can apply controller ctrl ("memory", "hugetlb", ...). */
bool cg_host_has(const struct cg_host *host, const char *ctrl, bool *ret_unified);

/* True when name (a comma list such as "cpu,cpuacct") contains ctrl. */
bool cg_list_has(const char *list, const char *ctrl, char sep);

/* The container's cgroup, as the state JSON describes it.  Strings are
 * borrowed from the JSON object. */
struct cg_ctx
{
  enum keel_cgroup_mode mode;
  size_t n;
  const char *name[CG_MAX_HIER];
  const char *dir[CG_MAX_HIER];
  const char *unified; /* v2 / hybrid: the container's unified directory */
  const char *unit;    /* systemd scope or NULL */
  json_object *state;
};

int cg_ctx_from_state(json_object *state, struct cg_ctx *ctx, struct keel_error *err);
/* Directory of the hierarchy holding ctrl; NULL ctrl or "" is the unified one. */
const char *cg_ctx_dir(const struct cg_ctx *ctx, const char *ctrl);

/* --- paths (cgroup.c) --- */

/* Parse "slice:prefix:name" into the slice's cgroup path ("/a.slice/a-b.slice")
 * and the unit name ("prefix-name.scope").  Pure. */
int cg_systemd_parse_path(const char *path, char *ret_slice, size_t slice_size, char *ret_unit,
                          size_t unit_size, struct keel_error *err);
/* Expand a slice name the systemd way: "a-b.slice" -> "/a.slice/a-b.slice". */
int cg_systemd_expand_slice(const char *slice, char *out, size_t size);
/* Join the runtime's own cgroup (self) and cgroupsPath: absolute paths are
 * taken as they are, relative ones under self; ".." never climbs above the
 * hierarchy root.  Pure. */
int cg_join_path(const char *self, const char *path, char *out, size_t size);

/* --- the resource plan (cgroup-res.c) --- */

struct cg_write
{
  const char *ctrl; /* hierarchy ("memory"); "" for the unified one */
  char file[64];
  char *value;
  char alt_file[64]; /* tried when file does not exist (bfq vs iocost weights) */
  char *alt_value;
};

struct cg_plan
{
  size_t n, cap;
  struct cg_write *w;
  /* v1 devices: lines for devices.deny / devices.allow are in w; v2: the rules */
  size_t n_dev;
  struct cg_dev_rule *dev;
  bool devices;        /* a device policy is to be applied */
  bool memory_swap_v1; /* limit and memsw both written: order may need flipping */
};

struct cg_dev_rule
{
  bool allow;
  char type;     /* 'a', 'b', 'c' */
  int64_t major; /* -1: any */
  int64_t minor;
  unsigned access; /* BPF_DEVCG_ACC_* bits */
};

enum cg_flavor
{
  CG_FLAVOR_V1,
  CG_FLAVOR_V2,
};

struct cg_plan_opts
{
  enum cg_flavor flavor;
  bool hugetlb_unified; /* hybrid: hugetlb lives only in the unified mount */
  bool unified_ok;      /* "unified" keys accepted (v2, hybrid) */
  bool update;          /* keel-runtime update: no default device rules when devices absent */
};

/* Translate linux.resources into writes and device rules, checking types
 * and ranges.  Pure: touches no file. */
int cg_plan_build(json_object *resources, const struct cg_plan_opts *opts, struct cg_plan *plan,
                  struct keel_error *err);
void cg_plan_free(struct cg_plan *plan);
/* linux.resources.devices → rules (cgroup-devices.c); v1 lines go in the plan too. */
int cg_plan_devices(json_object *resources, const struct cg_plan_opts *opts, struct cg_plan *plan,
                    struct keel_error *err);
/* Append a write; value is printf-formatted. */
int cg_plan_add(struct cg_plan *plan, struct keel_error *err, const char *ctrl, const char *file,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Controllers the plan needs, for the host check. */
int cg_plan_check_host(const struct cg_plan *plan, const struct cg_host *host,
                       struct keel_error *err);

/* Conversions the v2 files need, as runc and crun 1.x do them. */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight);
/* OCI swap is memory+swap; v2 memory.swap.max is swap alone.  0: leave unset;
 * -1 in *ret: "max". */
int cg_swap_v2(int64_t limit, bool has_limit, int64_t swap, int64_t *ret, struct keel_error *err);

/* Apply the plan's file writes to ctx's directories. */
int cg_plan_apply(const struct cg_plan *plan, const struct cg_ctx *ctx, struct keel_error *err);

/* --- v1 and v2 backends (cgroup-v1.c, cgroup-v2.c) --- */

/* v1: a new cpuset cgroup starts with no CPUs and no memory nodes, and no
 * task may join it until the parent's are copied in. */
int cg_v1_cpuset_fixup(const char *dir);
/* v2: make controllers (a "+a +b" list) available to dir's children in
 * every ancestor from the mount point mnt down to dir's parent. */
int cg_v2_enable(const char *mnt, const char *dir, const char *controllers, struct keel_error *err);
int cg_v1_freeze(const char *dir, bool frozen, struct keel_error *err);
int cg_v2_freeze(const char *dir, bool frozen, struct keel_error *err);
int cg_v1_is_frozen(const char *dir, bool *ret, struct keel_error *err);
int cg_v2_is_frozen(const char *dir, bool *ret, struct keel_error *err);

uint64_t cg_now_usec(void);
/* Sleep *us microseconds, then double it up to 10 ms. */
void cg_backoff(unsigned *us);
/* mkdir dir below the mount point mnt, parents included (mnt itself never),
 * calling fixup on every directory created; *created: dir itself is new. */
int cg_mkdir(const char *mnt, const char *dir, int (*fixup)(const char *dir), bool *created,
             struct keel_error *err);
/* Write pid into dir/cgroup.procs. */
int cg_enter_pid(const char *dir, pid_t pid, struct keel_error *err);
/* Move the calling thread into v1 cgroup dir: "0" written to "tasks".
 * Unlike cgroup.procs or a pid, that takes no global threadgroup lock,
 * whose write side first waits out an RCU grace period (~10 ms). */
int cg_v1_enter_self(const char *dir, struct keel_error *err);
/* Every pid below dir (recursively), appended to *pids. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct keel_error *err);
/* SIGKILL everything below dir, wait until empty, rmdir bottom-up.  A
 * missing dir is success. */
int cg_remove_tree(const char *dir, bool v2, const char *freezer, struct keel_error *err);

/* --- eBPF device filter (cgroup-ebpf.c) --- */

struct bpf_insn;
/* Build the program for rules (last match wins, default deny).  Pure. */
int cg_bpf_build(const struct cg_dev_rule *rules, size_t n, struct bpf_insn **ret, size_t *ret_n);
/* Load and attach to the cgroup directory, then detach old_id (the program
 * attached before, on update; 0: none).  Returns the new id in *ret_id. */
int cg_bpf_apply(const char *dir, const struct cg_dev_rule *rules, size_t n, uint32_t old_id,
                 uint32_t *ret_id, struct keel_error *err);

/* --- systemd driver (cgroup-systemd.c) --- */

struct cg_scope_opts
{
  const char *unit;
  const char *slice;
  pid_t pid;
  json_object *resources;
  bool v2;
};

/* Start the transient scope and wait for its job. */
int cg_systemd_start(const struct cg_scope_opts *opts, struct keel_error *err);
/* Stop the scope; a unit already gone is success. */
int cg_systemd_stop(const char *unit, struct keel_error *err);
/* True when systemd runs as the init system (sd_booted()). */
bool cg_systemd_running(void);

#endif
