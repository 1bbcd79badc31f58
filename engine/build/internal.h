/* Shared between the files of engine/build; not for other layers. */
#ifndef KEEL_BUILD_INTERNAL_H
#define KEEL_BUILD_INTERNAL_H

#include <json-c/json.h>

#include "build/working.h"
#include "container/container.h"

struct keel_working
{
  struct keel_store *store;
  char id[KEEL_CTR_ID_LEN + 1];
  json_object *rec; /* the record: Kind, Name, Image, ImageName, ImageConfig, ... */
  char rootfs[4096];
};

/* RFC 3339 time: now (with nanoseconds), or at (seconds) when >= 0. */
void working_now(char *buf, size_t size, int64_t at);
/* o[key] as an object, made if missing or of another type. */
json_object *working_obj(json_object *o, const char *key);
/* o[key] when it is a string, else NULL. */
const char *working_str(json_object *o, const char *key);
/* Lower directories (bottom first) for an image id ("" for none), with
 * the directory empty at the bottom when not NULL. */
int working_lowers(struct keel_store *s, const char *image, const char *empty, char ***ret,
                   size_t *ret_n, struct keel_error *err);

/* Append a history entry to an image config document. */
int working_history_add(json_object *image_config, const char *created, const char *created_by,
                        const char *comment, bool empty_layer);

#endif
