/* Shared between the files of the image store; not for other layers. */
#ifndef KEEL_IMAGE_STORE_INTERNAL_H
#define KEEL_IMAGE_STORE_INTERNAL_H

#include <json-c/json.h>

#include "image/store.h"

struct keel_store
{
  char *root;
  int dirfd;
  int lock_fd;
  int lock_depth;
  int gc_fd;
};

/* flock name below the root with op; 1 locked, 0 would block (LOCK_NB). */
int store_flock(struct keel_store *s, const char *name, int op, int *fdp, struct keel_error *err);
int store_blob_relpath(const char *digest, char *buf, size_t size);
int store_layer_info_to_json(const struct keel_layer_info *info, json_object **ret);

/* names: repositories.json, read and written under the lock. */
int store_names_load(struct keel_store *s, json_object **ret, struct keel_error *err);
int store_names_save(struct keel_store *s, json_object *names, struct keel_error *err);
/* Image records. */
int store_image_load(struct keel_store *s, const char *hex, struct keel_image **ret,
                     struct keel_error *err);
int store_image_remove_record(struct keel_store *s, const char *id);
/* Fill img->names and img->digests from the names table. */
int store_image_fill_names(struct keel_image *img, json_object *names);

#endif
