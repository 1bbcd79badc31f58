/* Every network and its leases, loaded under the networks lock. */
#ifndef KEEL_NETWORK_WORLD_H
#define KEEL_NETWORK_WORLD_H

#include <sys/types.h>

#include "network/internal.h"

struct keel_world
{
  const struct keel_net_env *env;
  struct keel_network **nets;
  struct keel_leases *leases; /* leases[i] belongs to nets[i] */
  size_t n;
};

int keel_world_load(const struct keel_net_env *env, struct keel_world *w, struct keel_error *err);
void keel_world_free(struct keel_world *w);
int keel_world_save(struct keel_world *w, size_t i, struct keel_error *err);
int keel_world_lease_path(const struct keel_world *w, size_t i, char buf[PATH_MAX]);
ssize_t keel_world_find(const struct keel_world *w, const char *name);
const struct keel_lease *keel_world_lease_of(const struct keel_world *w, size_t i,
                                             const char *container);
/* Leases over all networks. */
size_t keel_world_count(const struct keel_world *w);
/* <root>/networks/containers/ID[/file] */
int keel_world_container_dir(const struct keel_world *w, const char *id, const char *file,
                             char buf[PATH_MAX]);
/* Rewrite a container's hosts file from the leases (skipped when the
 * container has no directory). */
int keel_world_write_hosts(const struct keel_world *w, const char *id, struct keel_error *err);
/* ... and that of every member of network i. */
int keel_world_write_members(const struct keel_world *w, size_t i, struct keel_error *err);

#endif
