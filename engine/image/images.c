/* Image records (images/<hex>.json) and the names table
 * (repositories.json).  Records are written before any name points at
 * them, names are one file replaced atomically, so a reader never sees a
 * name without its image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/store-internal.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

#define NAMES_FILE "repositories.json"

void
keel_image_free(struct keel_image *img)
{
  if (!img)
    return;
  free(img->layers);
  keel_strv_free(img->names);
  keel_strv_free(img->digests);
  free(img);
}

void
keel_image_list_free(struct keel_image **v, size_t n)
{
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    keel_image_free(v[i]);
  free(v);
}

int
store_names_load(struct keel_store *s, json_object **ret, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(s->dirfd, NAMES_FILE, 64 << 20, &buf, &len);
  if (r == -ENOENT)
    {
      *ret = json_object_new_object();
      return *ret ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
    }
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s/%s'", s->root, NAMES_FILE);
  _cleanup_json_ json_object *doc = NULL;
  if ((r = keel_json_parse(buf, len, NAMES_FILE, &doc, err)) < 0)
    return r;
  json_object *names;
  if ((r = keel_json_get_object(doc, "names", NAMES_FILE, &names, err)) < 0)
    return r;
  *ret = r ? json_object_get(names) : json_object_new_object();
  return 0;
}

int
store_names_save(struct keel_store *s, json_object *names, struct keel_error *err)
{
  _cleanup_json_ json_object *doc = json_object_new_object();
  if (!doc)
    return keel_error_set(err, -ENOMEM, "out of memory");
  json_object_object_add(doc, "names", json_object_get(names));
  size_t len;
  const char *text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PRETTY, &len);
  int r = keel_write_file_atomic(s->dirfd, NAMES_FILE, text, len, 0600);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s/%s'", s->root, NAMES_FILE);
  return 0;
}

static json_object *
image_to_json(const struct keel_image *img)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(img->id));
  json_object_object_add(o, "manifest", json_object_new_string(img->manifest));
  json_object_object_add(o, "platform", json_object_new_string(img->platform));
  json_object_object_add(o, "created", json_object_new_string(img->created));
  json_object_object_add(o, "pulled", json_object_new_int64(img->pulled));
  json_object_object_add(o, "size", json_object_new_uint64(img->size));
  json_object *layers = json_object_new_array();
  for (size_t i = 0; i < img->n_layers; i++)
    {
      const struct keel_image_layer *l = &img->layers[i];
      json_object *lo = json_object_new_object();
      json_object_object_add(lo, "chain", json_object_new_string(l->chain_id));
      json_object_object_add(lo, "diff", json_object_new_string(l->diff_id));
      json_object_object_add(lo, "digest", json_object_new_string(l->digest));
      json_object_object_add(lo, "mediaType", json_object_new_string(l->media_type));
      json_object_object_add(lo, "size", json_object_new_uint64(l->size));
      json_object_array_add(layers, lo);
    }
  json_object_object_add(o, "layers", layers);
  return o;
}

static int
get_digest(json_object *o, const char *key, const char *ctx, char *out, struct keel_error *err)
{
  const char *v = NULL;
  int r = keel_json_get_string(o, key, ctx, &v, err);
  if (r < 0)
    return r;
  if (!v || !keel_digest_valid(v))
    return keel_error_set(err, -EINVAL, "%s.%s: missing or not a digest", ctx, key);
  strcpy(out, v);
  return 0;
}

static int
parse_layers(json_object *doc, const char *ctx, struct keel_image *img, struct keel_error *err)
{
  json_object *layers;
  int r = keel_json_get_array(doc, "layers", ctx, &layers, err);
  if (r <= 0)
    return r < 0 ? r : keel_error_set(err, -EINVAL, "%s: missing layers", ctx);
  img->n_layers = json_object_array_length(layers);
  img->layers = calloc(img->n_layers + 1, sizeof(*img->layers));
  if (!img->layers)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < img->n_layers; i++)
    {
      json_object *lo = json_object_array_get_idx(layers, i);
      struct keel_image_layer *l = &img->layers[i];
      const char *mt = NULL;
      if ((r = get_digest(lo, "chain", ctx, l->chain_id, err)) < 0
          || (r = get_digest(lo, "diff", ctx, l->diff_id, err)) < 0
          || (r = get_digest(lo, "digest", ctx, l->digest, err)) < 0
          || (r = keel_json_get_string(lo, "mediaType", ctx, &mt, err)) < 0
          || (r = keel_json_get_uint64(lo, "size", ctx, &l->size, err)) < 0)
        return r;
      snprintf(l->media_type, sizeof(l->media_type), "%s", mt ? mt : "");
    }
  return 0;
}

int
store_image_load(struct keel_store *s, const char *hex, struct keel_image **ret,
                 struct keel_error *err)
{
  char rel[128], ctx[100];
  snprintf(rel, sizeof(rel), "images/%.64s.json", hex);
  snprintf(ctx, sizeof(ctx), "image %.12s", hex);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(s->dirfd, rel, 16 << 20, &buf, &len);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s/%s'", s->root, rel);
  _cleanup_json_ json_object *doc = NULL;
  if ((r = keel_json_parse(buf, len, rel, &doc, err)) < 0)
    return r;
  struct keel_image *img = calloc(1, sizeof(*img));
  if (!img)
    return keel_error_set(err, -ENOMEM, "out of memory");
  const char *plat = NULL, *created = NULL;
  uint64_t size = 0;
  if ((r = get_digest(doc, "id", ctx, img->id, err)) < 0
      || (r = get_digest(doc, "manifest", ctx, img->manifest, err)) < 0
      || (r = keel_json_get_string(doc, "platform", ctx, &plat, err)) < 0
      || (r = keel_json_get_string(doc, "created", ctx, &created, err)) < 0
      || (r = keel_json_get_int(doc, "pulled", ctx, 0, INT64_MAX, &img->pulled, err)) < 0
      || (r = keel_json_get_uint64(doc, "size", ctx, &size, err)) < 0
      || (r = parse_layers(doc, ctx, img, err)) < 0)
    {
      keel_image_free(img);
      return r;
    }
  if (strcmp(keel_digest_hex(img->id), hex))
    {
      keel_image_free(img);
      return keel_error_set(err, -EINVAL, "%s: record names image %s", ctx, img->id);
    }
  img->size = size;
  snprintf(img->platform, sizeof(img->platform), "%s", plat ? plat : "");
  snprintf(img->created, sizeof(img->created), "%s", created ? created : "");
  *ret = img;
  return 0;
}

int
store_image_fill_names(struct keel_image *img, json_object *names)
{
  size_t n = 0;
  json_object_object_foreach(names, k0, v0)
  {
    const char *id = NULL;
    (void)k0;
    if (keel_json_get_string(v0, "id", "", &id, NULL) > 0 && !strcmp(id, img->id))
      n++;
  }
  keel_strv_free(img->names);
  keel_strv_free(img->digests);
  img->names = calloc(n + 1, sizeof(char *));
  img->digests = calloc(n + 1, sizeof(char *));
  if (!img->names || !img->digests)
    return -ENOMEM;
  size_t i = 0;
  json_object_object_foreach(names, k, v)
  {
    const char *id = NULL, *digest = NULL;
    if (keel_json_get_string(v, "id", "", &id, NULL) <= 0 || strcmp(id, img->id))
      continue;
    keel_json_get_string(v, "digest", "", &digest, NULL);
    img->names[i] = strdup(k);
    img->digests[i] = strdup(digest ? digest : "");
    if (!img->names[i] || !img->digests[i])
      return -ENOMEM;
    i++;
  }
  return 0;
}

int
store_image_remove_record(struct keel_store *s, const char *id)
{
  char rel[128];
  snprintf(rel, sizeof(rel), "images/%s.json", keel_digest_hex(id));
  if (unlinkat(s->dirfd, rel, 0) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

static int
set_name(json_object *names, const char *name, const char *id, const char *digest)
{
  json_object *v = json_object_new_object();
  if (!v)
    return -ENOMEM;
  json_object_object_add(v, "id", json_object_new_string(id));
  if (digest && *digest)
    json_object_object_add(v, "digest", json_object_new_string(digest));
  json_object_object_add(names, name, v);
  return 0;
}

int
keel_store_image_commit(struct keel_store *s, const struct keel_image *img, const char *name,
                        const char *digest, struct keel_error *err)
{
  char rel[128];
  snprintf(rel, sizeof(rel), "images/%s.json", keel_digest_hex(img->id));
  int r = keel_store_lock(s, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *o = image_to_json(img);
  size_t len;
  const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PRETTY, &len);
  r = keel_write_file_atomic(s->dirfd, rel, text, len, 0600);
  if (r < 0)
    r = keel_error_set_errno(err, r, "cannot write '%s/%s'", s->root, rel);
  _cleanup_json_ json_object *names = NULL;
  if (r == 0 && name && (r = store_names_load(s, &names, err)) == 0)
    {
      if (set_name(names, name, img->id, digest) < 0)
        r = keel_error_set(err, -ENOMEM, "out of memory");
      else
        r = store_names_save(s, names, err);
    }
  keel_store_unlock(s);
  return r;
}

/* An id, "sha256:"-prefixed or not, or a unique prefix of one. */
static int
find_by_id(struct keel_store *s, const char *what, char hex[65], struct keel_error *err)
{
  const char *p = !strncmp(what, "sha256:", 7) ? what + 7 : what;
  size_t n = strlen(p);
  if (n < 3 || n > 64 || strspn(p, "0123456789abcdef") != n)
    return 0;
  _cleanup_closedir_ DIR *d = NULL;
  int fd = openat(s->dirfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || !(d = fdopendir(fd)))
    return keel_error_set_errno(err, -errno, "cannot list '%s/images'", s->root);
  int found = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      size_t l = strlen(de->d_name);
      if (l != 69 || strcmp(de->d_name + 64, ".json") || strncmp(de->d_name, p, n))
        continue;
      if (found++)
        return keel_error_set(err, -EINVAL, "image id prefix '%s' is ambiguous", what);
      memcpy(hex, de->d_name, 64);
      hex[64] = '\0';
    }
  return found;
}

int
keel_store_image_lookup(struct keel_store *s, const char *what, struct keel_image **ret,
                        struct keel_error *err)
{
  _cleanup_json_ json_object *names = NULL;
  int r = store_names_load(s, &names, err);
  if (r < 0)
    return r;
  char hex[65] = "";
  json_object *v;
  const char *id = NULL;
  if (json_object_object_get_ex(names, what, &v) && keel_json_get_string(v, "id", "", &id, NULL) > 0
      && keel_digest_valid(id))
    snprintf(hex, sizeof(hex), "%s", keel_digest_hex(id));
  else if ((r = find_by_id(s, what, hex, err)) < 0)
    return r;
  else if (r == 0)
    return keel_error_set(err, -ENOENT, "image not known: '%s'", what);
  struct keel_image *img;
  if ((r = store_image_load(s, hex, &img, err)) < 0)
    return r;
  if (store_image_fill_names(img, names) < 0)
    {
      keel_image_free(img);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  *ret = img;
  return 0;
}

static int
by_pulled_desc(const void *a, const void *b)
{
  const struct keel_image *x = *(struct keel_image *const *)a, *y = *(struct keel_image *const *)b;
  if (x->pulled != y->pulled)
    return x->pulled < y->pulled ? 1 : -1;
  return strcmp(x->id, y->id);
}

int
keel_store_image_list(struct keel_store *s, struct keel_image ***ret, size_t *ret_n,
                      struct keel_error *err)
{
  _cleanup_json_ json_object *names = NULL;
  int r = store_names_load(s, &names, err);
  if (r < 0)
    return r;
  _cleanup_closedir_ DIR *d = NULL;
  int fd = openat(s->dirfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || !(d = fdopendir(fd)))
    return keel_error_set_errno(err, -errno, "cannot list '%s/images'", s->root);
  struct keel_image **v = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (strlen(de->d_name) != 69 || strcmp(de->d_name + 64, ".json"))
        continue;
      char hex[65];
      memcpy(hex, de->d_name, 64);
      hex[64] = '\0';
      struct keel_image *img;
      if (store_image_load(s, hex, &img, NULL) < 0)
        continue; /* broken records are system check's business */
      struct keel_image **nv = realloc(v, (n + 1) * sizeof(*v));
      if (!nv || store_image_fill_names(img, names) < 0)
        {
          keel_image_free(img);
          keel_image_list_free(nv ? nv : v, n);
          return keel_error_set(err, -ENOMEM, "out of memory");
        }
      v = nv;
      v[n++] = img;
    }
  if (n)
    qsort(v, n, sizeof(*v), by_pulled_desc);
  *ret = v;
  *ret_n = n;
  return 0;
}

int
keel_store_tag(struct keel_store *s, const char *id, const char *name, struct keel_error *err)
{
  return keel_store_tag_digest(s, id, name, NULL, err);
}

int
keel_store_tag_digest(struct keel_store *s, const char *id, const char *name, const char *digest,
                      struct keel_error *err)
{
  int r = keel_store_lock(s, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *names = NULL;
  char rel[128];
  snprintf(rel, sizeof(rel), "images/%s.json", keel_digest_hex(id));
  if (faccessat(s->dirfd, rel, F_OK, 0) < 0)
    r = keel_error_set(err, -ENOENT, "image not known: '%s'", id);
  else if ((r = store_names_load(s, &names, err)) == 0)
    {
      if (set_name(names, name, id, digest) < 0)
        r = keel_error_set(err, -ENOMEM, "out of memory");
      else
        r = store_names_save(s, names, err);
    }
  keel_store_unlock(s);
  return r;
}

static size_t
count_names(json_object *names, const char *id)
{
  size_t n = 0;
  json_object_object_foreach(names, k, v)
  {
    const char *vid = NULL;
    (void)k;
    if (keel_json_get_string(v, "id", "", &vid, NULL) > 0 && !strcmp(vid, id))
      n++;
  }
  return n;
}

int
keel_store_untag(struct keel_store *s, const char *name, struct keel_error *err)
{
  int r = keel_store_lock(s, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *names = NULL;
  json_object *v;
  const char *vid = NULL;
  char id[KEEL_DIGEST_MAX] = "";
  if ((r = store_names_load(s, &names, err)) < 0)
    goto out;
  if (!json_object_object_get_ex(names, name, &v)
      || keel_json_get_string(v, "id", "", &vid, NULL) <= 0)
    {
      r = keel_error_set(err, -ENOENT, "image not known: '%s'", name);
      goto out;
    }
  snprintf(id, sizeof(id), "%s", vid);
  json_object_object_del(names, name);
  if ((r = store_names_save(s, names, err)) < 0)
    goto out;
  r = 0;
  if (count_names(names, id) == 0)
    {
      store_image_remove_record(s, id);
      r = 1;
    }
out:
  keel_store_unlock(s);
  return r;
}

int
keel_store_image_remove(struct keel_store *s, const char *id, bool force, struct keel_error *err)
{
  int r = keel_store_lock(s, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *names = NULL;
  if ((r = store_names_load(s, &names, err)) < 0)
    goto out;
  size_t n = count_names(names, id);
  if (n > 1 && !force)
    {
      r = keel_error_set(err, -EBUSY,
                         "image %.19s has %zu names: remove them by name, or use --force", id, n);
      goto out;
    }
  if (n)
    {
      /* Collect first: deleting while iterating json-c's table is unsafe. */
      _cleanup_strv_ char **drop = calloc(n + 1, sizeof(char *));
      size_t i = 0;
      json_object_object_foreach(names, k, v)
      {
        const char *vid = NULL;
        if (drop && keel_json_get_string(v, "id", "", &vid, NULL) > 0 && !strcmp(vid, id))
          drop[i++] = strdup(k);
      }
      for (size_t j = 0; drop && j < i; j++)
        if (drop[j])
          json_object_object_del(names, drop[j]);
      if ((r = store_names_save(s, names, err)) < 0)
        goto out;
    }
  r = store_image_remove_record(s, id);
  if (r < 0)
    r = keel_error_set_errno(err, r, "cannot remove image %s", id);
out:
  keel_store_unlock(s);
  return r;
}
