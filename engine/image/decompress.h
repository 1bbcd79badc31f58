/* The byte pipeline under the unpacker: compressed bytes from a source
 * are digested, decompressed (gzip, zstd or none, recognised by their
 * magic bytes rather than by a media type a registry may get wrong) and
 * digested again, with a cap on how much the stream may inflate to. */
#ifndef KEEL_IMAGE_DECOMPRESS_H
#define KEEL_IMAGE_DECOMPRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/unpack.h"

struct keel_dstream;

int keel_dstream_new(const struct keel_unpack_source *src, uint64_t max_out,
                     struct keel_dstream **ret, struct keel_error *err);
/* Copy every compressed byte read to fd as well (keeping the blob). */
void keel_dstream_tee(struct keel_dstream *s, int fd);
void keel_dstream_free(struct keel_dstream *s);

/* Next decompressed block (valid until the next call); 0 at the end. */
ssize_t keel_dstream_next(struct keel_dstream *s, const void **ret, struct keel_error *err);
/* Read and digest whatever follows the tar's end, then finish both digests. */
int keel_dstream_finish(struct keel_dstream *s, struct keel_unpack_stats *stats,
                        struct keel_error *err);
/* The compression found ("gzip", "zstd", "none"), once a block was read. */
const char *keel_dstream_kind(const struct keel_dstream *s);

#endif
