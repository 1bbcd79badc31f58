/* The lease file of one network: which container holds which address, its
 * veth and its published ports.  Callers hold the networks lock; writes are
 * atomic, so a crash leaves the old file or the new one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "network/internal.h"

void
keel_leases_free(struct keel_leases *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].ports);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

int
keel_leases_add(struct keel_leases *l, const struct keel_lease *in)
{
  struct keel_lease *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
  if (!nv)
    return -ENOMEM;
  l->v = nv;
  struct keel_lease *e = &l->v[l->n];
  *e = *in;
  e->ports = NULL;
  if (in->n_ports)
    {
      e->ports = malloc(in->n_ports * sizeof(*e->ports));
      if (!e->ports)
        return -ENOMEM;
      memcpy(e->ports, in->ports, in->n_ports * sizeof(*e->ports));
    }
  l->n++;
  return 0;
}

size_t
keel_leases_remove(struct keel_leases *l, const char *container, struct keel_leases *removed)
{
  size_t kept = 0, gone = 0;
  for (size_t i = 0; i < l->n; i++)
    {
      if (strcmp(l->v[i].container, container) != 0)
        {
          l->v[kept++] = l->v[i];
          continue;
        }
      gone++;
      if (removed && keel_leases_add(removed, &l->v[i]) < 0)
        {
          /* keep it rather than lose track of its veth and rules */
          l->v[kept++] = l->v[i];
          gone--;
          continue;
        }
      free(l->v[i].ports);
    }
  l->n = kept;
  return gone;
}

static int
cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int
keel_leases_allocate(struct keel_leases *l, const struct keel_cidr *c, uint32_t gateway,
                     uint32_t *ret)
{
  _cleanup_free_ uint32_t *used = malloc((l->n + 1) * sizeof(*used));
  if (!used)
    return -ENOMEM;
  for (size_t i = 0; i < l->n; i++)
    used[i] = l->v[i].ip;
  qsort(used, l->n, sizeof(*used), cmp_u32);
  int r = keel_ipam_pick(c, gateway, l->last, used, l->n, ret);
  if (r < 0)
    return r;
  l->last = *ret;
  return 0;
}

const struct keel_lease *
keel_leases_port_conflict(const struct keel_leases *l, const struct keel_net_port *p)
{
  for (size_t i = 0; i < l->n; i++)
    for (size_t j = 0; j < l->v[i].n_ports; j++)
      {
        const struct keel_net_port *q = &l->v[i].ports[j];
        if (q->host_port != p->host_port || strcmp(q->proto, p->proto) != 0)
          continue;
        /* An empty host IP binds every address, so it collides with any. */
        if (!q->host_ip[0] || !p->host_ip[0] || strcmp(q->host_ip, p->host_ip) == 0)
          return &l->v[i];
      }
  return NULL;
}

static json_object *
lease_to_json(const struct keel_lease *e)
{
  char ip[16];
  keel_ip_format(e->ip, ip);
  json_object *o = json_object_new_object();
  json_object_object_add(o, "ip", json_object_new_string(ip));
  json_object_object_add(o, "container", json_object_new_string(e->container));
  json_object_object_add(o, "name", json_object_new_string(e->name));
  json_object_object_add(o, "aliases", json_object_new_string(e->aliases));
  json_object_object_add(o, "mac", json_object_new_string(e->mac));
  json_object_object_add(o, "veth", json_object_new_string(e->veth));
  json_object_object_add(o, "ifname", json_object_new_string(e->ifname));
  json_object *ports = json_object_new_array();
  for (size_t j = 0; j < e->n_ports; j++)
    {
      json_object *p = json_object_new_object();
      json_object_object_add(p, "host_ip", json_object_new_string(e->ports[j].host_ip));
      json_object_object_add(p, "host_port", json_object_new_int(e->ports[j].host_port));
      json_object_object_add(p, "container_port", json_object_new_int(e->ports[j].container_port));
      json_object_object_add(p, "protocol", json_object_new_string(e->ports[j].proto));
      json_object_array_add(ports, p);
    }
  json_object_object_add(o, "ports", ports);
  return o;
}

int
keel_leases_save(const char *path, const struct keel_leases *l, struct keel_error *err)
{
  _cleanup_json_ json_object *o = json_object_new_object();
  char last[16];
  keel_ip_format(l->last, last);
  json_object_object_add(o, "last", json_object_new_string(last));
  json_object *v = json_object_new_array();
  for (size_t i = 0; i < l->n; i++)
    json_object_array_add(v, lease_to_json(&l->v[i]));
  json_object_object_add(o, "leases", v);
  return keel_json_write_file(path, o, JSON_C_TO_STRING_PLAIN, err);
}

static int
get_str(json_object *o, const char *key, const char *ctx, char *buf, size_t size,
        struct keel_error *err)
{
  const char *s = "";
  int r = keel_json_get_string(o, key, ctx, &s, err);
  if (r < 0)
    return r;
  if (strlen(s) >= size)
    return keel_error_set(err, -EINVAL, "%s: '%s' too long", ctx, key);
  strcpy(buf, s);
  return 0;
}

static int
port_from_json(json_object *p, const char *ctx, struct keel_net_port *q, struct keel_error *err)
{
  int64_t hp = 0, cp = 0;
  int r;
  if ((r = get_str(p, "host_ip", ctx, q->host_ip, sizeof(q->host_ip), err)) < 0
      || (r = get_str(p, "protocol", ctx, q->proto, sizeof(q->proto), err)) < 0
      || (r = keel_json_get_int(p, "host_port", ctx, 1, 65535, &hp, err)) < 0
      || (r = keel_json_get_int(p, "container_port", ctx, 1, 65535, &cp, err)) < 0)
    return r;
  q->host_port = (uint16_t)hp;
  q->container_port = (uint16_t)cp;
  return 0;
}

static int
lease_from_json(json_object *o, const char *ctx, struct keel_lease *e, struct keel_error *err)
{
  char ip[16] = "";
  json_object *ports = NULL;
  int r;
  memset(e, 0, sizeof(*e));
  if ((r = get_str(o, "ip", ctx, ip, sizeof(ip), err)) < 0
      || (r = get_str(o, "container", ctx, e->container, sizeof(e->container), err)) < 0
      || (r = get_str(o, "name", ctx, e->name, sizeof(e->name), err)) < 0
      || (r = get_str(o, "aliases", ctx, e->aliases, sizeof(e->aliases), err)) < 0
      || (r = get_str(o, "mac", ctx, e->mac, sizeof(e->mac), err)) < 0
      || (r = get_str(o, "veth", ctx, e->veth, sizeof(e->veth), err)) < 0
      || (r = get_str(o, "ifname", ctx, e->ifname, sizeof(e->ifname), err)) < 0
      || (r = keel_json_get_array(o, "ports", ctx, &ports, err)) < 0)
    return r;
  if (keel_ip_parse(ip, &e->ip) < 0 || !e->container[0])
    return keel_error_set(err, -EINVAL, "%s: bad lease", ctx);
  size_t n = ports ? json_object_array_length(ports) : 0;
  if (n == 0)
    return 0;
  e->ports = calloc(n, sizeof(*e->ports));
  if (!e->ports)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t j = 0; j < n; j++, e->n_ports++)
    if ((r = port_from_json(json_object_array_get_idx(ports, j), ctx, &e->ports[j], err)) < 0)
      return r;
  return 0;
}

int
keel_leases_load(const char *path, struct keel_leases *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  if (access(path, F_OK) < 0)
    return errno == ENOENT ? 0 : keel_error_set_errno(err, errno, "cannot access '%s'", path);
  _cleanup_json_ json_object *o = NULL;
  int r = keel_json_parse_file(path, &o, err);
  if (r < 0)
    return r;
  const char *last = NULL;
  json_object *v = NULL;
  if ((r = keel_json_get_string(o, "last", path, &last, err)) < 0
      || (r = keel_json_get_array(o, "leases", path, &v, err)) < 0)
    return r;
  if (last && keel_ip_parse(last, &ret->last) < 0)
    return keel_error_set(err, -EINVAL, "%s: bad 'last'", path);
  for (size_t i = 0; v && i < json_object_array_length(v); i++)
    {
      struct keel_lease e;
      r = lease_from_json(json_object_array_get_idx(v, i), path, &e, err);
      if (r == 0)
        r = keel_leases_add(ret, &e) < 0 ? keel_error_set(err, -ENOMEM, "out of memory") : 0;
      free(e.ports);
      if (r < 0)
        {
          keel_leases_free(ret);
          return r;
        }
    }
  return 0;
}
