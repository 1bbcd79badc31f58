/* keel_working_copy: where sources come from (host, build context,
 * another working container, an image) and where they land (docker's
 * destination rules). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build/copy.h"
#include "image/store.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/path.h"

/* A context source: beneath the context directory, symlinks included. */
static int
open_beneath(int dirfd, const char *src, struct keel_error *err)
{
  const char *rel = src;
  while (*rel == '/')
    rel++;
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
  int fd = (int)syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof(how));
  if (fd >= 0)
    return fd;
  if (errno == EXDEV || errno == ELOOP)
    return keel_error_set(err, -EXDEV, "copy source '%s' is outside the build context", src);
  return keel_error_set_errno(err, -errno, "copy source '%s'", src);
}

/* A read-only overlay of an image's layers (COPY --from=IMAGE), in the
 * store's tmp/; the caller unmounts and removes it. */
static int
mount_image(struct keel_working *w, const char *image, char *dir, size_t size,
            struct keel_error *err)
{
  struct keel_image *img = NULL;
  int r = keel_store_image_lookup(w->store, image, &img, err);
  if (r < 0)
    return r;
  char id[KEEL_DIGEST_MAX];
  snprintf(id, sizeof(id), "%s", img->id);
  keel_image_free(img);
  snprintf(dir, size, "%s/tmp/from-%d-%.12s", keel_store_root(w->store), (int)getpid(),
           keel_digest_hex(id));
  char empty[4200], mnt[4200];
  snprintf(empty, sizeof(empty), "%s/empty", dir);
  snprintf(mnt, sizeof(mnt), "%s/rootfs", dir);
  if (keel_mkdir_p(empty, 0700) < 0 || keel_mkdir_p(mnt, 0700) < 0)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", dir);
  _cleanup_strv_ char **lowers = NULL;
  size_t n;
  if ((r = working_lowers(w->store, id, empty, &lowers, &n, err)) < 0)
    return r;
  /* top first in the option */
  size_t len = 16;
  for (size_t i = 0; i < n; i++)
    len += strlen(lowers[i]) + 1;
  _cleanup_free_ char *opt = malloc(len);
  if (!opt)
    return keel_error_set(err, -ENOMEM, "out of memory");
  strcpy(opt, "lowerdir=");
  for (size_t i = n; i-- > 0;)
    {
      strcat(opt, lowers[i]);
      if (i)
        strcat(opt, ":");
    }
  if (mount("overlay", mnt, "overlay", MS_RDONLY, opt) < 0)
    return keel_error_set_errno(err, -errno, "cannot mount image %s", image);
  snprintf(dir + strlen(dir), size - strlen(dir), "/rootfs");
  return 0;
}

static void
unmount_image(char *dir)
{
  umount2(dir, MNT_DETACH);
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  keel_rm_rf_at(AT_FDCWD, dir);
}

static int
open_source(int srcroot, const struct keel_working_copy_opts *o, const char *src,
            struct keel_error *err)
{
  if (o->src_dirfd >= 0)
    return open_beneath(o->src_dirfd, src, err);
  if (srcroot >= 0)
    {
      int fd = keel_path_open_in_root(srcroot, src, O_PATH | O_CLOEXEC, err);
      return fd < 0 ? keel_error_prefix(err, "copy source '%s'", src) : fd;
    }
  int fd = open(src, O_PATH | O_CLOEXEC);
  return fd < 0 ? keel_error_set_errno(err, -errno, "copy source '%s'", src) : fd;
}

static const char *
base_name(const char *p, char *buf, size_t size)
{
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    n--;
  const char *s = p + n;
  while (s > p && s[-1] != '/')
    s--;
  snprintf(buf, size, "%.*s", (int)(p + n - s), s);
  return buf;
}

/* The destination as an absolute, clean path inside the rootfs; whether
 * it names a directory. */
static int
destination(struct keel_working *w, const struct keel_working_copy_opts *o, int rootfd, size_t n,
            char *abs, size_t size, bool *is_dir, struct keel_error *err)
{
  const char *d = o->dest && *o->dest ? o->dest : ".";
  const char *wd = working_str(keel_working_config(w), "WorkingDir");
  char joined[8192];
  snprintf(joined, sizeof(joined), "%s/%s", d[0] == '/' ? "" : (wd && *wd ? wd : ""), d);
  if (keel_path_clean(joined, abs, size) < 0)
    return keel_error_set(err, -ENAMETOOLONG, "destination too long");
  size_t dl = strlen(d);
  *is_dir = n > 1 || d[dl - 1] == '/' || !strcmp(d, ".") || (dl >= 2 && !strcmp(d + dl - 2, "/."));
  int fd = keel_path_open_in_root(rootfd, abs, O_PATH | O_CLOEXEC, NULL);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    *is_dir = true;
  if (fd >= 0)
    close(fd);
  return 0;
}

static int
owner(struct keel_working *w, const struct keel_working_copy_opts *o, const char *rootfs,
      struct copier *c, struct keel_error *err)
{
  c->keep_owner = o->preserve_owner || o->from || o->from_image;
  if (!o->chown || !*o->chown)
    return 0;
  unsigned uid, gid;
  _cleanup_free_ unsigned *groups = NULL;
  size_t ng;
  int r = keel_ctr_user(rootfs, o->chown, &uid, &gid, &groups, &ng, err);
  if (r < 0)
    return keel_error_prefix(err, "--chown %s", o->chown);
  /* docker: a number without a group means the same number for both,
   * unless /etc/passwd knows the user */
  char *end;
  unsigned long num = strtoul(o->chown, &end, 10);
  if (end != o->chown && !*end && gid == 0)
    gid = (unsigned)num;
  c->set_owner = true;
  c->uid = uid;
  c->gid = gid;
  return 0;
}

static int
copy_all(struct keel_working *w, const struct keel_working_copy_opts *o, struct copier *c,
         int srcroot, struct keel_error *err)
{
  size_t n = 0;
  while (o->sources && o->sources[n])
    n++;
  if (!n)
    return keel_error_set(err, -EINVAL, "no copy source given");
  char abs[4096];
  bool is_dir = false;
  int r = destination(w, o, c->rootfd, n, abs, sizeof(abs), &is_dir, err);
  for (size_t i = 0; r >= 0 && i < n; i++)
    {
      _cleanup_close_ int sfd = open_source(srcroot, o, o->sources[i], err);
      if (sfd < 0)
        return sfd;
      char name[256], file[8192];
      base_name(o->sources[i], name, sizeof(name));
      if (is_dir)
        snprintf(file, sizeof(file), "%s%s%s", abs, strcmp(abs, "/") ? "/" : "", name);
      else
        snprintf(file, sizeof(file), "%s", abs);
      r = copier_source(c, sfd, o->sources[i], file, abs, err);
    }
  return r;
}

int
keel_working_copy(struct keel_working *w, const struct keel_working_copy_opts *o,
                  struct keel_error *err)
{
  const char *rootfs, *from_rootfs = NULL;
  int r = keel_working_mount(w, &rootfs, err);
  if (r < 0)
    return r;
  struct copier c = { .o = o, .rootfd = -EBADF, .set_mode = o->set_mode, .mode = o->mode & 07777 };
  if ((r = owner(w, o, rootfs, &c, err)) < 0)
    return r;
  char image_dir[4096] = "";
  if (o->from && (r = keel_working_mount(o->from, &from_rootfs, err)) < 0)
    return r;
  if (!o->from && o->from_image
      && (r = mount_image(w, o->from_image, image_dir, sizeof(image_dir), err)) < 0)
    return r;
  if (image_dir[0])
    from_rootfs = image_dir;
  _cleanup_close_ int srcroot = -EBADF;
  c.rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (from_rootfs)
    srcroot = open(from_rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c.rootfd < 0 || (from_rootfs && srcroot < 0))
    r = keel_error_set_errno(err, -errno, "cannot open a rootfs");
  else
    r = copy_all(w, o, &c, srcroot, err);
  if (c.rootfd >= 0)
    close(c.rootfd);
  copier_done(&c);
  if (image_dir[0])
    unmount_image(image_dir);
  return r;
}
