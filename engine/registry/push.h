/* Push: an image of the store to a registry.  Layers go as the compressed
 * blobs kept from the pull (or load), recompressed only when another
 * compression is asked for (the tar in between is unchanged, so the
 * config and the image id stay the same); each blob is checked with HEAD
 * first, mounted from another repository of the same registry when the
 * image has a name there, and uploaded whole or in chunks; the config
 * goes next and the manifest last, so a registry never holds a manifest
 * whose blobs are missing.  With neither format nor compression changed,
 * the stored manifest is pushed byte for byte and keeps its digest. */
#ifndef KEEL_REGISTRY_PUSH_H
#define KEEL_REGISTRY_PUSH_H

#include <stdint.h>

#include "image/store.h"
#include "registry/client.h"

/* Blobs above this size go in chunks of this size unless told otherwise. */
#define KEEL_PUSH_CHUNK_DEFAULT (32ull << 20)

enum keel_push_format
{
  KEEL_PUSH_FORMAT_KEEP, /* as the image was pulled */
  KEEL_PUSH_FORMAT_OCI,
  KEEL_PUSH_FORMAT_V2S2,
};

enum keel_push_event_kind
{
  KEEL_PUSH_BLOB_EXISTS,
  KEEL_PUSH_BLOB_MOUNTED, /* message: the repository it came from */
  KEEL_PUSH_BLOB_UPLOADED,
  KEEL_PUSH_BLOB_CHUNKED,
  KEEL_PUSH_BLOB_RETRY,    /* message: why */
  KEEL_PUSH_RECOMPRESSING, /* message: the compression */
  KEEL_PUSH_MANIFEST,      /* digest: the manifest's */
};

struct keel_push_event
{
  enum keel_push_event_kind kind;
  const char *digest;
  const char *message;
};

struct keel_push_opts
{
  struct keel_registry_opts registry;
  enum keel_push_format format;
  int compression;     /* an enum keel_layer_compression, or -1: as stored */
  uint64_t chunk_size; /* 0: KEEL_PUSH_CHUNK_DEFAULT; UINT64_MAX: never chunk */
  void (*progress)(void *userdata, const struct keel_push_event *ev);
  void *progress_userdata;
  /* The digest of the stored index the image's name was pulled by, or
   * NULL.  When every image it lists is in the store (keel pull
   * --all-platforms), all of them are pushed, then the index. */
  const char *index;
};

/* Push img to dest ("registry/repo[:tag]"); ret_digest gets the manifest
 * digest the registry holds. */
int keel_push(struct keel_store *store, const struct keel_image *img, const char *dest,
              const struct keel_push_opts *opts, char ret_digest[KEEL_DIGEST_MAX],
              struct keel_error *err);

#endif
