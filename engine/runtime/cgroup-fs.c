/* cgroupfs work common to v1 and v2: creating directories below a mount,
 * writing the plan's files, moving a pid in, listing pids, and tearing a
 * cgroup tree down (kill, wait, rmdir bottom-up). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/cgroup-internal.h"

uint64_t
cg_now_usec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

void
cg_backoff(unsigned *us)
{
  usleep(*us);
  if (*us < 10000)
    *us *= 2;
}

int
cg_mkdir(const char *mnt, const char *dir, int (*fixup)(const char *dir), bool *created,
         struct keel_error *err)
{
  *created = false;
  if (mkdir(dir, 0755) == 0)
    {
      *created = true;
      return fixup ? fixup(dir) : 0;
    }
  if (errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return keel_error_set_errno(err, -errno, "cannot create cgroup '%s'", dir);
  /* Parents are missing.  Walk down from the mount point, which is never
   * created: on a v1 host /sys/fs/cgroup is a tmpfs where a mkdir would
   * succeed and mean nothing. */
  size_t ml = strlen(mnt);
  if (strncmp(dir, mnt, ml) != 0 || dir[ml] != '/')
    return keel_error_set(err, -EINVAL, "cgroup '%s' is not below '%s'", dir, mnt);
  char buf[PATH_MAX];
  snprintf(buf, sizeof(buf), "%s", dir);
  for (char *p = strchr(buf + ml + 1, '/'); p; p = strchr(p + 1, '/'))
    {
      *p = '\0';
      if (mkdir(buf, 0755) == 0)
        {
          int r = fixup ? fixup(buf) : 0;
          if (r < 0)
            return keel_error_set_errno(err, r, "cannot set up cgroup '%s'", buf);
        }
      else if (errno == ENOENT)
        return keel_error_set(err, -ENOENT, "cgroup hierarchy '%s' is not mounted", mnt);
      else if (errno != EEXIST)
        return keel_error_set_errno(err, -errno, "cannot create cgroup '%s'", buf);
      *p = '/';
    }
  if (mkdir(dir, 0755) < 0)
    {
      if (errno == EEXIST)
        return 0;
      if (errno == ENOENT)
        return keel_error_set(err, -ENOENT, "cgroup hierarchy '%s' is not mounted", mnt);
      return keel_error_set_errno(err, -errno, "cannot create cgroup '%s'", dir);
    }
  *created = true;
  int r = fixup ? fixup(dir) : 0;
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot set up cgroup '%s'", dir);
  return 0;
}

int
cg_enter_pid(const char *dir, pid_t pid, struct keel_error *err)
{
  char buf[PATH_MAX], num[16];
  snprintf(buf, sizeof(buf), "%s/cgroup.procs", dir);
  snprintf(num, sizeof(num), "%d", (int)pid);
  int r = keel_write_string(AT_FDCWD, buf, num);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot move pid %d into cgroup '%s'", (int)pid, dir);
  return 0;
}

int
cg_v1_enter_self(const char *dir, struct keel_error *err)
{
  char buf[PATH_MAX];
  snprintf(buf, sizeof(buf), "%s/tasks", dir);
  int r = keel_write_string(AT_FDCWD, buf, "0");
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot move into cgroup '%s'", dir);
  return 0;
}

/* A small cache so each hierarchy's directory is opened once per plan,
 * and a run of writes to one file (devices.allow lines) shares one open:
 * cgroupfs takes every write() as a separate command. */
struct dirfds
{
  size_t n;
  const char *dir[CG_MAX_HIER + 1];
  int fd[CG_MAX_HIER + 1];
  int ffd;
  const char *fdir;
  const char *fname;
};

static int
dirfd_get(struct dirfds *c, const char *dir)
{
  for (size_t i = 0; i < c->n; i++)
    if (c->dir[i] == dir)
      return c->fd[i];
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (c->n < ARRAY_SIZE(c->fd))
    {
      c->dir[c->n] = dir;
      c->fd[c->n++] = fd;
    }
  return fd;
}

static void
dirfds_close(struct dirfds *c)
{
  for (size_t i = 0; i < c->n; i++)
    close(c->fd[i]);
  if (c->ffd >= 0)
    close(c->ffd);
}

static int
write_file(struct dirfds *c, int dfd, const char *dir, const char *file, const char *value)
{
  if (c->ffd < 0 || c->fdir != dir || strcmp(c->fname, file) != 0)
    {
      if (c->ffd >= 0)
        close(c->ffd);
      c->ffd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
      if (c->ffd < 0)
        return -errno;
      c->fdir = dir;
      c->fname = file;
    }
  size_t len = strlen(value);
  ssize_t n = write(c->ffd, value, len);
  if (n < 0)
    return -errno;
  return (size_t)n == len ? 0 : -EIO;
}

static int
write_one(struct dirfds *c, const struct cg_ctx *ctx, const struct cg_write *w,
          struct keel_error *err)
{
  const char *dir = cg_ctx_dir(ctx, w->ctrl);
  if (!dir)
    return keel_error_set(err, -ENODEV,
                          "cannot set '%s': the %s controller is not available on this host",
                          w->file, *w->ctrl ? w->ctrl : "cgroup v2");
  int fd = dirfd_get(c, dir);
  if (fd < 0)
    return keel_error_set_errno(err, fd, "cannot open cgroup '%s'", dir);
  int r = write_file(c, fd, dir, w->file, w->value);
  if (r == -ENOENT && w->alt_value)
    {
      r = write_file(c, fd, dir, w->alt_file, w->alt_value);
      if (r == 0)
        return 0;
    }
  if (r == -ENOENT)
    return keel_error_set(err, r,
                          "cannot set '%s': no such file in cgroup '%s' (controller not "
                          "available or not enabled there)",
                          w->file, dir);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s' to '%s/%s'", w->value, dir, w->file);
  return 0;
}

int
cg_plan_apply(const struct cg_plan *plan, const struct cg_ctx *ctx, struct keel_error *err)
{
  struct dirfds c = { .ffd = -EBADF };
  int r = 0;
  for (size_t i = 0; i < plan->n && r == 0; i++)
    {
      const struct cg_write *w = &plan->w[i];
      r = write_one(&c, ctx, w, err);
      /* v1 refuses memory.limit above memsw.limit (and memsw below limit):
       * when raising both, memsw has to go first. */
      if (r == -EINVAL && plan->memory_swap_v1 && !strcmp(w->file, "memory.limit_in_bytes")
          && i + 1 < plan->n && !strcmp(plan->w[i + 1].file, "memory.memsw.limit_in_bytes"))
        {
          r = write_one(&c, ctx, &plan->w[i + 1], err);
          r = r ?: write_one(&c, ctx, w, err);
          i++;
        }
    }
  dirfds_close(&c);
  return r;
}

static int
collect_at(int dfd, const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
  _cleanup_free_ char *buf = NULL;
  int r = keel_read_file(dfd, "cgroup.procs", 16 << 20, &buf, NULL);
  if (r < 0)
    return r;
  for (char *p = buf, *end; *p; p = end)
    {
      long v = strtol(p, &end, 10);
      if (end == p)
        break;
      if (*n == *cap)
        {
          size_t nc = *cap ? *cap * 2 : 32;
          pid_t *np = realloc(*pids, nc * sizeof(pid_t));
          if (!np)
            return -ENOMEM;
          *pids = np;
          *cap = nc;
        }
      (*pids)[(*n)++] = (pid_t)v;
    }
  int sub = dup(dfd);
  if (sub < 0)
    return -errno;
  _cleanup_closedir_ DIR *d = fdopendir(sub);
  if (!d)
    {
      close(sub);
      return -errno;
    }
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      _cleanup_close_ int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (cfd < 0)
        continue; /* removed meanwhile */
      if ((r = collect_at(cfd, dir, pids, n, cap)) < 0 && r != -ENOENT)
        return r;
    }
  return 0;
}

int
cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct keel_error *err)
{
  size_t cap = *n;
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return -errno == -ENOENT ? 0 : keel_error_set_errno(err, -errno, "cannot open '%s'", dir);
  int r = collect_at(dfd, dir, pids, n, &cap);
  if (r < 0 && r != -ENOENT)
    return keel_error_set_errno(err, r, "cannot list the processes of cgroup '%s'", dir);
  return 0;
}

/* rmdir dir's child cgroups, then dir. */
static int
rmdir_tree(const char *dir)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : -errno;
  struct dirent *de;
  int ret = 0;
  while ((de = readdir(d)))
    {
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      char sub[PATH_MAX];
      if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
        return -ENAMETOOLONG;
      int r = rmdir_tree(sub);
      if (r < 0)
        ret = r;
    }
  if (rmdir(dir) < 0 && errno != ENOENT)
    return ret < 0 ? ret : -errno;
  return ret;
}

static int
kill_all(const char *dir, size_t *ret_n, struct keel_error *err)
{
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  int r = cg_collect_pids(dir, &pids, &n, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    if (pids[i] > 0)
      kill(pids[i], SIGKILL);
  *ret_n = n;
  return 0;
}

int
cg_remove_tree(const char *dir, bool v2, const char *freezer, struct keel_error *err)
{
  if (rmdir(dir) == 0 || errno == ENOENT)
    return 0;
  if (errno != EBUSY)
    return keel_error_set_errno(err, -errno, "cannot remove cgroup '%s'", dir);
  /* Busy: processes or child cgroups.  cgroup.kill (5.14) kills the whole
   * subtree at once, forks included; elsewhere kill in rounds until empty. */
  if (v2)
    {
      char f[PATH_MAX];
      snprintf(f, sizeof(f), "%s/cgroup.kill", dir);
      keel_write_string(AT_FDCWD, f, "1");
    }
  uint64_t deadline = cg_now_usec() + CG_TIMEOUT_USEC;
  unsigned us = 100;
  for (;;)
    {
      size_t n = 0;
      int r = kill_all(dir, &n, err);
      if (r < 0)
        return r;
      /* v1 frozen tasks only die once thawed. */
      if (n && freezer)
        {
          char f[PATH_MAX];
          snprintf(f, sizeof(f), "%s/freezer.state", freezer);
          keel_write_string(AT_FDCWD, f, "THAWED");
        }
      if (n == 0)
        break;
      if (cg_now_usec() > deadline)
        return keel_error_set(err, -EBUSY, "processes in cgroup '%s' did not exit within %llu s",
                              dir, CG_TIMEOUT_USEC / 1000000ULL);
      cg_backoff(&us);
    }
  int r = rmdir_tree(dir);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot remove cgroup '%s'", dir);
  return 0;
}
