/* Attach and detach: the lease, the bridge, the veth pair and what goes
 * inside the container's namespace, the nft rules, the hosts files.  Every
 * change happens under the networks lock, so two attaches never race for
 * an address and a detach never deletes what an attach is building. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "network/hosts.h"
#include "network/netlink.h"
#include "network/nft.h"
#include "network/world.h"

static void
nl_closep(struct keel_nl *nl)
{
  keel_nl_close(nl);
}
#define _cleanup_nl_ _cleanup_(nl_closep)

static void
world_freep(struct keel_world *w)
{
  keel_world_free(w);
}
#define _cleanup_world_ _cleanup_(world_freep)

/* Host-side veth name: "kv" + 12 hex digits of a hash of id/network, so it
 * is stable for a lease (reclaim finds it) and fits IFNAMSIZ. */
static void
veth_name(const char *id, const char *net, char buf[16])
{
  uint64_t h = 1469598103934665603ull;
  for (const char *p = id; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ '/') * 1099511628211ull;
  for (const char *p = net; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  snprintf(buf, 16, "kv%012llx", (unsigned long long)(h & 0xffffffffffffull));
}

static int
sysctl_on(const char *path)
{
  return keel_write_string(AT_FDCWD, path, "1");
}

/* The bridge with its gateway address, up; forwarding on. */
static int
ensure_bridge(struct keel_nl *nl, const struct keel_network *net, struct keel_error *err)
{
  int br = keel_nl_link_index(nl, net->bridge);
  if (br == -ENODEV)
    {
      char mac[18];
      keel_ip_mac(net->gw, mac);
      int r = keel_nl_bridge_add(nl, net->bridge, mac);
      if (r < 0 && r != -EEXIST)
        return keel_error_set_errno(err, r, "cannot create bridge '%s'", net->bridge);
      br = keel_nl_link_index(nl, net->bridge);
      if (br < 0)
        return keel_error_set_errno(err, br, "bridge '%s'", net->bridge);
      r = keel_nl_addr_add(nl, br, net->gw, net->cidr.prefix);
      if (r == 0)
        r = keel_nl_link_up(nl, br, 0);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot configure bridge '%s'", net->bridge);
    }
  else if (br < 0)
    return keel_error_set_errno(err, br, "cannot look up bridge '%s'", net->bridge);
  char path[128];
  snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", net->bridge);
  int r = sysctl_on(path);
  if (r == 0)
    r = sysctl_on("/proc/sys/net/ipv4/ip_forward");
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot enable forwarding for '%s'", net->bridge);
  return br;
}

/* Inside the container: lo up, ifname with its address, default route. */
static int
plumb_inside(int nsfd, const struct keel_network *net, const struct keel_lease *e,
             struct keel_error *err)
{
  _cleanup_nl_ struct keel_nl in = { -EBADF, 0 };
  int r = keel_nl_open(nsfd, &in);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot enter the container's network namespace");
  int lo = keel_nl_link_index(&in, "lo");
  if (lo > 0 && (r = keel_nl_link_up(&in, lo, 0)) < 0)
    return keel_error_set_errno(err, r, "cannot bring up 'lo' in the container");
  int idx = keel_nl_link_index(&in, e->ifname);
  if (idx < 0)
    return keel_error_set_errno(err, idx, "'%s' missing in the container", e->ifname);
  if ((r = keel_nl_addr_add(&in, idx, e->ip, net->cidr.prefix)) < 0
      || (r = keel_nl_link_up(&in, idx, 0)) < 0)
    return keel_error_set_errno(err, r, "cannot configure '%s' in the container", e->ifname);
  if (!net->internal && (r = keel_nl_route_default(&in, idx, net->gw)) < 0)
    return keel_error_set_errno(err, r, "cannot add the default route via %s", net->gateway);
  return 0;
}

static int
plumb(int nsfd, const struct keel_network *net, const struct keel_lease *e, struct keel_error *err)
{
  _cleanup_nl_ struct keel_nl nl = { -EBADF, 0 };
  int r = keel_nl_open(-1, &nl);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot open rtnetlink");
  int br = ensure_bridge(&nl, net, err);
  if (br < 0)
    return br;
  r = keel_nl_veth_add(&nl, e->veth, e->ifname, nsfd, e->mac);
  if (r == -EEXIST && keel_nl_link_index(&nl, e->veth) > 0)
    {
      /* left by a crashed attach of the same container: replace it */
      keel_nl_link_del(&nl, e->veth);
      r = keel_nl_veth_add(&nl, e->veth, e->ifname, nsfd, e->mac);
    }
  if (r == -EEXIST)
    return keel_error_set(err, r, "interface '%s' already exists in the container", e->ifname);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create veth pair '%s'", e->veth);
  int vi = keel_nl_link_index(&nl, e->veth);
  if (vi < 0)
    return keel_error_set_errno(err, vi, "veth '%s'", e->veth);
  if ((r = keel_nl_link_up(&nl, vi, br)) < 0)
    return keel_error_set_errno(err, r, "cannot attach '%s' to bridge '%s'", e->veth, net->bridge);
  if ((r = keel_nl_port_hairpin(&nl, vi)) < 0)
    return keel_error_set_errno(err, r, "cannot set hairpin mode on '%s'", e->veth);
  return plumb_inside(nsfd, net, e, err);
}

static int
nft_attach(const struct keel_network *net, const struct keel_lease *e, struct keel_error *err)
{
  _cleanup_free_ char *tags = NULL;
  int r = keel_nft_list_tags(&tags, err);
  if (r < 0)
    return r;
  char net_tag[96], ip[16];
  snprintf(net_tag, sizeof(net_tag), "keel:net:%s", net->name);
  keel_ip_format(e->ip, ip);
  struct keel_nft_net n = { net->name, net->bridge, net->subnet, net->internal };
  _cleanup_free_ char *base = keel_nft_tags_have(tags, "keel:base") ? NULL : keel_nft_base_text();
  _cleanup_free_ char *nt = keel_nft_tags_have(tags, net_tag) ? NULL : keel_nft_network_text(&n);
  _cleanup_free_ char *ct = keel_nft_container_text(e->container, ip, e->ports, e->n_ports);
  _cleanup_free_ char *all = NULL;
  if (asprintf(&all, "%s%s%s", base ? base : "", nt ? nt : "", ct ? ct : "") < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return all[0] ? keel_nft_run(all, err) : 0;
}

/* Undo one network membership: lease, veth, port rules (if the lease had
 * any), and the network's rules and bridge when it is left empty.
 * Best effort: the first error is kept, the rest still runs. */
static int
drop_from_network(struct keel_world *w, size_t i, const char *id, struct keel_error *err)
{
  struct keel_leases gone = { 0 };
  if (keel_leases_remove(&w->leases[i], id, &gone) == 0)
    return 0;
  const struct keel_network *net = w->nets[i];
  int ret = keel_world_save(w, i, err);
  _cleanup_nl_ struct keel_nl nl = { -EBADF, 0 };
  int r = keel_nl_open(-1, &nl);
  bool ports = false;
  for (size_t j = 0; j < gone.n; j++)
    {
      ports |= gone.v[j].n_ports > 0;
      if (r == 0)
        r = keel_nl_link_del(&nl, gone.v[j].veth);
    }
  keel_leases_free(&gone);
  if (r < 0 && ret == 0)
    ret = keel_error_set_errno(err, r, "cannot delete the veth of '%s'", id);
  char tag[200];
  snprintf(tag, sizeof(tag), "keel:ctr:%s", id);
  if (ports && (r = keel_nft_delete_tag(tag, err)) < 0 && ret == 0)
    ret = r;
  if (w->leases[i].n == 0)
    {
      snprintf(tag, sizeof(tag), "keel:net:%s", net->name);
      if ((r = keel_nft_delete_tag(tag, err)) < 0 && ret == 0)
        ret = r;
      if (nl.fd >= 0 && (r = keel_nl_link_del(&nl, net->bridge)) < 0 && ret == 0)
        ret = keel_error_set_errno(err, r, "cannot delete bridge '%s'", net->bridge);
    }
  if (keel_world_count(w) == 0 && (r = keel_nft_drop_table(err)) < 0 && ret == 0)
    ret = r;
  if ((r = keel_world_write_members(w, i, err)) < 0 && ret == 0)
    ret = r;
  return ret;
}

static int
remove_container_files(const struct keel_world *w, const char *id)
{
  for (size_t i = 0; i < w->n; i++)
    if (keel_world_lease_of(w, i, id))
      return 0; /* still on another network */
  char dir[PATH_MAX];
  keel_world_container_dir(w, id, NULL, dir);
  return keel_rm_rf_at(AT_FDCWD, dir);
}

static int
check_opts(const struct keel_network_attach_opts *o, struct keel_error *err)
{
  if (!o || !keel_net_name_valid(o->container_id, 128))
    return keel_error_set(err, -EINVAL, "invalid container id '%s'",
                          o && o->container_id ? o->container_id : "");
  if (o->name && !keel_net_name_valid(o->name, 253))
    return keel_error_set(err, -EINVAL, "invalid container name '%s'", o->name);
  if (o->ifname && (!keel_net_name_valid(o->ifname, 15)))
    return keel_error_set(err, -EINVAL, "invalid interface name '%s'", o->ifname);
  if (!o->netns_path)
    return keel_error_set(err, -EINVAL, "no network namespace given");
  for (size_t i = 0; i < o->n_ports; i++)
    {
      const struct keel_net_port *p = &o->ports[i];
      if (!p->host_port || !p->container_port
          || (strcmp(p->proto, "tcp") != 0 && strcmp(p->proto, "udp") != 0))
        return keel_error_set(err, -EINVAL, "invalid published port %u:%u/%s", p->host_port,
                              p->container_port, p->proto);
      for (size_t j = 0; j < i; j++)
        if (o->ports[j].host_port == p->host_port && !strcmp(o->ports[j].proto, p->proto))
          return keel_error_set(err, -EINVAL, "port %u/%s is published twice", p->host_port,
                                p->proto);
    }
  return 0;
}

static int
check_ports(const struct keel_world *w, const struct keel_network_attach_opts *o,
            struct keel_error *err)
{
  for (size_t i = 0; i < o->n_ports; i++)
    for (size_t k = 0; k < w->n; k++)
      {
        const struct keel_lease *c = keel_leases_port_conflict(&w->leases[k], &o->ports[i]);
        if (c)
          return keel_error_set(
              err, -EADDRINUSE, "port %u/%s is already published by container '%s'",
              o->ports[i].host_port, o->ports[i].proto, c->name[0] ? c->name : c->container);
      }
  return 0;
}

static void
join_strv(char *buf, size_t size, const char *const *v)
{
  buf[0] = '\0';
  for (size_t len = 0; v && *v; v++)
    {
      int n = snprintf(buf + len, size - len, "%s%s", len ? " " : "", *v);
      if (n < 0 || (size_t)n >= size - len)
        break;
      len += (size_t)n;
    }
}

static int
fill_lease(const struct keel_world *w, size_t ni, const struct keel_network_attach_opts *o,
           struct keel_lease *e)
{
  memset(e, 0, sizeof(*e));
  snprintf(e->container, sizeof(e->container), "%s", o->container_id);
  snprintf(e->name, sizeof(e->name), "%s", o->name ? o->name : "");
  join_strv(e->aliases, sizeof(e->aliases), o->aliases);
  veth_name(o->container_id, w->nets[ni]->name, e->veth);
  int others = 0;
  for (size_t i = 0; i < w->n; i++)
    others += keel_world_lease_of(w, i, o->container_id) != NULL;
  if (o->ifname)
    snprintf(e->ifname, sizeof(e->ifname), "%s", o->ifname);
  else
    snprintf(e->ifname, sizeof(e->ifname), "eth%d", others);
  e->ports = (struct keel_net_port *)o->ports;
  e->n_ports = o->n_ports;
  return 0;
}

static char *
read_host_resolv(const struct keel_net_env *env)
{
  const char *path = env && env->host_resolv ? env->host_resolv : "/etc/resolv.conf";
  char *text = NULL;
  if (keel_read_file(AT_FDCWD, path, 1 << 20, &text, NULL) < 0)
    text = NULL;
  /* systemd-resolved's stub listens on the host's loopback, which a
   * container cannot reach: its upstream servers are in this file. */
  if (!(env && env->host_resolv) && (!text || keel_resolv_is_stub(text)))
    {
      char *real = NULL;
      if (keel_read_file(AT_FDCWD, "/run/systemd/resolve/resolv.conf", 1 << 20, &real, NULL) == 0)
        {
          free(text);
          text = real;
        }
    }
  return text;
}

static json_object *
strv_json(const char *const *v)
{
  json_object *a = json_object_new_array();
  for (; v && *v; v++)
    json_object_array_add(a, json_object_new_string(*v));
  return a;
}

static int
write_container_files(const struct keel_world *w, const struct keel_network_attach_opts *o,
                      struct keel_error *err)
{
  char dir[PATH_MAX], path[PATH_MAX];
  keel_world_container_dir(w, o->container_id, NULL, dir);
  int r = keel_mkdir_p(dir, 0755);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create '%s'", dir);
  _cleanup_json_ json_object *meta = json_object_new_object();
  const char *hostname = o->hostname ? o->hostname : o->name ? o->name : "";
  json_object_object_add(meta, "hostname", json_object_new_string(hostname));
  json_object_object_add(meta, "add_hosts", strv_json(o->add_hosts));
  keel_world_container_dir(w, o->container_id, "meta.json", path);
  if ((r = keel_json_write_file(path, meta, JSON_C_TO_STRING_PLAIN, err)) < 0)
    return r;
  _cleanup_free_ char *host = read_host_resolv(w->env);
  _cleanup_free_ char *resolv = keel_resolv_text(host, o->dns, o->dns_search);
  if (!resolv)
    return keel_error_set(err, -ENOMEM, "out of memory");
  keel_world_container_dir(w, o->container_id, "resolv.conf", path);
  if ((r = keel_write_file_atomic(AT_FDCWD, path, resolv, strlen(resolv), 0644)) < 0)
    return keel_error_set_errno(err, r, "cannot write '%s'", path);
  return 0;
}

static void
fill_result(const struct keel_world *w, size_t ni, const struct keel_lease *e,
            struct keel_net_attachment *ret)
{
  memset(ret, 0, sizeof(*ret));
  const struct keel_network *net = w->nets[ni];
  snprintf(ret->network, sizeof(ret->network), "%s", net->name);
  snprintf(ret->ifname, sizeof(ret->ifname), "%s", e->ifname);
  keel_ip_format(e->ip, ret->ip);
  ret->prefix = net->cidr.prefix;
  snprintf(ret->gateway, sizeof(ret->gateway), "%s", net->internal ? "" : net->gateway);
  snprintf(ret->mac, sizeof(ret->mac), "%s", e->mac);
  keel_world_container_dir(w, e->container, "hosts", ret->hosts_path);
  keel_world_container_dir(w, e->container, "resolv.conf", ret->resolv_path);
}

static int reclaim_locked(struct keel_world *w, struct keel_error *err);

/* An address for the container: after a full pool, stale leases are
 * reclaimed and the allocation tried once more. */
static int
lease_address(struct keel_world *w, size_t ni, struct keel_lease *e, struct keel_error *err)
{
  const struct keel_network *net = w->nets[ni];
  int r = keel_leases_allocate(&w->leases[ni], &net->cidr, net->gw, &e->ip);
  if (r == -ENOSPC)
    {
      struct keel_error ignored = KEEL_ERROR_INIT;
      reclaim_locked(w, &ignored);
      r = keel_leases_allocate(&w->leases[ni], &net->cidr, net->gw, &e->ip);
    }
  if (r == -ENOSPC)
    return keel_error_set(err, r, "network '%s' has no free address left in %s", net->name,
                          net->subnet);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot allocate an address");
  keel_ip_mac(e->ip, e->mac);
  return 0;
}

static int
attach_locked(struct keel_world *w, size_t ni, const struct keel_network_attach_opts *o, int nsfd,
              struct keel_net_attachment *ret, struct keel_error *err)
{
  struct keel_lease e;
  fill_lease(w, ni, o, &e);
  int r = lease_address(w, ni, &e, err);
  if (r < 0)
    return r;
  if (keel_leases_add(&w->leases[ni], &e) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  /* Saved before any plumbing: a crash from here on leaves a lease whose
   * veth is missing, which reclaim recognises as stale. */
  r = keel_world_save(w, ni, err);
  if (r == 0)
    r = plumb(nsfd, w->nets[ni], &e, err);
  if (r == 0)
    r = nft_attach(w->nets[ni], &e, err);
  if (r == 0)
    r = write_container_files(w, o, err);
  if (r == 0)
    r = keel_world_write_members(w, ni, err);
  if (r < 0)
    {
      struct keel_error ignored = KEEL_ERROR_INIT;
      drop_from_network(w, ni, o->container_id, &ignored);
      remove_container_files(w, o->container_id);
      return r;
    }
  if (ret)
    fill_result(w, ni, &e, ret);
  return 0;
}

int
keel_network_attach(const struct keel_net_env *env, const char *network,
                    const struct keel_network_attach_opts *o, struct keel_net_attachment *ret,
                    struct keel_error *err)
{
  int r = check_opts(o, err);
  if (r < 0)
    return r;
  _cleanup_close_ int nsfd = open(o->netns_path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0)
    return keel_error_set_errno(err, errno, "cannot open network namespace '%s'", o->netns_path);
  _cleanup_close_ int lock = keel_net_lock(env, err);
  if (lock < 0)
    return lock;
  if ((r = keel_network_ensure_default(env, err)) < 0)
    return r;
  _cleanup_world_ struct keel_world w = { 0 };
  if ((r = keel_world_load(env, &w, err)) < 0)
    return r;
  const char *name = network ? network : KEEL_NETWORK_DEFAULT;
  ssize_t ni = keel_world_find(&w, name);
  if (ni < 0)
    return keel_error_set(err, -ENOENT, "network '%s' not found", name);
  if (keel_world_lease_of(&w, (size_t)ni, o->container_id))
    return keel_error_set(err, -EEXIST, "container '%s' is already attached to network '%s'",
                          o->container_id, name);
  if ((r = check_ports(&w, o, err)) < 0)
    return r;
  return attach_locked(&w, (size_t)ni, o, nsfd, ret, err);
}

static int
detach_locked(struct keel_world *w, const char *id, struct keel_error *err)
{
  int ret = 0;
  for (size_t i = 0; i < w->n; i++)
    {
      int r = drop_from_network(w, i, id, err);
      if (r < 0 && ret == 0)
        ret = r;
    }
  int r = remove_container_files(w, id);
  if (r < 0 && ret == 0)
    ret = keel_error_set_errno(err, r, "cannot remove the network files of '%s'", id);
  return ret;
}

int
keel_network_detach(const struct keel_net_env *env, const char *container_id,
                    struct keel_error *err)
{
  if (!keel_net_name_valid(container_id, 128))
    return keel_error_set(err, -EINVAL, "invalid container id '%s'",
                          container_id ? container_id : "");
  _cleanup_close_ int lock = keel_net_lock(env, err);
  if (lock < 0)
    return lock;
  _cleanup_world_ struct keel_world w = { 0 };
  int r = keel_world_load(env, &w, err);
  if (r < 0)
    return r;
  return detach_locked(&w, container_id, err);
}

static int
reclaim_locked(struct keel_world *w, struct keel_error *err)
{
  int n = 0, ret = 0;
  for (size_t i = 0; i < w->n; i++)
    for (size_t j = 0; j < w->leases[i].n;)
      {
        if (if_nametoindex(w->leases[i].v[j].veth) != 0)
          {
            j++;
            continue;
          }
        char id[129];
        snprintf(id, sizeof(id), "%s", w->leases[i].v[j].container);
        int r = detach_locked(w, id, err);
        if (r < 0 && ret == 0)
          ret = r;
        n++;
        j = 0; /* the array changed under us */
      }
  return ret < 0 ? ret : n;
}

int
keel_network_reclaim(const struct keel_net_env *env, struct keel_error *err)
{
  _cleanup_close_ int lock = keel_net_lock(env, err);
  if (lock < 0)
    return lock;
  _cleanup_world_ struct keel_world w = { 0 };
  int r = keel_world_load(env, &w, err);
  if (r < 0)
    return r;
  return reclaim_locked(&w, err);
}

int
keel_network_remove(const struct keel_net_env *env, const char *name, struct keel_error *err)
{
  if (name && strcmp(name, KEEL_NETWORK_DEFAULT) == 0)
    return keel_error_set(err, -EPERM, "network '%s' is the default network and cannot be removed",
                          name);
  _cleanup_close_ int lock = keel_net_lock(env, err);
  if (lock < 0)
    return lock;
  _cleanup_world_ struct keel_world w = { 0 };
  int r = keel_world_load(env, &w, err);
  if (r < 0)
    return r;
  if (!keel_net_name_valid(name, 63))
    return keel_error_set(err, -EINVAL, "invalid network name '%s'", name ? name : "");
  ssize_t ni = keel_world_find(&w, name);
  if (ni < 0)
    return keel_error_set(err, -ENOENT, "network '%s' not found", name);
  if (w.leases[ni].n > 0)
    {
      struct keel_error ignored = KEEL_ERROR_INIT;
      reclaim_locked(&w, &ignored);
    }
  if (w.leases[ni].n > 0)
    return keel_error_set(err, -EBUSY, "network '%s' is in use by %zu container(s)", name,
                          w.leases[ni].n);
  char path[PATH_MAX], file[128];
  keel_world_lease_path(&w, (size_t)ni, path);
  if (unlink(path) < 0 && errno != ENOENT)
    return keel_error_set_errno(err, errno, "cannot remove '%s'", path);
  snprintf(file, sizeof(file), "%s.json", name);
  keel_net_dir(env, file, path);
  if (unlink(path) < 0)
    return keel_error_set_errno(err, errno, "cannot remove '%s'", path);
  return 0;
}

int
keel_network_inspect(const struct keel_net_env *env, const struct keel_network *net,
                     json_object **ret, struct keel_error *err)
{
  char path[PATH_MAX], file[160];
  snprintf(file, sizeof(file), "leases/%s.json", net->name);
  int r = keel_net_dir(env, file, path);
  if (r < 0)
    return keel_error_set_errno(err, r, "lease file of '%s'", net->name);
  struct keel_leases l;
  r = keel_leases_load(path, &l, err);
  if (r < 0)
    return r;
  json_object *o = keel_network_to_json(net), *c = json_object_new_object();
  for (size_t i = 0; i < l.n; i++)
    {
      char ip[16], cidr[24];
      keel_ip_format(l.v[i].ip, ip);
      snprintf(cidr, sizeof(cidr), "%s/%d", ip, net->cidr.prefix);
      json_object *e = json_object_new_object();
      json_object_object_add(e, "name", json_object_new_string(l.v[i].name));
      json_object_object_add(e, "ip", json_object_new_string(cidr));
      json_object_object_add(e, "mac", json_object_new_string(l.v[i].mac));
      json_object_object_add(e, "interface", json_object_new_string(l.v[i].ifname));
      json_object_object_add(c, l.v[i].container, e);
    }
  json_object_object_add(o, "containers", c);
  keel_leases_free(&l);
  *ret = o;
  return 0;
}
