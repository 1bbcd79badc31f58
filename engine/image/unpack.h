/* Layer unpacking: a compressed (gzip, zstd) or plain tar stream, pulled
 * from a source callback, is digested as it arrives (the blob digest over
 * the compressed bytes, the diff id over the tar), decompressed, parsed by
 * libarchive and written below a directory in overlayfs form.
 *
 * Every entry is written with *at() system calls relative to the layer
 * directory, its parent resolved with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): no cwd, so layers unpack in parallel threads, and
 * no way out of the directory.  Refused with a message naming the entry:
 * ".." components, absolute paths, paths through a symlink, hardlinks
 * whose target is outside or missing, device nodes (except char 0:0, the
 * overlay whiteout), whiteouts naming "." or "..", an entry replacing a
 * directory with something else, and layers that claim or inflate to more
 * than the size cap (decompression bombs, sparse files claiming terabytes). */
#ifndef KEEL_IMAGE_UNPACK_H
#define KEEL_IMAGE_UNPACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/digest.h"
#include "lib/error.h"

struct keel_unpack_source
{
  /* Up to len bytes of the (compressed) layer; 0 at its end; a negative
   * errno (with err filled) on failure. */
  ssize_t (*read)(void *userdata, void *buf, size_t len, struct keel_error *err);
  void *userdata;
};

/* The unpacked size a layer may reach: KEEL_UNPACK_RATIO times its
 * compressed size, at least KEEL_UNPACK_MIN_CAP. */
#define KEEL_UNPACK_RATIO   100
#define KEEL_UNPACK_MIN_CAP (1ull << 30)

struct keel_unpack_opts
{
  uint64_t compressed_size; /* the descriptor's size, for the cap; 0 when unknown */
  uint64_t max_bytes;       /* explicit cap; 0 → from compressed_size */
  bool tee;                 /* also write the compressed bytes to tee_fd */
  int tee_fd;
};

#define KEEL_UNPACK_OPTS_INIT                                                                      \
  {                                                                                                \
    0, 0, false, -1                                                                                \
  }

struct keel_unpack_stats
{
  char digest[KEEL_DIGEST_MAX];  /* sha256 of the compressed stream */
  char diff_id[KEEL_DIGEST_MAX]; /* sha256 of the uncompressed tar */
  uint64_t compressed_bytes;
  uint64_t tar_bytes;
  uint64_t content_bytes; /* regular-file bytes written */
  uint64_t entries;
  uint64_t whiteouts;
};

/* Unpack the stream from src into dirfd (an empty directory). */
int keel_unpack_layer(int dirfd, const struct keel_unpack_source *src,
                      const struct keel_unpack_opts *opts, struct keel_unpack_stats *ret,
                      struct keel_error *err);

/* An unpack source over a file descriptor (tests, load). */
ssize_t keel_unpack_read_fd(void *userdata, void *buf, size_t len, struct keel_error *err);

#endif
