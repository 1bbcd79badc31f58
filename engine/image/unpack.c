#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/decompress.h"
#include "lib/cleanup.h"
#include "lib/fs.h"

#define WH_PREFIX   ".wh."
#define WH_OPAQUE   ".wh..wh..opq"
#define WH_META     ".wh..wh."
#define MAX_ENTRIES (4u << 20)

struct dir_time
{
  char *path;
  struct timespec mtime;
};

struct unpacker
{
  int root;
  struct keel_dstream *ds;
  struct archive *a;
  struct keel_error *err;
  int stream_error; /* set when the byte pipeline failed; err holds why */
  uint64_t cap, declared;
  struct keel_unpack_stats *stats;
  /* The last parent directory opened: entries come grouped by directory. */
  char *cached_parent;
  int cached_fd;
  struct dir_time *dirs;
  size_t n_dirs, cap_dirs;
};

static la_ssize_t
archive_read_cb(struct archive *a, void *userdata, const void **buf)
{
  struct unpacker *u = userdata;
  ssize_t n = keel_dstream_next(u->ds, buf, u->err);
  if (n < 0)
    {
      u->stream_error = (int)n;
      archive_set_error(a, EIO, "%s", u->err->msg);
      return -1;
    }
  return n;
}

static void
drop_cache(struct unpacker *u)
{
  if (u->cached_fd >= 0)
    close(u->cached_fd);
  u->cached_fd = -EBADF;
  free(u->cached_parent);
  u->cached_parent = NULL;
}

static int entry_error(struct unpacker *u, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
entry_error(struct unpacker *u, int code, const char *path, const char *fmt, ...)
{
  char what[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  return keel_error_set(u->err, code, "layer entry '%.200s': %s", path, what);
}

/* Lexical checks on an archive path; out gets it without "./" and
 * trailing slashes.  ".." anywhere and absolute paths are refused: no
 * image tool writes them, and an entry that needs them is an attack. */
static int
clean_path(struct unpacker *u, const char *raw, char *out, size_t size)
{
  if (!raw || !*raw)
    return keel_error_set(u->err, -EINVAL, "layer entry with an empty name");
  if (raw[0] == '/')
    return entry_error(u, -EPERM, raw, "%s", "absolute path");
  size_t o = 0;
  const char *p = raw;
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *e = strchrnul(p, '/');
      size_t n = (size_t)(e - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return entry_error(u, -EPERM, raw, "%s", "path contains '..'");
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (n > NAME_MAX || o + n + 2 > size)
            return entry_error(u, -ENAMETOOLONG, raw, "%s", "name too long");
          if (o)
            out[o++] = '/';
          memcpy(out + o, p, n);
          o += n;
        }
      p = e;
    }
  out[o] = '\0';
  return 0;
}

static int
openat2_beneath(int dirfd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };
  int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
  return fd < 0 ? -errno : fd;
}

/* Open (creating what is missing, as tar does for entries whose parents
 * were not listed) the directory dir below the layer root.  No component
 * may be a symlink: a layer that plants one and then writes through it is
 * refused here. */
static int
open_dir(struct unpacker *u, const char *dir, const char *entry)
{
  if (!*dir)
    {
      int fd = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
      return fd < 0 ? -errno : fd;
    }
  int fd = openat2_beneath(u->root, dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0)
    return fd;
  if (fd == -ELOOP || fd == -EXDEV)
    return entry_error(u, -ELOOP, entry, "%s", "its path passes through a symlink");
  if (fd == -ENOTDIR)
    return entry_error(u, -ENOTDIR, entry, "%s", "a parent is not a directory");
  if (fd != -ENOENT)
    return keel_error_set_errno(u->err, fd, "layer entry '%.200s': cannot open its directory",
                                entry);
  /* Walk and create, one component at a time, never following a link. */
  _cleanup_free_ char *copy = strdup(dir);
  if (!copy)
    return keel_error_set(u->err, -ENOMEM, "out of memory");
  _cleanup_close_ int cur = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
  for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
    {
      if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST)
        return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot create '%s'",
                                    entry, c);
      int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return entry_error(u, errno == ENOTDIR || errno == ELOOP ? -ELOOP : -errno, entry, "%s",
                           "a parent is a symlink or not a directory");
      close(cur);
      cur = next;
    }
  return TAKE_FD(cur);
}

/* The parent directory of path as an fd owned by the cache; *base points
 * at the last component. */
static int
parent_of(struct unpacker *u, char *path, const char **base)
{
  char *slash = strrchr(path, '/');
  const char *dir = "";
  char full[PATH_MAX];
  snprintf(full, sizeof(full), "%s", path); /* messages name the whole entry */
  if (slash)
    {
      *slash = '\0';
      dir = path;
      *base = slash + 1;
    }
  else
    *base = path;
  int r = 0;
  if (!u->cached_parent || strcmp(u->cached_parent, dir))
    {
      drop_cache(u);
      r = open_dir(u, dir, full);
      if (r >= 0)
        {
          u->cached_fd = r;
          u->cached_parent = strdup(dir);
          if (!u->cached_parent)
            r = keel_error_set(u->err, -ENOMEM, "out of memory");
        }
    }
  if (slash)
    *slash = '/';
  return r < 0 ? r : u->cached_fd;
}

/* Make room for a new entry at parent/base: a non-directory already there
 * is replaced (later entries win, as in tar); a directory stays only if the
 * new entry is one too. */
static int
make_room(struct unpacker *u, int parent, const char *base, bool new_is_dir, const char *path)
{
  struct stat st;
  if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : keel_error_set_errno(u->err, -errno, "cannot stat '%s'", path);
  if (S_ISDIR(st.st_mode))
    {
      if (new_is_dir)
        return 1;
      return entry_error(u, -EEXIST, path, "%s", "duplicate entry replaces a directory");
    }
  /* Only a non-directory goes, so the cached parent (always the current
   * entry's parent, a directory) stays valid. */
  if (unlinkat(parent, base, 0) < 0)
    return keel_error_set_errno(u->err, -errno, "cannot replace '%s'", path);
  return 0;
}

/* Extended attributes from the archive.  trusted.* (overlayfs' own
 * control attributes among them) and security.* other than file
 * capabilities are dropped: an image must not steer the overlay. */
static int
apply_xattrs(struct unpacker *u, struct archive_entry *e, int fd, const char *path)
{
  archive_entry_xattr_reset(e);
  const char *name;
  const void *value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
    {
      if (strncmp(name, "user.", 5) && strcmp(name, "security.capability"))
        continue;
      if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
        return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot set xattr %s",
                                    path, name);
    }
  return 0;
}

static int
apply_meta_fd(struct unpacker *u, struct archive_entry *e, int fd, const char *path, bool times)
{
  if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot chown", path);
  /* chmod after chown: chown clears set-id bits */
  if (fchmod(fd, archive_entry_mode(e) & 07777) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot chmod", path);
  int r = apply_xattrs(u, e, fd, path);
  if (r < 0 || !times)
    return r;
  struct timespec ts[2] = {
    { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
    { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
  };
  if (futimens(fd, ts) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot set times", path);
  return 0;
}

static int
write_file(struct unpacker *u, struct archive_entry *e, int parent, const char *base,
           const char *path)
{
  int64_t size = archive_entry_size(e);
  if (size < 0)
    return entry_error(u, -EINVAL, path, "%s", "negative size");
  u->declared += (uint64_t)size;
  if ((uint64_t)size > u->cap || u->declared > u->cap)
    {
      char why[200];
      snprintf(why, sizeof(why),
               "claims %llu MiB, past the %llu MiB this layer may unpack to "
               "(decompression bomb or sparse file?)",
               (unsigned long long)((uint64_t)size >> 20), (unsigned long long)(u->cap >> 20));
      return entry_error(u, -EFBIG, path, "%s", why);
    }
  int r = make_room(u, parent, base, false, path);
  if (r < 0)
    return r;
  _cleanup_close_ int fd
      = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot create", path);
  const void *buf;
  size_t len;
  la_int64_t off;
  int64_t end = 0;
  while ((r = archive_read_data_block(u->a, &buf, &len, &off)) == ARCHIVE_OK)
    {
      if (off < 0 || (uint64_t)off + len > (uint64_t)size)
        return entry_error(u, -EINVAL, path, "%s", "data beyond its declared size");
      for (size_t done = 0; done < len;)
        {
          ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
          if (n < 0)
            return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot write", path);
          done += (size_t)n;
        }
      end = off + (int64_t)len;
      u->stats->content_bytes += len;
    }
  if (r != ARCHIVE_EOF)
    return u->stream_error ? u->stream_error
                           : entry_error(u, -EBADMSG, path, "%s", archive_error_string(u->a));
  if (end < size && ftruncate(fd, size) < 0) /* a sparse tail */
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot size", path);
  return apply_meta_fd(u, e, fd, path, true);
}

static int
remember_dir_time(struct unpacker *u, const char *path, struct archive_entry *e)
{
  if (u->n_dirs == u->cap_dirs)
    {
      size_t n = u->cap_dirs ? u->cap_dirs * 2 : 64;
      struct dir_time *v = realloc(u->dirs, n * sizeof(*v));
      if (!v)
        return keel_error_set(u->err, -ENOMEM, "out of memory");
      u->dirs = v;
      u->cap_dirs = n;
    }
  u->dirs[u->n_dirs].path = strdup(path);
  if (!u->dirs[u->n_dirs].path)
    return keel_error_set(u->err, -ENOMEM, "out of memory");
  u->dirs[u->n_dirs].mtime
      = (struct timespec){ archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
  u->n_dirs++;
  return 0;
}

static int
write_dir(struct unpacker *u, struct archive_entry *e, int parent, const char *base,
          const char *path)
{
  int r = make_room(u, parent, base, true, path);
  if (r < 0)
    return r;
  if (r == 0 && mkdirat(parent, base, 0700) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot create", path);
  _cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot open", path);
  r = apply_meta_fd(u, e, fd, path, false);
  if (r < 0)
    return r;
  /* Children change a directory's mtime: set it once they are all in. */
  return remember_dir_time(u, path, e);
}

static int
write_symlink(struct unpacker *u, struct archive_entry *e, int parent, const char *base,
              const char *path)
{
  const char *target = archive_entry_symlink(e);
  if (!target || !*target || strlen(target) >= PATH_MAX)
    return entry_error(u, -EINVAL, path, "%s", "symlink with an empty or overlong target");
  int r = make_room(u, parent, base, false, path);
  if (r < 0)
    return r;
  /* The target is stored, never followed while unpacking: every later
   * entry resolves with RESOLVE_NO_SYMLINKS / O_NOFOLLOW. */
  if (symlinkat(target, parent, base) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot create", path);
  if (fchownat(parent, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
               AT_SYMLINK_NOFOLLOW)
      < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot chown", path);
  struct timespec ts[2] = {
    { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
    { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
  };
  utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
write_hardlink(struct unpacker *u, const char *raw_target, int parent, const char *base,
               const char *path)
{
  char target[PATH_MAX];
  int r = clean_path(u, raw_target, target, sizeof(target));
  if (r < 0)
    return keel_error_prefix(u->err, "hardlink '%.200s'", path);
  char *slash = strrchr(target, '/');
  const char *tbase = target;
  _cleanup_close_ int tdir = -EBADF;
  if (slash)
    {
      *slash = '\0';
      tbase = slash + 1;
      tdir = openat2_beneath(u->root, target, O_PATH | O_DIRECTORY);
    }
  else
    tdir = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
  struct stat st;
  if (tdir < 0 || fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return entry_error(u, -ENOENT, path, "hardlink target '%.200s' is not in this layer",
                       raw_target);
  if (S_ISDIR(st.st_mode))
    return entry_error(u, -EPERM, path, "hardlink to directory '%.200s'", raw_target);
  r = make_room(u, parent, base, false, path);
  if (r < 0)
    return r;
  if (linkat(tdir, tbase, parent, base, 0) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot link", path);
  return 0;
}

/* ".wh.NAME" hides NAME of the layers below: overlayfs spells that as a
 * 0:0 character device.  ".wh..wh..opq" makes the directory opaque. */
static int
write_whiteout(struct unpacker *u, int parent, const char *base, const char *path)
{
  u->stats->whiteouts++;
  if (!strcmp(base, WH_OPAQUE))
    {
      if (fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) == 0)
        return 0;
      /* fsetxattr on an O_PATH fd is refused; go through /proc. */
      char proc[64];
      snprintf(proc, sizeof(proc), "/proc/self/fd/%d", parent);
      if (setxattr(proc, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot mark opaque",
                                    path);
      return 0;
    }
  if (!strncmp(base, WH_META, strlen(WH_META)))
    return 0; /* aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless here */
  const char *name = base + strlen(WH_PREFIX);
  if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
    return entry_error(u, -EPERM, path, "%s", "whiteout of '.' or '..'");
  struct stat st;
  if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      int r = keel_rm_rf_at(parent, name);
      if (r < 0)
        return keel_error_set_errno(u->err, r, "layer entry '%.200s': cannot replace", path);
    }
  if (mknodat(parent, name, S_IFCHR | 0, makedev(0, 0)) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot create whiteout",
                                path);
  return 0;
}

/* Device nodes from a layer are created only by root in the initial user
 * namespace, as rootful podman and docker do: base images made from a
 * debootstrap or mmdebstrap tree carry /dev/null and friends, and refusing
 * them would refuse those images.  They are harmless where they land: the
 * store is mode 0700, and in a container the runtime's device cgroup
 * decides what may be opened, whatever nodes the rootfs holds.  Anywhere
 * else mknod could not work, and the layer is refused with a clear line. */
static bool
may_create_devices(void)
{
  static int cached = -1;
  if (cached < 0)
    {
      unsigned long inside = 1, outside = 1, count = 0;
      _cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
      bool initial = f && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0
                     && outside == 0 && count == 4294967295ul;
      cached = geteuid() == 0 && initial;
    }
  return cached;
}

static int
write_special(struct unpacker *u, struct archive_entry *e, int parent, const char *base,
              const char *path)
{
  mode_t type = archive_entry_filetype(e);
  dev_t dev = archive_entry_rdev(e);
  if (type == AE_IFCHR && major(dev) == 0 && minor(dev) == 0)
    ; /* already in overlay whiteout form */
  else if ((type == AE_IFCHR || type == AE_IFBLK) && !may_create_devices())
    {
      char why[160];
      snprintf(why, sizeof(why),
               "device nodes are not allowed in layers unless keel runs as root in the initial "
               "user namespace (%s %u:%u)",
               type == AE_IFCHR ? "char" : "block", major(dev), minor(dev));
      return entry_error(u, -EPERM, path, "%s", why);
    }
  else if (type != AE_IFIFO && type != AE_IFCHR && type != AE_IFBLK)
    return entry_error(u, -EINVAL, path, "%s", "unsupported entry type");
  int r = make_room(u, parent, base, false, path);
  if (r < 0)
    return r;
  if (mknodat(parent, base, type | 0600, type == AE_IFIFO ? 0 : dev) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot create", path);
  if (fchownat(parent, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
               AT_SYMLINK_NOFOLLOW)
          < 0
      || fchmodat(parent, base, archive_entry_mode(e) & 07777, 0) < 0)
    return keel_error_set_errno(u->err, -errno, "layer entry '%.200s': cannot set owner", path);
  return 0;
}

static int
write_entry(struct unpacker *u, struct archive_entry *e)
{
  const char *raw = archive_entry_pathname(e);
  if (!raw)
    raw = archive_entry_pathname_utf8(e);
  char path[PATH_MAX];
  int r = clean_path(u, raw, path, sizeof(path));
  if (r < 0)
    return r;
  if (!*path)
    return 0; /* "./": the layer root itself */
  if (++u->stats->entries > MAX_ENTRIES)
    return keel_error_set(u->err, -E2BIG, "layer has more than %u entries", MAX_ENTRIES);
  const char *base;
  int parent = parent_of(u, path, &base);
  if (parent < 0)
    return parent;
  if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
    return write_whiteout(u, parent, base, path);
  const char *link = archive_entry_hardlink(e);
  if (link)
    return write_hardlink(u, link, parent, base, path);
  switch (archive_entry_filetype(e))
    {
    case AE_IFREG:
      return write_file(u, e, parent, base, path);
    case AE_IFDIR:
      return write_dir(u, e, parent, base, path);
    case AE_IFLNK:
      return write_symlink(u, e, parent, base, path);
    default:
      return write_special(u, e, parent, base, path);
    }
}

static void
set_dir_times(struct unpacker *u)
{
  /* Deepest first does not matter: setting a directory's times does not
   * touch its parent's. */
  for (size_t i = 0; i < u->n_dirs; i++)
    {
      int fd = openat2_beneath(u->root, u->dirs[i].path, O_RDONLY | O_DIRECTORY);
      if (fd < 0)
        continue; /* replaced by a later whiteout */
      struct timespec ts[2] = { u->dirs[i].mtime, u->dirs[i].mtime };
      futimens(fd, ts);
      close(fd);
    }
}

static int
run(struct unpacker *u)
{
  int r;
  for (;;)
    {
      struct archive_entry *e;
      int ar = archive_read_next_header(u->a, &e);
      if (ar == ARCHIVE_EOF)
        break;
      if (ar < ARCHIVE_WARN)
        {
          if (u->stream_error)
            return u->stream_error;
          return keel_error_set(u->err, -EBADMSG, "layer is not a valid tar: %s",
                                archive_error_string(u->a));
        }
      if ((r = write_entry(u, e)) < 0)
        return r;
    }
  set_dir_times(u);
  return keel_dstream_finish(u->ds, u->stats, u->err);
}

int
keel_unpack_layer(int dirfd, const struct keel_unpack_source *src,
                  const struct keel_unpack_opts *opts, struct keel_unpack_stats *ret,
                  struct keel_error *err)
{
  struct keel_error local = KEEL_ERROR_INIT;
  if (!err)
    err = &local;
  memset(ret, 0, sizeof(*ret));
  struct unpacker u = { .root = dirfd, .err = err, .stats = ret, .cached_fd = -EBADF };
  u.cap = opts->max_bytes;
  if (!u.cap)
    {
      u.cap = opts->compressed_size * KEEL_UNPACK_RATIO;
      if (u.cap < KEEL_UNPACK_MIN_CAP)
        u.cap = KEEL_UNPACK_MIN_CAP;
    }
  /* The tar stream carries headers and padding beyond the contents. */
  uint64_t stream_cap = u.cap + u.cap / 8 + (1u << 20);
  int r = keel_dstream_new(src, stream_cap, &u.ds, err);
  if (r < 0)
    return r;
  if (opts->tee)
    keel_dstream_tee(u.ds, opts->tee_fd);
  u.a = archive_read_new();
  if (!u.a || archive_read_support_format_tar(u.a) != ARCHIVE_OK)
    r = keel_error_set(err, -ENOMEM, "cannot set up libarchive");
  else if (archive_read_open(u.a, &u, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
    r = u.stream_error ? u.stream_error
                       : keel_error_set(err, -EBADMSG, "layer is not a valid tar: %s",
                                        archive_error_string(u.a));
  else
    r = run(&u);
  if (u.a)
    archive_read_free(u.a);
  drop_cache(&u);
  for (size_t i = 0; i < u.n_dirs; i++)
    free(u.dirs[i].path);
  free(u.dirs);
  keel_dstream_free(u.ds);
  return r;
}

ssize_t
keel_unpack_read_fd(void *userdata, void *buf, size_t len, struct keel_error *err)
{
  int fd = *(int *)userdata;
  for (;;)
    {
      ssize_t n = read(fd, buf, len);
      if (n >= 0)
        return n;
      if (errno != EINTR)
        return keel_error_set_errno(err, -errno, "cannot read layer");
    }
}
