/* The image store (default /var/lib/keel):
 *
 *   lock                 flock: held exclusively while metadata changes
 *   gc.lock              flock: shared by every pull in flight, exclusive for
 *                        garbage collection (which so never sees half a pull)
 *   repositories.json    names → image id and the manifest digest pulled
 *   images/<hex>.json    image records, hex of the image id (config digest)
 *   blobs/sha256/<hex>   manifests, indexes, configs and the compressed
 *                        layers as pulled (what push sends), digest-verified
 *   layers/<hex>/        a layer unpacked in overlayfs form, hex of its chain
 *                        id: diff/ (the content) and layer.json; present only
 *                        when complete and verified
 *   locks/<hex>.lock     flock per layer being downloaded, so concurrent
 *                        pulls fetch each layer once
 *   tmp/                 work in progress, renamed into place when verified
 *
 * Every file is written temp + fsync + rename; a layer directory is
 * synced (syncfs) and renamed whole.  kill -9 at any point leaves only
 * complete objects visible, plus orphans that gc and `system check` find.
 * Reference counts are derived from the image records under the lock
 * rather than stored, so they cannot drift. */
#ifndef KEEL_IMAGE_STORE_H
#define KEEL_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"
#include "lib/digest.h"
#include "lib/error.h"

#define KEEL_STORE_DEFAULT_ROOT "/var/lib/keel"

struct keel_store;

/* Open (creating the layout, mode 0700) the store at root. */
int keel_store_open(const char *root, struct keel_store **ret, struct keel_error *err);
void keel_store_free(struct keel_store *s);
const char *keel_store_root(const struct keel_store *s);

/* The metadata lock: exclusive, short. */
int keel_store_lock(struct keel_store *s, struct keel_error *err);
void keel_store_unlock(struct keel_store *s);
/* Pulls hold the gc lock shared for their whole run. */
int keel_store_pull_begin(struct keel_store *s, struct keel_error *err);
void keel_store_pull_end(struct keel_store *s);

/* Blobs: small documents (manifests, indexes, configs). put verifies the digest. */
int keel_store_blob_put(struct keel_store *s, const char *digest, const void *buf, size_t len,
                        struct keel_error *err);
int keel_store_blob_read(struct keel_store *s, const char *digest, size_t max, char **ret,
                         size_t *ret_len, struct keel_error *err);
bool keel_store_blob_exists(struct keel_store *s, const char *digest);
/* Open a blob for reading (large ones: layers); the size in *ret_size. */
int keel_store_blob_open(struct keel_store *s, const char *digest, int *ret_fd, uint64_t *ret_size,
                         struct keel_error *err);
/* An unnamed file in tmp/ (gone when closed): scratch space for push. */
int keel_store_tmpfile(struct keel_store *s, struct keel_error *err);

/* Layers. */
struct keel_layer_info
{
  char chain_id[KEEL_DIGEST_MAX];
  char diff_id[KEEL_DIGEST_MAX];
  char parent[KEEL_DIGEST_MAX]; /* "" for the bottom layer */
  char digest[KEEL_DIGEST_MAX]; /* the compressed blob it came from */
  uint64_t size;                /* compressed size */
  uint64_t unpacked;            /* content bytes */
};

bool keel_store_layer_exists(struct keel_store *s, const char *chain_id);
/* A committed layer's record. */
int keel_store_layer_read(struct keel_store *s, const char *chain_id, struct keel_layer_info *ret);
/* "<root>/layers/<hex>/diff": what overlayfs mounts as a lower layer. */
int keel_store_layer_path(struct keel_store *s, const char *chain_id, char **ret);
/* Serialise downloads of one layer across processes: 1 when claimed, 0
 * when another process holds it (wait=false), negative on error.  The
 * claim goes with the fd in *ret_fd (close it to release; kill -9 does). */
int keel_store_layer_claim(struct keel_store *s, const char *chain_id, bool wait, int *ret_fd,
                           struct keel_error *err);

/* A layer being unpacked: tmp/<unique>/diff. */
struct keel_layer_tmp;
int keel_store_layer_tmp_new(struct keel_store *s, struct keel_layer_tmp **ret,
                             struct keel_error *err);
/* The directory to unpack into. */
int keel_store_layer_tmp_fd(const struct keel_layer_tmp *t);
/* A file (opened for writing) to keep the layer's compressed bytes in;
 * commit moves it to blobs/ under info->digest, which it must match. */
int keel_store_layer_tmp_blob(struct keel_layer_tmp *t, struct keel_error *err);
/* Sync, record and rename into layers/; an existing layer wins (the
 * temporary one is dropped).  Frees t. */
int keel_store_layer_commit(struct keel_store *s, struct keel_layer_tmp *t,
                            const struct keel_layer_info *info, struct keel_error *err);
/* Remove what dead processes left in tmp/; returns how many. */
int keel_store_tmp_sweep(struct keel_store *s);
/* Remove an uncommitted layer; NULL is fine. */
void keel_store_layer_tmp_free(struct keel_layer_tmp *t);

/* Images. */
struct keel_image_layer
{
  char chain_id[KEEL_DIGEST_MAX];
  char diff_id[KEEL_DIGEST_MAX];
  char digest[KEEL_DIGEST_MAX];
  char media_type[128];
  uint64_t size;
};

struct keel_image
{
  char id[KEEL_DIGEST_MAX];       /* the config digest */
  char manifest[KEEL_DIGEST_MAX]; /* the platform manifest */
  char platform[100];
  char created[64];
  int64_t pulled; /* unix time of the last commit */
  uint64_t size;  /* unpacked content bytes of all layers */
  struct keel_image_layer *layers;
  size_t n_layers;
  char **names;   /* NULL-terminated; filled by lookup/list */
  char **digests; /* per name: the manifest digest it was pulled by */
};

void keel_image_free(struct keel_image *img);
void keel_image_list_free(struct keel_image **v, size_t n);

/* Store the image record and point name (may be NULL) at it; digest is
 * the manifest (or index) digest the name was resolved to.  The layers
 * and blobs it names must be committed already. */
int keel_store_image_commit(struct keel_store *s, const struct keel_image *img, const char *name,
                            const char *digest, struct keel_error *err);

/* Find by full name, image id or unique id prefix (at least 3 hex digits). */
int keel_store_image_lookup(struct keel_store *s, const char *what, struct keel_image **ret,
                            struct keel_error *err);
/* Every image, names filled, newest first. */
int keel_store_image_list(struct keel_store *s, struct keel_image ***ret, size_t *ret_n,
                          struct keel_error *err);
/* Give image id another name (moving the name if it was elsewhere). */
int keel_store_tag(struct keel_store *s, const char *id, const char *name, struct keel_error *err);
/* Remove one name; 1 when the image lost its last name and was removed. */
int keel_store_untag(struct keel_store *s, const char *name, struct keel_error *err);
/* Remove an image and all its names.  Without force an image with more
 * than one name is refused. */
int keel_store_image_remove(struct keel_store *s, const char *id, bool force,
                            struct keel_error *err);

/* Garbage collection: layers and blobs no image references, leftovers in
 * tmp/.  wait=false skips (returning 0) when a pull is in flight. */
struct keel_gc_stats
{
  size_t layers, blobs, tmp, images;
  uint64_t bytes;
  bool skipped;
};
int keel_store_gc(struct keel_store *s, bool wait, struct keel_gc_stats *ret,
                  struct keel_error *err);
/* Remove images without names (dangling), then gc. */
/* The same, sparing the image ids in keep (NULL-terminated): the images
 * containers stand on, which only the caller knows. */
int keel_store_prune_keep(struct keel_store *s, bool all, const char *const *keep,
                          struct keel_gc_stats *ret, struct keel_error *err);
int keel_store_prune(struct keel_store *s, bool all, struct keel_gc_stats *ret,
                     struct keel_error *err);

/* system check: problems found, one line each; repaired when repair. */
struct keel_check_report
{
  char **problems; /* NULL-terminated */
  size_t n_problems;
  size_t repaired;
  size_t blobs, layers, images, names;
};
int keel_store_check(struct keel_store *s, bool repair, struct keel_check_report *ret,
                     struct keel_error *err);
void keel_check_report_free(struct keel_check_report *r);

/* system df. */
struct keel_df
{
  size_t images, dangling, layers, blobs;
  uint64_t layer_bytes, blob_bytes, reclaimable_bytes;
};
int keel_store_df(struct keel_store *s, struct keel_df *ret, struct keel_error *err);

/* Internal to engine/image: the hex part of a digest. */
const char *keel_digest_hex(const char *digest);

#endif
