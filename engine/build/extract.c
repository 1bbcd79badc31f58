/* ADD's archive extraction: a local tar (plain, gzip, bzip2, xz, zstd) is
 * unpacked into the destination directory with the archive's owners
 * (unless --chown), modes and times.  Every entry is created through
 * in-root resolution, ".." in a name is refused, and a hardlink may only
 * point at something inside the destination. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "build/copy.h"
#include "lib/cleanup.h"
#include "lib/path.h"

/* "dir/./x" → "dir/x"; leading "/" and "./" dropped; ".." refused. */
static int
clean_name(const char *in, char *out, size_t size)
{
  size_t o = 0;
  const char *p = in;
  while (*p)
    {
      while (*p == '/')
        p++;
      size_t n = strcspn(p, "/");
      if (n == 0)
        break;
      if (n == 2 && !strncmp(p, "..", 2))
        return -EINVAL;
      if (!(n == 1 && *p == '.'))
        {
          if (o + n + 2 >= size)
            return -ENAMETOOLONG;
          if (o)
            out[o++] = '/';
          memcpy(out + o, p, n);
          o += n;
        }
      p += n;
    }
  out[o] = '\0';
  return 0;
}

static void
entry_stat(struct archive_entry *e, struct stat *st)
{
  memset(st, 0, sizeof(*st));
  st->st_mode = archive_entry_mode(e);
  st->st_uid = (uid_t)archive_entry_uid(e);
  st->st_gid = (gid_t)archive_entry_gid(e);
  st->st_mtim.tv_sec = archive_entry_mtime(e);
  st->st_mtim.tv_nsec = archive_entry_mtime_nsec(e);
  st->st_atim = st->st_mtim;
  st->st_rdev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
}

static int
write_data(struct archive *a, int out, const char *abs, struct keel_error *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int ar;
  while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
    if (pwrite(out, buf, len, off) != (ssize_t)len)
      return keel_error_set_errno(err, -errno, "cannot write '%s'", abs);
  if (ar != ARCHIVE_EOF)
    return keel_error_set(err, -EIO, "cannot read '%s' from the archive: %s", abs,
                          archive_error_string(a));
  return 0;
}

static int
one_entry(struct copier *c, struct archive *a, struct archive_entry *e, const char *abs_dir,
          const char *src, struct keel_error *err)
{
  char rel[4096], abs[8192];
  if (clean_name(archive_entry_pathname(e), rel, sizeof(rel)) < 0)
    return keel_error_set(err, -EINVAL, "%s: entry '%.200s' leaves the destination", src,
                          archive_entry_pathname(e));
  if (!*rel)
    return 0; /* "./" itself */
  snprintf(abs, sizeof(abs), "%s%s%s", abs_dir, strcmp(abs_dir, "/") ? "/" : "", rel);
  struct stat st;
  entry_stat(e, &st);
  if (S_ISDIR(st.st_mode))
    {
      int fd = keel_path_create_in_root(c->rootfd, abs, KEEL_PATH_CREATE_DIR, 0755, err);
      if (fd < 0)
        return keel_error_prefix(err, "destination '%s'", abs);
      close(fd);
    }
  const char *name;
  _cleanup_close_ int pfd = copier_parent(c, abs, &name, err);
  if (pfd < 0)
    return pfd;
  int r = S_ISDIR(st.st_mode) ? 0 : copier_clear(pfd, name, false, abs, err);
  if (r < 0)
    return r;
  const char *hl = archive_entry_hardlink(e);
  if (hl)
    {
      char lrel[4096], labs[8192];
      if (clean_name(hl, lrel, sizeof(lrel)) < 0 || !*lrel)
        return keel_error_set(err, -EINVAL, "%s: hardlink '%.200s' leaves the destination", src,
                              hl);
      snprintf(labs, sizeof(labs), "%s%s%s", abs_dir, strcmp(abs_dir, "/") ? "/" : "", lrel);
      const char *lname;
      _cleanup_close_ int lpfd = copier_parent(c, labs, &lname, err);
      if (lpfd < 0)
        return lpfd;
      if (linkat(lpfd, lname, pfd, name, 0) < 0)
        return keel_error_set_errno(err, -errno, "cannot link '%s' to '%s'", abs, labs);
      return 0;
    }
  _cleanup_close_ int out = -EBADF;
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      out = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      break;
    case S_IFREG:
      out = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out >= 0 && (r = write_data(a, out, abs, err)) < 0)
        return r;
      break;
    case S_IFLNK:
      r = symlinkat(archive_entry_symlink(e), pfd, name);
      break;
    default:
      r = mknodat(pfd, name, st.st_mode & (S_IFMT | 0777), st.st_rdev);
    }
  if (r < 0 || (out < 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))))
    return keel_error_set_errno(err, -errno, "cannot create '%s'", abs);
  return copier_finish(c, pfd, name, out, &st, abs, err);
}

int
copier_extract(struct copier *c, int sfd, const char *src, const char *abs_dir,
               struct keel_error *err)
{
  char self[64];
  snprintf(self, sizeof(self), "/proc/self/fd/%d", sfd);
  _cleanup_close_ int fd = open(self, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", src);
  struct archive *a = archive_read_new();
  if (!a)
    return keel_error_set(err, -ENOMEM, "out of memory");
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  struct archive_entry *e;
  int r = 1;
  if (archive_read_open_fd(a, fd, 1 << 16) == ARCHIVE_OK
      && archive_read_next_header(a, &e) == ARCHIVE_OK)
    {
      /* an archive: its owners are kept unless --chown says otherwise */
      bool keep = c->keep_owner;
      c->keep_owner = true;
      int ar = ARCHIVE_OK;
      for (r = 0; r == 0 && ar == ARCHIVE_OK; ar = archive_read_next_header(a, &e))
        r = one_entry(c, a, e, abs_dir, src, err);
      if (r == 0 && ar != ARCHIVE_EOF)
        r = keel_error_set(err, -EBADMSG, "%s: %s", src, archive_error_string(a));
      c->keep_owner = keep;
    }
  archive_read_free(a);
  return r;
}
