/* cgroup v1 specifics: cpuset inheritance and the freezer (kernel docs,
 * cgroup-v1/cpusets.rst and cgroup-v1/freezer-subsystem.rst). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/cgroup-internal.h"

static int
copy_from_parent(int parent, int child, const char *file)
{
  _cleanup_free_ char *val = NULL;
  int r = keel_read_file(parent, file, 4096, &val, NULL);
  if (r < 0)
    return r;
  if (val[0] == '\0' || val[0] == '\n')
    return 0; /* the parent is empty too: nothing to give */
  return keel_write_string(child, file, val);
}

int
cg_v1_cpuset_fixup(const char *dir)
{
  char parent[PATH_MAX];
  snprintf(parent, sizeof(parent), "%s", dir);
  char *slash = strrchr(parent, '/');
  if (!slash || slash == parent)
    return -EINVAL;
  *slash = '\0';
  _cleanup_close_ int pfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int cfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0 || cfd < 0)
    return -errno;
  int r = copy_from_parent(pfd, cfd, "cpuset.cpus");
  return r < 0 ? r : copy_from_parent(pfd, cfd, "cpuset.mems");
}

static int
read_state(int fd, char *buf, size_t size)
{
  _cleanup_free_ char *s = NULL;
  int r = keel_read_file(fd, "freezer.state", 64, &s, NULL);
  if (r < 0)
    return r;
  s[strcspn(s, "\n")] = '\0';
  snprintf(buf, size, "%s", s);
  return 0;
}

int
cg_v1_freeze(const char *dir, bool frozen, struct keel_error *err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open cgroup '%s'", dir);
  uint64_t deadline = cg_now_usec() + CG_TIMEOUT_USEC;
  unsigned us = 100;
  for (;;)
    {
      char state[32];
      /* The kernel may stop at FREEZING when a task is busy; writing FROZEN
       * again retries the tasks still running. */
      int r = keel_write_string(fd, "freezer.state", want);
      if (r == 0)
        r = read_state(fd, state, sizeof(state));
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot %s cgroup '%s'", frozen ? "freeze" : "thaw",
                                    dir);
      if (!strcmp(state, want))
        return 0;
      if (cg_now_usec() > deadline)
        {
          if (frozen)
            keel_write_string(fd, "freezer.state", "THAWED");
          return keel_error_set(err, -EBUSY, "cgroup '%s' is still %s after %llu s", dir, state,
                                CG_TIMEOUT_USEC / 1000000ULL);
        }
      cg_backoff(&us);
    }
}

int
cg_v1_is_frozen(const char *dir, bool *ret, struct keel_error *err)
{
  char path[PATH_MAX], state[32];
  _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int r = fd < 0 ? -errno : read_state(fd, state, sizeof(state));
  if (r < 0)
    {
      snprintf(path, sizeof(path), "%s/freezer.state", dir);
      return keel_error_set_errno(err, r, "cannot read '%s'", path);
    }
  /* FREEZING counts as not frozen: pause has not completed. */
  *ret = !strcmp(state, "FROZEN");
  return 0;
}
