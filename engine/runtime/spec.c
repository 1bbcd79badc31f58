#include "runtime/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

static const char *const ns_names[KEEL_NS_COUNT] = {
  [KEEL_NS_USER] = "user",     [KEEL_NS_PID] = "pid",   [KEEL_NS_NET] = "network",
  [KEEL_NS_IPC] = "ipc",       [KEEL_NS_UTS] = "uts",   [KEEL_NS_MOUNT] = "mount",
  [KEEL_NS_CGROUP] = "cgroup", [KEEL_NS_TIME] = "time",
};

static const int ns_flags[KEEL_NS_COUNT] = {
  [KEEL_NS_USER] = CLONE_NEWUSER,     [KEEL_NS_PID] = CLONE_NEWPID,
  [KEEL_NS_NET] = CLONE_NEWNET,       [KEEL_NS_IPC] = CLONE_NEWIPC,
  [KEEL_NS_UTS] = CLONE_NEWUTS,       [KEEL_NS_MOUNT] = CLONE_NEWNS,
  [KEEL_NS_CGROUP] = CLONE_NEWCGROUP, [KEEL_NS_TIME] = 0x80 /* CLONE_NEWTIME */,
};

const char *
keel_ns_name(enum keel_ns_type t)
{
  return ns_names[t];
}

int
keel_ns_clone_flag(enum keel_ns_type t)
{
  return ns_flags[t];
}

/* Capability names as the kernel numbers them (linux/capability.h). */
static const char *const cap_names[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

int
keel_cap_from_name(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
    if (!strcasecmp(name, cap_names[i]))
      return (int)i;
  return -1;
}

const char *
keel_cap_name(int cap)
{
  if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
    return "CAP_UNKNOWN";
  return cap_names[cap];
}

int
keel_cap_last(void)
{
  static int last = -1;
  if (last >= 0)
    return last;
  char buf[16] = { 0 };
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (read(fd, buf, sizeof(buf) - 1) > 0)
        last = atoi(buf);
      close(fd);
    }
  if (last <= 0)
    last = CAP_LAST_CAP;
  return last;
}

/* ---- mount options ---- */

enum opt_kind
{
  OPT_SET,   /* add flag */
  OPT_CLEAR, /* remove flag */
  OPT_PROP,  /* propagation */
  OPT_BIND,
  OPT_RBIND,
  OPT_RRO,
  OPT_IGNORE, /* accepted, applied elsewhere or meaningless here */
};

static const struct
{
  const char *name;
  enum opt_kind kind;
  unsigned long flag;
} mount_opts[] = {
  { "defaults", OPT_IGNORE, 0 },
  { "ro", OPT_SET, MS_RDONLY },
  { "rw", OPT_CLEAR, MS_RDONLY },
  { "suid", OPT_CLEAR, MS_NOSUID },
  { "nosuid", OPT_SET, MS_NOSUID },
  { "dev", OPT_CLEAR, MS_NODEV },
  { "nodev", OPT_SET, MS_NODEV },
  { "exec", OPT_CLEAR, MS_NOEXEC },
  { "noexec", OPT_SET, MS_NOEXEC },
  { "sync", OPT_SET, MS_SYNCHRONOUS },
  { "async", OPT_CLEAR, MS_SYNCHRONOUS },
  { "dirsync", OPT_SET, MS_DIRSYNC },
  { "remount", OPT_SET, MS_REMOUNT },
  { "mand", OPT_SET, MS_MANDLOCK },
  { "nomand", OPT_CLEAR, MS_MANDLOCK },
  { "atime", OPT_CLEAR, MS_NOATIME },
  { "noatime", OPT_SET, MS_NOATIME },
  { "diratime", OPT_CLEAR, MS_NODIRATIME },
  { "nodiratime", OPT_SET, MS_NODIRATIME },
  { "relatime", OPT_SET, MS_RELATIME },
  { "norelatime", OPT_CLEAR, MS_RELATIME },
  { "strictatime", OPT_SET, MS_STRICTATIME },
  { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "lazytime", OPT_SET, MS_LAZYTIME },
  { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
  { "silent", OPT_SET, MS_SILENT },
  { "loud", OPT_CLEAR, MS_SILENT },
  { "iversion", OPT_SET, MS_I_VERSION },
  { "noiversion", OPT_CLEAR, MS_I_VERSION },
  { "nosymfollow", OPT_SET, 256 /* MS_NOSYMFOLLOW */ },
  { "symfollow", OPT_CLEAR, 256 },
  { "bind", OPT_BIND, 0 },
  { "rbind", OPT_RBIND, 0 },
  { "rro", OPT_RRO, 0 },
  { "rrw", OPT_IGNORE, 0 },
  { "shared", OPT_PROP, MS_SHARED },
  { "rshared", OPT_PROP, MS_SHARED | MS_REC },
  { "slave", OPT_PROP, MS_SLAVE },
  { "rslave", OPT_PROP, MS_SLAVE | MS_REC },
  { "private", OPT_PROP, MS_PRIVATE },
  { "rprivate", OPT_PROP, MS_PRIVATE | MS_REC },
  { "unbindable", OPT_PROP, MS_UNBINDABLE },
  { "runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC },
  { "tmpcopyup", OPT_IGNORE, 0 },
  { "notmpcopyup", OPT_IGNORE, 0 },
  { "copy-symlink", OPT_IGNORE, 0 },
  { "rnosuid", OPT_SET, MS_NOSUID },
  { "rnodev", OPT_SET, MS_NODEV },
  { "rnoexec", OPT_SET, MS_NOEXEC },
};

static int
append_data(char **data, const char *opt)
{
  size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
  char *n = realloc(*data, old + add + 2);
  if (!n)
    return -ENOMEM;
  if (old)
    n[old++] = ',';
  memcpy(n + old, opt, add + 1);
  *data = n;
  return 0;
}

int
keel_mount_parse_options(json_object *options, const char *ctx, struct keel_mount *m,
                         struct keel_error *err)
{
  size_t n = options ? json_object_array_length(options) : 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(options, i);
      if (!json_object_is_type(e, json_type_string))
        return keel_error_set(err, -EINVAL, "%s.options[%zu]: expected a string", ctx, i);
      const char *o = json_object_get_string(e);
      size_t k;
      for (k = 0; k < ARRAY_SIZE(mount_opts); k++)
        if (!strcmp(o, mount_opts[k].name))
          break;
      if (k == ARRAY_SIZE(mount_opts))
        {
          if (append_data(&m->data, o) < 0)
            return keel_error_set(err, -ENOMEM, "out of memory");
          continue;
        }
      switch (mount_opts[k].kind)
        {
        case OPT_SET:
          m->flags |= mount_opts[k].flag;
          m->clear_flags &= ~mount_opts[k].flag;
          break;
        case OPT_CLEAR:
          m->flags &= ~mount_opts[k].flag;
          m->clear_flags |= mount_opts[k].flag;
          break;
        case OPT_PROP:
          m->propagation = mount_opts[k].flag;
          break;
        case OPT_BIND:
          m->bind = true;
          break;
        case OPT_RBIND:
          m->bind = true;
          m->flags |= MS_REC;
          break;
        case OPT_RRO:
          m->recursive_ro = true;
          m->flags |= MS_RDONLY;
          break;
        case OPT_IGNORE:
          break;
        }
    }
  return 0;
}

/* ---- process ---- */

static const struct
{
  const char *name;
  int resource;
} rlimit_names[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

static int
parse_rlimits(json_object *proc, const char *ctx, struct keel_process *p, struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(proc, "rlimits", ctx, &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  p->rlimits = calloc(n ? n : 1, sizeof(*p->rlimits));
  if (!p->rlimits)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(arr, i);
      char c[64];
      snprintf(c, sizeof(c), "%s.rlimits[%zu]", ctx, i);
      const char *type = NULL;
      uint64_t soft = 0, hard = 0;
      if (!json_object_is_type(e, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", c);
      if ((r = keel_json_get_string(e, "type", c, &type, err)) < 0)
        return r;
      if (!type)
        return keel_error_set(err, -EINVAL, "%s.type: missing", c);
      size_t k;
      for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
        if (!strcmp(type, rlimit_names[k].name))
          break;
      if (k == ARRAY_SIZE(rlimit_names))
        return keel_error_set(err, -EINVAL, "%s.type: unknown rlimit '%s'", c, type);
      if ((r = keel_json_get_uint64(e, "soft", c, &soft, err)) < 0
          || (r = keel_json_get_uint64(e, "hard", c, &hard, err)) < 0)
        return r;
      if (soft > hard)
        return keel_error_set(err, -EINVAL, "%s: soft limit %llu above hard limit %llu of %s", c,
                              (unsigned long long)soft, (unsigned long long)hard, type);
      for (size_t j = 0; j < p->n_rlimits; j++)
        if (p->rlimits[j].resource == rlimit_names[k].resource)
          return keel_error_set(err, -EINVAL, "%s.type: duplicate rlimit '%s'", c, type);
      struct keel_rlimit *rl = &p->rlimits[p->n_rlimits++];
      rl->resource = rlimit_names[k].resource;
      rl->name = rlimit_names[k].name;
      rl->limit.rlim_cur = soft;
      rl->limit.rlim_max = hard;
    }
  return 0;
}

static int
parse_capabilities(json_object *proc, const char *ctx, struct keel_process *p,
                   struct keel_error *err)
{
  static const char *const sets[KEEL_CAP_SETS]
      = { "bounding", "effective", "inheritable", "permitted", "ambient" };
  json_object *caps = NULL;
  int r = keel_json_get_object(proc, "capabilities", ctx, &caps, err);
  if (r <= 0)
    return r;
  p->has_caps = true;
  int last = keel_cap_last();
  for (int s = 0; s < KEEL_CAP_SETS; s++)
    {
      json_object *arr = NULL;
      char c[64];
      snprintf(c, sizeof(c), "%s.capabilities", ctx);
      if ((r = keel_json_get_array(caps, sets[s], c, &arr, err)) < 0)
        return r;
      size_t n = arr ? json_object_array_length(arr) : 0;
      for (size_t i = 0; i < n; i++)
        {
          json_object *e = json_object_array_get_idx(arr, i);
          if (!json_object_is_type(e, json_type_string))
            return keel_error_set(err, -EINVAL, "%s.%s[%zu]: expected a string", c, sets[s], i);
          const char *name = json_object_get_string(e);
          int cap = keel_cap_from_name(name);
          if (cap < 0)
            return keel_error_set(err, -EINVAL, "%s.%s: unknown capability '%s'", c, sets[s], name);
          /* A capability newer than the running kernel cannot be granted;
           * like runc, leave it out instead of failing. */
          if (cap <= last)
            p->caps[s] |= 1ULL << cap;
        }
    }
  return 0;
}

static int
parse_user(json_object *proc, const char *ctx, struct keel_process *p, struct keel_error *err)
{
  json_object *user = NULL;
  char c[64];
  snprintf(c, sizeof(c), "%s.user", ctx);
  int r = keel_json_get_object(proc, "user", ctx, &user, err);
  if (r <= 0)
    return r;
  int64_t v;
  if ((r = keel_json_get_int(user, "uid", c, 0, UINT32_MAX - 1, &v, err)) < 0)
    return r;
  p->uid = r ? (uid_t)v : 0;
  if ((r = keel_json_get_int(user, "gid", c, 0, UINT32_MAX - 1, &v, err)) < 0)
    return r;
  p->gid = r ? (gid_t)v : 0;
  if ((r = keel_json_get_int(user, "umask", c, 0, 0777, &v, err)) < 0)
    return r;
  if (r)
    {
      p->has_umask = true;
      p->umask = (mode_t)v;
    }
  json_object *gids = NULL;
  if ((r = keel_json_get_array(user, "additionalGids", c, &gids, err)) < 0)
    return r;
  size_t n = gids ? json_object_array_length(gids) : 0;
  if (n > 65536)
    return keel_error_set(err, -EINVAL, "%s.additionalGids: too many groups (%zu)", c, n);
  p->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
  if (!p->additional_gids)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(gids, i);
      int64_t g = json_object_get_int64(e);
      if (!json_object_is_type(e, json_type_int) || g < 0 || g > UINT32_MAX - 1)
        return keel_error_set(err, -EINVAL, "%s.additionalGids[%zu]: expected a gid", c, i);
      p->additional_gids[p->n_additional_gids++] = (gid_t)g;
    }
  const char *name = NULL;
  if ((r = keel_json_get_string(user, "username", c, &name, err)) < 0)
    return r;
  return 0;
}

int
keel_process_parse(json_object *o, const char *ctx, struct keel_process *p, struct keel_error *err)
{
  int r;
  memset(p, 0, sizeof(*p));
  if (!json_object_is_type(o, json_type_object))
    return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
  if ((r = keel_json_get_bool(o, "terminal", ctx, &p->terminal, err)) < 0)
    return r;
  json_object *cs = NULL;
  if ((r = keel_json_get_object(o, "consoleSize", ctx, &cs, err)) < 0)
    return r;
  if (cs)
    {
      char c[64];
      int64_t h = 0, w = 0;
      snprintf(c, sizeof(c), "%s.consoleSize", ctx);
      if ((r = keel_json_get_int(cs, "height", c, 0, 65535, &h, err)) < 0
          || (r = keel_json_get_int(cs, "width", c, 0, 65535, &w, err)) < 0)
        return r;
      p->console_height = (unsigned short)h;
      p->console_width = (unsigned short)w;
    }
  if ((r = keel_json_get_strv(o, "args", ctx, &p->args, err)) < 0)
    return r;
  if (!p->args || !p->args[0])
    return keel_error_set(err, -EINVAL, "%s.args: must name a program to run", ctx);
  if (!p->args[0][0])
    return keel_error_set(err, -EINVAL, "%s.args[0]: empty program name", ctx);
  if ((r = keel_json_get_strv(o, "env", ctx, &p->env, err)) < 0)
    return r;
  for (char **e = p->env; e && *e; e++)
    if (!strchr(*e, '=') || **e == '=')
      return keel_error_set(err, -EINVAL, "%s.env: '%s' is not NAME=VALUE", ctx, *e);
  if ((r = keel_json_get_string(o, "cwd", ctx, &p->cwd, err)) < 0)
    return r;
  if (!p->cwd)
    return keel_error_set(err, -EINVAL, "%s.cwd: missing", ctx);
  if (p->cwd[0] != '/')
    return keel_error_set(err, -EINVAL, "%s.cwd: '%s' is not an absolute path", ctx, p->cwd);
  if ((r = parse_user(o, ctx, p, err)) < 0 || (r = parse_capabilities(o, ctx, p, err)) < 0
      || (r = parse_rlimits(o, ctx, p, err)) < 0)
    return r;
  if ((r = keel_json_get_bool(o, "noNewPrivileges", ctx, &p->no_new_privileges, err)) < 0)
    return r;
  int64_t oom;
  if ((r = keel_json_get_int(o, "oomScoreAdj", ctx, -1000, 1000, &oom, err)) < 0)
    return r;
  if (r)
    {
      p->has_oom_score_adj = true;
      p->oom_score_adj = (int)oom;
    }
  if ((r = keel_json_get_string(o, "apparmorProfile", ctx, &p->apparmor_profile, err)) < 0
      || (r = keel_json_get_string(o, "selinuxLabel", ctx, &p->selinux_label, err)) < 0)
    return r;
  return 0;
}

void
keel_process_clear(struct keel_process *p)
{
  keel_strv_free(p->args);
  keel_strv_free(p->env);
  free(p->additional_gids);
  free(p->rlimits);
  memset(p, 0, sizeof(*p));
}

/* ---- linux ---- */

static int
parse_namespaces(struct keel_spec *s, json_object *lx, struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(lx, "namespaces", "linux", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(arr, i);
      char c[64];
      snprintf(c, sizeof(c), "linux.namespaces[%zu]", i);
      const char *type = NULL, *path = NULL;
      if (!json_object_is_type(e, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", c);
      if ((r = keel_json_get_string(e, "type", c, &type, err)) < 0
          || (r = keel_json_get_string(e, "path", c, &path, err)) < 0)
        return r;
      if (!type)
        return keel_error_set(err, -EINVAL, "%s.type: missing", c);
      int t;
      for (t = 0; t < KEEL_NS_COUNT; t++)
        if (!strcmp(type, ns_names[t]))
          break;
      if (t == KEEL_NS_COUNT)
        return keel_error_set(err, -EINVAL, "%s.type: unknown namespace '%s'", c, type);
      if (s->ns[t].wanted)
        return keel_error_set(err, -EINVAL, "%s.type: duplicate namespace '%s'", c, type);
      if (path && path[0] != '/')
        return keel_error_set(err, -EINVAL, "%s.path: '%s' is not an absolute path", c, path);
      if (path && !*path)
        path = NULL;
      s->ns[t].wanted = true;
      s->ns[t].path = path;
    }
  return 0;
}

static int
parse_idmaps(json_object *lx, const char *key, struct keel_idmap **ret, size_t *ret_n,
             struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(lx, key, "linux", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  if (n > 340) /* the kernel's limit on lines in uid_map */
    return keel_error_set(err, -EINVAL, "linux.%s: too many mappings (%zu)", key, n);
  *ret = calloc(n ? n : 1, sizeof(**ret));
  if (!*ret)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(arr, i);
      char c[64];
      int64_t cid, hid, size;
      snprintf(c, sizeof(c), "linux.%s[%zu]", key, i);
      if (!json_object_is_type(e, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", c);
      if ((r = keel_json_get_int(e, "containerID", c, 0, UINT32_MAX - 1, &cid, err)) <= 0
          || (r = keel_json_get_int(e, "hostID", c, 0, UINT32_MAX - 1, &hid, err)) <= 0
          || (r = keel_json_get_int(e, "size", c, 1, UINT32_MAX, &size, err)) <= 0)
        return r < 0 ? r
                     : keel_error_set(err, -EINVAL, "%s: containerID, hostID and size needed", c);
      (*ret)[i] = (struct keel_idmap){ (uint32_t)cid, (uint32_t)hid, (uint32_t)size };
    }
  *ret_n = n;
  return 0;
}

static bool
has_dotdot(const char *p)
{
  for (const char *q = p; (q = strstr(q, "..")); q += 2)
    if ((q == p || q[-1] == '/') && (q[2] == '\0' || q[2] == '/'))
      return true;
  return false;
}

static int
parse_mounts(struct keel_spec *s, struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(s->doc, "mounts", "", &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
  if (!s->mounts)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(arr, i), *opts = NULL;
      struct keel_mount *m = &s->mounts[s->n_mounts++];
      char c[64];
      snprintf(c, sizeof(c), "mounts[%zu]", i);
      if (!json_object_is_type(e, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", c);
      if ((r = keel_json_get_string(e, "destination", c, &m->destination, err)) < 0
          || (r = keel_json_get_string(e, "type", c, &m->type, err)) < 0
          || (r = keel_json_get_string(e, "source", c, &m->source, err)) < 0
          || (r = keel_json_get_array(e, "options", c, &opts, err)) < 0)
        return r;
      if (!m->destination)
        return keel_error_set(err, -EINVAL, "%s.destination: missing", c);
      if (m->destination[0] != '/')
        return keel_error_set(err, -EINVAL, "%s.destination: '%s' is not an absolute path", c,
                              m->destination);
      if (has_dotdot(m->destination))
        return keel_error_set(err, -EINVAL, "%s.destination: '%s' contains '..'", c,
                              m->destination);
      if ((r = keel_mount_parse_options(opts, c, m, err)) < 0)
        return r;
      if (m->type && !strcmp(m->type, "bind"))
        m->bind = true;
      if (!m->type && !m->bind)
        return keel_error_set(err, -EINVAL, "%s: needs a type or a bind option", c);
      if (m->bind && !m->source)
        return keel_error_set(err, -EINVAL, "%s.source: a bind mount needs a source", c);
    }
  return 0;
}

/* Sysctls a container may set: only those namespaced by a namespace it owns
 * (the same rule as runc's validator). */
static int
check_sysctl(struct keel_spec *s, struct keel_error *err)
{
  if (!s->sysctl)
    return 0;
  json_object_object_foreach(s->sysctl, key, val)
  {
    if (!json_object_is_type(val, json_type_string))
      return keel_error_set(err, -EINVAL, "linux.sysctl.%s: expected a string", key);
    if (strstr(key, "..") || strchr(key, '/'))
      return keel_error_set(err, -EINVAL, "linux.sysctl: bad name '%s'", key);
    bool ipc = !strncmp(key, "kernel.msg", 10) || !strcmp(key, "kernel.sem")
               || !strncmp(key, "kernel.shm", 10) || !strncmp(key, "fs.mqueue.", 10);
    bool net = !strncmp(key, "net.", 4);
    bool uts = !strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname");
    if (ipc && !(s->ns[KEEL_NS_IPC].wanted && !s->ns[KEEL_NS_IPC].path))
      return keel_error_set(err, -EINVAL, "linux.sysctl: '%s' needs a new IPC namespace", key);
    if (net && !s->ns[KEEL_NS_NET].wanted)
      return keel_error_set(err, -EINVAL, "linux.sysctl: '%s' needs a network namespace", key);
    if (uts)
      return keel_error_set(err, -EINVAL, "linux.sysctl: set '%s' through the %s field", key,
                            strchr(key, '.') + 1);
    if (!ipc && !net)
      return keel_error_set(
          err, -EINVAL, "linux.sysctl: '%s' is not namespaced; a container may not set it", key);
  }
  return 0;
}

static int
check_devices(struct keel_spec *s, struct keel_error *err)
{
  size_t n = s->devices ? json_object_array_length(s->devices) : 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(s->devices, i);
      char c[64];
      const char *type = NULL, *path = NULL;
      int64_t v;
      int r;
      snprintf(c, sizeof(c), "linux.devices[%zu]", i);
      if (!json_object_is_type(e, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", c);
      if ((r = keel_json_get_string(e, "type", c, &type, err)) < 0
          || (r = keel_json_get_string(e, "path", c, &path, err)) < 0)
        return r;
      if (!path || path[0] != '/' || has_dotdot(path))
        return keel_error_set(err, -EINVAL, "%s.path: needs an absolute path without '..'", c);
      if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
        return keel_error_set(err, -EINVAL, "%s.type: expected one of c, b, u, p", c);
      if ((r = keel_json_get_int(e, "major", c, 0, 4095, &v, err)) < 0
          || (r == 0 && type[0] != 'p'))
        return r < 0 ? r : keel_error_set(err, -EINVAL, "%s.major: missing", c);
      if ((r = keel_json_get_int(e, "minor", c, 0, (1 << 20) - 1, &v, err)) < 0
          || (r == 0 && type[0] != 'p'))
        return r < 0 ? r : keel_error_set(err, -EINVAL, "%s.minor: missing", c);
      if ((r = keel_json_get_int(e, "fileMode", c, 0, 07777, &v, err)) < 0
          || (r = keel_json_get_int(e, "uid", c, 0, UINT32_MAX - 1, &v, err)) < 0
          || (r = keel_json_get_int(e, "gid", c, 0, UINT32_MAX - 1, &v, err)) < 0)
        return r;
    }
  return 0;
}

static int
check_hooks(struct keel_spec *s, struct keel_error *err)
{
  static const char *const kinds[] = { "prestart",       "createRuntime", "createContainer",
                                       "startContainer", "poststart",     "poststop" };
  if (!s->hooks)
    return 0;
  json_object_object_foreach(s->hooks, kind, arr)
  {
    size_t k;
    for (k = 0; k < ARRAY_SIZE(kinds); k++)
      if (!strcmp(kind, kinds[k]))
        break;
    if (k == ARRAY_SIZE(kinds))
      return keel_error_set(err, -EINVAL, "hooks: unknown hook kind '%s'", kind);
    if (!json_object_is_type(arr, json_type_array))
      return keel_error_set(err, -EINVAL, "hooks.%s: expected an array", kind);
    for (size_t i = 0; i < json_object_array_length(arr); i++)
      {
        json_object *h = json_object_array_get_idx(arr, i);
        char c[96];
        const char *path = NULL;
        _cleanup_strv_ char **v = NULL;
        int64_t t;
        int r;
        snprintf(c, sizeof(c), "hooks.%s[%zu]", kind, i);
        if (!json_object_is_type(h, json_type_object))
          return keel_error_set(err, -EINVAL, "%s: expected an object", c);
        if ((r = keel_json_get_string(h, "path", c, &path, err)) < 0
            || (r = keel_json_get_strv(h, "args", c, &v, err)) < 0
            || (r = keel_json_get_strv(h, "env", c, &v, err)) < 0
            || (r = keel_json_get_int(h, "timeout", c, 1, INT32_MAX, &t, err)) < 0)
          return r;
        if (!path || path[0] != '/')
          return keel_error_set(err, -EINVAL, "%s.path: needs an absolute path", c);
      }
  }
  return 0;
}

static int
parse_linux(struct keel_spec *s, struct keel_error *err)
{
  json_object *lx = NULL;
  int r = keel_json_get_object(s->doc, "linux", "", &lx, err);
  if (r < 0)
    return r;
  if (!lx)
    return 0;
  if ((r = parse_namespaces(s, lx, err)) < 0
      || (r = parse_idmaps(lx, "uidMappings", &s->uid_maps, &s->n_uid_maps, err)) < 0
      || (r = parse_idmaps(lx, "gidMappings", &s->gid_maps, &s->n_gid_maps, err)) < 0)
    return r;
  if ((r = keel_json_get_string(lx, "cgroupsPath", "linux", &s->cgroups_path, err)) < 0
      || (r = keel_json_get_string(lx, "mountLabel", "linux", &s->mount_label, err)) < 0
      || (r = keel_json_get_object(lx, "seccomp", "linux", &s->seccomp, err)) < 0
      || (r = keel_json_get_object(lx, "resources", "linux", &s->resources, err)) < 0
      || (r = keel_json_get_object(lx, "sysctl", "linux", &s->sysctl, err)) < 0
      || (r = keel_json_get_array(lx, "devices", "linux", &s->devices, err)) < 0
      || (r = keel_json_get_object(lx, "timeOffsets", "linux", &s->time_offsets, err)) < 0
      || (r = keel_json_get_strv(lx, "maskedPaths", "linux", &s->masked_paths, err)) < 0
      || (r = keel_json_get_strv(lx, "readonlyPaths", "linux", &s->readonly_paths, err)) < 0)
    return r;
  for (char **p = s->masked_paths; p && *p; p++)
    if (**p != '/')
      return keel_error_set(err, -EINVAL, "linux.maskedPaths: '%s' is not absolute", *p);
  for (char **p = s->readonly_paths; p && *p; p++)
    if (**p != '/')
      return keel_error_set(err, -EINVAL, "linux.readonlyPaths: '%s' is not absolute", *p);
  const char *prop = NULL;
  if ((r = keel_json_get_string(lx, "rootfsPropagation", "linux", &prop, err)) < 0)
    return r;
  if (prop && *prop)
    {
      struct keel_mount m = { 0 };
      json_object *one = json_object_new_array();
      json_object_array_add(one, json_object_new_string(prop));
      r = keel_mount_parse_options(one, "linux.rootfsPropagation", &m, err);
      json_object_put(one);
      free(m.data);
      if (r < 0)
        return r;
      if (!m.propagation)
        return keel_error_set(err, -EINVAL, "linux.rootfsPropagation: unknown value '%s'", prop);
      s->rootfs_propagation = m.propagation;
    }
  return 0;
}

static int
check_consistency(struct keel_spec *s, struct keel_error *err)
{
  bool userns = s->ns[KEEL_NS_USER].wanted && !s->ns[KEEL_NS_USER].path;
  if (userns && (!s->n_uid_maps || !s->n_gid_maps))
    return keel_error_set(err, -EINVAL,
                          "linux: a new user namespace needs uidMappings and gidMappings");
  if (!s->ns[KEEL_NS_USER].wanted && (s->n_uid_maps || s->n_gid_maps))
    return keel_error_set(err, -EINVAL, "linux: uidMappings given without a user namespace");
  if ((s->hostname && *s->hostname) && !s->ns[KEEL_NS_UTS].wanted)
    return keel_error_set(err, -EINVAL, "hostname: setting it needs a UTS namespace");
  if ((s->domainname && *s->domainname) && !s->ns[KEEL_NS_UTS].wanted)
    return keel_error_set(err, -EINVAL, "domainname: setting it needs a UTS namespace");
  if (s->time_offsets && !(s->ns[KEEL_NS_TIME].wanted && !s->ns[KEEL_NS_TIME].path))
    return keel_error_set(err, -EINVAL, "linux.timeOffsets: needs a new time namespace");
  if (!s->ns[KEEL_NS_MOUNT].wanted && s->n_mounts)
    return keel_error_set(err, -EINVAL, "mounts: need a mount namespace");
  int r;
  if ((r = check_sysctl(s, err)) < 0 || (r = check_devices(s, err)) < 0
      || (r = check_hooks(s, err)) < 0)
    return r;
  return 0;
}

static int
parse_root(struct keel_spec *s, struct keel_error *err)
{
  json_object *root = NULL;
  const char *path = NULL;
  int r = keel_json_get_object(s->doc, "root", "", &root, err);
  if (r < 0)
    return r;
  if (!root)
    return keel_error_set(err, -EINVAL, "root: missing");
  if ((r = keel_json_get_string(root, "path", "root", &path, err)) < 0
      || (r = keel_json_get_bool(root, "readonly", "root", &s->root_readonly, err)) < 0)
    return r;
  if (!path || !*path)
    return keel_error_set(err, -EINVAL, "root.path: missing");
  if (path[0] == '/')
    s->rootfs = strdup(path);
  else if (asprintf(&s->rootfs, "%s/%s", s->bundle, path) < 0)
    s->rootfs = NULL;
  if (!s->rootfs)
    return keel_error_set(err, -ENOMEM, "out of memory");
  struct stat st;
  if (stat(s->rootfs, &st) < 0)
    return keel_error_set_errno(err, -errno, "root.path: cannot use '%s'", s->rootfs);
  if (!S_ISDIR(st.st_mode))
    return keel_error_set(err, -ENOTDIR, "root.path: '%s' is not a directory", s->rootfs);
  return 0;
}

int
keel_spec_parse(const char *bundle, const char *json, size_t len, struct keel_spec **ret,
                struct keel_error *err)
{
  struct keel_spec *s = calloc(1, sizeof(*s));
  if (!s)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = keel_json_parse(json, len, "config.json", &s->doc, err);
  if (r < 0)
    goto fail;
  if (!json_object_is_type(s->doc, json_type_object))
    {
      r = keel_error_set(err, -EINVAL, "config.json: expected a JSON object");
      goto fail;
    }
  s->bundle = realpath(bundle, NULL);
  if (!s->bundle)
    {
      r = keel_error_set_errno(err, -errno, "cannot use bundle '%s'", bundle);
      goto fail;
    }
  const char *ver = NULL;
  json_object *proc = NULL;
  if ((r = keel_json_get_string(s->doc, "ociVersion", "", &ver, err)) < 0)
    goto fail;
  if (!ver)
    {
      r = keel_error_set(err, -EINVAL, "ociVersion: missing");
      goto fail;
    }
  if ((r = parse_root(s, err)) < 0
      || (r = keel_json_get_object(s->doc, "process", "", &proc, err)) < 0)
    goto fail;
  if (proc)
    {
      s->has_process = true;
      if ((r = keel_process_parse(proc, "process", &s->process, err)) < 0)
        goto fail;
    }
  if ((r = keel_json_get_string(s->doc, "hostname", "", &s->hostname, err)) < 0
      || (r = keel_json_get_string(s->doc, "domainname", "", &s->domainname, err)) < 0
      || (r = keel_json_get_object(s->doc, "hooks", "", &s->hooks, err)) < 0
      || (r = keel_json_get_object(s->doc, "annotations", "", &s->annotations, err)) < 0
      || (r = parse_mounts(s, err)) < 0 || (r = parse_linux(s, err)) < 0
      || (r = check_consistency(s, err)) < 0)
    goto fail;
  *ret = s;
  return 0;
fail:
  keel_spec_free(s);
  return r;
}

int
keel_spec_load(const char *bundle, struct keel_spec **ret, struct keel_error *err)
{
  _cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open bundle '%s'", bundle);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(dfd, "config.json", 16 << 20, &buf, &len);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s/config.json'", bundle);
  return keel_spec_parse(bundle, buf, len, ret, err);
}

void
keel_spec_free(struct keel_spec *s)
{
  if (!s)
    return;
  keel_process_clear(&s->process);
  for (size_t i = 0; i < s->n_mounts; i++)
    free(s->mounts[i].data);
  free(s->mounts);
  free(s->uid_maps);
  free(s->gid_maps);
  keel_strv_free(s->masked_paths);
  keel_strv_free(s->readonly_paths);
  free(s->bundle);
  free(s->rootfs);
  if (s->doc)
    json_object_put(s->doc);
  free(s);
}
