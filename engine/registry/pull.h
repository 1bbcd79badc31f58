/* Pull: resolve a reference (short names through the unqualified-search
 * list), fetch the manifest (choosing a platform from an index), the
 * config and every missing layer, and commit the image to the store.
 *
 * Layers stream: each runs as a curl transfer on the registry's multi
 * handle feeding a bounded ring buffer, drained by a thread that digests,
 * decompresses and unpacks while the bytes arrive.  A dropped connection
 * or a stall resumes with an HTTP Range request from the last byte
 * received; the digests are checked at the end and a layer that does not
 * match is thrown away. */
#ifndef KEEL_REGISTRY_PULL_H
#define KEEL_REGISTRY_PULL_H

#include <stdint.h>

#include "image/manifest.h"
#include "image/store.h"
#include "registry/client.h"
#include "registry/config.h"

enum keel_pull_event_kind
{
  KEEL_PULL_TRYING,      /* ref: the source in use; before it is asked when there are several */
  KEEL_PULL_RESOLVED,    /* ref: the reference in use, digest: its manifest */
  KEEL_PULL_LAYER_START, /* index/count, digest, total */
  KEEL_PULL_LAYER_BYTES, /* done of total */
  KEEL_PULL_LAYER_RETRY, /* message: why */
  KEEL_PULL_LAYER_DONE,  /* exists: already in the store */
  KEEL_PULL_WAITING,     /* another process is fetching this layer */
  KEEL_PULL_COMMITTED,   /* digest: the image id */
};

struct keel_pull_event
{
  enum keel_pull_event_kind kind;
  const char *ref;
  const char *digest;
  const char *message;
  unsigned index, count;
  uint64_t done, total;
  bool exists;
};

struct keel_pull_opts
{
  struct keel_platform platform; /* empty os: the host's */
  struct keel_registry_opts registry;
  /* Registries tried in order for a short name; NULL: docker.io only. */
  const char *const *search;
  /* registries.conf: locations, mirrors, insecure and blocked prefixes;
   * NULL: every reference is pulled from where it names. */
  const struct keel_registries_conf *conf;
  /* An index: pull every platform's image too (named by digest). */
  bool all_platforms;
  void (*progress)(void *userdata, const struct keel_pull_event *ev);
  void *progress_userdata;
};

/* Pull ref into the store; ret_id gets the image id. */
int keel_pull(struct keel_store *store, const char *ref, const struct keel_pull_opts *opts,
              char ret_id[KEEL_DIGEST_MAX], struct keel_error *err);

/* Internal to engine/registry: one layer to fetch and unpack. */
struct keel_fetch_layer
{
  const struct keel_descriptor *desc;
  char chain_id[KEEL_DIGEST_MAX];
  char diff_id[KEEL_DIGEST_MAX];
  char parent[KEEL_DIGEST_MAX];
  unsigned index;
  uint64_t unpacked; /* out */
};

struct keel_fetch_ctx
{
  struct keel_store *store;
  struct keel_registry *registry;
  const char *repo;
  unsigned count; /* layers in the image, for events */
  const struct keel_pull_opts *opts;
};

/* Fetch and commit these layers, in parallel. */
int keel_fetch_layers(const struct keel_fetch_ctx *ctx, struct keel_fetch_layer *layers, size_t n,
                      struct keel_error *err);

#endif
