/* The image config document a stage builds up: small edits of its
 * "config" object (Env, Cmd, Labels, ...) in the OCI / Docker layout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "build/bld.h"
#include "build/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"

json_object *
doc_config(json_object *doc)
{
  return working_obj(doc, "config");
}

static json_object *
config_obj(json_object *doc, const char *field)
{
  return working_obj(doc_config(doc), field);
}

static json_object *
config_array(json_object *doc, const char *field)
{
  json_object *c = doc_config(doc), *o;
  if (json_object_object_get_ex(c, field, &o) && json_object_is_type(o, json_type_array))
    return o;
  o = json_object_new_array();
  json_object_object_add(c, field, o);
  return o;
}

const char *
doc_getenv(json_object *doc, const char *key)
{
  json_object *env;
  if (!json_object_object_get_ex(doc_config(doc), "Env", &env)
      || !json_object_is_type(env, json_type_array))
    return NULL;
  size_t kl = strlen(key);
  for (size_t i = 0; i < json_object_array_length(env); i++)
    {
      const char *e = json_object_get_string(json_object_array_get_idx(env, i));
      if (e && strncmp(e, key, kl) == 0 && e[kl] == '=')
        return e + kl + 1;
    }
  return NULL;
}

void
doc_setenv(json_object *doc, const char *key, const char *value)
{
  json_object *env = config_array(doc, "Env");
  size_t kl = strlen(key);
  _cleanup_free_ char *kv = NULL;
  if (asprintf(&kv, "%s=%s", key, value) < 0)
    return;
  for (size_t i = 0; i < json_object_array_length(env); i++)
    {
      const char *e = json_object_get_string(json_object_array_get_idx(env, i));
      if (e && strncmp(e, key, kl) == 0 && e[kl] == '=')
        {
          json_object_array_put_idx(env, i, json_object_new_string(kv));
          return;
        }
    }
  json_object_array_add(env, json_object_new_string(kv));
}

char **
doc_strv(json_object *doc, const char *key)
{
  json_object *a;
  struct keel_strv v = { 0 };
  if (json_object_object_get_ex(doc_config(doc), key, &a)
      && json_object_is_type(a, json_type_array))
    for (size_t i = 0; i < json_object_array_length(a); i++)
      if (!keel_strv_pushdup(&v, json_object_get_string(json_object_array_get_idx(a, i)) ?: ""))
        {
          keel_strv_clear(&v);
          return NULL;
        }
  return keel_strv_steal(&v);
}

char **
doc_env(json_object *doc)
{
  return doc_strv(doc, "Env");
}

const char *
doc_str(json_object *doc, const char *key)
{
  return working_str(doc_config(doc), key);
}

void
doc_set_str(json_object *doc, const char *key, const char *value)
{
  if (value)
    json_object_object_add(doc_config(doc), key, json_object_new_string(value));
  else
    json_object_object_del(doc_config(doc), key);
}

void
doc_set_strv(json_object *doc, const char *key, char *const *v)
{
  if (!v)
    {
      json_object_object_del(doc_config(doc), key);
      return;
    }
  json_object *a = json_object_new_array();
  for (size_t i = 0; v[i]; i++)
    json_object_array_add(a, json_object_new_string(v[i]));
  json_object_object_add(doc_config(doc), key, a);
}

void
doc_set_label(json_object *doc, const char *key, const char *value)
{
  json_object_object_add(config_obj(doc, "Labels"), key, json_object_new_string(value));
}

/* ExposedPorts / Volumes: {"key": {}}. */
void
doc_add_set_key(json_object *doc, const char *field, const char *key)
{
  json_object_object_add(config_obj(doc, field), key, json_object_new_object());
}

void
doc_append(json_object *doc, const char *field, const char *value)
{
  json_object_array_add(config_array(doc, field), json_object_new_string(value));
}

void
doc_history(json_object *doc, const char *created_by, bool empty_layer)
{
  char now[64];
  working_now(now, sizeof(now), -1);
  working_history_add(doc, now, created_by, NULL, empty_layer);
}

int
doc_load(struct keel_store *s, const char *id, json_object **ret, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_store_blob_read(s, id, 4 << 20, &buf, &len, err);
  if (r < 0)
    return r;
  return keel_json_parse(buf, len, "image config", ret, err);
}

json_object *
doc_scratch(const char *platform)
{
  json_object *doc = json_object_new_object();
  char os[32] = "linux", arch[32] = "amd64";
  if (platform)
    sscanf(platform, "%31[^/]/%31[^/]", os, arch);
  json_object_object_add(doc, "architecture", json_object_new_string(arch));
  json_object_object_add(doc, "os", json_object_new_string(os));
  /* As docker build and buildah: a scratch image still gets a PATH. */
  json_object *config = json_object_new_object(), *env = json_object_new_array();
  json_object_array_add(
      env,
      json_object_new_string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  json_object_object_add(config, "Env", env);
  json_object_object_add(doc, "config", config);
  json_object *rootfs = json_object_new_object();
  json_object_object_add(rootfs, "type", json_object_new_string("layers"));
  json_object_object_add(rootfs, "diff_ids", json_object_new_array());
  json_object_object_add(doc, "rootfs", rootfs);
  return doc;
}
