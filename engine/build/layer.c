/* The layer writer: a directory tree (an overlayfs upper dir) → an OCI
 * layer tar, digested (diff id) and compressed (blob digest) in one pass.
 * See layer.h for the whiteout and opaque-directory translation. */
#include "build/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/compress.h"
#include "lib/cleanup.h"

#define OVL_XATTR  "trusted.overlay."
#define WH_PREFIX  ".wh."
#define WH_OPAQUE  ".wh..wh..opq"
#define MAX_DEPTH  256
#define XATTRS_MAX (64u << 10)

struct hardlink
{
  dev_t dev;
  ino_t ino;
  char *path;
};

struct writer
{
  struct archive *a;
  struct keel_compressor *comp;
  struct keel_digest_ctx *tar_dig;
  const struct keel_layer_write_opts *o;
  struct keel_layer_write_result *res;
  struct keel_error *err;
  int failed; /* the first write error, kept for after libarchive returns */
  struct hardlink *links;
  size_t n_links, cap_links;
  char buf[1 << 16];
};

static la_ssize_t
on_write(struct archive *a, void *ud, const void *p, size_t n)
{
  struct writer *w = ud;
  if (w->failed)
    return -1;
  keel_digest_update(w->tar_dig, p, n);
  w->res->tar_bytes += n;
  int r = keel_compressor_write(w->comp, p, n, w->err);
  if (r < 0)
    {
      w->failed = r;
      archive_set_error(a, -r, "%s", w->err->msg);
      return -1;
    }
  return (la_ssize_t)n;
}

static int
arch_fail(struct writer *w, const char *path)
{
  if (w->failed)
    return w->failed;
  return keel_error_set(w->err, -EIO, "cannot write '%s' into the layer: %s", path,
                        archive_error_string(w->a));
}

static int64_t
mtime_of(const struct writer *w, const struct stat *st)
{
  int64_t t = st->st_mtim.tv_sec;
  if (w->o->source_date >= 0 && (w->o->rewrite_timestamps || t > w->o->source_date))
    t = w->o->source_date;
  return t;
}

/* xattrs of dirfd/name without following a symlink there; overlay's own
 * are left out (opaque reported through *opaque), features keel does not
 * translate are refused. */
static int
add_xattrs(struct writer *w, struct archive_entry *e, int dirfd, const char *name, const char *path,
           bool *opaque)
{
  char p[64 + 256], list[8192];
  snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, name);
  ssize_t n = llistxattr(p, list, sizeof(list));
  if (n < 0)
    return errno == ENOTSUP || errno == ENODATA
               ? 0
               : keel_error_set_errno(w->err, -errno, "cannot list the xattrs of '%s'", path);
  for (ssize_t off = 0; off < n; off += (ssize_t)strlen(list + off) + 1)
    {
      const char *k = list + off;
      char val[XATTRS_MAX];
      ssize_t vn = lgetxattr(p, k, val, sizeof(val));
      if (vn < 0)
        continue; /* gone meanwhile, or not ours to read */
      if (!strncmp(k, OVL_XATTR, strlen(OVL_XATTR)))
        {
          const char *f = k + strlen(OVL_XATTR);
          if (!strcmp(f, "opaque") && vn >= 1 && val[0] == 'y')
            *opaque = true;
          else if (!strcmp(f, "redirect") || !strcmp(f, "metacopy"))
            return keel_error_set(w->err, -ENOTSUP,
                                  "'%s' carries overlay %s data, which cannot be committed "
                                  "(mount with redirect_dir=off,metacopy=off)",
                                  path, f);
          continue;
        }
      /* a host's SELinux label says nothing about the image */
      if (!strcmp(k, "security.selinux"))
        continue;
      archive_entry_xattr_add_entry(e, k, val, (size_t)vn);
    }
  return 0;
}

static struct archive_entry *
new_entry(const struct writer *w, const char *path, const struct stat *st)
{
  struct archive_entry *e = archive_entry_new();
  if (!e)
    return NULL;
  archive_entry_set_pathname(e, path);
  archive_entry_set_uid(e, st->st_uid);
  archive_entry_set_gid(e, st->st_gid);
  archive_entry_set_perm(e, st->st_mode & 07777);
  archive_entry_set_mtime(e, mtime_of(w, st), 0);
  return e;
}

static int
write_header(struct writer *w, struct archive_entry *e, const char *path)
{
  int r = archive_write_header(w->a, e) == ARCHIVE_OK ? 0 : arch_fail(w, path);
  if (r == 0)
    w->res->entries++;
  return r;
}

/* An empty regular file: a whiteout or an opaque marker. */
static int
write_marker(struct writer *w, const char *path, const struct stat *st)
{
  struct archive_entry *e = new_entry(w, path, st);
  if (!e)
    return keel_error_set(w->err, -ENOMEM, "out of memory");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, 0);
  int r = write_header(w, e, path);
  archive_entry_free(e);
  if (r == 0)
    w->res->whiteouts++;
  return r;
}

static int
copy_data(struct writer *w, int dirfd, const char *name, const char *path, uint64_t size)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return keel_error_set_errno(w->err, -errno, "cannot open '%s'", path);
  uint64_t left = size;
  while (left > 0)
    {
      ssize_t n = read(fd, w->buf, left < sizeof(w->buf) ? left : sizeof(w->buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return keel_error_set_errno(w->err, -errno, "cannot read '%s'", path);
      if (n == 0)
        return keel_error_set(w->err, -EIO, "'%s' shrank while the layer was written", path);
      if (archive_write_data(w->a, w->buf, (size_t)n) != n)
        return arch_fail(w, path);
      left -= (uint64_t)n;
    }
  return 0;
}

/* The first path of a hardlinked inode, or NULL (and remember this one). */
static int
hardlink_of(struct writer *w, const struct stat *st, const char *path, const char **ret)
{
  *ret = NULL;
  for (size_t i = 0; i < w->n_links; i++)
    if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
      {
        *ret = w->links[i].path;
        return 0;
      }
  if (w->n_links == w->cap_links)
    {
      size_t cap = w->cap_links ? w->cap_links * 2 : 16;
      struct hardlink *n = realloc(w->links, cap * sizeof(*n));
      if (!n)
        return keel_error_set(w->err, -ENOMEM, "out of memory");
      w->links = n;
      w->cap_links = cap;
    }
  char *copy = strdup(path);
  if (!copy)
    return keel_error_set(w->err, -ENOMEM, "out of memory");
  w->links[w->n_links++] = (struct hardlink){ st->st_dev, st->st_ino, copy };
  return 0;
}

static int walk(struct writer *w, int dirfd, const char *prefix, int depth);

static int
set_type(struct writer *w, struct archive_entry *e, int dirfd, const char *name, const char *path,
         const struct stat *st, const char **link)
{
  *link = NULL;
  switch (st->st_mode & S_IFMT)
    {
    case S_IFREG:
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, st->st_size);
      if (st->st_nlink > 1)
        {
          int r = hardlink_of(w, st, path, link);
          if (r < 0)
            return r;
          if (*link)
            {
              archive_entry_set_hardlink(e, *link);
              archive_entry_set_size(e, 0);
            }
        }
      return 0;
    case S_IFDIR:
      archive_entry_set_filetype(e, AE_IFDIR);
      return 0;
    case S_IFLNK:
      {
        char target[4097];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (n < 0)
          return keel_error_set_errno(w->err, -errno, "cannot read symlink '%s'", path);
        target[n] = '\0';
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, target);
        return 0;
      }
    case S_IFIFO:
      archive_entry_set_filetype(e, AE_IFIFO);
      return 0;
    case S_IFCHR:
    case S_IFBLK:
      archive_entry_set_filetype(e, S_ISCHR(st->st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor(e, major(st->st_rdev));
      archive_entry_set_rdevminor(e, minor(st->st_rdev));
      return 0;
    default:
      return 1; /* sockets: tar has no form for them, as in docker */
    }
}

/* A directory entry after its header: its opaque marker, then its content. */
static int
write_dir(struct writer *w, int dirfd, const char *name, const char *path, const struct stat *st,
          bool opaque, int depth)
{
  _cleanup_free_ char *prefix = NULL, *marker = NULL;
  if (asprintf(&prefix, "%s/", path) < 0 || asprintf(&marker, "%s" WH_OPAQUE, prefix) < 0)
    return keel_error_set(w->err, -ENOMEM, "out of memory");
  int r = opaque ? write_marker(w, marker, st) : 0;
  if (r < 0)
    return r;
  _cleanup_close_ int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return keel_error_set_errno(w->err, -errno, "cannot open '%s'", path);
  return walk(w, sub, prefix, depth + 1);
}

static int
write_one(struct writer *w, int dirfd, const char *name, const char *prefix, int depth)
{
  _cleanup_free_ char *path = NULL;
  if (asprintf(&path, "%s%s", prefix, name) < 0)
    return keel_error_set(w->err, -ENOMEM, "out of memory");
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return keel_error_set_errno(w->err, -errno, "cannot stat '%s'", path);
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
    {
      /* overlay whiteout: ".wh.<name>" beside where it was */
      _cleanup_free_ char *wh = NULL;
      if (asprintf(&wh, "%s" WH_PREFIX "%s", prefix, name) < 0)
        return keel_error_set(w->err, -ENOMEM, "out of memory");
      return write_marker(w, wh, &st);
    }
  struct archive_entry *e = new_entry(w, path, &st);
  if (!e)
    return keel_error_set(w->err, -ENOMEM, "out of memory");
  const char *link;
  bool opaque = false;
  int r = set_type(w, e, dirfd, name, path, &st, &link);
  if (r == 0)
    r = add_xattrs(w, e, dirfd, name, path, &opaque);
  if (r == 0)
    r = write_header(w, e, path);
  archive_entry_free(e);
  if (r != 0)
    return r < 0 ? r : 0;
  if (S_ISREG(st.st_mode) && !link)
    return copy_data(w, dirfd, name, path, (uint64_t)st.st_size);
  return S_ISDIR(st.st_mode) ? write_dir(w, dirfd, name, path, &st, opaque, depth) : 0;
}

static int
by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entry names of a directory, sorted (so the tar does not depend on the
 * order the filesystem returns them in). */
static int
names_of(int dirfd, const char *path, char ***ret, size_t *ret_n, struct keel_error *err)
{
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d)
    {
      int e = -errno;
      if (fd >= 0)
        close(fd);
      return keel_error_set_errno(err, e, "cannot read directory '%s'", *path ? path : "/");
    }
  char **v = NULL;
  size_t n = 0;
  struct dirent *de;
  int r = 0;
  while ((de = readdir(d)))
    {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      char **nv = realloc(v, (n + 2) * sizeof(*v));
      if (!nv || !(nv[n] = strdup(de->d_name)))
        {
          v = nv ? nv : v;
          r = keel_error_set(err, -ENOMEM, "out of memory");
          break;
        }
      v = nv;
      v[++n] = NULL;
    }
  closedir(d);
  if (r < 0)
    {
      for (size_t i = 0; i < n; i++)
        free(v[i]);
      free(v);
      return r;
    }
  if (n)
    qsort(v, n, sizeof(*v), by_name);
  *ret = v;
  *ret_n = n;
  return 0;
}

static int
walk(struct writer *w, int dirfd, const char *prefix, int depth)
{
  if (depth > MAX_DEPTH)
    return keel_error_set(w->err, -ELOOP, "'%s' is nested too deeply", prefix);
  _cleanup_strv_ char **names = NULL;
  size_t n = 0;
  int r = names_of(dirfd, prefix, &names, &n, w->err);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = write_one(w, dirfd, names[i], prefix, depth);
  return r;
}

static void
writer_free(struct writer *w)
{
  if (w->a)
    archive_write_free(w->a);
  keel_compressor_free(w->comp);
  keel_digest_free(w->tar_dig);
  for (size_t i = 0; i < w->n_links; i++)
    free(w->links[i].path);
  free(w->links);
  free(w);
}

static int
writer_new(int out_fd, const struct keel_layer_write_opts *o, struct keel_layer_write_result *res,
           struct keel_error *err, struct writer **ret)
{
  struct writer *w = calloc(1, sizeof(*w));
  if (!w)
    return keel_error_set(err, -ENOMEM, "out of memory");
  w->o = o;
  w->res = res;
  w->err = err;
  int r = keel_compressor_new(out_fd, o->compression, &w->comp, err);
  if (r == 0 && keel_digest_new(&w->tar_dig) < 0)
    r = keel_error_set(err, -ENOMEM, "out of memory");
  /* pax: long names, big ids and xattrs when needed, ustar otherwise */
  if (r == 0
      && (!(w->a = archive_write_new()) || archive_write_set_format_pax_restricted(w->a)
          || archive_write_set_bytes_per_block(w->a, 512)
          || archive_write_open2(w->a, w, NULL, on_write, NULL, NULL) != ARCHIVE_OK))
    r = keel_error_set(err, -ENOMEM, "cannot start the layer tar: %s",
                       w->a ? archive_error_string(w->a) : "out of memory");
  if (r < 0)
    {
      writer_free(w);
      return r;
    }
  *ret = w;
  return 0;
}

int
keel_layer_write(int dirfd, int out_fd, const struct keel_layer_write_opts *o,
                 struct keel_layer_write_result *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  struct writer *w = NULL;
  int r = writer_new(out_fd, o, ret, err, &w);
  if (r < 0)
    return r;
  r = walk(w, dirfd, "", 0);
  if (r == 0 && archive_write_close(w->a) != ARCHIVE_OK)
    r = arch_fail(w, "the end of the tar");
  if (r == 0)
    r = keel_compressor_finish(w->comp, ret->digest, &ret->size, err);
  if (r == 0 && keel_digest_final(TAKE_PTR(w->tar_dig), ret->diff_id) < 0)
    r = keel_error_set(err, -ENOMEM, "cannot digest the layer tar");
  writer_free(w);
  return r;
}

int
keel_layer_dir_empty(int dirfd, struct keel_error *err)
{
  _cleanup_strv_ char **names = NULL;
  size_t n = 0;
  int r = names_of(dirfd, "", &names, &n, err);
  return r < 0 ? r : n == 0;
}
