/* cgroupsPath: the cgroupfs forms (absolute, relative to the runtime's own
 * cgroup) and the systemd form "slice:prefix:name" (config-linux.md,
 * "Cgroups path"; runc's and crun's --systemd-cgroup reading).  Pure. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lib/path.h"
#include "runtime/cgroup-internal.h"

int
cg_join_path(const char *self, const char *path, char *out, size_t size)
{
  char tmp[PATH_MAX];
  int n;
  if (path[0] == '/')
    n = snprintf(tmp, sizeof(tmp), "%s", path);
  else
    n = snprintf(tmp, sizeof(tmp), "%s/%s", self && *self ? self : "/", path);
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return -ENAMETOOLONG;
  /* Cleaning keeps ".." from climbing above the hierarchy's root. */
  return keel_path_clean(tmp, out, size);
}

int
cg_systemd_expand_slice(const char *slice, char *out, size_t size)
{
  size_t len = strlen(slice);
  const size_t sfx = strlen(".slice");
  if (len <= sfx || strcmp(slice + len - sfx, ".slice") != 0 || strchr(slice, '/'))
    return -EINVAL;
  if (!strcmp(slice, "-.slice"))
    {
      if (size < 1)
        return -ENAMETOOLONG;
      out[0] = '\0'; /* the root slice is the root cgroup */
      return 0;
    }
  size_t base = len - sfx;
  if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
    return -EINVAL;
  /* "a-b-c.slice" lives in "/a.slice/a-b.slice/a-b-c.slice". */
  size_t o = 0;
  for (size_t i = 0; i <= base; i++)
    {
      if (i < base && slice[i] != '-')
        continue;
      int n = snprintf(out + o, size - o, "/%.*s.slice", (int)i, slice);
      if (n < 0 || (size_t)n >= size - o)
        return -ENAMETOOLONG;
      o += (size_t)n;
    }
  return 0;
}

/* What systemd accepts in a unit name, minus the escapes we never make. */
static bool
valid_unit_chars(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@\\", s[i]))
      return false;
  return true;
}

int
cg_systemd_parse_path(const char *path, char *ret_slice, size_t slice_size, char *ret_unit,
                      size_t unit_size, struct keel_error *err)
{
  const char *c1 = strchr(path, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c2 || strchr(c2 + 1, ':'))
    return keel_error_set(err, -EINVAL,
                          "cgroupsPath '%s': expected \"slice:prefix:name\" with --systemd-cgroup",
                          path);
  char slice[256];
  size_t slen = (size_t)(c1 - path), plen = (size_t)(c2 - c1 - 1);
  const char *prefix = c1 + 1, *name = c2 + 1;
  if (slen >= sizeof(slice))
    return keel_error_set(err, -ENAMETOOLONG, "cgroupsPath '%s': slice name too long", path);
  snprintf(slice, sizeof(slice), "%.*s", (int)slen, path);
  if (!*slice)
    snprintf(slice, sizeof(slice), "system.slice");
  int r = cg_systemd_expand_slice(slice, ret_slice, slice_size);
  if (r == -ENAMETOOLONG)
    return keel_error_set(err, r, "cgroupsPath '%s': slice name too long", path);
  if (r < 0)
    return keel_error_set(err, r,
                          "cgroupsPath '%s': '%s' is not a slice name such as "
                          "\"machine.slice\"",
                          path, slice);
  if (!*name)
    return keel_error_set(err, -EINVAL, "cgroupsPath '%s': the name part is empty", path);
  if (!valid_unit_chars(name, strlen(name)) || !valid_unit_chars(prefix, plen))
    return keel_error_set(err, -EINVAL,
                          "cgroupsPath '%s': prefix and name may only hold letters, digits and "
                          "\"_.-@\\\"",
                          path);
  size_t nlen = strlen(name);
  if (nlen > 6 && !strcmp(name + nlen - 6, ".slice"))
    return keel_error_set(err, -EOPNOTSUPP,
                          "cgroupsPath '%s': a slice as the container's unit is not supported",
                          path);
  int n = plen ? snprintf(ret_unit, unit_size, "%.*s-%s.scope", (int)plen, prefix, name)
               : snprintf(ret_unit, unit_size, "%s.scope", name);
  if (n < 0 || (size_t)n >= unit_size || n > 255)
    return keel_error_set(err, -ENAMETOOLONG, "cgroupsPath '%s': unit name too long", path);
  return 0;
}
