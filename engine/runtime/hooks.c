#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

bool
keel_hooks_have(json_object *hooks, const char *kind)
{
  json_object *arr;
  return hooks && json_object_object_get_ex(hooks, kind, &arr)
         && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) > 0;
}

static char **
strv_of(json_object *h, const char *key, const char *fallback)
{
  json_object *arr;
  size_t n = 0;
  if (json_object_object_get_ex(h, key, &arr) && json_object_is_type(arr, json_type_array))
    n = json_object_array_length(arr);
  char **v = calloc(n + 2, sizeof(char *));
  if (!v)
    return NULL;
  for (size_t i = 0; i < n; i++)
    v[i] = (char *)json_object_get_string(json_object_array_get_idx(arr, i));
  if (n == 0 && fallback)
    v[0] = (char *)fallback;
  return v;
}

/* Wait for pid with a deadline (timeout_s <= 0: none) using a pidfd. */
static int
wait_hook(pid_t pid, int timeout_s, int *ret_status)
{
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0 && timeout_s > 0)
    {
      struct pollfd pfd = { pidfd, POLLIN, 0 };
      int r;
      do
        r = poll(&pfd, 1, timeout_s * 1000);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        {
          kill(pid, SIGKILL);
          waitpid(pid, NULL, 0);
          close(pidfd);
          return -ETIMEDOUT;
        }
    }
  if (pidfd >= 0)
    close(pidfd);
  while (waitpid(pid, ret_status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return 0;
}

static int
run_one(json_object *h, const char *ctx, const char *state_json, struct keel_error *err)
{
  json_object *v;
  const char *path = json_object_object_get_ex(h, "path", &v) ? json_object_get_string(v) : "";
  int timeout = json_object_object_get_ex(h, "timeout", &v) ? json_object_get_int(v) : 0;
  _cleanup_free_ char **args = strv_of(h, "args", path);
  _cleanup_free_ char **env = strv_of(h, "env", NULL);
  int in[2];
  if (!args || !env)
    return keel_error_set(err, -ENOMEM, "out of memory");
  if (pipe2(in, O_CLOEXEC) < 0)
    return keel_error_set_errno(err, -errno, "%s: cannot create pipe", ctx);
  pid_t pid = fork();
  if (pid < 0)
    {
      close(in[0]);
      close(in[1]);
      return keel_error_set_errno(err, -errno, "%s: cannot fork", ctx);
    }
  if (pid == 0)
    {
      dup2(in[0], 0);
      execve(path, args, env);
      _exit(127);
    }
  close(in[0]);
  /* A hook that does not read its stdin must not block us: ignore EPIPE. */
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  keel_write_all(in[1], state_json, strlen(state_json));
  close(in[1]);
  signal(SIGPIPE, old);
  int status = 0;
  int r = wait_hook(pid, timeout, &status);
  if (r == -ETIMEDOUT)
    return keel_error_set(err, -ETIMEDOUT, "%s '%s': timed out after %d s", ctx, path, timeout);
  if (r < 0)
    return keel_error_set_errno(err, r, "%s '%s': cannot wait", ctx, path);
  if (WIFSIGNALED(status))
    return keel_error_set(err, -ECANCELED, "%s '%s': killed by signal %d", ctx, path,
                          WTERMSIG(status));
  if (WEXITSTATUS(status) == 127)
    return keel_error_set(err, -ENOENT, "%s '%s': cannot execute", ctx, path);
  if (WEXITSTATUS(status) != 0)
    return keel_error_set(err, -ECANCELED, "%s '%s': exited with status %d", ctx, path,
                          WEXITSTATUS(status));
  return 0;
}

int
keel_hooks_run(json_object *hooks, const char *kind, const char *state_json, struct keel_error *err)
{
  json_object *arr;
  if (!hooks || !json_object_object_get_ex(hooks, kind, &arr))
    return 0;
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++)
    {
      char ctx[64];
      snprintf(ctx, sizeof(ctx), "hooks.%s[%zu]", kind, i);
      int r = run_one(json_object_array_get_idx(arr, i), ctx, state_json, err);
      if (r < 0)
        return r;
    }
  return 0;
}
