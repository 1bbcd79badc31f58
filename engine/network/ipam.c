#include "network/ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
keel_ip_parse(const char *s, uint32_t *ret)
{
  struct in_addr a;
  /* inet_pton takes only the dotted quad: no octal, no short forms. */
  if (!s || inet_pton(AF_INET, s, &a) != 1)
    return -EINVAL;
  *ret = ntohl(a.s_addr);
  return 0;
}

void
keel_ip_format(uint32_t ip, char buf[16])
{
  snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

uint32_t
keel_cidr_mask(const struct keel_cidr *c)
{
  return c->prefix == 0 ? 0 : ~(uint32_t)0 << (32 - c->prefix);
}

int
keel_cidr_parse(const char *s, struct keel_cidr *ret, struct keel_error *err)
{
  char buf[32];
  if (!s || strlen(s) >= sizeof(buf))
    return keel_error_set(err, -EINVAL, "invalid subnet '%s': expected a.b.c.d/n", s ? s : "");
  strcpy(buf, s);
  char *slash = strchr(buf, '/');
  if (!slash)
    return keel_error_set(err, -EINVAL, "invalid subnet '%s': expected a.b.c.d/n", s);
  *slash = '\0';
  const char *p = slash + 1;
  char *end;
  errno = 0;
  long n = strtol(p, &end, 10);
  uint32_t ip;
  if (*p < '0' || *p > '9' || *end || errno || n < 0 || n > 32 || keel_ip_parse(buf, &ip) < 0)
    return keel_error_set(err, -EINVAL, "invalid subnet '%s': expected a.b.c.d/n", s);
  if (n > 30)
    return keel_error_set(err, -EINVAL, "subnet '%s' is too small: a network needs /30 or wider",
                          s);
  if (n < 8)
    return keel_error_set(err, -EINVAL, "subnet '%s' is too large: a network needs /8 or narrower",
                          s);
  struct keel_cidr c = { ip, (int)n };
  if (ip & ~keel_cidr_mask(&c))
    {
      char net[16];
      keel_ip_format(ip & keel_cidr_mask(&c), net);
      return keel_error_set(err, -EINVAL,
                            "invalid subnet '%s': host bits set (did you mean %s/%ld?)", s, net, n);
    }
  *ret = c;
  return 0;
}

void
keel_cidr_format(const struct keel_cidr *c, char buf[19])
{
  char ip[16];
  keel_ip_format(c->addr, ip);
  snprintf(buf, 19, "%s/%d", ip, c->prefix);
}

bool
keel_cidr_contains(const struct keel_cidr *c, uint32_t ip)
{
  return (ip & keel_cidr_mask(c)) == c->addr;
}

bool
keel_cidr_overlap(const struct keel_cidr *a, const struct keel_cidr *b)
{
  /* Two prefixes overlap exactly when the shorter one contains the other. */
  const struct keel_cidr *wide = a->prefix <= b->prefix ? a : b;
  const struct keel_cidr *narrow = wide == a ? b : a;
  return keel_cidr_contains(wide, narrow->addr);
}

uint32_t
keel_cidr_first(const struct keel_cidr *c)
{
  return c->addr + 1;
}

uint32_t
keel_cidr_last(const struct keel_cidr *c)
{
  return (c->addr | ~keel_cidr_mask(c)) - 1;
}

static int
cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int
keel_ipam_pick(const struct keel_cidr *c, uint32_t gateway, uint32_t last, const uint32_t *used,
               size_t n_used, uint32_t *ret)
{
  uint32_t first = keel_cidr_first(c), end = keel_cidr_last(c);
  uint32_t size = end - first + 1;
  uint32_t start = (last >= first && last < end) ? last + 1 : first;
  for (uint32_t i = 0; i < size; i++)
    {
      uint32_t ip = start + i;
      if (ip > end)
        ip = first + (ip - end - 1);
      if (ip == gateway)
        continue;
      if (n_used && bsearch(&ip, used, n_used, sizeof(*used), cmp_u32))
        continue;
      *ret = ip;
      return 0;
    }
  return -ENOSPC;
}

void
keel_ip_mac(uint32_t ip, char buf[18])
{
  snprintf(buf, 18, "02:4b:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
           ip & 255);
}
