#include "lib/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

bool keel_path_force_walker = false;
static int have_openat2 = -1;

#define MAX_SYMLINKS 40

static int
sys_openat2(int dirfd, const char *path, struct open_how *how)
{
  return (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

static bool
same_inode(int a, int b)
{
  struct stat sa, sb;
  if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
    return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* procfs "magic links" (/proc/PID/fd/N, exe, cwd, root, ns/...) name
 * objects, not paths: following one could land anywhere, so the walker
 * refuses them as RESOLVE_NO_MAGICLINKS does.  The ordinary symlinks of
 * procfs (self, thread-self, mounts, net) all sit in its root directory,
 * whose inode is 1. */
static bool
is_magic_link(int fd, int parent)
{
  struct statfs sf;
  struct stat st;
  if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
    return false;
  return fstat(parent, &st) < 0 || st.st_ino != 1;
}

/* The walker.  `rest` holds the components still to resolve; a symlink's
 * target is spliced in front of what remains. */
static int
walk(int rootfd, const char *path, int flags, enum keel_path_create create, mode_t mode,
     struct keel_error *err)
{
  char *rest = strdup(path);
  if (!rest)
    return keel_error_set(err, -ENOMEM, "out of memory");
  _cleanup_free_ char *owned = rest;
  _cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0)
    return keel_error_set_errno(err, -errno, "cannot open root for '%s'", path);
  int links = 0;
  char *p = rest;

  for (;;)
    {
      while (*p == '/')
        p++;
      if (!*p)
        break;
      char *slash = strchr(p, '/');
      char *next = slash ? slash + 1 : p + strlen(p);
      if (slash)
        *slash = '\0';
      bool last = true;
      for (char *q = next; *q; q++)
        if (*q != '/')
          {
            last = false;
            break;
          }

      if (!strcmp(p, "."))
        {
          p = next;
          continue;
        }
      if (!strcmp(p, ".."))
        {
          if (!same_inode(cur, rootfd))
            {
              int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
              if (up < 0)
                return keel_error_set_errno(err, -errno, "cannot resolve '%s'", path);
              close(cur);
              cur = up;
            }
          p = next;
          continue;
        }

      int fd = openat(cur, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && create != KEEL_PATH_NO_CREATE)
        {
          int r;
          if (last && create == KEEL_PATH_CREATE_FILE)
            {
              r = openat(cur, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
              if (r >= 0)
                close(r);
            }
          else
            r = mkdirat(cur, p, last ? mode : 0755);
          if (r < 0 && errno != EEXIST)
            return keel_error_set_errno(err, -errno, "cannot create '%s' in '%s'", p, path);
          fd = openat(cur, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
      if (fd < 0)
        return keel_error_set_errno(err, -errno, "cannot resolve '%s'", path);

      struct stat st;
      if (fstat(fd, &st) < 0)
        {
          close(fd);
          return keel_error_set_errno(err, -errno, "cannot stat '%s'", path);
        }
      if (S_ISLNK(st.st_mode) && is_magic_link(fd, cur))
        {
          close(fd);
          return keel_error_set(err, -ELOOP, "cannot resolve '%s': '%s' is a /proc magic link",
                                path, p);
        }
      if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW)))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
          close(fd);
          if (n < 0)
            return keel_error_set_errno(err, -errno, "cannot read link in '%s'", path);
          target[n] = '\0';
          if (++links > MAX_SYMLINKS)
            return keel_error_set(err, -ELOOP, "too many symlinks resolving '%s'", path);
          size_t tl = (size_t)n, rl = strlen(next);
          char *spliced = malloc(tl + rl + 2);
          if (!spliced)
            return keel_error_set(err, -ENOMEM, "out of memory");
          memcpy(spliced, target, tl);
          spliced[tl] = '/';
          memcpy(spliced + tl + 1, next, rl + 1);
          free(owned);
          owned = rest = p = spliced;
          if (target[0] == '/')
            {
              int r = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
              if (r < 0)
                return keel_error_set_errno(err, -errno, "cannot open root");
              close(cur);
              cur = r;
            }
          continue;
        }
      if (!last && !S_ISDIR(st.st_mode))
        {
          close(fd);
          return keel_error_set(err, -ENOTDIR, "cannot resolve '%s': '%s' is not a directory", path,
                                p);
        }
      close(cur);
      cur = fd;
      p = next;
    }

  if ((flags & O_PATH) || (flags & ~(O_NOFOLLOW | O_CLOEXEC)) == O_PATH)
    return TAKE_FD(cur);
  /* Reopen the resolved O_PATH fd with the real flags through procfs; the
   * fd already names the right inode so no further lookup happens. */
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", cur);
  int fd = open(proc, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", path);
  return fd;
}

int
keel_path_open_in_root(int rootfd, const char *path, int flags, struct keel_error *err)
{
  if (have_openat2 != 0 && !keel_path_force_walker)
    {
      struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
      };
      int fd = sys_openat2(rootfd, path, &how);
      if (fd >= 0)
        {
          have_openat2 = 1;
          return fd;
        }
      if (errno != ENOSYS && errno != EPERM)
        {
          have_openat2 = 1;
          return keel_error_set_errno(err, -errno, "cannot open '%s'", path);
        }
      have_openat2 = 0; /* ENOSYS, or EPERM from a seccomp filter that predates openat2 */
    }
  return walk(rootfd, path, flags, KEEL_PATH_NO_CREATE, 0, err);
}

int
keel_path_create_in_root(int rootfd, const char *path, enum keel_path_create create, mode_t mode,
                         struct keel_error *err)
{
  if (create == KEEL_PATH_NO_CREATE)
    return keel_path_open_in_root(rootfd, path, O_PATH, err);
  /* Fast path: it exists already. */
  if (have_openat2 != 0 && !keel_path_force_walker)
    {
      struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
      };
      int fd = sys_openat2(rootfd, path, &how);
      if (fd >= 0)
        return fd;
      /* Only a missing component sends us to the walker, which creates it;
       * anything else (a magic link, a loop) is an answer, not a gap. */
      if (errno == ENOSYS || errno == EPERM)
        have_openat2 = 0;
      else if (errno != ENOENT)
        return keel_error_set_errno(err, -errno, "cannot resolve '%s'", path);
    }
  return walk(rootfd, path, O_PATH, create, mode, err);
}

int
keel_path_clean(const char *path, char *out, size_t size)
{
  if (size < 2)
    return -ENAMETOOLONG;
  size_t o = 0;
  out[o++] = '/';
  const char *p = path;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (!*p)
        break;
      const char *e = strchrnul(p, '/');
      size_t n = (size_t)(e - p);
      if (n == 1 && p[0] == '.')
        ;
      else if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          /* out never ends in '/' except when it is "/": drop the last component */
          size_t k = o;
          while (k > 0 && out[k - 1] != '/')
            k--;
          o = k > 1 ? k - 1 : 1;
        }
      else
        {
          if (o > 1 && out[o - 1] != '/')
            {
              if (o + 1 >= size)
                return -ENAMETOOLONG;
              out[o++] = '/';
            }
          if (o + n >= size)
            return -ENAMETOOLONG;
          memcpy(out + o, p, n);
          o += n;
        }
      p = e;
    }
  out[o] = '\0';
  return 0;
}
