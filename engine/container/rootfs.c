/* The container's rootfs: overlayfs over the image's unpacked layers with
 * an upper and work directory of its own. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "container/container.h"
#include "lib/cleanup.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

bool
keel_ctr_mounted(const char *root, const char *id)
{
  char path[4096], parent[4096];
  keel_ctr_path(root, id, "rootfs", path, sizeof(path));
  keel_ctr_path(root, id, "", parent, sizeof(parent));
  struct stat a, b;
  if (stat(path, &a) < 0 || stat(parent, &b) < 0)
    return false;
  return a.st_dev != b.st_dev;
}

/* The mount data must fit in one page, and a layer path in the store is
 * ~100 bytes: mount with the layers' common parent as the working
 * directory and relative lowerdirs (71 bytes each), which leaves room
 * for about 55 layers instead of 35. */
static int
lower_opts(char *const *lowers, size_t n, const char **ret_base, char *buf, size_t size)
{
  const char *first = lowers[0];
  const char *slash = strstr(first, "/layers/");
  size_t base = slash ? (size_t)(slash - first) + strlen("/layers/") : 0;
  for (size_t i = 0; i < n && base; i++)
    if (strncmp(lowers[i], first, base))
      base = 0;
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = n; i-- > 0;) /* overlayfs lists the top layer first */
    {
      int w = snprintf(buf + off, size - off, "%s%s", off ? ":" : "", lowers[i] + base);
      if (w < 0 || (size_t)w >= size - off)
        return -E2BIG;
      off += (size_t)w;
    }
  *ret_base = base ? strndup(first, base) : NULL;
  return 0;
}

int
keel_ctr_mount(const char *root, const char *id, char *const *lowers, size_t n,
               struct keel_error *err)
{
  if (keel_ctr_mounted(root, id))
    return 0;
  char target[4096], upper[4096], work[4096];
  keel_ctr_path(root, id, "rootfs", target, sizeof(target));
  keel_ctr_path(root, id, "upper", upper, sizeof(upper));
  keel_ctr_path(root, id, "work", work, sizeof(work));
  if ((mkdir(target, 0755) < 0 && errno != EEXIST) || (mkdir(upper, 0755) < 0 && errno != EEXIST)
      || (mkdir(work, 0700) < 0 && errno != EEXIST))
    return keel_error_set_errno(err, errno, "cannot create the rootfs of %.12s", id);
  if (n == 0)
    return keel_error_set(err, -EINVAL, "the image has no layers");
  char lower[4096];
  _cleanup_free_ char *base = NULL;
  if (lower_opts(lowers, n, (const char **)&base, lower, sizeof(lower)) < 0)
    return keel_error_set(err, -E2BIG, "the image has too many layers (%zu) to mount", n);
  char data[8192];
  int w = snprintf(data, sizeof(data), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  if (w < 0 || w >= 4096)
    return keel_error_set(err, -E2BIG, "the image has too many layers (%zu) to mount", n);
  _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base && chdir(base) < 0)
    return keel_error_set_errno(err, errno, "cannot enter '%s'", base);
  int r = mount("overlay", target, "overlay", 0, data);
  int e = errno;
  if (base && cwd >= 0 && fchdir(cwd) < 0)
    e = e ? e : errno;
  if (r < 0)
    return keel_error_set_errno(err, e, "cannot mount the rootfs of %.12s", id);
  return 0;
}

int
keel_ctr_umount(const char *root, const char *id)
{
  char target[4096];
  keel_ctr_path(root, id, "rootfs", target, sizeof(target));
  while (keel_ctr_mounted(root, id))
    if (umount2(target, MNT_DETACH) < 0)
      return errno == EINVAL || errno == ENOENT ? 0 : -errno;
  return 0;
}
