/* A minimal rtnetlink client: just the requests container networking needs
 * (veth pairs, bridges, enslaving, link state, IPv4 addresses and routes).
 * A socket opened "in" a network namespace stays bound to it, so one
 * process configures both ends of a veth without forking. */
#ifndef KEEL_NETWORK_NETLINK_H
#define KEEL_NETWORK_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

struct keel_nl
{
  int fd;
  uint32_t seq;
};

/* Open an rtnetlink socket in netns_fd (-1: the caller's namespace). */
int keel_nl_open(int netns_fd, struct keel_nl *ret);
void keel_nl_close(struct keel_nl *nl);

/* ifindex of name in the socket's namespace, -ENODEV when missing. */
int keel_nl_link_index(struct keel_nl *nl, const char *name);
/* veth pair: host end `name` here, `peer` moved into peer_netns_fd with mac. */
int keel_nl_veth_add(struct keel_nl *nl, const char *name, const char *peer, int peer_netns_fd,
                     const char *peer_mac);
/* A bridge with a fixed MAC (so it never changes as ports come and go). */
int keel_nl_bridge_add(struct keel_nl *nl, const char *name, const char *mac);
/* Set master (0: leave alone) and bring the link up. */
int keel_nl_link_up(struct keel_nl *nl, int ifindex, int master);
/* Hairpin mode on a bridge port: a frame may leave through the port it
 * came in by.  With br_netfilter loaded (the bridge's frames through the
 * IP hooks), a container's packet to its own published port is DNATed on
 * the bridge and must go back out of its own port. */
int keel_nl_port_hairpin(struct keel_nl *nl, int ifindex);
int keel_nl_link_del(struct keel_nl *nl, const char *name);
int keel_nl_addr_add(struct keel_nl *nl, int ifindex, uint32_t ip, int prefix);
int keel_nl_route_default(struct keel_nl *nl, int ifindex, uint32_t gateway);

#endif
