/* Layer recompression for push and save: a stored layer blob (gzip, zstd
 * or plain tar) is decompressed and compressed again in another format.
 * The tar stream in between is unchanged, so the layer keeps its diff id
 * and the image config (and so the image id) stays the same. */
#ifndef KEEL_IMAGE_COMPRESS_H
#define KEEL_IMAGE_COMPRESS_H

#include <stdint.h>

#include "image/manifest.h"

/* The compression of a blob from its first bytes (gzip and zstd magic;
 * anything else is taken for a plain tar). */
int keel_blob_compression(int fd, enum keel_layer_compression *ret, struct keel_error *err);

struct keel_recompress_result
{
  char digest[KEEL_DIGEST_MAX];  /* of what was written */
  char diff_id[KEEL_DIGEST_MAX]; /* of the tar in between */
  uint64_t size;
};

/* Read the blob from in_fd (from its start), write it compressed as to
 * out_fd. */
int keel_recompress(int in_fd, int out_fd, enum keel_layer_compression to,
                    struct keel_recompress_result *ret, struct keel_error *err);

/* "gzip", "zstd", "none" */
const char *keel_compression_name(enum keel_layer_compression c);

#endif
