/* keel-runtime exec: a new process inside a running container.  A helper
 * child joins the container's namespaces, then clones the process itself
 * with CLONE_PARENT so the runtime can wait for it directly. */
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/spec.h"
#include "runtime/state.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"

struct exec_ctx
{
  const struct keel_exec_opts *opts;
  struct keel_process proc;
  json_object *config, *cgroup, *seccomp;
  pid_t target;
  int sync_parent, sync_child, console_fd;
  bool userns;
};

static int
strv_append(char ***v, const char *s)
{
  size_t n = 0;
  while (*v && (*v)[n])
    n++;
  char **nv = realloc(*v, (n + 2) * sizeof(char *));
  if (!nv)
    return -ENOMEM;
  nv[n] = strdup(s);
  nv[n + 1] = NULL;
  *v = nv;
  return nv[n] ? 0 : -ENOMEM;
}

/* --env NAME=V replaces an inherited NAME, else is appended. */
static int
env_set(char ***env, const char *kv)
{
  size_t klen = strcspn(kv, "=");
  for (char **e = *env; e && *e; e++)
    if (!strncmp(*e, kv, klen) && (*e)[klen] == '=')
      {
        char *d = strdup(kv);
        if (!d)
          return -ENOMEM;
        free(*e);
        *e = d;
        return 0;
      }
  return strv_append(env, kv);
}

static int
process_from_flags(struct exec_ctx *c, struct keel_error *err)
{
  const struct keel_exec_opts *o = c->opts;
  json_object *tmpl = NULL;
  int r;
  if (o->process_file)
    {
      _cleanup_json_ json_object *doc = NULL;
      if ((r = keel_json_parse_file(o->process_file, &doc, err)) < 0)
        return r;
      return keel_process_parse(doc, "process", &c->proc, err);
    }
  if (!o->args || !o->args[0])
    return keel_error_set(err, -EINVAL, "exec: no command given");
  /* the container's own process is the template, as in runc */
  if (!json_object_object_get_ex(c->config, "process", &tmpl)
      || (r = keel_process_parse(tmpl, "process", &c->proc, err)) < 0)
    return keel_error_set(err, -EINVAL, "container has no process to take defaults from");
  keel_strv_free(c->proc.args);
  c->proc.args = NULL;
  for (char **a = o->args; *a; a++)
    if (strv_append(&c->proc.args, *a) < 0)
      return keel_error_set(err, -ENOMEM, "out of memory");
  for (char **e = o->env; e && *e; e++)
    if (!strchr(*e, '=') || env_set(&c->proc.env, *e) < 0)
      return keel_error_set(err, -EINVAL, "--env: '%s' is not NAME=VALUE", *e);
  if (o->cwd)
    c->proc.cwd = o->cwd;
  c->proc.terminal = o->tty;
  if (o->no_new_privs)
    c->proc.no_new_privileges = true;
  if (o->user)
    {
      char *end;
      unsigned long uid = strtoul(o->user, &end, 10), gid = 0;
      if (end == o->user || (*end && *end != ':'))
        return keel_error_set(err, -EINVAL, "--user: expected UID[:GID], not '%s'", o->user);
      if (*end == ':')
        {
          char *g = end + 1;
          gid = strtoul(g, &end, 10);
          if (end == g || *end)
            return keel_error_set(err, -EINVAL, "--user: expected UID[:GID], not '%s'", o->user);
        }
      c->proc.uid = (uid_t)uid;
      c->proc.gid = (gid_t)gid;
    }
  for (char **cap = o->caps; cap && *cap; cap++)
    {
      int n = keel_cap_from_name(*cap);
      if (n < 0)
        return keel_error_set(err, -EINVAL, "--cap: unknown capability '%s'", *cap);
      c->proc.has_caps = true;
      for (int s = 0; s < KEEL_CAP_SETS; s++)
        if (s != KEEL_CAP_AMBIENT)
          c->proc.caps[s] |= 1ULL << n;
    }
  return 0;
}

static void __attribute__((noreturn)) exec_fail(struct exec_ctx *c, const struct keel_error *err)
{
  keel_sync_send(c->sync_child, KEEL_SYNC_ERROR, err->code, err->msg);
  _exit(1);
}

static int
join_container(struct exec_ctx *c, struct keel_error *err)
{
  static const char *const order[] = { "user", "ipc", "uts", "net", "cgroup", "pid", "mnt" };
  static const int flags[] = { CLONE_NEWUSER,   CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
                               CLONE_NEWCGROUP, CLONE_NEWPID, CLONE_NEWNS };
  int fds[7];
  char path[64];
  /* open every namespace first: after joining the mount namespace the
   * host's /proc is gone */
  for (int i = 0; i < 7; i++)
    {
      snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)c->target, order[i]);
      fds[i] = open(path, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s'", path);
    }
  for (int i = 0; i < 7; i++)
    {
      /* joining the namespace we are already in fails for user namespaces */
      char self[64], a[64], b[64];
      snprintf(self, sizeof(self), "/proc/self/ns/%s", order[i]);
      snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)c->target, order[i]);
      ssize_t na = readlink(self, a, sizeof(a) - 1), nb = readlink(path, b, sizeof(b) - 1);
      bool same = na > 0 && nb > 0 && na == nb && !memcmp(a, b, (size_t)na);
      if (!same && setns(fds[i], flags[i]) < 0)
        {
          int e = errno;
          for (int j = i; j < 7; j++)
            close(fds[j]);
          return keel_error_set_errno(err, -e, "cannot join the container's %s namespace",
                                      order[i]);
        }
      if (!same && i == 0)
        c->userns = true;
      close(fds[i]);
    }
  return 0;
}

static int
join_cgroup(json_object *cg, pid_t pid, struct keel_error *err)
{
  static const char *const ctrls[]
      = { NULL,         "cpu",   "cpuacct", "cpuset",      "memory",   "devices",
          "freezer",    "blkio", "pids",    "net_cls",     "net_prio", "hugetlb",
          "perf_event", "rdma",  "misc",    "name=systemd" };
  char buf[32], path[PATH_MAX];
  snprintf(buf, sizeof(buf), "%d", (int)pid);
  for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
    {
      const char *dir = keel_cgroup_path(cg, ctrls[i]);
      if (!dir)
        continue;
      snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
      int r = keel_write_string(AT_FDCWD, path, buf);
      if (r < 0 && r != -ENOENT)
        return keel_error_set_errno(err, r, "cannot join cgroup '%s'", dir);
    }
  return 0;
}

static void __attribute__((noreturn)) exec_process(struct exec_ctx *c)
{
  struct keel_error err = KEEL_ERROR_INIT;
  char *path = NULL;
  int notify_fd = -1;
  if (setsid() < 0)
    {
      keel_error_set_errno(&err, -errno, "cannot start a session");
      exec_fail(c, &err);
    }
  if (c->proc.terminal
      && keel_terminal_setup(c->console_fd, c->proc.console_height, c->proc.console_width, &err)
             < 0)
    exec_fail(c, &err);
  struct keel_process_opts po
      = { .userns = c->userns, .seccomp = c->seccomp, .ret_notify_fd = &notify_fd };
  if (keel_process_apply(&c->proc, &po, &err) < 0
      || keel_process_find_exec(&c->proc, &path, &err) < 0
      || keel_process_late_seccomp(&c->proc, &po, &err) < 0)
    exec_fail(c, &err);
  int first = 3 + c->opts->preserve_fds;
  for (int fd = 3; fd < first; fd++)
    fcntl(fd, F_SETFD, 0);
  keel_process_cloexec_from(first);
  /* READY goes out on a close-on-exec socket: the runtime reads READY, or
   * an ERROR, or EOF when execve succeeded... READY first, then exec. */
  keel_sync_send(c->sync_child, KEEL_SYNC_READY, 0, NULL);
  char *empty[] = { NULL };
  execve(path, c->proc.args, c->proc.env ? c->proc.env : empty);
  int e = errno;
  fprintf(stderr, "keel-runtime: cannot execute '%s': %s\n", path, strerror(e));
  _exit(e == ENOENT ? 127 : 126);
}

static void __attribute__((noreturn)) exec_helper(struct exec_ctx *c)
{
  struct keel_error err = KEEL_ERROR_INIT;
  close(c->sync_parent);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if ((c->cgroup && join_cgroup(c->cgroup, getpid(), &err) < 0) || join_container(c, &err) < 0)
    exec_fail(c, &err);
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    {
      keel_error_set_errno(&err, -errno, "cannot create the process");
      exec_fail(c, &err);
    }
  if (pid == 0)
    exec_process(c);
  keel_sync_send(c->sync_child, KEEL_SYNC_GO, pid, NULL);
  _exit(0);
}

static int
exec_prepare(const struct keel_runtime *rt, const char *id, struct exec_ctx *c,
             json_object **ret_st, struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  int r = keel_state_open(rt, id, false, &dirfd, err);
  if (r < 0 || (r = keel_state_read(dirfd, id, ret_st, err)) < 0)
    return r;
  const char *status = keel_state_status(dirfd, *ret_st);
  if (strcmp(status, "running") && strcmp(status, "created"))
    return keel_error_set(err, -EINVAL, "container '%s' is %s, not running", id, status);
  c->target = keel_state_live_pid(*ret_st);
  c->config = keel_state_obj(*ret_st, "config");
  c->cgroup = keel_state_obj(*ret_st, "cgroup");
  json_object *lx = c->config ? keel_state_obj(c->config, "linux") : NULL;
  c->seccomp = lx ? keel_state_obj(lx, "seccomp") : NULL;
  if ((r = process_from_flags(c, err)) < 0)
    return r;
  /* validate compiles (or finds in the cache) the filter once, here,
   * before the fork; the joined process only installs it */
  if (c->seccomp && (r = keel_seccomp_validate(c->seccomp, err)) < 0)
    return r;
  if (c->proc.terminal && !c->opts->console_socket && !c->opts->ret_console_master)
    return keel_error_set(err, -EINVAL, "a terminal needs --console-socket");
  return 0;
}

static int
exec_channels(struct exec_ctx *c, struct keel_error *err)
{
  if (c->proc.terminal
      && (c->console_fd
          = keel_console_channel(c->opts->console_socket, c->opts->ret_console_master, err))
             < 0)
    return c->console_fd;
  return keel_sync_pair(&c->sync_parent, &c->sync_child, err);
}

/* Collect the helper's GO (with the process pid) and the process's READY. */
static int
exec_wait_ready(struct exec_ctx *c, pid_t helper, pid_t *ret_pid, struct keel_error *err)
{
  int r = 0, status;
  pid_t pid = 0;
  for (int got = 0; got < 2 && r == 0;)
    {
      enum keel_sync_type type;
      int code;
      _cleanup_free_ char *payload = NULL;
      if (keel_sync_recv(c->sync_parent, &type, &code, &payload) < 0)
        r = keel_error_set(err, -ECHILD, "exec: the process went away during setup");
      else if (type == KEEL_SYNC_ERROR)
        r = keel_error_set(err, code, "%s", payload ? payload : "exec failed");
      else if (type == KEEL_SYNC_GO)
        pid = (pid_t)code, got++;
      else if (type == KEEL_SYNC_READY)
        got++;
    }
  waitpid(helper, &status, 0);
  if (r < 0)
    {
      if (pid > 0)
        {
          kill(pid, SIGKILL);
          waitpid(pid, NULL, 0);
        }
      return r;
    }
  *ret_pid = pid;
  return 0;
}

int
keel_container_exec(const struct keel_runtime *rt, const char *id,
                    const struct keel_exec_opts *opts, pid_t *ret_pid, struct keel_error *err)
{
  struct exec_ctx c
      = { .opts = opts, .sync_parent = -EBADF, .sync_child = -EBADF, .console_fd = -EBADF };
  _cleanup_json_ json_object *st = NULL;
  pid_t pid = 0;
  int r = exec_prepare(rt, id, &c, &st, err);
  if (r >= 0)
    r = exec_channels(&c, err);
  if (r >= 0)
    {
      pid_t helper = fork();
      if (helper < 0)
        r = keel_error_set_errno(err, -errno, "cannot fork");
      else if (helper == 0)
        exec_helper(&c);
      else
        {
          close(c.sync_child);
          c.sync_child = -EBADF;
          r = exec_wait_ready(&c, helper, &pid, err);
        }
    }
  if (r >= 0 && opts->pid_file)
    {
      char buf[32];
      int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
      if ((r = keel_write_file_replace(AT_FDCWD, opts->pid_file, buf, (size_t)n, 0644)) < 0)
        keel_error_set_errno(err, r, "cannot write pid file '%s'", opts->pid_file);
    }
  if (c.sync_parent >= 0)
    close(c.sync_parent);
  if (c.sync_child >= 0)
    close(c.sync_child);
  if (c.console_fd >= 0)
    close(c.console_fd);
  keel_process_clear(&c.proc);
  if (r < 0)
    return r;
  *ret_pid = pid;
  return 0;
}
