/* Shared between the network library's files; not for other modules. */
#ifndef KEEL_NETWORK_INTERNAL_H
#define KEEL_NETWORK_INTERNAL_H

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"
#include "network/ipam.h"
#include "network/network.h"

struct keel_network
{
  char name[64];
  char id[65];
  char bridge[16];
  char subnet[19];
  char gateway[16];
  struct keel_cidr cidr;
  uint32_t gw;
  bool internal;
  char created[32];
  json_object *labels; /* object of strings, owned */
};

/* One leased address: who holds it and what it publishes. */
struct keel_lease
{
  uint32_t ip;
  char container[129];
  char name[256];
  char aliases[512]; /* space-separated */
  char mac[18];
  char veth[16];
  char ifname[16];
  struct keel_net_port *ports;
  size_t n_ports;
};

struct keel_leases
{
  uint32_t last; /* the address handed out last: allocation goes on after it */
  struct keel_lease *v;
  size_t n;
};

/* dir/networks under the state root (no trailing slash). */
int keel_net_dir(const struct keel_net_env *env, const char *sub, char buf[PATH_MAX]);
/* Take the networks lock (flock, exclusive); the fd releases it. */
int keel_net_lock(const struct keel_net_env *env, struct keel_error *err);
/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most max characters. */
bool keel_net_name_valid(const char *s, size_t max);

/* network.conf: "key = value" lines; subnet and gateway of the default network. */
int keel_net_conf_parse(const char *text, char subnet[19], char gateway[16],
                        struct keel_error *err);

/* Load without creating the default; -ENOENT when missing. */
int keel_network_read(const struct keel_net_env *env, const char *name, struct keel_network **ret,
                      struct keel_error *err);
/* Make sure the default network exists (caller holds the lock). */
int keel_network_ensure_default(const struct keel_net_env *env, struct keel_error *err);
/* Every stored network (the default not created), sorted by name. */
int keel_network_read_all(const struct keel_net_env *env, struct keel_network ***ret, size_t *ret_n,
                          struct keel_error *err);
json_object *keel_network_to_json(const struct keel_network *net);

int keel_leases_load(const char *path, struct keel_leases *ret, struct keel_error *err);
int keel_leases_save(const char *path, const struct keel_leases *l, struct keel_error *err);
void keel_leases_free(struct keel_leases *l);
/* Append a copy of *in (ports copied). */
int keel_leases_add(struct keel_leases *l, const struct keel_lease *in);
/* Remove the leases of a container, moving them to *removed if non-NULL. */
size_t keel_leases_remove(struct keel_leases *l, const char *container,
                          struct keel_leases *removed);
/* Lease a free address of c (not the gateway), after l->last. */
int keel_leases_allocate(struct keel_leases *l, const struct keel_cidr *c, uint32_t gateway,
                         uint32_t *ret);
/* The lease in l whose published port collides with p, or NULL. */
const struct keel_lease *keel_leases_port_conflict(const struct keel_leases *l,
                                                   const struct keel_net_port *p);

#endif
