#include "registry/reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
is_alnum_lower(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*,
 * separator := [_.] | __ | [-]+ */
static bool
valid_path_component(const char *p, size_t n)
{
  if (n == 0 || !is_alnum_lower(p[0]) || !is_alnum_lower(p[n - 1]))
    return false;
  for (size_t i = 0; i < n;)
    {
      if (is_alnum_lower(p[i]))
        {
          i++;
          continue;
        }
      size_t j = i;
      while (j < n && !is_alnum_lower(p[j]))
        j++;
      size_t len = j - i;
      bool ok = (len == 1 && (p[i] == '.' || p[i] == '_')) || (len == 2 && !strncmp(p + i, "__", 2))
                || strspn(p + i, "-") >= len;
      if (!ok)
        return false;
      i = j;
    }
  return true;
}

/* host[:port]: DNS labels, an IPv4 address, or [IPv6]. */
static bool
valid_domain(const char *d, size_t n)
{
  if (n == 0)
    return false;
  size_t host_end = n;
  if (d[0] == '[')
    {
      const char *close = memchr(d, ']', n);
      if (!close)
        return false;
      for (const char *q = d + 1; q < close; q++)
        if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
          return false;
      host_end = (size_t)(close - d) + 1;
    }
  else
    {
      const char *colon = memchr(d, ':', n);
      if (colon)
        host_end = (size_t)(colon - d);
      size_t label = 0;
      for (size_t i = 0; i < host_end; i++)
        {
          char c = d[i];
          if (c == '.')
            {
              if (label == 0 || d[i - 1] == '-')
                return false;
              label = 0;
              continue;
            }
          if (!isalnum((unsigned char)c) && !(c == '-' && label > 0))
            return false;
          label++;
        }
      if (label == 0 || d[host_end - 1] == '-')
        return false;
    }
  if (host_end == n)
    return true;
  if (d[host_end] != ':' || host_end + 1 == n)
    return false;
  for (size_t i = host_end + 1; i < n; i++)
    if (!isdigit((unsigned char)d[i]))
      return false;
  return n - host_end - 1 <= 5;
}

static bool
valid_tag(const char *t)
{
  size_t n = strlen(t);
  if (n == 0 || n > KEEL_REF_TAG_MAX)
    return false;
  if (!isalnum((unsigned char)t[0]) && t[0] != '_')
    return false;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
      return false;
  return true;
}

static bool
looks_like_domain(const char *s, size_t n)
{
  if (n == 9 && !strncmp(s, "localhost", 9))
    return true;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '.' || s[i] == ':' || (s[i] >= 'A' && s[i] <= 'Z'))
      return true;
  return false;
}

/* Split "name[:tag][@digest]" in place. */
static int
split_tag_digest(char *s, char **tag, char **digest, const char *orig, struct keel_error *err)
{
  *tag = *digest = NULL;
  char *at = strchr(s, '@');
  if (at)
    {
      *at = '\0';
      *digest = at + 1;
      if (!keel_digest_valid(*digest))
        return keel_error_set(err, -EINVAL, "invalid reference '%s': '%s' is not a sha256 digest",
                              orig, *digest);
    }
  /* A tag's ':' comes after the last '/', so a port's does not count. */
  char *slash = strrchr(s, '/');
  char *colon = strrchr(slash ? slash : s, ':');
  if (colon)
    {
      *colon = '\0';
      *tag = colon + 1;
      if (!valid_tag(*tag))
        return keel_error_set(err, -EINVAL, "invalid reference '%s': invalid tag '%s'", orig, *tag);
    }
  return 0;
}

static int
check_path(const char *path, const char *orig, struct keel_error *err)
{
  for (const char *p = path;;)
    {
      const char *e = strchrnul(p, '/');
      size_t n = (size_t)(e - p);
      for (size_t i = 0; i < n; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
          return keel_error_set(err, -EINVAL,
                                "invalid reference '%s': repository name must be lowercase", orig);
      if (!valid_path_component(p, n))
        return keel_error_set(err, -EINVAL, "invalid reference '%s': invalid path component '%.*s'",
                              orig, (int)n, p);
      if (!*e)
        return 0;
      p = e + 1;
    }
}

int
keel_reference_parse(const char *s, struct keel_reference *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  size_t len = strlen(s);
  if (len == 0)
    return keel_error_set(err, -EINVAL, "invalid reference: empty");
  if (len > KEEL_REF_NAME_MAX + KEEL_REF_TAG_MAX + KEEL_DIGEST_MAX + 2)
    return keel_error_set(err, -EINVAL, "invalid reference: too long");
  char buf[KEEL_REF_NAME_MAX + KEEL_REF_TAG_MAX + KEEL_DIGEST_MAX + 4];
  memcpy(buf, s, len + 1);
  char *tag, *digest;
  int r = split_tag_digest(buf, &tag, &digest, s, err);
  if (r < 0)
    return r;
  char *slash = strchr(buf, '/');
  const char *path = buf;
  if (slash && looks_like_domain(buf, (size_t)(slash - buf)))
    {
      if (!valid_domain(buf, (size_t)(slash - buf)))
        return keel_error_set(err, -EINVAL, "invalid reference '%s': invalid registry '%.*s'", s,
                              (int)(slash - buf), buf);
      *slash = '\0';
      snprintf(ret->domain, sizeof(ret->domain), "%s", buf);
      if (!strcmp(ret->domain, "index.docker.io"))
        strcpy(ret->domain, KEEL_DOCKER_HUB);
      ret->explicit_domain = true;
      path = slash + 1;
    }
  else
    strcpy(ret->domain, KEEL_DOCKER_HUB);
  if ((r = check_path(path, s, err)) < 0)
    return r;
  bool library = !strcmp(ret->domain, KEEL_DOCKER_HUB) && !strchr(path, '/');
  int n = snprintf(ret->path, sizeof(ret->path), "%s%s", library ? "library/" : "", path);
  if (n < 0 || strlen(ret->domain) + 1 + (size_t)n > KEEL_REF_NAME_MAX)
    return keel_error_set(err, -EINVAL, "invalid reference '%s': name longer than %d characters", s,
                          KEEL_REF_NAME_MAX);
  if (tag)
    strcpy(ret->tag, tag);
  else if (!digest)
    strcpy(ret->tag, "latest");
  if (digest)
    strcpy(ret->digest, digest);
  return 0;
}

void
keel_reference_with_domain(const struct keel_reference *in, const char *domain,
                           struct keel_reference *ret)
{
  *ret = *in;
  const char *path = in->path;
  /* undo the docker.io-only "library/" before moving elsewhere */
  if (!in->explicit_domain && !strcmp(in->domain, KEEL_DOCKER_HUB) && !strncmp(path, "library/", 8)
      && !strchr(path + 8, '/'))
    path += 8;
  snprintf(ret->domain, sizeof(ret->domain), "%s", domain);
  bool library = !strcmp(domain, KEEL_DOCKER_HUB) && !strchr(path, '/');
  char tmp[sizeof(ret->path)];
  snprintf(tmp, sizeof(tmp), "%s%s", library ? "library/" : "", path);
  memcpy(ret->path, tmp, sizeof(tmp));
  ret->explicit_domain = true;
}

void
keel_reference_name(const struct keel_reference *r, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%s", r->domain, r->path);
}

void
keel_reference_format(const struct keel_reference *r, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%s%s%s%s%s", r->domain, r->path, r->tag[0] ? ":" : "", r->tag,
           r->digest[0] ? "@" : "", r->digest);
}

void
keel_reference_store_name(const struct keel_reference *r, char *buf, size_t size)
{
  if (r->tag[0])
    snprintf(buf, size, "%s/%s:%s", r->domain, r->path, r->tag);
  else
    snprintf(buf, size, "%s/%s@%s", r->domain, r->path, r->digest);
}

const char *
keel_reference_target(const struct keel_reference *r)
{
  return r->digest[0] ? r->digest : r->tag;
}
