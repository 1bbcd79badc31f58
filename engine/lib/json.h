/* Helpers over json-c: parse with clear errors, typed getters that name the
 * offending key, atomic writes.  Getters return 1 when the key is present
 * and has the wanted type, 0 when absent (ret untouched), or -EINVAL with
 * "<ctx>.<key>: expected ..." in err when the type is wrong. */
#ifndef KEEL_LIB_JSON_H
#define KEEL_LIB_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

static inline void
keel_json_putp(json_object **o)
{
  if (*o)
    json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(keel_json_putp)))

int keel_json_parse(const char *buf, size_t len, const char *what, json_object **ret,
                    struct keel_error *err);
int keel_json_parse_file(const char *path, json_object **ret, struct keel_error *err);

int keel_json_get_object(json_object *o, const char *key, const char *ctx, json_object **ret,
                         struct keel_error *err);
int keel_json_get_array(json_object *o, const char *key, const char *ctx, json_object **ret,
                        struct keel_error *err);
int keel_json_get_string(json_object *o, const char *key, const char *ctx, const char **ret,
                         struct keel_error *err);
int keel_json_get_bool(json_object *o, const char *key, const char *ctx, bool *ret,
                       struct keel_error *err);
/* Integer in [min, max]; a float or an out-of-range value is refused. */
int keel_json_get_int(json_object *o, const char *key, const char *ctx, int64_t min, int64_t max,
                      int64_t *ret, struct keel_error *err);
/* Unsigned 64-bit integer (json-c keeps values above INT64_MAX as uint64). */
int keel_json_get_uint64(json_object *o, const char *key, const char *ctx, uint64_t *ret,
                         struct keel_error *err);
/* Array of strings → NULL-terminated vector the caller frees with keel_strv_free. */
int keel_json_get_strv(json_object *o, const char *key, const char *ctx, char ***ret,
                       struct keel_error *err);

/* Serialize obj to path through a temp file, fsync and rename. */
int keel_json_write_file(const char *path, json_object *obj, int flags, struct keel_error *err);

#endif
