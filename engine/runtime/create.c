/* keel-runtime create: the parent side (state, namespaces to join, id
 * maps, cgroup, hooks in the runtime namespace) and the container's init
 * (namespaces, rootfs, process setup, wait for start, execve). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/hooks.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

struct create_ctx
{
  const struct keel_runtime *rt;
  const struct keel_create_opts *opts;
  struct keel_spec *spec;
  char dir[PATH_MAX];
  int dirfd;
  int sync_parent, sync_child;
  int fifo_fd;
  int console_fd;
  int ns_fds[KEEL_NS_COUNT];
  int notify_listener_fd;
  int saved_pid_fd, saved_time_fd; /* the runtime's own "for children" namespaces */
  pid_t pid;
  bool userns;
  bool cgroup_pending; /* the parent is still moving us into the cgroup */
  bool self_attach;    /* the init moves itself into the v1 hierarchies */
  int cgroup_fd;       /* unified cgroup made before clone, for CLONE_INTO_CGROUP */
  bool attach_after;   /* clone3 could not start the init in it: move by pid */
  bool cgroupns_done;
  char *state_json;          /* the State document hooks read on stdin (from GO) */
  json_object *cgroup_state; /* from GO, for cgroup mounts */
};

int
keel_container_check_id(const char *id, struct keel_error *err)
{
  size_t n = strlen(id);
  if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
    return keel_error_set(err, -EINVAL, "invalid container id '%s'", id);
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || strchr("_+-.", *p)))
      return keel_error_set(err, -EINVAL, "invalid container id '%s'", id);
  return 0;
}

static char *
now_rfc3339(char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

/* New namespaces the init makes itself with unshare() (those with no
 * later step depending on them) rather than clone() making them: a new
 * network namespace costs ~1 ms, which the init then spends while the
 * runtime writes the state and makes the cgroup, not before. */
static bool
ns_unshared_by_init(enum keel_ns_type t)
{
  return t == KEEL_NS_NET || t == KEEL_NS_IPC || t == KEEL_NS_UTS;
}

static unsigned long
new_ns_flags(const struct keel_spec *s, bool by_init)
{
  unsigned long f = 0;
  for (int t = 0; t < KEEL_NS_COUNT; t++)
    if (s->ns[t].wanted && !s->ns[t].path && t != KEEL_NS_CGROUP && t != KEEL_NS_TIME
        && ns_unshared_by_init(t) == by_init)
      f |= (unsigned long)keel_ns_clone_flag(t);
  return f;
}

/* ---- the container's init ---- */

static void __attribute__((noreturn)) init_fail(struct create_ctx *c, const struct keel_error *err)
{
  keel_sync_send(c->sync_child, KEEL_SYNC_ERROR, err->code, err->msg);
  _exit(1);
}

static int
join_namespaces(struct create_ctx *c, struct keel_error *err)
{
  /* user first: the others are owned by it; pid was joined by the parent */
  static const enum keel_ns_type order[]
      = { KEEL_NS_USER,   KEEL_NS_IPC,   KEEL_NS_UTS, KEEL_NS_NET,
          KEEL_NS_CGROUP, KEEL_NS_MOUNT, KEEL_NS_TIME };
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
    {
      enum keel_ns_type t = order[i];
      if (c->ns_fds[t] < 0)
        continue;
      if (setns(c->ns_fds[t], keel_ns_clone_flag(t)) < 0)
        return keel_error_set_errno(err, -errno, "cannot join %s namespace '%s'", keel_ns_name(t),
                                    c->spec->ns[t].path);
      close(c->ns_fds[t]);
      c->ns_fds[t] = -EBADF;
    }
  return 0;
}

static int
apply_sysctl(struct keel_spec *s, struct keel_error *err)
{
  if (!s->sysctl)
    return 0;
  json_object_object_foreach(s->sysctl, key, val)
  {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);
    for (char *p = path + 10; p < path + n; p++)
      if (*p == '.')
        *p = '/';
    int r = keel_write_string(AT_FDCWD, path, json_object_get_string(val));
    if (r < 0)
      return keel_error_set_errno(err, r, "cannot set sysctl '%s'", key);
  }
  return 0;
}

/* Wait until the parent has moved us into our cgroup, then enter a new
 * cgroup namespace rooted there.  Idempotent. */
static int
enter_cgroup_ns(struct create_ctx *c, struct keel_error *err)
{
  struct keel_spec *s = c->spec;
  if (c->cgroup_pending)
    {
      int r = keel_sync_expect(c->sync_child, KEEL_SYNC_CGROUP_DONE, NULL, err);
      if (r < 0)
        return r;
      c->cgroup_pending = false;
    }
  if (c->self_attach)
    {
      int r = keel_cgroup_attach_self_v1(c->cgroup_state, err);
      if (r < 0)
        return r;
      c->self_attach = false;
    }
  if (!c->cgroupns_done && s->ns[KEEL_NS_CGROUP].wanted && !s->ns[KEEL_NS_CGROUP].path)
    {
      if (unshare(CLONE_NEWCGROUP) < 0)
        return keel_error_set_errno(err, -errno, "cannot create the cgroup namespace");
    }
  c->cgroupns_done = true;
  return 0;
}

static int
before_cgroup_mount(void *userdata, struct keel_error *err)
{
  return enter_cgroup_ns(userdata, err);
}

static int
before_pivot(void *userdata, struct keel_error *err)
{
  struct create_ctx *c = userdata;
  int r = enter_cgroup_ns(c, err);
  if (r < 0)
    return r;
  json_object *hooks = c->spec->hooks;
  if (keel_hooks_have(hooks, "prestart") || keel_hooks_have(hooks, "createRuntime"))
    {
      r = keel_sync_send(c->sync_child, KEEL_SYNC_HOOKS, 0, NULL);
      if (r >= 0)
        r = keel_sync_expect(c->sync_child, KEEL_SYNC_HOOKS_DONE, NULL, err);
      if (r < 0)
        return r;
    }
  if (keel_hooks_have(hooks, "createContainer"))
    return keel_hooks_run(hooks, "createContainer", c->state_json, err);
  return 0;
}

static void
init_setup(struct create_ctx *c, char **ret_exec)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_spec *s = c->spec;
  int r;
  if (c->userns)
    {
      /* become root of the new user namespace once the parent mapped it */
      if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        {
          keel_error_set_errno(&err, -errno, "cannot become root in the user namespace");
          init_fail(c, &err);
        }
    }
  if ((r = join_namespaces(c, &err)) < 0)
    init_fail(c, &err);
  if (setsid() < 0 && errno != EPERM)
    {
      keel_error_set_errno(&err, -errno, "cannot start a session");
      init_fail(c, &err);
    }
  if ((s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
      || (s->domainname && *s->domainname
          && setdomainname(s->domainname, strlen(s->domainname)) < 0))
    {
      keel_error_set_errno(&err, -errno, "cannot set the host or domain name");
      init_fail(c, &err);
    }
  if ((r = apply_sysctl(s, &err)) < 0)
    init_fail(c, &err);
  struct keel_rootfs_opts ro = {
    .no_pivot = c->opts->no_pivot,
    .userns = c->userns || s->ns[KEEL_NS_USER].path,
    .cgroup_state = c->cgroup_state,
    .before_pivot = before_pivot,
    .before_cgroup_mount = before_cgroup_mount,
    .userdata = c,
  };
  if ((r = keel_rootfs_setup(s, &ro, &err)) < 0 || (r = enter_cgroup_ns(c, &err)) < 0)
    init_fail(c, &err);
  if (s->process.terminal
      && (r = keel_terminal_setup(c->console_fd, s->process.console_height,
                                  s->process.console_width, &err))
             < 0)
    init_fail(c, &err);
  if (c->console_fd >= 0)
    close(c->console_fd);
  if ((r = keel_rootfs_finish(s, &ro, &err)) < 0)
    init_fail(c, &err);
  if (!c->opts->no_new_keyring)
    syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
  if ((r = keel_process_find_exec(&s->process, ret_exec, &err)) < 0)
    init_fail(c, &err);
}

static void
wait_for_start(struct create_ctx *c)
{
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/fd/%d", c->fifo_fd);
  int fd;
  do
    fd = open(p, O_WRONLY | O_CLOEXEC); /* blocks until `start` opens the other end */
  while (fd < 0 && errno == EINTR);
  if (fd < 0 || write(fd, "0", 1) != 1)
    {
      fprintf(stderr, "keel-runtime: cannot wait for start: %s\n", strerror(errno));
      _exit(1);
    }
  close(fd);
  close(c->fifo_fd);
}

/* The runtime spec's "container process state" for a seccomp listener:
 * the notify fd travels as SCM_RIGHTS with this JSON as the payload. */
static void
send_notify_fd(struct create_ctx *c, int notify_fd)
{
  if (notify_fd < 0 || c->notify_listener_fd < 0)
    return;
  _cleanup_json_ json_object *msg = json_object_new_object();
  json_object *fds = json_object_new_array(), *st = NULL, *v;
  const char *meta = "";
  json_object_array_add(fds, json_object_new_string("seccompFd"));
  json_object_object_add(msg, "ociVersion", json_object_new_string(KEEL_OCI_VERSION));
  json_object_object_add(msg, "fds", fds);
  keel_json_parse(c->state_json, strlen(c->state_json), "state", &st, NULL);
  if (st && json_object_object_get_ex(st, "pid", &v))
    json_object_object_add(msg, "pid", json_object_get(v));
  if (json_object_object_get_ex(c->spec->seccomp, "listenerMetadata", &v))
    meta = json_object_get_string(v);
  json_object_object_add(msg, "metadata", json_object_new_string(meta));
  if (st)
    json_object_object_add(msg, "state", st);
  int r = keel_fd_send(c->notify_listener_fd, notify_fd,
                       json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
  if (r < 0)
    {
      fprintf(stderr, "keel-runtime: cannot send the seccomp fd to its listener: %s\n",
              strerror(-r));
      _exit(1);
    }
  close(notify_fd);
  close(c->notify_listener_fd);
}

static int
parse_go(struct create_ctx *c, char *payload)
{
  json_object *go = NULL, *v;
  if (!payload || keel_json_parse(payload, strlen(payload), "sync", &go, NULL) < 0)
    return -EPROTO;
  if (json_object_object_get_ex(go, "state", &v))
    c->state_json = strdup(json_object_get_string(v));
  if (json_object_object_get_ex(go, "cgroup", &v))
    c->cgroup_state = json_object_get(v);
  if (json_object_object_get_ex(go, "cgroup_pending", &v))
    c->cgroup_pending = json_object_get_boolean(v);
  json_object_put(go);
  return c->state_json ? 0 : -ENOMEM;
}

static void __attribute__((noreturn)) init_main(struct create_ctx *c)
{
  struct keel_error err = KEEL_ERROR_INIT;
  char *payload = NULL, *exec_path = NULL;
  int notify_fd = -1;
  close(c->sync_parent);
  close(c->dirfd);
  if (c->cgroup_fd >= 0)
    close(c->cgroup_fd);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  unsigned long flags = new_ns_flags(c->spec, true);
  if (flags && unshare((int)flags) < 0)
    {
      keel_error_set_errno(&err, -errno, "cannot create the container's namespaces");
      init_fail(c, &err);
    }
  if (keel_sync_expect(c->sync_child, KEEL_SYNC_GO, &payload, &err) < 0)
    _exit(1);
  if (parse_go(c, payload) < 0)
    {
      keel_error_set(&err, -EPROTO, "bad setup message");
      init_fail(c, &err);
    }
  free(payload);
  init_setup(c, &exec_path);
  struct keel_process_opts po
      = { .userns = c->userns, .seccomp = c->spec->seccomp, .ret_notify_fd = &notify_fd };
  if (keel_process_apply(&c->spec->process, &po, &err) < 0)
    init_fail(c, &err);
  /* Nothing of the runtime's may reach the container: every fd past stdio
   * and the preserved ones closes on exec. */
  int first = 3 + c->opts->preserve_fds;
  for (int fd = 3; fd < first; fd++)
    fcntl(fd, F_SETFD, 0);
  keel_process_cloexec_from(first);
  prctl(PR_SET_PDEATHSIG, 0);
  if (keel_sync_send(c->sync_child, KEEL_SYNC_READY, 0, NULL) < 0)
    _exit(1);
  if (c->opts->ret_start_fd)
    {
      if (keel_sync_expect(c->sync_child, KEEL_SYNC_START, NULL, &err) < 0)
        _exit(1);
    }
  else
    wait_for_start(c);
  close(c->sync_child);
  if (keel_hooks_have(c->spec->hooks, "startContainer")
      && keel_hooks_run(c->spec->hooks, "startContainer", c->state_json, &err) < 0)
    {
      fprintf(stderr, "keel-runtime: %s\n", err.msg);
      _exit(1);
    }
  if (keel_process_late_seccomp(&c->spec->process, &po, &err) < 0)
    {
      fprintf(stderr, "keel-runtime: %s\n", err.msg);
      _exit(1);
    }
  send_notify_fd(c, notify_fd);
  char *empty[] = { NULL };
  execve(exec_path, c->spec->process.args, c->spec->process.env ? c->spec->process.env : empty);
  int e = errno;
  fprintf(stderr, "keel-runtime: cannot execute '%s': %s\n", exec_path, strerror(e));
  _exit(e == ENOENT ? 127 : 126);
}

/* ---- the runtime's side ---- */

static int
write_idmap(pid_t pid, const char *file, const struct keel_idmap *m, size_t n,
            struct keel_error *err)
{
  char buf[340 * 36], path[64];
  size_t o = 0;
  for (size_t i = 0; i < n; i++)
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u %u %u\n", m[i].container_id, m[i].host_id,
                          m[i].size);
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, buf, o) != (ssize_t)o)
    return keel_error_set_errno(err, -errno, "cannot write %s", file);
  return 0;
}

static int
write_time_offsets(json_object *offsets, struct keel_error *err)
{
  char buf[256];
  size_t o = 0;
  json_object_object_foreach(offsets, clock, val)
  {
    json_object *v;
    long long secs = 0, nsecs = 0;
    if (strcmp(clock, "monotonic") && strcmp(clock, "boottime"))
      return keel_error_set(err, -EINVAL, "linux.timeOffsets: unknown clock '%s'", clock);
    if (json_object_object_get_ex(val, "secs", &v))
      secs = json_object_get_int64(v);
    if (json_object_object_get_ex(val, "nanosecs", &v))
      nsecs = json_object_get_int64(v);
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s %lld %lld\n", clock, secs, nsecs);
  }
  if (unshare(0x80 /* CLONE_NEWTIME */) < 0)
    return keel_error_set_errno(err, -errno, "cannot create the time namespace");
  if (o == 0)
    return 0; /* the kernel refuses an empty write: no offsets, nothing to say */
  int r = keel_write_string(AT_FDCWD, "/proc/self/timens_offsets", buf);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write time namespace offsets");
  return 0;
}

static int
save_child_ns(struct create_ctx *c, struct keel_error *err)
{
  if (c->spec->ns[KEEL_NS_TIME].wanted && !c->spec->ns[KEEL_NS_TIME].path
      && (c->saved_time_fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC)) < 0)
    return keel_error_set_errno(err, -errno, "cannot open the runtime's time namespace");
  if (c->ns_fds[KEEL_NS_PID] >= 0
      && (c->saved_pid_fd = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC)) < 0)
    return keel_error_set_errno(err, -errno, "cannot open the runtime's pid namespace");
  return 0;
}

static int
restore_child_ns(struct create_ctx *c, struct keel_error *err)
{
  if (c->saved_time_fd >= 0 && setns(c->saved_time_fd, 0x80 /* CLONE_NEWTIME */) < 0)
    return keel_error_set_errno(err, -errno, "cannot return to the runtime's time namespace");
  if (c->saved_pid_fd >= 0 && setns(c->saved_pid_fd, CLONE_NEWPID) < 0)
    return keel_error_set_errno(err, -errno, "cannot return to the runtime's pid namespace");
  return 0;
}

static int
open_join_paths(struct create_ctx *c, struct keel_error *err)
{
  for (int t = 0; t < KEEL_NS_COUNT; t++)
    {
      c->ns_fds[t] = -EBADF;
      if (!c->spec->ns[t].path)
        continue;
      c->ns_fds[t] = open(c->spec->ns[t].path, O_RDONLY | O_CLOEXEC);
      if (c->ns_fds[t] < 0)
        return keel_error_set_errno(err, -errno, "cannot open %s namespace '%s'", keel_ns_name(t),
                                    c->spec->ns[t].path);
    }
  return 0;
}

/* The State document hooks read; "status" as the spec names the phase. */
static json_object *
hook_state(struct create_ctx *c, const char *status)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "ociVersion", json_object_new_string(KEEL_OCI_VERSION));
  json_object_object_add(o, "id", json_object_new_string(c->opts->id));
  json_object_object_add(o, "status", json_object_new_string(status));
  json_object_object_add(o, "pid", json_object_new_int(c->pid));
  json_object_object_add(o, "bundle", json_object_new_string(c->spec->bundle));
  if (c->spec->annotations)
    json_object_object_add(o, "annotations", json_object_get(c->spec->annotations));
  return o;
}

static json_object *
initial_state(struct create_ctx *c)
{
  char ts[64];
  json_object *st = json_object_new_object();
  json_object_object_add(st, "ociVersion", json_object_new_string(KEEL_OCI_VERSION));
  json_object_object_add(st, "id", json_object_new_string(c->opts->id));
  json_object_object_add(st, "bundle", json_object_new_string(c->spec->bundle));
  json_object_object_add(st, "rootfs", json_object_new_string(c->spec->rootfs));
  json_object_object_add(st, "created", json_object_new_string(now_rfc3339(ts, sizeof(ts))));
  json_object_object_add(st, "owner", json_object_new_string(getuid() == 0 ? "root" : ""));
  json_object_object_add(st, "systemd_cgroup", json_object_new_boolean(c->rt->systemd_cgroup));
  json_object_object_add(st, "config", json_object_get(c->spec->doc));
  return st;
}

/* The init's pid, and its start time against pid reuse: without them
 * the state reads "creating". */
static void
set_state_pid(struct create_ctx *c, json_object *st)
{
  json_object_object_add(st, "pid", json_object_new_int(c->pid));
  json_object_object_add(st, "start_time", json_object_new_uint64(keel_proc_start_time(c->pid)));
}

static struct keel_cgroup_opts
cgroup_opts(const struct create_ctx *c)
{
  return (struct keel_cgroup_opts){ .id = c->opts->id,
                                    .path = c->spec->cgroups_path,
                                    .systemd = c->rt->systemd_cgroup,
                                    .resources = c->spec->resources,
                                    .annotations = c->spec->annotations };
}

static int
run_parent_hooks(struct create_ctx *c, struct keel_error *err)
{
  _cleanup_json_ json_object *hs = hook_state(c, "created");
  const char *s = json_object_to_json_string_ext(hs, JSON_C_TO_STRING_PLAIN);
  int r = keel_hooks_run(c->spec->hooks, "prestart", s, err);
  if (r >= 0)
    r = keel_hooks_run(c->spec->hooks, "createRuntime", s, err);
  return r;
}

/* A send to the init failed: it died.  If it said why before dying, that
 * message is still queued on the socket and is the error worth showing. */
static int
init_went_away(struct create_ctx *c, int r, struct keel_error *err)
{
  enum keel_sync_type type;
  int code;
  _cleanup_free_ char *payload = NULL;
  if (keel_sync_recv(c->sync_parent, &type, &code, &payload) == 0 && type == KEEL_SYNC_ERROR)
    return keel_error_set(err, code ? code : -EIO, "%s",
                          payload ? payload : "container setup failed");
  return keel_error_set_errno(err, r, "container init went away");
}

/* Create the cgroup and move the init in, telling it when that is done. */
static int
parent_cgroup(struct create_ctx *c, const struct keel_cgroup_opts *cgo, json_object *st,
              struct keel_error *err)
{
  json_object *planned = keel_state_obj(st, "cgroup"), *real = NULL;
  int r = keel_cgroup_enter(cgo, 0, &real, err);
  if (r < 0)
    return r;
  bool changed = strcmp(json_object_to_json_string(planned), json_object_to_json_string(real));
  json_object_object_add(st, "cgroup", real);
  if ((r = keel_cgroup_attach(real, c->pid, c->self_attach, err)) < 0
      || (changed && (r = keel_state_write(c->dirfd, st, err)) < 0))
    return r;
  if ((r = keel_sync_send(c->sync_parent, KEEL_SYNC_CGROUP_DONE, 0, NULL)) < 0)
    return init_went_away(c, r, err);
  return 0;
}

static int
send_go(struct create_ctx *c, json_object *cg, bool pending, struct keel_error *err)
{
  _cleanup_json_ json_object *go = json_object_new_object();
  json_object *hs = hook_state(c, "creating");
  json_object_object_add(
      go, "state",
      json_object_new_string(json_object_to_json_string_ext(hs, JSON_C_TO_STRING_PLAIN)));
  json_object_put(hs);
  json_object_object_add(go, "cgroup", json_object_get(cg));
  json_object_object_add(go, "cgroup_pending", json_object_new_boolean(pending));
  int r = keel_sync_send(c->sync_parent, KEEL_SYNC_GO, 0,
                         json_object_to_json_string_ext(go, JSON_C_TO_STRING_PLAIN));
  return r < 0 ? init_went_away(c, r, err) : 0;
}

/* With cgroupfs the init can move itself into the v1 hierarchies, which
 * costs no RCU grace period (keel_cgroup_attach_self_v1), as long as it
 * still sees the host's cgroupfs and may write there: no user namespace,
 * no mount or cgroup namespace joined by path. */
static bool
can_attach_self(const struct create_ctx *c)
{
  const struct keel_spec *s = c->spec;
  return !c->rt->systemd_cgroup && !c->userns && !s->ns[KEEL_NS_USER].path
         && !s->ns[KEEL_NS_MOUNT].path && !s->ns[KEEL_NS_CGROUP].path;
}

/* After GO: answer the init's hook requests until it is READY. */
static int
wait_ready(struct create_ctx *c, struct keel_error *err)
{
  for (;;)
    {
      enum keel_sync_type type;
      int code, r;
      _cleanup_free_ char *payload = NULL;
      if (keel_sync_recv(c->sync_parent, &type, &code, &payload) < 0)
        return keel_error_set(err, -ECHILD, "container init exited during setup");
      if (type == KEEL_SYNC_READY)
        return 0;
      if (type == KEEL_SYNC_ERROR)
        return keel_error_set(err, code, "%s", payload ? payload : "container setup failed");
      if (type != KEEL_SYNC_HOOKS)
        return keel_error_set(err, -EPROTO, "unexpected message %d from container init", type);
      if ((r = run_parent_hooks(c, err)) < 0)
        {
          keel_sync_send(c->sync_parent, KEEL_SYNC_ERROR, r, err->msg);
          return r;
        }
      if ((r = keel_sync_send(c->sync_parent, KEEL_SYNC_HOOKS_DONE, 0, NULL)) < 0)
        return init_went_away(c, r, err);
    }
}

/* Everything between clone and the init's READY, on the runtime's side.
 * A cgroup made before clone (make_cgroup_early) is done but for a move
 * by pid where clone3 could not start the init in it.  Otherwise, with
 * cgroupfs, the init starts on its rootfs at once while the cgroup is
 * made here; it waits for CGROUP_DONE before its cgroup mounts and its
 * cgroup namespace, and then moves itself into the v1 hierarchies when it
 * can (can_attach_self); a move by pid, done here otherwise and always for
 * the unified hierarchy, waits out an RCU grace period.  The planned
 * cgroup is in the state before anything exists, so delete --force can
 * clean up after a runtime killed here. */
static int
parent_setup(struct create_ctx *c, json_object *st, struct keel_error *err)
{
  struct keel_cgroup_opts cgo = cgroup_opts(c);
  json_object *cg = keel_state_obj(st, "cgroup");
  bool made = cg != NULL, overlap = !made && !c->rt->systemd_cgroup;
  int r;
  if (!made)
    {
      if ((r = keel_cgroup_resolve(&cgo, &cg, err)) < 0)
        return r;
      json_object_object_add(st, "cgroup", cg);
    }
  if ((r = keel_state_write(c->dirfd, st, err)) < 0)
    return r;
  if (c->userns
      && ((r = write_idmap(c->pid, "uid_map", c->spec->uid_maps, c->spec->n_uid_maps, err)) < 0
          || (r = write_idmap(c->pid, "gid_map", c->spec->gid_maps, c->spec->n_gid_maps, err)) < 0))
    return r;
  if (made && c->attach_after && (r = keel_cgroup_attach(cg, c->pid, true, err)) < 0)
    return r;
  if (!made && !overlap)
    {
      json_object *real = NULL;
      if ((r = keel_cgroup_enter(&cgo, c->pid, &real, err)) < 0)
        return r;
      json_object_object_add(st, "cgroup", cg = real);
      if ((r = keel_state_write(c->dirfd, st, err)) < 0)
        return r;
    }
  if ((r = send_go(c, cg, overlap, err)) < 0)
    return r;
  if (overlap && (r = parent_cgroup(c, &cgo, st, err)) < 0)
    return r;
  return wait_ready(c, err);
}

/* Where there is a unified hierarchy (v2, hybrid) a move into it by pid
 * waits out an RCU grace period; clone3() can start the init inside its
 * cgroup instead (CLONE_INTO_CGROUP, Linux 5.7), if the cgroup exists
 * before clone.  Done with cgroupfs when the init moves itself into any
 * v1 hierarchies; elsewhere the cgroup is made while the init starts. */
static bool
cgroup_before_clone(const struct create_ctx *c)
{
  enum keel_cgroup_mode mode;
  if (c->rt->systemd_cgroup || keel_cgroup_detect(&mode, NULL) < 0)
    return false;
  return mode == KEEL_CGROUP_V2 || (mode == KEEL_CGROUP_HYBRID && c->self_attach);
}

/* Before clone: the state with the planned cgroup, what delete --force
 * needs after a kill -9, then the cgroup, its unified directory opened
 * for clone3. */
static int
make_cgroup_early(struct create_ctx *c, json_object *st, struct keel_error *err)
{
  struct keel_cgroup_opts cgo = cgroup_opts(c);
  json_object *cg = NULL;
  int r = keel_cgroup_resolve(&cgo, &cg, err);
  if (r < 0)
    return r;
  json_object_object_add(st, "cgroup", cg);
  if ((r = keel_state_write(c->dirfd, st, err)) < 0
      || (r = keel_cgroup_enter(&cgo, 0, &cg, err)) < 0)
    return r;
  json_object_object_add(st, "cgroup", cg);
  const char *dir = keel_cgroup_path(cg, NULL);
  if (!dir)
    return keel_error_set(err, -ENOENT, "cgroup state: no unified directory");
  c->cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->cgroup_fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open cgroup '%s'", dir);
  return 0;
}

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#define KEEL_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args of Linux 5.7 (<linux/sched.h> clashes with <sched.h>) */
struct clone3_args
{
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

/* Start the init: inside c->cgroup_fd's cgroup when there is one.  A
 * kernel without CLONE_INTO_CGROUP gets a plain clone and a move by pid
 * afterwards (attach_after). */
static pid_t
spawn_init(struct create_ctx *c)
{
  unsigned long flags = new_ns_flags(c->spec, false);
  if (c->cgroup_fd >= 0)
    {
      struct clone3_args a = { .flags = flags | KEEL_CLONE_INTO_CGROUP,
                               .exit_signal = SIGCHLD,
                               .cgroup = (uint64_t)c->cgroup_fd };
      pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
      if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL))
        return pid;
      c->attach_after = true;
    }
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static int
check_create(struct create_ctx *c, struct keel_error *err)
{
  struct keel_spec *s = c->spec;
  int r;
  if (!s->has_process)
    return keel_error_set(err, -EINVAL, "process: missing; nothing to run");
  if (!s->ns[KEEL_NS_MOUNT].wanted)
    return keel_error_set(err, -EINVAL, "linux.namespaces: a mount namespace is required");
  if (s->process.terminal && !c->opts->console_socket && !c->opts->ret_console_master)
    return keel_error_set(err, -EINVAL, "process.terminal is true: --console-socket is required");
  if (s->seccomp && (r = keel_seccomp_validate(s->seccomp, err)) < 0)
    return r;
  struct keel_cgroup_opts cgo = cgroup_opts(c);
  return keel_cgroup_validate(&cgo, err);
}

static int
open_channels(struct create_ctx *c, struct keel_error *err)
{
  int r;
  if ((r = open_join_paths(c, err)) < 0)
    return r;
  if (!c->opts->ret_start_fd)
    {
      /* The init opens the fifo only after it became process.user (maybe
       * an unprivileged uid, maybe root of a user namespace mapped
       * elsewhere), so anyone may write to it; the 0700 state directory
       * keeps everyone else from reaching it by path, and the init reopens
       * it through its fd. */
      if (mkfifoat(c->dirfd, KEEL_EXEC_FIFO, 0622) < 0
          || fchmodat(c->dirfd, KEEL_EXEC_FIFO, 0622, 0) < 0)
        return keel_error_set_errno(err, -errno, "cannot create exec fifo");
      c->fifo_fd = openat(c->dirfd, KEEL_EXEC_FIFO, O_PATH | O_CLOEXEC);
      if (c->fifo_fd < 0)
        return keel_error_set_errno(err, -errno, "cannot open exec fifo");
    }
  if (c->spec->process.terminal
      && (c->console_fd
          = keel_console_channel(c->opts->console_socket, c->opts->ret_console_master, err))
             < 0)
    return c->console_fd;
  json_object *v;
  if (c->spec->seccomp && json_object_object_get_ex(c->spec->seccomp, "listenerPath", &v)
      && *json_object_get_string(v))
    {
      c->notify_listener_fd = keel_unix_connect(json_object_get_string(v), err);
      if (c->notify_listener_fd < 0)
        return keel_error_prefix(err, "linux.seccomp.listenerPath");
    }
  return keel_sync_pair(&c->sync_parent, &c->sync_child, err);
}

static int
make_state_dir(struct create_ctx *c, struct keel_error *err)
{
  int r = keel_mkdir_p(c->rt->root, 0700);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create state root '%s'", c->rt->root);
  snprintf(c->dir, sizeof(c->dir), "%s/%s", c->rt->root, c->opts->id);
  if (mkdir(c->dir, 0700) < 0)
    {
      int e = errno;
      c->dir[0] = '\0';
      if (e == EEXIST)
        return keel_error_set(err, -EEXIST, "container '%s' already exists", c->opts->id);
      return keel_error_set_errno(err, -e, "cannot create state of '%s'", c->opts->id);
    }
  c->dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->dirfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open state of '%s'", c->opts->id);
  return 0;
}

static int
write_pid_file(const char *path, pid_t pid, struct keel_error *err)
{
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
  int r = keel_write_file_replace(AT_FDCWD, path, buf, (size_t)n, 0644);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write pid file '%s'", path);
  return 0;
}

static void
ctx_close(struct create_ctx *c)
{
  int *fds[] = { &c->dirfd,        &c->sync_parent,   &c->sync_child,
                 &c->fifo_fd,      &c->console_fd,    &c->notify_listener_fd,
                 &c->saved_pid_fd, &c->saved_time_fd, &c->cgroup_fd };
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
    if (*fds[i] >= 0)
      {
        close(*fds[i]);
        *fds[i] = -EBADF;
      }
  for (int t = 0; t < KEEL_NS_COUNT; t++)
    if (c->ns_fds[t] >= 0)
      close(c->ns_fds[t]);
  keel_spec_free(c->spec);
}

/* Undo a failed create: the process, its cgroup, the state directory. */
static void
create_rollback(struct create_ctx *c, json_object *st)
{
  if (c->pid > 0)
    {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, NULL, 0);
    }
  json_object *cg = st ? keel_state_obj(st, "cgroup") : NULL;
  if (cg)
    keel_cgroup_destroy(cg, NULL);
  if (c->dir[0])
    keel_rm_rf_at(AT_FDCWD, c->dir);
}

int
keel_container_create(const struct keel_runtime *rt, const struct keel_create_opts *opts,
                      pid_t *ret_pid, struct keel_error *err)
{
  struct create_ctx c = { .rt = rt,
                          .opts = opts,
                          .dirfd = -EBADF,
                          .sync_parent = -EBADF,
                          .sync_child = -EBADF,
                          .fifo_fd = -EBADF,
                          .console_fd = -EBADF,
                          .notify_listener_fd = -EBADF,
                          .saved_pid_fd = -EBADF,
                          .saved_time_fd = -EBADF,
                          .cgroup_fd = -EBADF };
  for (int t = 0; t < KEEL_NS_COUNT; t++)
    c.ns_fds[t] = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r;
  if ((r = keel_container_check_id(opts->id, err)) < 0)
    return r;
  if ((r = keel_spec_load(opts->bundle, &c.spec, err)) < 0)
    return r;
  if ((r = check_create(&c, err)) < 0 || (r = make_state_dir(&c, err)) < 0
      || (r = open_channels(&c, err)) < 0)
    goto fail;
  /* The new time namespace and a joined pid namespace are set up as ours
   * "for children"; remember the runtime's own so the hooks it runs later
   * stay in the runtime namespace. */
  if ((r = save_child_ns(&c, err)) < 0)
    goto fail;
  if (c.spec->ns[KEEL_NS_TIME].wanted && !c.spec->ns[KEEL_NS_TIME].path)
    {
      json_object *empty = json_object_new_object();
      r = write_time_offsets(c.spec->time_offsets ? c.spec->time_offsets : empty, err);
      json_object_put(empty);
      if (r < 0)
        goto fail;
    }
  if (c.ns_fds[KEEL_NS_PID] >= 0 && setns(c.ns_fds[KEEL_NS_PID], CLONE_NEWPID) < 0)
    {
      r = keel_error_set_errno(err, -errno, "cannot join pid namespace '%s'",
                               c.spec->ns[KEEL_NS_PID].path);
      goto fail;
    }
  c.userns = c.spec->ns[KEEL_NS_USER].wanted && !c.spec->ns[KEEL_NS_USER].path;
  c.self_attach = can_attach_self(&c);
  st = initial_state(&c);
  if (cgroup_before_clone(&c) && (r = make_cgroup_early(&c, st, err)) < 0)
    goto fail;
  pid_t pid = spawn_init(&c);
  if (pid < 0)
    {
      r = keel_error_set_errno(err, -errno, "cannot create the container process");
      goto fail;
    }
  if (pid == 0)
    init_main(&c);
  c.pid = pid;
  if ((r = restore_child_ns(&c, err)) < 0)
    goto fail;
  close(c.sync_child);
  c.sync_child = -EBADF;
  set_state_pid(&c, st);
  if ((r = parent_setup(&c, st, err)) < 0)
    goto fail;
  if (opts->pid_file && (r = write_pid_file(opts->pid_file, pid, err)) < 0)
    goto fail;
  *ret_pid = pid;
  if (opts->ret_start_fd)
    *opts->ret_start_fd = TAKE_FD(c.sync_parent);
  if (opts->ret_state)
    *opts->ret_state = json_object_get(st);
  ctx_close(&c);
  return 0;
fail:
  create_rollback(&c, st);
  ctx_close(&c);
  return r;
}
