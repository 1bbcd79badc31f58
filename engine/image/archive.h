/* keel save / keel load: images of the store as docker-archive (docker
 * save's tar: manifest.json, <config>.json, uncompressed <diff id>.tar
 * layers), oci-archive (a tar of an OCI image layout) or an OCI layout
 * directory.  Load detects the format, extracts a tar through the layer
 * unpacker (so hostile names are refused the same way), verifies every
 * digest and diff id, and records images only once all of their layers
 * are in: a bad archive leaves nothing behind but what gc removes. */
#ifndef KEEL_IMAGE_ARCHIVE_H
#define KEEL_IMAGE_ARCHIVE_H

#include "image/store.h"

enum keel_archive_format
{
  KEEL_ARCHIVE_DOCKER,
  KEEL_ARCHIVE_OCI,
  KEEL_ARCHIVE_OCI_DIR,
};

struct keel_save_item
{
  const struct keel_image *img;
  const char *name; /* "registry/repo:tag" to record, or NULL */
};

/* Write the images to path (a tar file written whole, or a new
 * directory for oci-dir). */
int keel_save(struct keel_store *s, const struct keel_save_item *items, size_t n,
              enum keel_archive_format format, const char *path, struct keel_error *err);

struct keel_load_result
{
  char **ids;   /* loaded image ids, NULL-terminated */
  char **names; /* names given to them, NULL-terminated */
};
void keel_load_result_free(struct keel_load_result *r);

/* Load every image of the archive or layout at path. */
int keel_load(struct keel_store *s, const char *path, struct keel_load_result *ret,
              struct keel_error *err);

#endif
