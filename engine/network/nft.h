/* nftables through libnftables: Keel owns one table, `inet keel`, and never
 * touches another.  Its rules carry a comment naming what they belong to:
 *   "keel:base"        the hooks into the published-port chain
 *   "keel:net:NAME"    masquerade / isolation of one network
 *   "keel:ctr:ID"      one container's published ports
 * so removing a container or a network deletes exactly its rules (by
 * handle, in one transaction).  The text generators are pure and
 * unit-tested; only keel_nft_run and friends touch the kernel. */
#ifndef KEEL_NETWORK_NFT_H
#define KEEL_NETWORK_NFT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "network/network.h"

struct keel_nft_net
{
  const char *name;
  const char *bridge;
  const char *subnet; /* CIDR */
  bool internal;
};

/* The table, its base chains and the jumps to the "published" chain. */
char *keel_nft_base_text(void);
char *keel_nft_network_text(const struct keel_nft_net *n);
/* DNAT rules for a container's ports (NULL when n == 0). */
char *keel_nft_container_text(const char *id, const char *ip, const struct keel_net_port *ports,
                              size_t n);

/* Run nft commands as one transaction. */
int keel_nft_run(const char *text, struct keel_error *err);

/* The comments of Keel's rules as "tag\n" lines (empty if no table). */
int keel_nft_list_tags(char **ret, struct keel_error *err);
/* Whether tag appears in a keel_nft_list_tags() result. */
bool keel_nft_tags_have(const char *tags, const char *tag);
/* Delete every rule whose comment is tag; no such rule is a success. */
int keel_nft_delete_tag(const char *tag, struct keel_error *err);
/* Drop the whole table (no container is attached any more). */
int keel_nft_drop_table(struct keel_error *err);

#endif
