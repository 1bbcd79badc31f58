/* RUN --mount=type=bind|cache|tmpfs,... per the Dockerfile reference. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/containerfile.h"
#include "lib/cleanup.h"

void
keel_cf_mount_clear(struct keel_cf_mount *m)
{
  free(m->target);
  free(m->source);
  free(m->from);
  free(m->id);
  memset(m, 0, sizeof(*m));
}

static int
parse_bool(const char *key, const char *v, bool *ret, struct keel_error *err)
{
  if (!v || strcmp(v, "true") == 0)
    *ret = true;
  else if (strcmp(v, "false") == 0)
    *ret = false;
  else
    return keel_error_set(err, EINVAL, "%s expects true or false, not '%s'", key, v);
  return 0;
}

static int
parse_id(const char *key, const char *v, long *ret, struct keel_error *err)
{
  char *end;
  long n = v ? strtol(v, &end, 10) : -1;
  if (!v || *end || end == v || n < 0 || n > 0xfffffffeL)
    return keel_error_set(err, EINVAL, "%s expects a number, not '%s'", key, v ? v : "");
  *ret = n;
  return 0;
}

static int
set_str(char **dst, const char *key, const char *v, struct keel_error *err)
{
  if (!v || !*v)
    return keel_error_set(err, EINVAL, "%s needs a value", key);
  free(*dst);
  *dst = strdup(v);
  return *dst ? 0 : keel_error_set(err, ENOMEM, "out of memory");
}

static int
set_type(struct keel_cf_mount *m, const char *v, struct keel_error *err)
{
  if (v && strcmp(v, "bind") == 0)
    m->type = KEEL_CF_MOUNT_BIND;
  else if (v && strcmp(v, "cache") == 0)
    m->type = KEEL_CF_MOUNT_CACHE;
  else if (v && strcmp(v, "tmpfs") == 0)
    m->type = KEEL_CF_MOUNT_TMPFS;
  else
    return keel_error_set(err, EINVAL, "type=%s is not supported (bind, cache, tmpfs)", v ? v : "");
  return 0;
}

static int
set_sharing(struct keel_cf_mount *m, const char *v, struct keel_error *err)
{
  if (v && strcmp(v, "shared") == 0)
    m->sharing = KEEL_CF_SHARING_SHARED;
  else if (v && strcmp(v, "private") == 0)
    m->sharing = KEEL_CF_SHARING_PRIVATE;
  else if (v && strcmp(v, "locked") == 0)
    m->sharing = KEEL_CF_SHARING_LOCKED;
  else
    return keel_error_set(err, EINVAL, "sharing=%s: expected shared, private or locked",
                          v ? v : "");
  return 0;
}

static int
set_key(struct keel_cf_mount *m, const char *k, const char *v, int *ro, struct keel_error *err)
{
  if (strcmp(k, "type") == 0)
    return set_type(m, v, err);
  if (strcmp(k, "target") == 0 || strcmp(k, "dst") == 0 || strcmp(k, "destination") == 0)
    return set_str(&m->target, k, v, err);
  if (strcmp(k, "source") == 0 || strcmp(k, "src") == 0)
    return set_str(&m->source, k, v, err);
  if (strcmp(k, "from") == 0)
    return set_str(&m->from, k, v, err);
  if (strcmp(k, "id") == 0)
    return set_str(&m->id, k, v, err);
  if (strcmp(k, "sharing") == 0)
    return set_sharing(m, v, err);
  if (strcmp(k, "uid") == 0)
    return parse_id(k, v, &m->uid, err);
  if (strcmp(k, "gid") == 0)
    return parse_id(k, v, &m->gid, err);
  bool b;
  if (strcmp(k, "ro") == 0 || strcmp(k, "readonly") == 0)
    return parse_bool(k, v, &b, err) < 0 ? -EINVAL : (*ro = b, 0);
  if (strcmp(k, "rw") == 0 || strcmp(k, "readwrite") == 0)
    return parse_bool(k, v, &b, err) < 0 ? -EINVAL : (*ro = !b, 0);
  if (strcmp(k, "mode") == 0)
    {
      char *end;
      long n = v ? strtol(v, &end, 8) : -1;
      if (!v || *end || end == v || n < 0 || n > 07777)
        return keel_error_set(err, EINVAL, "mode expects an octal mode, not '%s'", v ? v : "");
      m->mode = (int)n;
      return 0;
    }
  return keel_error_set(err, EINVAL, "unknown mount option '%s'", k);
}

int
keel_cf_mount_parse(const char *spec, struct keel_cf_mount *ret, struct keel_error *err)
{
  struct keel_cf_mount m = { .mode = -1, .uid = -1, .gid = -1 };
  _cleanup_free_ char *copy = strdup(spec);
  if (!copy)
    return keel_error_set(err, ENOMEM, "out of memory");
  int ro = -1, r = 0;
  char *save = NULL;
  for (char *kv = strtok_r(copy, ",", &save); kv && r >= 0; kv = strtok_r(NULL, ",", &save))
    {
      char *eq = strchr(kv, '=');
      if (eq)
        *eq = '\0';
      r = set_key(&m, kv, eq ? eq + 1 : NULL, &ro, err);
    }
  if (r >= 0 && !m.target)
    r = keel_error_set(err, EINVAL, "missing target=");
  if (r >= 0 && m.type == KEEL_CF_MOUNT_TMPFS && (m.source || m.from))
    r = keel_error_set(err, EINVAL, "a tmpfs mount takes no source or from");
  if (r < 0)
    {
      keel_cf_mount_clear(&m);
      return r;
    }
  /* Bind mounts are read-only unless rw is asked for; caches are writable. */
  m.readonly = ro >= 0 ? ro : m.type == KEEL_CF_MOUNT_BIND;
  *ret = m;
  return 0;
}
