/* Container networking: bridge networks, veth attachment, IP leases, NAT and
 * published ports through nftables, and per-container hosts / resolv.conf.
 *
 * State (all under env->root, default /var/lib/keel, $KEEL_ROOT):
 *   networks/NAME.json             one network's definition (podman-like JSON)
 *   networks/.lock                 flock taken by every change below
 *   networks/leases/NAME.json      the network's leases: IP → container, ports
 *   networks/containers/ID/hosts   the container's /etc/hosts (bind-mount it)
 *   networks/containers/ID/resolv.conf
 *   networks/containers/ID/meta.json   what attach was told (hostname, extra hosts)
 *
 * The default network "keel" (bridge keel0, 10.88.0.0/16 unless
 * /etc/keel/network.conf says otherwise) is created on first use.  A lease
 * names its container and its host-side veth: when the veth is gone (the
 * netns died, the machine rebooted) the lease is stale and reclaimed.
 *
 * Nothing here prints; every failure fills a struct keel_error. */
#ifndef KEEL_NETWORK_NETWORK_H
#define KEEL_NETWORK_NETWORK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define KEEL_NETWORK_DEFAULT "keel"

/* Where state and configuration live; NULL fields take the defaults. */
struct keel_net_env
{
  const char *root;        /* state root, default $KEEL_ROOT or /var/lib/keel */
  const char *conf_path;   /* default /etc/keel/network.conf */
  const char *host_resolv; /* default /etc/resolv.conf (systemd's stub skipped) */
};

struct keel_network; /* opaque */

struct keel_network_create_opts
{
  const char *name;
  const char *subnet;        /* CIDR, NULL: the next free 10.89.N.0/24 */
  const char *gateway;       /* NULL: first address of the subnet */
  bool internal;             /* no NAT, no default route, no forwarding off the bridge */
  const char *const *labels; /* NULL-terminated "key=value" */
};

/* Create a network (bridge keelN, N the lowest free).  -EEXIST when the name
 * is taken, -EINVAL for a bad name/CIDR/gateway or an overlapping subnet. */
int keel_network_create(const struct keel_net_env *env, const struct keel_network_create_opts *o,
                        struct keel_network **ret, struct keel_error *err);
/* Load a network by name; the default network is created when missing. */
int keel_network_load(const struct keel_net_env *env, const char *name, struct keel_network **ret,
                      struct keel_error *err);
/* Every network, sorted by name, the default one included.  Free with
 * keel_network_list_free. */
int keel_network_list(const struct keel_net_env *env, struct keel_network ***ret, size_t *ret_n,
                      struct keel_error *err);
void keel_network_list_free(struct keel_network **v, size_t n);
/* Remove a network; -EBUSY while containers are attached, -EPERM for the
 * default network, -ENOENT when missing. */
int keel_network_remove(const struct keel_net_env *env, const char *name, struct keel_error *err);
void keel_network_free(struct keel_network *net);

const char *keel_network_name(const struct keel_network *net);
const char *keel_network_bridge(const struct keel_network *net);
const char *keel_network_subnet(const struct keel_network *net); /* "10.88.0.0/16" */
const char *keel_network_gateway(const struct keel_network *net);
bool keel_network_internal(const struct keel_network *net);
/* The network's definition plus its live containers, for inspect. */
int keel_network_inspect(const struct keel_net_env *env, const struct keel_network *net,
                         json_object **ret, struct keel_error *err);

/* A published port: [host_ip:]host_port:container_port[/tcp|udp]. */
struct keel_net_port
{
  char host_ip[16]; /* "" = every host address */
  uint16_t host_port;
  uint16_t container_port;
  char proto[4]; /* "tcp" or "udp" */
};

/* Parse podman's -p syntax (ranges and IPv6 not supported). */
int keel_net_port_parse(const char *spec, struct keel_net_port *ret, struct keel_error *err);

struct keel_network_attach_opts
{
  const char *container_id;   /* required: [A-Za-z0-9_.-]{1,128} */
  const char *name;           /* the container's name, resolvable by other members */
  const char *hostname;       /* NULL: name */
  const char *netns_path;     /* /proc/PID/ns/net or a bind-mounted netns file */
  const char *ifname;         /* NULL: eth0 */
  const char *const *aliases; /* more names for this container on this network */
  const struct keel_net_port *ports;
  size_t n_ports;
  const char *const *dns;        /* nameservers; NULL: the host's */
  const char *const *dns_search; /* search domains; NULL: the host's */
  const char *const *add_hosts;  /* "name:ip" lines for /etc/hosts */
};

#define KEEL_NETWORK_ATTACH_OPTS_INIT                                                              \
  {                                                                                                \
    0                                                                                              \
  }

/* What an attachment got, for the caller's config and inspect. */
struct keel_net_attachment
{
  char network[64];
  char ifname[16];
  char ip[16];
  int prefix;
  char gateway[16];
  char mac[18];
  char hosts_path[4096];  /* bind-mount onto /etc/hosts */
  char resolv_path[4096]; /* bind-mount onto /etc/resolv.conf */
};

/* Attach a container's network namespace to a network: lease an address,
 * create the bridge if needed, a veth pair (ifname inside, with MAC, address,
 * default route via the gateway unless internal), NAT and published ports,
 * and the hosts files of every member.  On failure nothing is left behind. */
int keel_network_attach(const struct keel_net_env *env, const char *network,
                        const struct keel_network_attach_opts *o, struct keel_net_attachment *ret,
                        struct keel_error *err);

/* Undo every attachment of a container: leases, veths, nft rules, hosts
 * entries in the other members' files, its own files.  Idempotent: a
 * container never attached is a success. */
int keel_network_detach(const struct keel_net_env *env, const char *container_id,
                        struct keel_error *err);

/* Drop leases whose veth no longer exists (dead netns, reboot), with their
 * rules and hosts entries.  Attach does this by itself when a subnet looks
 * full.  Returns the number reclaimed. */
int keel_network_reclaim(const struct keel_net_env *env, struct keel_error *err);

#endif
