/* start, state, kill, delete, list, ps, pause/resume, update: each works
 * from the state directory alone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "runtime/state.h"
#include "runtime/sync.h"

static json_object *
state_hooks(json_object *st)
{
  json_object *cfg = keel_state_obj(st, "config");
  return cfg ? keel_state_obj(cfg, "hooks") : NULL;
}

static json_object *
public_state(int dirfd, json_object *st)
{
  json_object *o = json_object_new_object(), *v;
  const char *status = keel_state_status(dirfd, st);
  pid_t pid = keel_state_live_pid(st);
  json_object *cfg = keel_state_obj(st, "config");
  json_object_object_add(o, "ociVersion", json_object_new_string(KEEL_OCI_VERSION));
  json_object_object_add(o, "id", json_object_new_string(keel_state_str(st, "id") ?: ""));
  json_object_object_add(o, "pid", json_object_new_int(strcmp(status, "stopped") ? pid : 0));
  json_object_object_add(o, "status", json_object_new_string(status));
  json_object_object_add(o, "bundle", json_object_new_string(keel_state_str(st, "bundle") ?: ""));
  json_object_object_add(o, "rootfs", json_object_new_string(keel_state_str(st, "rootfs") ?: ""));
  json_object_object_add(o, "created", json_object_new_string(keel_state_str(st, "created") ?: ""));
  json_object_object_add(o, "owner", json_object_new_string(keel_state_str(st, "owner") ?: ""));
  if (cfg && json_object_object_get_ex(cfg, "annotations", &v))
    json_object_object_add(o, "annotations", json_object_get(v));
  else
    json_object_object_add(o, "annotations", json_object_new_object());
  return o;
}

int
keel_container_state(const struct keel_runtime *rt, const char *id, json_object **ret,
                     struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, false, &dirfd, &st, err);
  if (r < 0)
    return r;
  *ret = public_state(dirfd, st);
  return 0;
}

int
keel_container_status(const struct keel_runtime *rt, const char *id, const char **ret,
                      pid_t *ret_pid, struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, false, &dirfd, &st, err);
  if (r < 0)
    return r;
  *ret = keel_state_status(dirfd, st); /* a static string */
  if (ret_pid)
    *ret_pid = keel_state_live_pid(st);
  return 0;
}

/* Read the byte the init writes into exec.fifo once we open it, watching
 * that the init is still alive meanwhile. */
static int
release_fifo(int dirfd, pid_t pid, struct keel_error *err)
{
  _cleanup_close_ int fd = openat(dirfd, KEEL_EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open exec fifo");
  for (;;)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      int n = poll(&p, 1, 50);
      if (n < 0 && errno != EINTR)
        return keel_error_set_errno(err, -errno, "cannot wait on exec fifo");
      if (n > 0 && (p.revents & POLLIN))
        {
          char b;
          if (read(fd, &b, 1) == 1)
            break;
        }
      if (n > 0 && (p.revents & POLLHUP))
        return keel_error_set(err, -ECHILD, "container process exited before start");
      if (kill(pid, 0) < 0 || keel_proc_start_time(pid) == 0)
        return keel_error_set(err, -ECHILD, "container process exited before start");
    }
  unlinkat(dirfd, KEEL_EXEC_FIFO, 0);
  return 0;
}

int
keel_container_start(const struct keel_runtime *rt, const char *id, struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, true, &dirfd, &st, err);
  if (r < 0)
    return r;
  const char *status = keel_state_status(dirfd, st);
  if (strcmp(status, "created"))
    return keel_error_set(err, -EINVAL, "container '%s' is %s, not created", id, status);
  if ((r = release_fifo(dirfd, keel_state_live_pid(st), err)) < 0)
    return r;
  json_object *hooks = state_hooks(st);
  if (keel_hooks_have(hooks, "poststart"))
    {
      _cleanup_json_ json_object *pub = public_state(dirfd, st);
      /* A failing poststart hook is a warning, not a failure (runtime spec). */
      if (keel_hooks_run(hooks, "poststart", json_object_to_json_string(pub), err) < 0)
        return 1;
    }
  return 0;
}

int
keel_container_start_run(int start_fd, json_object *state, struct keel_error *err)
{
  int r = keel_sync_send(start_fd, KEEL_SYNC_START, 0, NULL);
  close(start_fd);
  if (r < 0)
    return keel_error_set(err, -ECHILD, "container process exited before start");
  json_object *hooks = state_hooks(state);
  if (keel_hooks_have(hooks, "poststart"))
    {
      _cleanup_json_ json_object *pub = public_state(-EBADF, state);
      if (keel_hooks_run(hooks, "poststart", json_object_to_json_string(pub), err) < 0)
        return 1;
    }
  return 0;
}

int
keel_container_kill(const struct keel_runtime *rt, const char *id, int sig, bool all,
                    struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, false, &dirfd, &st, err);
  if (r < 0)
    return r;
  pid_t pid = keel_state_live_pid(st);
  json_object *cg = keel_state_obj(st, "cgroup");
  if (all && cg)
    {
      _cleanup_free_ pid_t *pids = NULL;
      size_t n = 0;
      if ((r = keel_cgroup_pids(cg, &pids, &n, err)) < 0)
        return r;
      for (size_t i = 0; i < n; i++)
        kill(pids[i], sig);
      if (n > 0 || !pid)
        return n > 0 ? 0 : keel_error_set(err, -ESRCH, "container '%s' is not running", id);
    }
  if (!pid)
    return keel_error_set(err, -ESRCH, "container '%s' is not running", id);
  /* a pidfd pins the process we checked, so a recycled pid is never hit */
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0)
    {
      r = (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
      close(pidfd);
    }
  else
    r = kill(pid, sig);
  if (r < 0)
    return keel_error_set_errno(err, -errno, "cannot signal container '%s'", id);
  return 0;
}

/* Wait (up to ~5 s) for pid to be gone after SIGKILL. */
static void
wait_gone(pid_t pid)
{
  for (int i = 0; i < 500 && keel_proc_start_time(pid) != 0; i++)
    {
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep(&ts, NULL);
    }
}

/* Kill what is left, remove the cgroup, run poststop, remove the state. */
static int
destroy(const struct keel_runtime *rt, const char *id, int dirfd, json_object *st,
        struct keel_error *err)
{
  pid_t pid = keel_state_live_pid(st);
  json_object *cg = keel_state_obj(st, "cgroup");
  int r;
  if (pid)
    {
      kill(pid, SIGKILL);
      bool frozen = false;
      /* a frozen cgroup cannot deliver SIGKILL until thawed */
      if (cg && keel_cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
        keel_cgroup_freeze(cg, false, NULL);
    }
  if (cg && (r = keel_cgroup_destroy(cg, err)) < 0)
    return r;
  if (pid)
    wait_gone(pid);
  int warn = 0;
  json_object *hooks = state_hooks(st);
  if (keel_hooks_have(hooks, "poststop"))
    {
      _cleanup_json_ json_object *pub = public_state(dirfd, st);
      /* poststop failures are warnings; the container is deleted anyway */
      if (keel_hooks_run(hooks, "poststop", json_object_to_json_string(pub), err) < 0)
        warn = 1;
    }
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/%s", rt->root, id);
  if ((r = keel_rm_rf_at(AT_FDCWD, dir)) < 0)
    return keel_error_set_errno(err, r, "cannot remove state of '%s'", id);
  return warn;
}

int
keel_container_delete(const struct keel_runtime *rt, const char *id, bool force,
                      struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, true, &dirfd, &st, err);
  if (r < 0)
    return r;
  const char *status = keel_state_status(dirfd, st);
  if (!force && (!strcmp(status, "running") || !strcmp(status, "paused")))
    return keel_error_set(err, -EBUSY, "container '%s' is %s: stop it first or use --force", id,
                          status);
  return destroy(rt, id, dirfd, st, err);
}

int
keel_container_delete_state(const struct keel_runtime *rt, json_object *state,
                            struct keel_error *err)
{
  const char *id = keel_state_str(state, "id");
  if (!id || keel_container_check_id(id, err) < 0)
    return keel_error_set(err, -EINVAL, "container state without a valid id");
  return destroy(rt, id, -EBADF, state, err);
}

int
keel_container_list(const struct keel_runtime *rt, json_object **ret, struct keel_error *err)
{
  json_object *arr = json_object_new_array();
  _cleanup_closedir_ DIR *d = opendir(rt->root);
  if (!d)
    {
      if (errno == ENOENT)
        {
          *ret = arr;
          return 0;
        }
      json_object_put(arr);
      return keel_error_set_errno(err, -errno, "cannot read '%s'", rt->root);
    }
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (de->d_name[0] == '.')
        continue;
      json_object *one = NULL;
      struct keel_error ignored = KEEL_ERROR_INIT;
      if (keel_container_state(rt, de->d_name, &one, &ignored) == 0)
        json_object_array_add(arr, one);
    }
  *ret = arr;
  return 0;
}

int
keel_container_pids(const struct keel_runtime *rt, const char *id, pid_t **ret, size_t *ret_n,
                    struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, false, &dirfd, &st, err);
  if (r < 0)
    return r;
  json_object *cg = keel_state_obj(st, "cgroup");
  if (cg)
    return keel_cgroup_pids(cg, ret, ret_n, err);
  pid_t pid = keel_state_live_pid(st);
  *ret = calloc(1, sizeof(pid_t));
  if (!*ret)
    return keel_error_set(err, -ENOMEM, "out of memory");
  **ret = pid;
  *ret_n = pid ? 1 : 0;
  return 0;
}

int
keel_container_pause(const struct keel_runtime *rt, const char *id, bool pause,
                     struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, true, &dirfd, &st, err);
  if (r < 0)
    return r;
  const char *status = keel_state_status(dirfd, st);
  if (pause && strcmp(status, "running"))
    return keel_error_set(err, -EINVAL, "container '%s' is %s, not running", id, status);
  if (!pause && strcmp(status, "paused"))
    return keel_error_set(err, -EINVAL, "container '%s' is %s, not paused", id, status);
  json_object *cg = keel_state_obj(st, "cgroup");
  if (!cg)
    return keel_error_set(err, -ENOTSUP, "container '%s' has no cgroup to freeze", id);
  return keel_cgroup_freeze(cg, pause, err);
}

/* Objects merge key by key; anything else (numbers, arrays) replaces. */
static void
merge_into(json_object *dst, json_object *src)
{
  json_object_object_foreach(src, key, val)
  {
    json_object *cur;
    if (json_object_is_type(val, json_type_object) && json_object_object_get_ex(dst, key, &cur)
        && json_object_is_type(cur, json_type_object))
      merge_into(cur, val);
    else
      json_object_object_add(dst, key, json_object_get(val));
  }
}

int
keel_container_update(const struct keel_runtime *rt, const char *id, json_object *resources,
                      struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  _cleanup_json_ json_object *st = NULL;
  int r = keel_state_load(rt, id, true, &dirfd, &st, err);
  if (r < 0)
    return r;
  const char *status = keel_state_status(dirfd, st);
  if (!strcmp(status, "stopped"))
    return keel_error_set(err, -EINVAL, "container '%s' is stopped", id);
  json_object *cg = keel_state_obj(st, "cgroup");
  if (!cg)
    return keel_error_set(err, -ENOTSUP, "container '%s' has no cgroup", id);
  struct keel_cgroup_opts opts = { .id = id, .resources = resources };
  if ((r = keel_cgroup_validate(&opts, err)) < 0
      || (r = keel_cgroup_update(cg, resources, err)) < 0)
    return r;
  /* keep the stored config in step so a later reader sees what applies:
   * update names only what changes, so merge it into what was there */
  json_object *cfg = keel_state_obj(st, "config"), *lx = cfg ? keel_state_obj(cfg, "linux") : NULL;
  if (lx)
    {
      json_object *old = keel_state_obj(lx, "resources");
      if (!old || !json_object_is_type(old, json_type_object))
        json_object_object_add(lx, "resources", old = json_object_new_object());
      merge_into(old, resources);
    }
  return keel_state_write(dirfd, st, err);
}

int
keel_container_wait_child(pid_t pid, int *ret_code)
{
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  *ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}
