/* IPv4 arithmetic for networks: CIDR parsing, overlap, and the address
 * picker behind leases.  Pure functions, unit-tested without privileges.
 * Addresses are uint32_t in host byte order. */
#ifndef KEEL_NETWORK_IPAM_H
#define KEEL_NETWORK_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct keel_cidr
{
  uint32_t addr; /* the network address (host bits clear) */
  int prefix;    /* 0..32 */
};

/* "a.b.c.d" → address. */
int keel_ip_parse(const char *s, uint32_t *ret);
/* address → "a.b.c.d" (buf of 16). */
void keel_ip_format(uint32_t ip, char buf[16]);
/* "a.b.c.d/n" for a network of at least 4 addresses (/30 or wider) with no
 * host bits set. */
int keel_cidr_parse(const char *s, struct keel_cidr *ret, struct keel_error *err);
void keel_cidr_format(const struct keel_cidr *c, char buf[19]);
uint32_t keel_cidr_mask(const struct keel_cidr *c);
bool keel_cidr_contains(const struct keel_cidr *c, uint32_t ip);
bool keel_cidr_overlap(const struct keel_cidr *a, const struct keel_cidr *b);
/* First and last usable host address (network and broadcast excluded). */
uint32_t keel_cidr_first(const struct keel_cidr *c);
uint32_t keel_cidr_last(const struct keel_cidr *c);

/* Pick a free address: the first one after `last` (wrapping round), so a
 * released address is handed out again only when the pool has gone round,
 * never the gateway.  used[] is sorted ascending.  -ENOSPC when full. */
int keel_ipam_pick(const struct keel_cidr *c, uint32_t gateway, uint32_t last, const uint32_t *used,
                   size_t n_used, uint32_t *ret);

/* The MAC of an address: locally administered 02:4b:a.b.c.d, so a reused
 * address keeps its MAC and neighbours' ARP caches stay right. */
void keel_ip_mac(uint32_t ip, char buf[18]);

#endif
