/* Working containers: records, rootfs, and the image config being edited.
 * Run is in run.c, copy in copy.c, config changes in config.c, commit in
 * commit.c. */
#include "build/working.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build/internal.h"
#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/json.h"

void
working_now(char *buf, size_t size, int64_t at)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (at >= 0)
    ts = (struct timespec){ .tv_sec = (time_t)at };
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  if (at >= 0)
    snprintf(buf + n, size - n, "Z");
  else
    snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

json_object *
working_obj(json_object *o, const char *key)
{
  json_object *v;
  if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
    return v;
  v = json_object_new_object();
  json_object_object_add(o, key, v);
  return v;
}

const char *
working_str(json_object *o, const char *key)
{
  json_object *v;
  if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

const char *
keel_working_id(const struct keel_working *w)
{
  return w->id;
}

const char *
keel_working_name(const struct keel_working *w)
{
  return working_str(w->rec, "Name");
}

const char *
keel_working_image(const struct keel_working *w)
{
  const char *s = working_str(w->rec, "Image");
  return s ? s : "";
}

const char *
keel_working_from(const struct keel_working *w)
{
  const char *s = working_str(w->rec, "ImageName");
  return s ? s : "";
}

json_object *
keel_working_image_config(struct keel_working *w)
{
  return working_obj(w->rec, "ImageConfig");
}

json_object *
keel_working_config(struct keel_working *w)
{
  return working_obj(keel_working_image_config(w), "config");
}

void
keel_working_free(struct keel_working *w)
{
  if (!w)
    return;
  json_object_put(w->rec);
  free(w);
}

/* A handle over a record (taken). */
static int
handle(struct keel_store *s, const char *id, json_object *rec, struct keel_working **ret,
       struct keel_error *err)
{
  struct keel_working *w = calloc(1, sizeof(*w));
  if (!w)
    {
      json_object_put(rec);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  w->store = s;
  snprintf(w->id, sizeof(w->id), "%s", id);
  w->rec = rec;
  *ret = w;
  return 0;
}

/* The image's config document, or a fresh one for scratch. */
static int
base_config(struct keel_store *s, const struct keel_image *img, const char *platform,
            json_object **ret, struct keel_error *err)
{
  if (img)
    {
      _cleanup_free_ char *buf = NULL;
      size_t len;
      int r = keel_store_blob_read(s, img->id, KEEL_CONFIG_MAX_BYTES, &buf, &len, err);
      return r < 0 ? r : keel_json_parse(buf, len, "image config", ret, err);
    }
  struct keel_platform p;
  int r = keel_platform_parse(platform ? platform : "", &p, err);
  if (r < 0)
    return r;
  json_object *c = json_object_new_object();
  json_object_object_add(c, "architecture", json_object_new_string(p.arch));
  json_object_object_add(c, "os", json_object_new_string(p.os));
  if (p.variant[0])
    json_object_object_add(c, "variant", json_object_new_string(p.variant));
  json_object_object_add(c, "config", json_object_new_object());
  json_object_object_add(c, "history", json_object_new_array());
  *ret = c;
  return 0;
}

/* buildah's default name: the image's last path component without its
 * tag or digest, then "-working-container". */
static void
default_name(const char *image, char *buf, size_t size)
{
  const char *base = strrchr(image, '/');
  base = base ? base + 1 : image;
  size_t n = strcspn(base, ":@");
  snprintf(buf, size, "%.*s-working-container", (int)(n > 100 ? 100 : n), base);
}

static int
new_record(struct keel_store *s, const struct keel_working_create_opts *o, json_object *rec,
           char id[KEEL_CTR_ID_LEN + 1], struct keel_error *err)
{
  if (o->name)
    {
      json_object_object_add(rec, "Name", json_object_new_string(o->name));
      return keel_ctr_new(keel_store_root(s), rec, id, err);
    }
  char base[160], name[180];
  default_name(o->ref ? o->ref : o->image, base, sizeof(base));
  for (int i = 1; i < 1000; i++)
    {
      if (i == 1)
        snprintf(name, sizeof(name), "%s", base);
      else
        snprintf(name, sizeof(name), "%s-%d", base, i);
      json_object_object_add(rec, "Name", json_object_new_string(name));
      keel_error_clear(err);
      int r = keel_ctr_new(keel_store_root(s), rec, id, err);
      if (r != -EEXIST)
        return r;
    }
  return keel_error_set(err, -EEXIST, "too many working containers named '%s'", base);
}

int
keel_working_create(struct keel_store *s, const struct keel_working_create_opts *o,
                    struct keel_working **ret, struct keel_error *err)
{
  if (!o->image || !*o->image)
    return keel_error_set(err, -EINVAL, "no image given");
  bool scratch = !strcmp(o->image, "scratch");
  struct keel_image *img = NULL;
  int r = scratch ? 0 : keel_store_image_lookup(s, o->image, &img, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *icfg = NULL;
  r = base_config(s, img, o->platform, &icfg, err);
  if (r < 0)
    {
      keel_image_free(img);
      return r;
    }
  char now[64];
  working_now(now, sizeof(now), -1);
  _cleanup_json_ json_object *rec = json_object_new_object();
  json_object_object_add(rec, "Kind", json_object_new_string(KEEL_WORKING_KIND));
  json_object_object_add(rec, "Image", json_object_new_string(img ? img->id : ""));
  json_object_object_add(rec, "ImageName", json_object_new_string(o->ref ? o->ref : o->image));
  json_object_object_add(rec, "Created", json_object_new_string(now));
  json_object *host = json_object_new_object();
  json_object_object_add(host, "NetworkMode", json_object_new_string("none"));
  json_object_object_add(rec, "HostConfig", host);
  json_object_object_add(rec, "Config", json_object_new_object());
  json_object_object_add(rec, "ImageConfig", json_object_get(icfg));
  keel_image_free(img);
  char id[KEEL_CTR_ID_LEN + 1];
  if ((r = new_record(s, o, rec, id, err)) < 0)
    return r;
  return handle(s, id, TAKE_PTR(rec), ret, err);
}

int
keel_working_open(struct keel_store *s, const char *what, struct keel_working **ret,
                  struct keel_error *err)
{
  char id[KEEL_CTR_ID_LEN + 1];
  _cleanup_json_ json_object *rec = NULL;
  int r = keel_ctr_lookup(keel_store_root(s), what, id, &rec, err);
  if (r < 0)
    return r;
  const char *kind = working_str(rec, "Kind");
  if (!kind || strcmp(kind, KEEL_WORKING_KIND))
    return keel_error_set(err, -EMEDIUMTYPE, "'%s' is a container, not a working container", what);
  return handle(s, id, TAKE_PTR(rec), ret, err);
}

int
keel_working_list(struct keel_store *s, char ***ret_ids, size_t *ret_n, struct keel_error *err)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n = 0, k = 0;
  int r = keel_ctr_list(keel_store_root(s), &ids, &n, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_json_ json_object *rec = NULL;
      const char *kind;
      if (keel_ctr_load(keel_store_root(s), ids[i], &rec, NULL) == 0
          && (kind = working_str(rec, "Kind")) && !strcmp(kind, KEEL_WORKING_KIND))
        ids[k++] = TAKE_PTR(ids[i]);
      else
        free(TAKE_PTR(ids[i]));
    }
  if (ids)
    ids[k] = NULL;
  *ret_ids = TAKE_PTR(ids);
  *ret_n = k;
  return 0;
}

int
keel_working_save(struct keel_working *w, struct keel_error *err)
{
  return keel_ctr_save(keel_store_root(w->store), w->id, w->rec, err);
}

int
keel_working_remove(struct keel_working *w, struct keel_error *err)
{
  int r = keel_working_umount(w, err);
  if (r >= 0)
    r = keel_ctr_remove(keel_store_root(w->store), w->id, err);
  keel_working_free(w);
  return r;
}

/* ---- rootfs ---- */

bool
keel_working_mounted(const struct keel_working *w)
{
  return keel_ctr_mounted(keel_store_root(w->store), w->id);
}

int
working_lowers(struct keel_store *s, const char *image, const char *empty, char ***ret,
               size_t *ret_n, struct keel_error *err)
{
  struct keel_image *img = NULL;
  int r = *image ? keel_store_image_lookup(s, image, &img, err) : 0;
  if (r < 0)
    return keel_error_prefix(err, "the working container's image");
  size_t n = img ? img->n_layers : 0;
  char **v = calloc(n + 2, sizeof(*v));
  if (!v)
    r = keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; r >= 0 && i < n; i++)
    if (!keel_store_layer_exists(s, img->layers[i].chain_id)
        || (r = keel_store_layer_path(s, img->layers[i].chain_id, &v[i])) < 0)
      r = keel_error_set(err, -ENOENT, "layer %s of image %.19s is missing",
                         img->layers[i].chain_id, img->id);
  /* an empty bottom layer: scratch has no other, and an overlay without an
   * upper directory needs two */
  if (r >= 0 && empty && !(v[n++] = strdup(empty)))
    r = keel_error_set(err, -ENOMEM, "out of memory");
  keel_image_free(img);
  if (r < 0)
    {
      keel_strv_free(v);
      return r;
    }
  /* bottom first: the empty layer goes under the image's */
  if (empty && n > 1)
    {
      char *e = v[n - 1];
      memmove(v + 1, v, (n - 1) * sizeof(*v));
      v[0] = e;
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

int
keel_working_mount(struct keel_working *w, const char **ret_path, struct keel_error *err)
{
  const char *root = keel_store_root(w->store);
  keel_ctr_path(root, w->id, "rootfs", w->rootfs, sizeof(w->rootfs));
  if (ret_path)
    *ret_path = w->rootfs;
  if (keel_working_mounted(w))
    return 0;
  char empty[4096];
  keel_ctr_path(root, w->id, "empty", empty, sizeof(empty));
  if (mkdir(empty, 0755) < 0 && errno != EEXIST)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", empty);
  _cleanup_strv_ char **lowers = NULL;
  size_t n;
  int r = working_lowers(w->store, keel_working_image(w), *keel_working_image(w) ? NULL : empty,
                         &lowers, &n, err);
  return r < 0 ? r : keel_ctr_mount(root, w->id, lowers, n, err);
}

int
keel_working_umount(struct keel_working *w, struct keel_error *err)
{
  int r = keel_ctr_umount(keel_store_root(w->store), w->id);
  return r < 0 ? keel_error_set_errno(err, r, "cannot unmount working container %s",
                                      keel_working_name(w))
               : 0;
}
