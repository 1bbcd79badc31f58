/* -p / --publish: [host_ip:]host_port:container_port[/tcp|/udp]. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network/internal.h"

static int
parse_port(const char *s, size_t len, const char *spec, const char *what, uint16_t *ret,
           struct keel_error *err)
{
  char buf[8];
  if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789") < len)
    return keel_error_set(err, -EINVAL, "invalid port mapping '%s': bad %s port", spec, what);
  memcpy(buf, s, len);
  buf[len] = '\0';
  long v = strtol(buf, NULL, 10);
  if (v < 1 || v > 65535)
    return keel_error_set(
        err, -EINVAL, "invalid port mapping '%s': %s port %ld out of range 1-65535", spec, what, v);
  *ret = (uint16_t)v;
  return 0;
}

int
keel_net_port_parse(const char *spec, struct keel_net_port *ret, struct keel_error *err)
{
  struct keel_net_port p = { .proto = "tcp" };
  if (!spec || strlen(spec) > 64)
    return keel_error_set(err, -EINVAL, "invalid port mapping '%s'", spec ? spec : "");
  char buf[72];
  strcpy(buf, spec);
  char *slash = strchr(buf, '/');
  if (slash)
    {
      *slash = '\0';
      if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0)
        return keel_error_set(err, -EINVAL,
                              "invalid port mapping '%s': protocol must be tcp or udp", spec);
      strcpy(p.proto, slash + 1);
    }
  char *c2 = strrchr(buf, ':');
  if (!c2)
    return keel_error_set(
        err, -EINVAL, "invalid port mapping '%s': expected [ip:]host_port:container_port", spec);
  char *c1 = c2 == buf ? NULL : memrchr(buf, ':', (size_t)(c2 - buf));
  const char *host = c1 ? c1 + 1 : buf;
  if (c1)
    {
      *c1 = '\0';
      uint32_t ip;
      if (keel_ip_parse(buf, &ip) < 0)
        return keel_error_set(err, -EINVAL, "invalid port mapping '%s': bad host IP '%s'", spec,
                              buf);
      strcpy(p.host_ip, buf);
    }
  int r = parse_port(host, (size_t)(c2 - host), spec, "host", &p.host_port, err);
  if (r < 0)
    return r;
  r = parse_port(c2 + 1, strlen(c2 + 1), spec, "container", &p.container_port, err);
  if (r < 0)
    return r;
  *ret = p;
  return 0;
}
