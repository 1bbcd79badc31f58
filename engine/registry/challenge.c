#include "registry/challenge.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One auth-param: token "=" (token | quoted-string).  Returns the
 * position after it (and a following comma), or NULL when malformed. */
static const char *
param(const char *p, char *key, size_t ksize, char *val, size_t vsize)
{
  while (isspace((unsigned char)*p))
    p++;
  size_t k = 0;
  while (*p && *p != '=' && !isspace((unsigned char)*p) && *p != ',')
    {
      if (k + 1 < ksize)
        key[k++] = *p;
      p++;
    }
  key[k] = '\0';
  while (isspace((unsigned char)*p))
    p++;
  if (*p != '=' || k == 0)
    return NULL;
  p++;
  while (isspace((unsigned char)*p))
    p++;
  size_t v = 0;
  if (*p == '"')
    {
      for (p++; *p && *p != '"'; p++)
        {
          if (*p == '\\' && p[1])
            p++;
          if (v + 1 < vsize)
            val[v++] = *p;
        }
      if (*p != '"')
        return NULL;
      p++;
    }
  else
    while (*p && *p != ',' && !isspace((unsigned char)*p))
      {
        if (v + 1 < vsize)
          val[v++] = *p;
        p++;
      }
  val[v] = '\0';
  while (isspace((unsigned char)*p))
    p++;
  if (*p == ',')
    p++;
  return p;
}

int
keel_challenge_parse(const char *header, struct keel_challenge *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  const char *p = header;
  while (isspace((unsigned char)*p))
    p++;
  size_t n = strcspn(p, " \t");
  if (n == 6 && !strncasecmp(p, "Bearer", 6))
    ret->scheme = KEEL_AUTH_BEARER;
  else if (n == 5 && !strncasecmp(p, "Basic", 5))
    ret->scheme = KEEL_AUTH_BASIC;
  else
    return keel_error_set(err, -EPROTO, "unsupported authentication scheme '%.*s'", (int)n, p);
  p += n;
  while (*p)
    {
      char key[32], val[1024];
      const char *next = param(p, key, sizeof(key), val, sizeof(val));
      if (!next)
        {
          /* a second challenge ("..., Basic realm=...") or junk: stop */
          break;
        }
      if (!strcasecmp(key, "realm"))
        snprintf(ret->realm, sizeof(ret->realm), "%s", val);
      else if (!strcasecmp(key, "service"))
        snprintf(ret->service, sizeof(ret->service), "%s", val);
      else if (!strcasecmp(key, "scope"))
        snprintf(ret->scope, sizeof(ret->scope), "%s", val);
      p = next;
    }
  if (ret->scheme == KEEL_AUTH_BEARER && strncmp(ret->realm, "https://", 8)
      && strncmp(ret->realm, "http://", 7))
    return keel_error_set(err, -EPROTO, "bearer challenge without an http(s) realm: '%.200s'",
                          header);
  return 0;
}
