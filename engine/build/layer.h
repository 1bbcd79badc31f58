/* The layer writer: an overlayfs upper directory (or any directory) as an
 * OCI layer tar, compressed, with its blob digest and diff id.
 *
 * Overlay's own forms become the OCI ones (image-spec layer.md):
 *   a character device 0:0 (a whiteout)      → an empty file ".wh.<name>"
 *   a directory with trusted.overlay.opaque=y → the directory, then an
 *                                               empty ".wh..wh..opq" in it
 * trusted.overlay.* xattrs are never written into the tar; other xattrs
 * (security.capability, user.*, ...) are, as PAX headers.  Hardlinked
 * files become one file and hardlink entries to it; owners, modes,
 * devices, symlinks and fifos are kept.  Entries are written in sorted
 * order with numeric owners only (no user or group names), so the same
 * tree gives the same tar; with a source date mtimes are clamped to it
 * (or all set to it) and the compressed stream carries no time either,
 * which makes the blob reproducible.  A directory left with overlay
 * features keel does not write (redirect_dir, metacopy) is refused with
 * a line naming the entry rather than committed wrong. */
#ifndef KEEL_BUILD_LAYER_H
#define KEEL_BUILD_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "image/manifest.h"
#include "lib/digest.h"
#include "lib/error.h"

struct keel_layer_write_opts
{
  enum keel_layer_compression compression;
  int64_t source_date;     /* -1: keep mtimes */
  bool rewrite_timestamps; /* every mtime becomes source_date (not only newer ones) */
};

#define KEEL_LAYER_WRITE_OPTS_INIT                                                                 \
  {                                                                                                \
    KEEL_COMPRESSION_GZIP, -1, false                                                               \
  }

struct keel_layer_write_result
{
  char digest[KEEL_DIGEST_MAX];  /* sha256 of what was written to out_fd */
  char diff_id[KEEL_DIGEST_MAX]; /* sha256 of the tar */
  uint64_t size;                 /* bytes written to out_fd */
  uint64_t tar_bytes;
  uint64_t entries;
  uint64_t whiteouts; /* whiteout and opaque markers written */
};

/* Write the tree below dirfd to out_fd as a layer. */
int keel_layer_write(int dirfd, int out_fd, const struct keel_layer_write_opts *o,
                     struct keel_layer_write_result *ret, struct keel_error *err);

/* 1 when the directory has no entries at all, 0 when it has some. */
int keel_layer_dir_empty(int dirfd, struct keel_error *err);

#endif
