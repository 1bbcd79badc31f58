#include "lib/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"

int
keel_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write(fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

ssize_t
keel_read_all(int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = read(fd, p + got, len - got);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      if (n == 0)
        break;
      got += (size_t)n;
    }
  return (ssize_t)got;
}

int
keel_read_file(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t cap = max < 4096 ? max : 4096, len = 0;
  _cleanup_free_ char *buf = malloc(cap + 1);
  if (!buf)
    return -ENOMEM;
  for (;;)
    {
      if (len == cap)
        {
          if (cap >= max)
            {
              char extra;
              ssize_t n = read(fd, &extra, 1);
              if (n < 0)
                return -errno;
              if (n > 0)
                return -EFBIG;
              break;
            }
          cap = cap * 2 > max ? max : cap * 2;
          char *nb = realloc(buf, cap + 1);
          if (!nb)
            return -ENOMEM;
          buf = nb;
        }
      ssize_t n = read(fd, buf + len, cap - len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      if (n == 0)
        break;
      len += (size_t)n;
    }
  buf[len] = '\0';
  *ret = TAKE_PTR(buf);
  if (ret_len)
    *ret_len = len;
  return 0;
}

/* Put tmp in path's place by swapping the two names, then drop the old
 * file, now called tmp.  For readers that is as atomic as a rename, but
 * ext4 allocates the blocks of a file renamed over another at once
 * (auto_da_alloc, crash safety for replace-by-rename), so the file is
 * never freed before it has blocks, and freeing blocks on a disk mounted
 * with discard (no journal) waits for the discard: 3-9 ms here for each
 * later rewrite or delete of a 2 KiB state file, 0.02 ms with this.
 * Fails (and leaves both names alone) when path does not exist yet or
 * the filesystem cannot exchange. */
static int
exchange_in(int dirfd, const char *tmp, const char *path)
{
  if (renameat2(dirfd, tmp, dirfd, path, RENAME_EXCHANGE) < 0)
    return -errno;
  unlinkat(dirfd, tmp, 0);
  return 0;
}

static int
write_file_via_temp(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                    bool sync)
{
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
    return -ENAMETOOLONG;
  _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  int r = keel_write_all(fd, buf, len);
  if (r == 0 && sync && fsync(fd) < 0)
    r = -errno;
  if (r == 0 && !sync && exchange_in(dirfd, tmp, path) == 0)
    return 0;
  if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
    r = -errno;
  if (r < 0)
    unlinkat(dirfd, tmp, 0);
  return r;
}

int
keel_write_file_atomic(int dirfd, const char *path, const void *buf, size_t len, mode_t mode)
{
  return write_file_via_temp(dirfd, path, buf, len, mode, true);
}

int
keel_write_file_replace(int dirfd, const char *path, const void *buf, size_t len, mode_t mode)
{
  return write_file_via_temp(dirfd, path, buf, len, mode, false);
}

int
keel_write_string(int dirfd, const char *path, const char *s)
{
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t len = strlen(s);
  ssize_t n = write(fd, s, len);
  if (n < 0)
    return -errno;
  return (size_t)n == len ? 0 : -EIO;
}

int
keel_mkdir_p(const char *path, mode_t mode)
{
  char buf[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof(buf))
    return -ENAMETOOLONG;
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
      *p = '/';
    }
  if (mkdir(buf, mode) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

static int
rm_rf_children(int fd, dev_t dev)
{
  DIR *d = fdopendir(fd);
  if (!d)
    {
      close(fd);
      return -errno;
    }
  int ret = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      struct stat st;
      if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR(st.st_mode))
        {
          if (st.st_dev != dev)
            {
              ret = -EBUSY; /* a mount point: never descend into another filesystem */
              continue;
            }
          int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            {
              int r = rm_rf_children(sub, dev);
              if (r < 0)
                ret = r;
            }
          if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ret = -errno;
        }
      else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
        ret = -errno;
    }
  closedir(d);
  return ret;
}

int
keel_rm_rf_at(int dirfd, const char *name)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (!S_ISDIR(st.st_mode))
    return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = rm_rf_children(fd, st.st_dev);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return r < 0 ? r : -errno;
  return r;
}
