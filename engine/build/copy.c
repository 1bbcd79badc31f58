/* Copying into a working container (COPY, ADD, keel copy).  Sources are
 * read without following symlinks below the top level and, from a build
 * context, never from outside it; every destination is resolved inside
 * the rootfs (engine/lib/path.h), so a symlink in the image cannot turn a
 * write toward the host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/copy.h"
#include "lib/cleanup.h"
#include "lib/path.h"

#define MAX_DEPTH 256

void
copier_done(struct copier *c)
{
  for (size_t i = 0; i < c->n_links; i++)
    free(c->links[i].path);
  free(c->links);
  c->links = NULL;
  c->n_links = 0;
}

/* The parent directory of abs (created as needed) and the last name. */
int
copier_parent(struct copier *c, const char *abs, const char **ret_name, struct keel_error *err)
{
  char parent[4096];
  const char *slash = strrchr(abs, '/');
  size_t n = slash ? (size_t)(slash - abs) : 0;
  if (!slash || !slash[1] || n >= sizeof(parent))
    return keel_error_set(err, -EINVAL, "bad destination '%s'", abs);
  memcpy(parent, abs, n);
  parent[n] = '\0';
  *ret_name = slash + 1;
  int fd = keel_path_create_in_root(c->rootfd, n ? parent : "/", KEEL_PATH_CREATE_DIR, 0755, err);
  return fd < 0 ? keel_error_prefix(err, "destination '%s'", abs) : fd;
}

void
copier_owner(const struct copier *c, const struct stat *st, uid_t *uid, gid_t *gid)
{
  *uid = c->set_owner ? c->uid : c->keep_owner ? st->st_uid : 0;
  *gid = c->set_owner ? c->gid : c->keep_owner ? st->st_gid : 0;
}

static void
copy_xattrs(int from, int to)
{
  char list[8192], val[65536];
  ssize_t n = flistxattr(from, list, sizeof(list));
  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1)
    {
      const char *k = list + off;
      if (!strncmp(k, "trusted.overlay.", 16) || !strcmp(k, "security.selinux"))
        continue;
      ssize_t vn = fgetxattr(from, k, val, sizeof(val));
      if (vn >= 0)
        fsetxattr(to, k, val, (size_t)vn, 0);
    }
}

/* Owner, mode and times on what was just made at dirfd/name (fd when
 * open, else by name without following a symlink). */
int
copier_finish(struct copier *c, int dirfd, const char *name, int fd, const struct stat *st,
              const char *abs, struct keel_error *err)
{
  uid_t uid;
  gid_t gid;
  copier_owner(c, st, &uid, &gid);
  bool link = S_ISLNK(st->st_mode);
  mode_t mode = c->set_mode ? c->mode : st->st_mode & 07777;
  int r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
  /* chown clears set-id bits: the mode goes after it */
  if (r == 0 && !link)
    r = fd >= 0 ? fchmod(fd, mode) : fchmodat(dirfd, name, mode, 0);
  if (r < 0)
    return keel_error_set_errno(err, -errno, "cannot set the owner or mode of '%s'", abs);
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (fd >= 0)
    futimens(fd, ts);
  else
    utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

/* Whatever is at dirfd/name that is not a directory goes (a directory is
 * kept and merged into, as docker does). */
int
copier_clear(int dirfd, const char *name, bool want_dir, const char *abs, struct keel_error *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : keel_error_set_errno(err, -errno, "cannot stat '%s'", abs);
  if (S_ISDIR(st.st_mode))
    {
      if (want_dir)
        return 1;
      return keel_error_set(err, -EISDIR, "cannot overwrite directory '%s' with a non-directory",
                            abs);
    }
  if (unlinkat(dirfd, name, 0) < 0)
    return keel_error_set_errno(err, -errno, "cannot replace '%s'", abs);
  return 0;
}

static int
copy_data(int in, int out, const char *abs, struct keel_error *err)
{
  for (;;)
    {
      ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n > 0)
        continue;
      if (errno == EINTR)
        continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return keel_error_set_errno(err, -errno, "cannot copy to '%s'", abs);
      break;
    }
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(in, buf, sizeof(buf))) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || write(out, buf, (size_t)n) != n)
        return keel_error_set_errno(err, -errno, "cannot copy to '%s'", abs);
    }
  return 0;
}

/* The parent of abs, with nothing but a directory left at its name. */
static int
room_for(struct copier *c, const char *abs, const char **ret_name, struct keel_error *err)
{
  int pfd = copier_parent(c, abs, ret_name, err);
  if (pfd < 0)
    return pfd;
  int r = copier_clear(pfd, *ret_name, false, abs, err);
  if (r < 0)
    {
      close(pfd);
      return r;
    }
  return pfd;
}

/* A file already copied under another name: link to it instead. */
static int
hardlink(struct copier *c, const struct stat *st, int dirfd, const char *name, const char *abs,
         struct keel_error *err)
{
  if (st->st_nlink < 2)
    return 0;
  for (size_t i = 0; i < c->n_links; i++)
    if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
      {
        const char *first;
        _cleanup_close_ int pfd = copier_parent(c, c->links[i].path, &first, err);
        if (pfd < 0)
          return pfd;
        if (linkat(pfd, first, dirfd, name, 0) < 0)
          return keel_error_set_errno(err, -errno, "cannot link '%s'", abs);
        return 1;
      }
  struct copier_link *n = realloc(c->links, (c->n_links + 1) * sizeof(*n));
  if (!n)
    return keel_error_set(err, -ENOMEM, "out of memory");
  c->links = n;
  c->links[c->n_links++] = (struct copier_link){ st->st_dev, st->st_ino, strdup(abs) };
  return 0;
}

static int
copy_file(struct copier *c, int sfd, const struct stat *st, const char *abs, struct keel_error *err)
{
  const char *name;
  _cleanup_close_ int pfd = room_for(c, abs, &name, err);
  if (pfd < 0)
    return pfd;
  int r;
  if ((r = hardlink(c, st, pfd, name, abs, err)) != 0)
    return r < 0 ? r : 0;
  _cleanup_close_ int out
      = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", abs);
  if ((r = copy_data(sfd, out, abs, err)) < 0)
    return r;
  copy_xattrs(sfd, out);
  return copier_finish(c, pfd, name, out, st, abs, err);
}

static int
copy_special(struct copier *c, int sdir, const char *sname, const struct stat *st, const char *abs,
             struct keel_error *err)
{
  const char *name;
  _cleanup_close_ int pfd = room_for(c, abs, &name, err);
  if (pfd < 0)
    return pfd;
  int r;
  if (S_ISLNK(st->st_mode))
    {
      char target[4097];
      ssize_t n = readlinkat(sdir, sname, target, sizeof(target) - 1);
      if (n < 0)
        return keel_error_set_errno(err, -errno, "cannot read symlink '%s'", sname);
      target[n] = '\0';
      r = symlinkat(target, pfd, name);
    }
  else if (S_ISSOCK(st->st_mode))
    return 0;
  else
    r = mknodat(pfd, name, st->st_mode & (S_IFMT | 0777), st->st_rdev);
  if (r < 0)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", abs);
  return copier_finish(c, pfd, name, -1, st, abs, err);
}

static int copy_tree(struct copier *c, int sdir, const char *rel, const char *abs, int depth,
                     struct keel_error *err);

static int
copy_entry(struct copier *c, int sdir, const char *name, const char *rel, const char *abs,
           int depth, struct keel_error *err)
{
  struct stat st;
  if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return keel_error_set_errno(err, -errno, "cannot stat '%s'", rel);
  if (c->o->skip && c->o->skip(rel, S_ISDIR(st.st_mode), c->o->skip_userdata))
    return 0;
  if (S_ISDIR(st.st_mode))
    {
      _cleanup_close_ int sub = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s'", rel);
      return copier_dir(c, sub, &st, rel, abs, depth + 1, err);
    }
  if (S_ISREG(st.st_mode))
    {
      _cleanup_close_ int f = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (f < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s'", rel);
      return copy_file(c, f, &st, abs, err);
    }
  return copy_special(c, sdir, name, &st, abs, err);
}

static int
copy_tree(struct copier *c, int sdir, const char *rel, const char *abs, int depth,
          struct keel_error *err)
{
  if (depth > MAX_DEPTH)
    return keel_error_set(err, -ELOOP, "'%s' is nested too deeply", rel);
  int fd = openat(sdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d)
    {
      if (fd >= 0)
        close(fd);
      return keel_error_set_errno(err, -errno, "cannot read directory '%s'", rel);
    }
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      _cleanup_free_ char *r2 = NULL, *a2 = NULL;
      if (asprintf(&r2, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0
          || asprintf(&a2, "%s%s%s", abs, strcmp(abs, "/") ? "/" : "", de->d_name) < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
      int r = copy_entry(c, sdir, de->d_name, r2, a2, depth, err);
      if (r < 0)
        return r;
    }
  return 0;
}

int
copier_dir(struct copier *c, int sdir, const struct stat *st, const char *rel, const char *abs,
           int depth, struct keel_error *err)
{
  /* the directory itself (merged into one already there), its content,
   * then its owner, mode and times */
  int dfd = keel_path_create_in_root(c->rootfd, abs, KEEL_PATH_CREATE_DIR, 0755, err);
  if (dfd < 0)
    return keel_error_prefix(err, "destination '%s'", abs);
  close(dfd);
  int r = copy_tree(c, sdir, rel, abs, depth, err);
  if (r < 0 || !strcmp(abs, "/"))
    return r;
  const char *name;
  _cleanup_close_ int pfd = copier_parent(c, abs, &name, err);
  if (pfd < 0)
    return pfd;
  _cleanup_close_ int self = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* a symlink to a directory in the image was merged into: its target
   * keeps its own metadata */
  if (self < 0)
    return 0;
  copy_xattrs(sdir, self);
  return copier_finish(c, pfd, name, self, st, abs, err);
}

/* A directory source: its content into abs_dir.  The destination keeps
 * its own metadata; one made here is 0755 and root's, or --chown's (as
 * buildah). */
static int
copy_into(struct copier *c, int sdir, const char *abs_dir, struct keel_error *err)
{
  int fd = keel_path_open_in_root(c->rootfd, abs_dir, O_PATH | O_CLOEXEC, NULL);
  bool made = fd == -ENOENT;
  if (fd >= 0)
    close(fd);
  fd = keel_path_create_in_root(c->rootfd, abs_dir, KEEL_PATH_CREATE_DIR, 0755, err);
  if (fd < 0)
    return keel_error_prefix(err, "destination '%s'", abs_dir);
  close(fd);
  int r = copy_tree(c, sdir, "", abs_dir, 0, err);
  if (r < 0 || !made || !c->set_owner)
    return r;
  const char *name;
  _cleanup_close_ int pfd = copier_parent(c, abs_dir, &name, err);
  if (pfd < 0)
    return pfd;
  if (fchownat(pfd, name, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return keel_error_set_errno(err, -errno, "cannot set the owner of '%s'", abs_dir);
  return 0;
}

/* The top of one source, a directory, file or special. */
int
copier_source(struct copier *c, int sfd, const char *src, const char *abs_file, const char *abs_dir,
              struct keel_error *err)
{
  struct stat st;
  if (fstat(sfd, &st) < 0)
    return keel_error_set_errno(err, -errno, "cannot stat '%s'", src);
  if (S_ISDIR(st.st_mode))
    {
      _cleanup_close_ int d = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (d < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s'", src);
      return copy_into(c, d, abs_dir, err);
    }
  if (c->o->extract_archives && S_ISREG(st.st_mode))
    {
      int r = copier_extract(c, sfd, src, abs_dir, err);
      if (r != 1)
        return r; /* extracted, or failed; 1: not an archive */
    }
  if (S_ISREG(st.st_mode))
    {
      char self[64];
      snprintf(self, sizeof(self), "/proc/self/fd/%d", sfd);
      _cleanup_close_ int f = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (f < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s'", src);
      return copy_file(c, f, &st, abs_file, err);
    }
  return keel_error_set(err, -EINVAL, "'%s' is neither a file nor a directory", src);
}
