#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/path.h"
#include "runtime/cgroup.h"

#define FDPATH_MAX 32

static void
fdpath(char buf[FDPATH_MAX], int fd)
{
  snprintf(buf, FDPATH_MAX, "/proc/self/fd/%d", fd);
}

/* Flags the kernel locks on a mount seen from a less privileged user
 * namespace; a bind remount must repeat them or it fails with EPERM. */
static unsigned long
locked_flags(const char *path)
{
  struct statvfs st;
  unsigned long f = 0;
  if (statvfs(path, &st) < 0)
    return 0;
  if (st.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (st.f_flag & ST_RDONLY)
    f |= MS_RDONLY;
  if (st.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

#define REMOUNT_FLAGS                                                                              \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME         \
   | MS_STRICTATIME | 256 /* MS_NOSYMFOLLOW */)

static int
sys_mount_setattr(int dfd, const char *path, unsigned int flags, struct mount_attr *attr)
{
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

/* Re-resolve dest (now covered by the new mount) and apply what a bind
 * mount cannot take at creation: read-only and friends, rro, propagation. */
static int
finish_mount(int rootfd, const struct keel_mount *m, const char *src_for_locks,
             struct keel_error *err)
{
  _cleanup_close_ int fd = -EBADF;
  char p[FDPATH_MAX];
  unsigned long want = m->flags & REMOUNT_FLAGS;
  bool remount = m->bind && (want || (m->clear_flags & REMOUNT_FLAGS));
  if (!remount && !m->recursive_ro && !m->propagation)
    return 0;
  fd = keel_path_open_in_root(rootfd, m->destination, O_PATH, err);
  if (fd < 0)
    return fd;
  fdpath(p, fd);
  if (remount)
    {
      unsigned long locked = src_for_locks ? locked_flags(src_for_locks) : 0;
      /* Locked flags that the options did not clear explicitly stay; an
       * explicit "rw" on a read-only source still fails, as it must. */
      unsigned long flags = (want | (locked & ~m->clear_flags)) & REMOUNT_FLAGS;
      if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
        {
          /* retry keeping every locked flag (user namespaces) */
          if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags | locked, NULL) < 0)
            return keel_error_set_errno(err, -errno, "cannot remount '%s'", m->destination);
        }
    }
  if (m->recursive_ro)
    {
      struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
      if (sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a) < 0)
        return keel_error_set_errno(err, -errno, "cannot make '%s' recursively read-only",
                                    m->destination);
    }
  if (m->propagation && mount(NULL, p, NULL, m->propagation, NULL) < 0)
    return keel_error_set_errno(err, -errno, "cannot set propagation of '%s'", m->destination);
  return 0;
}

static int
bind_source(const struct keel_spec *s, const struct keel_mount *m, char *out, size_t size)
{
  int n = m->source[0] == '/' ? snprintf(out, size, "%s", m->source)
                              : snprintf(out, size, "%s/%s", s->bundle, m->source);
  return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int
mount_bind(const struct keel_spec *s, int rootfd, const struct keel_mount *m,
           struct keel_error *err)
{
  char src[PATH_MAX], p[FDPATH_MAX];
  if (bind_source(s, m, src, sizeof(src)) < 0)
    return keel_error_set(err, -ENAMETOOLONG, "mount source too long: '%s'", m->source);
  struct stat st;
  if (stat(src, &st) < 0)
    return keel_error_set_errno(err, -errno, "cannot bind-mount '%s' on '%s'", src, m->destination);
  _cleanup_close_ int fd = keel_path_create_in_root(
      rootfd, m->destination, S_ISDIR(st.st_mode) ? KEEL_PATH_CREATE_DIR : KEEL_PATH_CREATE_FILE,
      S_ISDIR(st.st_mode) ? 0755 : 0644, err);
  if (fd < 0)
    return keel_error_prefix(err, "mount '%s'", m->destination);
  fdpath(p, fd);
  if (mount(src, p, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
    return keel_error_set_errno(err, -errno, "cannot bind-mount '%s' on '%s'", src, m->destination);
  return finish_mount(rootfd, m, src, err);
}

/* v1 and hybrid hosts: a "cgroup" mount becomes a tmpfs holding one
 * read-only bind of the container's own directory per controller. */
static int
mount_cgroup_v1(int rootfd, const struct keel_mount *m, int tfd, json_object *cg,
                struct keel_error *err)
{
  static const char *const ctrls[]
      = { "cpu",  "cpuacct", "cpuset",   "memory",  "devices",    "freezer", "blkio",
          "pids", "net_cls", "net_prio", "hugetlb", "perf_event", "rdma",    "misc" };
  char p[FDPATH_MAX];
  fdpath(p, tfd);
  if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    return keel_error_set_errno(err, -errno, "cannot mount tmpfs on '%s'", m->destination);
  for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
    {
      const char *host = keel_cgroup_path(cg, ctrls[i]);
      if (!host)
        continue;
      char dest[PATH_MAX];
      snprintf(dest, sizeof(dest), "%s/%s", m->destination, ctrls[i]);
      _cleanup_close_ int d
          = keel_path_create_in_root(rootfd, dest, KEEL_PATH_CREATE_DIR, 0755, err);
      if (d < 0)
        return d;
      fdpath(p, d);
      if (mount(host, p, NULL, MS_BIND, NULL) < 0)
        return keel_error_set_errno(err, -errno, "cannot bind cgroup '%s' on '%s'", host, dest);
      /* the fd names the directory under the new mount: look it up again */
      _cleanup_close_ int b = keel_path_open_in_root(rootfd, dest, O_PATH, err);
      if (b < 0)
        return b;
      fdpath(p, b);
      if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                NULL)
          < 0)
        return keel_error_set_errno(err, -errno, "cannot remount cgroup '%s' read-only", dest);
    }
  /* remount the tmpfs read-only now that it is filled */
  _cleanup_close_ int fd = keel_path_open_in_root(rootfd, m->destination, O_PATH, err);
  if (fd < 0)
    return fd;
  fdpath(p, fd);
  if ((m->flags & MS_RDONLY)
      && mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755")
             < 0)
    return keel_error_set_errno(err, -errno, "cannot remount '%s' read-only", m->destination);
  return 0;
}

static int
mount_special(const struct keel_spec *s, int rootfd, const struct keel_mount *m,
              const struct keel_rootfs_opts *opts, struct keel_error *err)
{
  char p[FDPATH_MAX];
  _cleanup_close_ int fd
      = keel_path_create_in_root(rootfd, m->destination, KEEL_PATH_CREATE_DIR, 0755, err);
  if (fd < 0)
    return keel_error_prefix(err, "mount '%s'", m->destination);
  fdpath(p, fd);
  const char *type = m->type;
  if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))
    {
      int r;
      if (opts->before_cgroup_mount && (r = opts->before_cgroup_mount(opts->userdata, err)) < 0)
        return r;
      enum keel_cgroup_mode mode = KEEL_CGROUP_V2;
      keel_cgroup_detect(&mode, NULL);
      if (mode != KEEL_CGROUP_V2 && !strcmp(type, "cgroup"))
        return mount_cgroup_v1(rootfd, m, fd, opts->cgroup_state, err);
      type = "cgroup2";
    }
  unsigned long flags = m->flags & ~(MS_REC | MS_BIND);
  const char *src = m->source ? m->source : type;
  if (mount(src, p, type, flags, m->data) == 0)
    return finish_mount(rootfd, m, NULL, err);
  int e = errno;
  /* Without its own network (or IPC) namespace a container may not mount
   * a fresh sysfs (mqueue): bind the host's, as runc does. */
  if ((e == EPERM || e == EBUSY)
      && ((!strcmp(type, "sysfs") && (!s->ns[KEEL_NS_NET].wanted || opts->userns))
          || (!strcmp(type, "mqueue") && (!s->ns[KEEL_NS_IPC].wanted || opts->userns))))
    {
      const char *host = !strcmp(type, "sysfs") ? "/sys" : "/dev/mqueue";
      if (mount(host, p, NULL, MS_BIND | MS_REC, NULL) == 0)
        {
          struct keel_mount b = *m;
          b.bind = true;
          b.flags |= MS_RDONLY & m->flags;
          return finish_mount(rootfd, &b, host, err);
        }
    }
  return keel_error_set_errno(err, -e, "cannot mount %s on '%s'", type, m->destination);
}

/* ---- devices ---- */

struct dev
{
  const char *path;
  char type;
  unsigned major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

static const struct dev default_devices[] = {
  { "/dev/null", 'c', 1, 3, 0666, 0, 0 },    { "/dev/zero", 'c', 1, 5, 0666, 0, 0 },
  { "/dev/full", 'c', 1, 7, 0666, 0, 0 },    { "/dev/random", 'c', 1, 8, 0666, 0, 0 },
  { "/dev/urandom", 'c', 1, 9, 0666, 0, 0 }, { "/dev/tty", 'c', 5, 0, 0666, 0, 0 },
};

/* Make one device node inside the rootfs: mknod when allowed, otherwise
 * (user namespace) an empty file with the host's node bind-mounted on it. */
static int
make_device(int rootfd, const struct dev *d, bool userns, struct keel_error *err)
{
  _cleanup_close_ int dirfd = -EBADF;
  char parent[PATH_MAX];
  snprintf(parent, sizeof(parent), "%s", d->path);
  char *slash = strrchr(parent, '/');
  const char *name = slash + 1;
  *slash = '\0';
  dirfd
      = keel_path_create_in_root(rootfd, parent[0] ? parent : "/", KEEL_PATH_CREATE_DIR, 0755, err);
  if (dirfd < 0)
    return dirfd;
  /* mknodat needs a real directory fd, not O_PATH */
  char p[FDPATH_MAX];
  fdpath(p, dirfd);
  _cleanup_close_ int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", parent);
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  if (!userns)
    {
      unlinkat(dfd, name, 0); /* replace what an image left there */
      if (mknodat(dfd, name, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
        return keel_error_set_errno(err, -errno, "cannot create device '%s'", d->path);
      if (fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0
          || fchmodat(dfd, name, d->mode & 07777, 0) < 0)
        return keel_error_set_errno(err, -errno, "cannot set owner of device '%s'", d->path);
      return 0;
    }
  int f = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0);
  if (f < 0 && errno != EEXIST)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", d->path);
  if (f >= 0)
    close(f);
  _cleanup_close_ int tfd = keel_path_open_in_root(rootfd, d->path, O_PATH | O_NOFOLLOW, err);
  if (tfd < 0)
    return tfd;
  fdpath(p, tfd);
  if (mount(d->path, p, NULL, MS_BIND, NULL) < 0)
    return keel_error_set_errno(err, -errno, "cannot bind device '%s'", d->path);
  return 0;
}

static int
spec_device(json_object *e, struct dev *d)
{
  json_object *v;
  memset(d, 0, sizeof(*d));
  d->mode = 0666;
  if (json_object_object_get_ex(e, "path", &v))
    d->path = json_object_get_string(v);
  if (json_object_object_get_ex(e, "type", &v))
    d->type = json_object_get_string(v)[0] == 'u' ? 'c' : json_object_get_string(v)[0];
  if (json_object_object_get_ex(e, "major", &v))
    d->major = (unsigned)json_object_get_int64(v);
  if (json_object_object_get_ex(e, "minor", &v))
    d->minor = (unsigned)json_object_get_int64(v);
  if (json_object_object_get_ex(e, "fileMode", &v))
    d->mode = (mode_t)json_object_get_int64(v);
  if (json_object_object_get_ex(e, "uid", &v))
    d->uid = (uid_t)json_object_get_int64(v);
  if (json_object_object_get_ex(e, "gid", &v))
    d->gid = (gid_t)json_object_get_int64(v);
  return 0;
}

static bool
spec_has_device(const struct keel_spec *s, const char *path)
{
  size_t n = s->devices ? json_object_array_length(s->devices) : 0;
  for (size_t i = 0; i < n; i++)
    {
      json_object *v;
      if (json_object_object_get_ex(json_object_array_get_idx(s->devices, i), "path", &v)
          && !strcmp(json_object_get_string(v), path))
        return true;
    }
  return false;
}

static bool
dev_is_mounted(const struct keel_spec *s)
{
  for (size_t i = 0; i < s->n_mounts; i++)
    if (!strcmp(s->mounts[i].destination, "/dev"))
      return true;
  return false;
}

static int
setup_devices(const struct keel_spec *s, int rootfd, bool userns, struct keel_error *err)
{
  int r;
  /* Default devices only where the runtime owns /dev (a mount in config);
   * a rootfs that brings its own /dev and no /dev mount is left alone. */
  if (dev_is_mounted(s))
    {
      for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
        if (!spec_has_device(s, default_devices[i].path)
            && (r = make_device(rootfd, &default_devices[i], userns, err)) < 0)
          return r;
      static const char *const links[][2] = {
        { "/proc/self/fd", "/dev/fd" },       { "/proc/self/fd/0", "/dev/stdin" },
        { "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
        { "pts/ptmx", "/dev/ptmx" },
      };
      _cleanup_close_ int dev = keel_path_open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, err);
      if (dev < 0)
        return dev;
      for (size_t i = 0; i < ARRAY_SIZE(links); i++)
        {
          const char *name = links[i][1] + 5;
          if (!strcmp(name, "ptmx"))
            unlinkat(dev, name, 0);
          if (symlinkat(links[i][0], dev, name) < 0 && errno != EEXIST)
            return keel_error_set_errno(err, -errno, "cannot create '%s'", links[i][1]);
        }
    }
  size_t n = s->devices ? json_object_array_length(s->devices) : 0;
  for (size_t i = 0; i < n; i++)
    {
      struct dev d;
      spec_device(json_object_array_get_idx(s->devices, i), &d);
      if ((r = make_device(rootfd, &d, userns, err)) < 0)
        return r;
    }
  return 0;
}

/* ---- masked and read-only paths ---- */

static int
mask_paths(const struct keel_spec *s, int rootfd, struct keel_error *err)
{
  for (char **p = s->masked_paths; p && *p; p++)
    {
      struct keel_error ignored = KEEL_ERROR_INIT;
      _cleanup_close_ int fd = keel_path_open_in_root(rootfd, *p, O_PATH | O_NOFOLLOW, &ignored);
      if (fd < 0)
        {
          if (fd == -ENOENT || fd == -ENOTDIR)
            continue;
          return keel_error_set_errno(err, fd, "cannot mask '%s'", *p);
        }
      struct stat st;
      char fp[FDPATH_MAX];
      fdpath(fp, fd);
      if (fstat(fd, &st) < 0)
        return keel_error_set_errno(err, -errno, "cannot mask '%s'", *p);
      int r = S_ISDIR(st.st_mode)
                  ? mount("tmpfs", fp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "size=0,nr_inodes=1,mode=555")
                  : mount("/dev/null", fp, NULL, MS_BIND, NULL);
      if (r < 0)
        return keel_error_set_errno(err, -errno, "cannot mask '%s'", *p);
    }
  return 0;
}

static int
readonly_paths(const struct keel_spec *s, int rootfd, struct keel_error *err)
{
  for (char **p = s->readonly_paths; p && *p; p++)
    {
      struct keel_error ignored = KEEL_ERROR_INIT;
      _cleanup_close_ int fd = keel_path_open_in_root(rootfd, *p, O_PATH | O_NOFOLLOW, &ignored);
      if (fd < 0)
        {
          if (fd == -ENOENT || fd == -ENOTDIR)
            continue;
          return keel_error_set_errno(err, fd, "cannot make '%s' read-only", *p);
        }
      char fp[FDPATH_MAX];
      fdpath(fp, fd);
      if (mount(fp, fp, NULL, MS_BIND | MS_REC, NULL) < 0)
        return keel_error_set_errno(err, -errno, "cannot make '%s' read-only", *p);
      _cleanup_close_ int nfd = keel_path_open_in_root(rootfd, *p, O_PATH | O_NOFOLLOW, err);
      if (nfd < 0)
        return nfd;
      fdpath(fp, nfd);
      unsigned long locked = locked_flags(fp);
      if (mount(NULL, fp, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | (locked & REMOUNT_FLAGS), NULL)
          < 0)
        return keel_error_set_errno(err, -errno, "cannot make '%s' read-only", *p);
    }
  return 0;
}

/* ---- the whole setup ---- */

static int
do_pivot(const char *rootfs, bool no_pivot, struct keel_error *err)
{
  _cleanup_close_ int newroot = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (newroot < 0 || fchdir(newroot) < 0)
    return keel_error_set_errno(err, -errno, "cannot enter rootfs '%s'", rootfs);
  if (no_pivot)
    {
      if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
        return keel_error_set_errno(err, -errno, "cannot move root to '%s'", rootfs);
    }
  else
    {
      /* pivot_root(".", ".") stacks the old root on top of the new one;
       * detaching "." then drops it without needing a directory for it. */
      if (syscall(SYS_pivot_root, ".", ".") < 0)
        return keel_error_set_errno(err, -errno, "cannot pivot_root into '%s'", rootfs);
      if (umount2(".", MNT_DETACH) < 0)
        return keel_error_set_errno(err, -errno, "cannot detach the old root");
    }
  if (chdir("/") < 0)
    return keel_error_set_errno(err, -errno, "cannot chdir to the new root");
  return 0;
}

int
keel_rootfs_setup(struct keel_spec *s, const struct keel_rootfs_opts *opts, struct keel_error *err)
{
  /* Always recursive, as crun does: "slave" or "private" alone would leave
   * every other mount of the new namespace shared with the host, so a
   * shared rootfs would stay shared (pivot_root refuses it with EINVAL)
   * and the mounts made below could propagate back to the host. */
  unsigned long prop = MS_SLAVE | MS_REC;
  if (s->rootfs_propagation & (MS_SLAVE | MS_PRIVATE))
    prop = (s->rootfs_propagation & (MS_SLAVE | MS_PRIVATE)) | MS_REC;
  if (mount(NULL, "/", NULL, prop, NULL) < 0)
    return keel_error_set_errno(err, -errno, "cannot set propagation of /");
  if (mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return keel_error_set_errno(err, -errno, "cannot bind rootfs '%s'", s->rootfs);
  _cleanup_close_ int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open rootfs '%s'", s->rootfs);
  int r;
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      const struct keel_mount *m = &s->mounts[i];
      r = m->bind ? mount_bind(s, rootfd, m, err) : mount_special(s, rootfd, m, opts, err);
      if (r < 0)
        return r;
    }
  if ((r = setup_devices(s, rootfd, opts->userns, err)) < 0 || (r = mask_paths(s, rootfd, err)) < 0
      || (r = readonly_paths(s, rootfd, err)) < 0)
    return r;
  if (opts->before_pivot && (r = opts->before_pivot(opts->userdata, err)) < 0)
    return r;
  return do_pivot(s->rootfs, opts->no_pivot, err);
}

int
keel_rootfs_finish(struct keel_spec *s, const struct keel_rootfs_opts *opts, struct keel_error *err)
{
  if (s->root_readonly)
    {
      unsigned long locked = locked_flags("/");
      if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | (locked & REMOUNT_FLAGS), NULL)
          < 0)
        return keel_error_set_errno(err, -errno, "cannot make the root read-only");
    }
  if ((s->rootfs_propagation & (MS_SHARED | MS_UNBINDABLE))
      && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
    return keel_error_set_errno(err, -errno, "cannot set propagation of the root");
  return 0;
}
