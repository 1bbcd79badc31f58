/* cgroup v2 specifics: enabling controllers down the tree and the core
 * freezer (kernel docs, admin-guide/cgroup-v2.rst: "Controlling
 * Controllers", "Core Interface Files" cgroup.freeze and cgroup.events). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/cgroup-internal.h"

/* Each "+name" of want that is in avail (a space-separated list), into out. */
static void
intersect(const char *want, const char *avail, char *out, size_t size)
{
  size_t len = 0;
  out[0] = '\0';
  for (const char *p = want; *p;)
    {
      p += strspn(p, " +");
      size_t n = strcspn(p, " ");
      char name[32];
      if (n == 0 || n >= sizeof(name))
        break;
      memcpy(name, p, n);
      name[n] = '\0';
      if (cg_list_has(avail, name, ' ') && len + n + 2 < size)
        len += (size_t)snprintf(out + len, size - len, "%s+%s", len ? " " : "", name);
      p += n;
    }
}

/* One level: try the whole list, and when the kernel refuses (a controller
 * that this level does not have), fall back to what it offers.  *want
 * shrinks to what was enabled, for the levels below. */
static int
enable_level(int fd, const char *path, char *want, size_t size, struct keel_error *err)
{
  if (!*want)
    return 0;
  int r = keel_write_string(fd, "cgroup.subtree_control", want);
  if (r == 0)
    return 0;
  _cleanup_free_ char *avail = NULL;
  if (keel_read_file(fd, "cgroup.controllers", 4096, &avail, NULL) < 0)
    return keel_error_set_errno(err, r, "cannot enable controllers in '%s'", path);
  avail[strcspn(avail, "\n")] = '\0';
  char sub[256];
  intersect(want, avail, sub, sizeof(sub));
  snprintf(want, size, "%s", sub);
  if (!*want)
    return 0;
  if ((r = keel_write_string(fd, "cgroup.subtree_control", want)) < 0)
    return keel_error_set_errno(err, r, "cannot enable controllers '%s' in '%s'%s", want, path,
                                r == -EBUSY ? " (it holds processes: a cgroup v2 inner node "
                                              "cannot)"
                                            : "");
  return 0;
}

int
cg_v2_enable(const char *mnt, const char *dir, const char *controllers, struct keel_error *err)
{
  char want[256], path[PATH_MAX];
  size_t ml = strlen(mnt);
  snprintf(want, sizeof(want), "%s", controllers);
  snprintf(path, sizeof(path), "%s", dir);
  char *leaf = strrchr(path, '/');
  if (!*want || !leaf || leaf < path + ml)
    return 0;
  *leaf = '\0';
  /* From the mount point down to the parent: each level's subtree_control
   * decides what the next one has. */
  for (char *p = path + ml;; p = strchr(p + 1, '/'))
    {
      char saved = p ? *p : 0;
      if (p)
        *p = '\0';
      _cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return keel_error_set_errno(err, -errno, "cannot open cgroup '%s'", path);
      int r = enable_level(fd, path, want, sizeof(want), err);
      if (r < 0)
        return r;
      if (!p)
        return 0;
      *p = saved;
      if (!*p)
        return 0;
    }
}

static int
read_events(int fd, const char *key, int *ret)
{
  _cleanup_free_ char *s = NULL;
  int r = keel_read_file(fd, "cgroup.events", 4096, &s, NULL);
  if (r < 0)
    return r;
  size_t kl = strlen(key);
  for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (!strncmp(line, key, kl) && line[kl] == ' ')
      {
        *ret = line[kl + 1] == '1';
        return 0;
      }
  return -ENOENT;
}

int
cg_v2_freeze(const char *dir, bool frozen, struct keel_error *err)
{
  _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open cgroup '%s'", dir);
  int r = keel_write_string(fd, "cgroup.freeze", frozen ? "1" : "0");
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot %s cgroup '%s'", frozen ? "freeze" : "thaw", dir);
  /* The write starts the change; cgroup.events says when every task has
   * stopped (or runs again). */
  uint64_t deadline = cg_now_usec() + CG_TIMEOUT_USEC;
  unsigned us = 50;
  for (;;)
    {
      int state = 0;
      if ((r = read_events(fd, "frozen", &state)) < 0)
        return keel_error_set_errno(err, r, "cannot read '%s/cgroup.events'", dir);
      if (state == frozen)
        return 0;
      if (cg_now_usec() > deadline)
        {
          if (frozen)
            keel_write_string(fd, "cgroup.freeze", "0");
          return keel_error_set(err, -EBUSY, "cgroup '%s' did not %s within %llu s", dir,
                                frozen ? "freeze" : "thaw", CG_TIMEOUT_USEC / 1000000ULL);
        }
      cg_backoff(&us);
    }
}

int
cg_v2_is_frozen(const char *dir, bool *ret, struct keel_error *err)
{
  _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int state = 0, r = fd < 0 ? -errno : read_events(fd, "frozen", &state);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s/cgroup.events'", dir);
  *ret = state;
  return 0;
}
