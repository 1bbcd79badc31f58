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

/* A streaming compressor into out_fd that digests what it writes (a
 * layer blob as it is made). */
struct keel_compressor;
int keel_compressor_new(int out_fd, enum keel_layer_compression to, struct keel_compressor **ret,
                        struct keel_error *err);
int keel_compressor_write(struct keel_compressor *k, const void *p, size_t n,
                          struct keel_error *err);
/* End the stream; the digest and size of everything written. */
int keel_compressor_finish(struct keel_compressor *k, char digest[KEEL_DIGEST_MAX],
                           uint64_t *ret_size, struct keel_error *err);
void keel_compressor_free(struct keel_compressor *k);

/* "gzip", "zstd", "none" */
const char *keel_compression_name(enum keel_layer_compression c);

#endif
