#include "lib/json.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

int
keel_json_parse(const char *buf, size_t len, const char *what, json_object **ret,
                struct keel_error *err)
{
  if (len > INT_MAX)
    return keel_error_set(err, -EFBIG, "%s: document too large", what);
  json_tokener *tok = json_tokener_new();
  if (!tok)
    return keel_error_set(err, -ENOMEM, "%s: out of memory", what);
  json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t off = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (!o || jerr != json_tokener_success)
    {
      if (o)
        json_object_put(o);
      if (jerr == json_tokener_continue)
        return keel_error_set(err, -EINVAL, "%s: malformed JSON: unexpected end of input", what);
      return keel_error_set(err, -EINVAL, "%s: malformed JSON at byte %zu: %s", what, off,
                            json_tokener_error_desc(jerr));
    }
  /* Trailing garbage after the document is malformed too. */
  while (off < len && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\t' || buf[off] == '\r'))
    off++;
  if (off < len)
    {
      json_object_put(o);
      return keel_error_set(err, -EINVAL, "%s: malformed JSON: trailing data at byte %zu", what,
                            off);
    }
  *ret = o;
  return 0;
}

int
keel_json_parse_file(const char *path, json_object **ret, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  int r = keel_read_file(AT_FDCWD, path, 64 << 20, &buf, &len);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s'", path);
  return keel_json_parse(buf, len, path, ret, err);
}

static int
wrong_type(struct keel_error *err, const char *ctx, const char *key, const char *want)
{
  if (ctx && *ctx)
    return keel_error_set(err, -EINVAL, "%s.%s: expected %s", ctx, key, want);
  return keel_error_set(err, -EINVAL, "%s: expected %s", key, want);
}

static int
lookup(json_object *o, const char *key, json_object **v)
{
  if (!o || !json_object_object_get_ex(o, key, v))
    return 0;
  return 1;
}

int
keel_json_get_object(json_object *o, const char *key, const char *ctx, json_object **ret,
                     struct keel_error *err)
{
  json_object *v;
  if (!lookup(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_object))
    return wrong_type(err, ctx, key, "an object");
  *ret = v;
  return 1;
}

int
keel_json_get_array(json_object *o, const char *key, const char *ctx, json_object **ret,
                    struct keel_error *err)
{
  json_object *v;
  if (!lookup(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_array))
    return wrong_type(err, ctx, key, "an array");
  *ret = v;
  return 1;
}

int
keel_json_get_string(json_object *o, const char *key, const char *ctx, const char **ret,
                     struct keel_error *err)
{
  json_object *v;
  if (!lookup(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_string))
    return wrong_type(err, ctx, key, "a string");
  *ret = json_object_get_string(v);
  return 1;
}

int
keel_json_get_bool(json_object *o, const char *key, const char *ctx, bool *ret,
                   struct keel_error *err)
{
  json_object *v;
  if (!lookup(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_boolean))
    return wrong_type(err, ctx, key, "a boolean");
  *ret = json_object_get_boolean(v);
  return 1;
}

int
keel_json_get_int(json_object *o, const char *key, const char *ctx, int64_t min, int64_t max,
                  int64_t *ret, struct keel_error *err)
{
  json_object *v;
  if (!lookup(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_int))
    return wrong_type(err, ctx, key, "an integer");
  errno = 0;
  int64_t x = json_object_get_int64(v);
  /* json-c saturates values beyond int64 and sets errno. */
  if (errno == ERANGE || x < min || x > max
      || (x == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX))
    {
      if (ctx && *ctx)
        return keel_error_set(err, -ERANGE, "%s.%s: value out of range [%lld, %lld]", ctx, key,
                              (long long)min, (long long)max);
      return keel_error_set(err, -ERANGE, "%s: value out of range [%lld, %lld]", key,
                            (long long)min, (long long)max);
    }
  *ret = x;
  return 1;
}

int
keel_json_get_uint64(json_object *o, const char *key, const char *ctx, uint64_t *ret,
                     struct keel_error *err)
{
  json_object *v;
  if (!lookup(o, key, &v) || json_object_is_type(v, json_type_null))
    return 0;
  if (!json_object_is_type(v, json_type_int))
    return wrong_type(err, ctx, key, "an integer");
  if (json_object_get_int64(v) < 0)
    return wrong_type(err, ctx, key, "a non-negative integer");
  *ret = json_object_get_uint64(v);
  return 1;
}

int
keel_json_get_strv(json_object *o, const char *key, const char *ctx, char ***ret,
                   struct keel_error *err)
{
  json_object *arr;
  int r = keel_json_get_array(o, key, ctx, &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
  if (!v)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(arr, i);
      if (!json_object_is_type(e, json_type_string))
        return wrong_type(err, ctx, key, "an array of strings");
      v[i] = strdup(json_object_get_string(e));
      if (!v[i])
        return keel_error_set(err, -ENOMEM, "out of memory");
    }
  keel_strv_free(*ret);
  *ret = TAKE_PTR(v);
  return 1;
}

int
keel_json_write_file(const char *path, json_object *obj, int flags, struct keel_error *err)
{
  size_t len;
  const char *s = json_object_to_json_string_length(obj, flags, &len);
  if (!s)
    return keel_error_set(err, -ENOMEM, "cannot serialize '%s'", path);
  int r = keel_write_file_atomic(AT_FDCWD, path, s, len, 0644);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s'", path);
  return 0;
}
