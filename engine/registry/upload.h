/* Uploads to a registry (the distribution API's push side): blob
 * existence checks, cross-repository mounts, monolithic and chunked blob
 * uploads, manifest uploads.  Internal to engine/registry. */
#ifndef KEEL_REGISTRY_UPLOAD_H
#define KEEL_REGISTRY_UPLOAD_H

#include <stdint.h>

#include "registry/client-internal.h"

enum registry_blob_result
{
  REGISTRY_BLOB_EXISTS,   /* HEAD found it: nothing sent */
  REGISTRY_BLOB_MOUNTED,  /* mounted from another repository */
  REGISTRY_BLOB_UPLOADED, /* sent whole (POST, PUT) */
  REGISTRY_BLOB_CHUNKED,  /* sent in chunks (POST, PATCH..., PUT) */
};

struct registry_blob
{
  const char *digest;
  uint64_t size;
  const void *buf; /* the content from memory, or */
  int fd;          /* from a file (whole) */
  /* repositories of this registry that may hold it (NULL-terminated) */
  const char *const *mount_from;
  uint64_t chunk_size; /* > 0: PATCH chunks of this size when size exceeds it */
};

/* Make repo hold the blob; a failed upload (transport error, 5xx) starts
 * over with a new session, up to the registry's retries. */
int registry_push_blob(struct keel_registry *r, const char *repo, const struct registry_blob *b,
                       void (*retry)(void *ud, const char *why), void *ud,
                       enum registry_blob_result *ret, struct keel_error *err);

/* PUT a manifest under reference (a tag or its digest); the registry's
 * Docker-Content-Digest, when sent, must be digest. */
int registry_push_manifest(struct keel_registry *r, const char *repo, const char *reference,
                           const char *media_type, const void *buf, size_t len, const char *digest,
                           struct keel_error *err);

#endif
