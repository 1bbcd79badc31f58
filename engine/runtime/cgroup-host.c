/* What the host offers: v1 / hybrid / v2, the v1 hierarchies and where the
 * runtime itself sits in each (/proc/self/cgroup), the unified
 * hierarchy's controllers.  Read once per process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/cgroup-internal.h"

int
keel_cgroup_detect(enum keel_cgroup_mode *ret, struct keel_error *err)
{
  struct statfs fs;
  if (statfs(CG_ROOT, &fs) < 0)
    return keel_error_set_errno(err, -errno, "cannot inspect '%s'", CG_ROOT);
  if (fs.f_type == CGROUP2_SUPER_MAGIC)
    {
      *ret = KEEL_CGROUP_V2;
      return 0;
    }
  if (fs.f_type != TMPFS_MAGIC && fs.f_type != CGROUP_SUPER_MAGIC)
    return keel_error_set(err, -ENODEV, "no cgroup filesystem is mounted at '%s'", CG_ROOT);
  if (statfs(CG_UNIFIED, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
    *ret = KEEL_CGROUP_HYBRID;
  else
    *ret = KEEL_CGROUP_V1;
  return 0;
}

bool
cg_list_has(const char *list, const char *ctrl, char sep)
{
  size_t n = strlen(ctrl);
  if (!list || n == 0)
    return false;
  for (const char *p = list; *p;)
    {
      size_t len = strcspn(p, sep == ' ' ? " \n" : ",");
      if (len == n && !strncmp(p, ctrl, n))
        return true;
      p += len;
      if (*p)
        p++;
    }
  return false;
}

void
cg_host_clear(struct cg_host *host)
{
  for (size_t i = 0; i < host->n; i++)
    {
      free(host->h[i].name);
      free(host->h[i].mnt);
      free(host->h[i].self);
    }
  free(host->unified_self);
  free(host->unified_controllers);
  enum keel_cgroup_mode mode = host->mode;
  memset(host, 0, sizeof(*host));
  host->mode = mode;
}

static int
add_hier(struct cg_host *host, const char *name, size_t nlen, const char *self)
{
  if (host->n == CG_MAX_HIER)
    return 0;
  struct cg_hier *h = &host->h[host->n];
  h->name = strndup(name, nlen);
  h->self = strdup(self);
  /* Mounted as /sys/fs/cgroup/<controllers>, named ones by their name. */
  const char *dir = h->name && !strncmp(h->name, "name=", 5) ? h->name + 5 : h->name;
  if (!h->name || !h->self || asprintf(&h->mnt, CG_ROOT "/%s", dir) < 0)
    {
      free(h->name);
      free(h->self);
      h->mnt = NULL;
      return -ENOMEM;
    }
  host->n++;
  return 0;
}

int
cg_host_parse_self(struct cg_host *host, const char *doc, struct keel_error *err)
{
  for (const char *line = doc; *line;)
    {
      size_t len = strcspn(line, "\n");
      const char *c1 = memchr(line, ':', len);
      const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
      if (!c2)
        return keel_error_set(err, -EINVAL, "/proc/self/cgroup: malformed line '%.*s'", (int)len,
                              line);
      char self[4096];
      snprintf(self, sizeof(self), "%.*s", (int)(len - (size_t)(c2 + 1 - line)), c2 + 1);
      int r = 0;
      if (c2 == c1 + 1 && c1 - line == 1 && line[0] == '0')
        {
          free(host->unified_self);
          host->unified_self = strdup(self);
          r = host->unified_self ? 0 : -ENOMEM;
        }
      else if (host->mode != KEEL_CGROUP_V2 && c2 > c1 + 1)
        r = add_hier(host, c1 + 1, (size_t)(c2 - c1 - 1), self);
      if (r < 0)
        return keel_error_set(err, r, "out of memory");
      line += len;
      if (*line)
        line++;
    }
  return 0;
}

/* Keep only hierarchies that are really mounted where we expect them: a
 * mkdir in the tmpfs at /sys/fs/cgroup would "succeed" and mean nothing. */
static void
check_mounts(struct cg_host *host)
{
  size_t kept = 0;
  for (size_t i = 0; i < host->n; i++)
    {
      struct cg_hier h = host->h[i];
      struct statfs fs;
      bool ok = statfs(h.mnt, &fs) == 0 && fs.f_type == CGROUP_SUPER_MAGIC;
      if (!ok && strchr(h.name, ','))
        {
          /* "cpu,cpuacct" may be mounted (or linked) under its first name */
          char *alt = NULL;
          if (asprintf(&alt, CG_ROOT "/%.*s", (int)strcspn(h.name, ","), h.name) >= 0)
            {
              ok = statfs(alt, &fs) == 0 && fs.f_type == CGROUP_SUPER_MAGIC;
              free(ok ? h.mnt : alt);
              if (ok)
                h.mnt = alt;
            }
        }
      if (ok)
        host->h[kept++] = h;
      else
        {
          free(h.name);
          free(h.mnt);
          free(h.self);
        }
    }
  host->n = kept;
}

static int
host_load(struct cg_host *host, struct keel_error *err)
{
  int r = keel_cgroup_detect(&host->mode, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *doc = NULL;
  if ((r = keel_read_file(AT_FDCWD, "/proc/self/cgroup", 1 << 20, &doc, NULL)) < 0)
    return keel_error_set_errno(err, r, "cannot read '/proc/self/cgroup'");
  if ((r = cg_host_parse_self(host, doc, err)) < 0)
    return r;
  if (host->mode != KEEL_CGROUP_V2)
    check_mounts(host);
  if (host->mode == KEEL_CGROUP_V1)
    return 0;
  const char *root = host->mode == KEEL_CGROUP_V2 ? CG_ROOT : CG_UNIFIED;
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", root);
  r = keel_read_file(fd, "cgroup.controllers", 4096, &host->unified_controllers, NULL);
  close(fd);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s/cgroup.controllers'", root);
  host->unified_controllers[strcspn(host->unified_controllers, "\n")] = '\0';
  if (!host->unified_self && !(host->unified_self = strdup("/")))
    return keel_error_set(err, -ENOMEM, "out of memory");
  return 0;
}

int
cg_host_get(const struct cg_host **ret, struct keel_error *err)
{
  static struct cg_host host;
  static bool loaded;
  if (!loaded)
    {
      int r = host_load(&host, err);
      if (r < 0)
        {
          cg_host_clear(&host);
          return r;
        }
      loaded = true;
    }
  *ret = &host;
  return 0;
}

bool
cg_host_has(const struct cg_host *host, const char *ctrl, bool *ret_unified)
{
  bool unified = false, found = false;
  if (host->mode == KEEL_CGROUP_V2)
    found = unified = !*ctrl || cg_list_has(host->unified_controllers, ctrl, ' ');
  else
    {
      for (size_t i = 0; i < host->n && !found; i++)
        found = cg_list_has(host->h[i].name, ctrl, ',');
      if (!found && host->mode == KEEL_CGROUP_HYBRID)
        found = unified = !*ctrl || cg_list_has(host->unified_controllers, ctrl, ' ');
    }
  if (ret_unified)
    *ret_unified = unified;
  return found;
}
