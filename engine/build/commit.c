/* Commit: changes (an overlay upper dir) + config → a new image in the
 * store.  Order: layer (blob + unpacked directory, synced and renamed into
 * place), config blob, manifest blob, image record, and names last — each
 * step durable before the next, all under the gc lock shared, so a commit
 * that fails or is killed leaves no name on anything half-made, only
 * orphans that gc removes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/internal.h"
#include "build/layer.h"
#include "image/unpack.h"
#include "lib/cleanup.h"
#include "lib/json.h"

struct new_layer
{
  bool present;
  struct keel_layer_info info;
  char media_type[128];
};

static const char *
layer_media_type(enum keel_layer_compression c)
{
  return c == KEEL_COMPRESSION_ZSTD   ? KEEL_MT_OCI_LAYER_ZSTD
         : c == KEEL_COMPRESSION_NONE ? KEEL_MT_OCI_LAYER
                                      : KEEL_MT_OCI_LAYER_GZIP;
}

/* Docker's layer type inside an OCI manifest is the OCI one, same bytes. */
static const char *
oci_media_type(const char *mt)
{
  return !strcmp(mt, KEEL_MT_DOCKER_LAYER) ? KEEL_MT_OCI_LAYER_GZIP : mt;
}

/* Unpack what was written, so the layer the store mounts is exactly the
 * tar it will push; the two digests must agree with the writer's. */
static int
unpack_back(struct keel_layer_tmp *t, int blob_fd, const struct keel_layer_write_result *wr,
            struct keel_unpack_stats *st, struct keel_error *err)
{
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/fd/%d", blob_fd);
  _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot reopen the new layer");
  struct keel_unpack_source src = { keel_unpack_read_fd, &fd };
  struct keel_unpack_opts uo = { .max_bytes = KEEL_LAYER_MAX_BYTES };
  int r = keel_unpack_layer(keel_store_layer_tmp_fd(t), &src, &uo, st, err);
  if (r < 0)
    return keel_error_prefix(err, "the new layer");
  if (strcmp(st->diff_id, wr->diff_id) || strcmp(st->digest, wr->digest))
    return keel_error_set(err, -EIO, "the new layer changed while it was written");
  return 0;
}

static int
write_layer(struct keel_store *s, const struct keel_image *base, int upper,
            const struct keel_commit_opts *o, struct new_layer *nl, struct keel_error *err)
{
  struct keel_layer_tmp *t = NULL;
  int r = keel_store_layer_tmp_new(s, &t, err);
  if (r < 0)
    return r;
  struct keel_layer_write_opts lo = { o->compression, o->source_date, o->rewrite_timestamps };
  struct keel_layer_write_result wr;
  struct keel_unpack_stats st;
  int blob = keel_store_layer_tmp_blob(t, err);
  r = blob < 0 ? blob : keel_layer_write(upper, blob, &lo, &wr, err);
  if (r == 0)
    r = unpack_back(t, blob, &wr, &st, err);
  if (r < 0)
    {
      keel_store_layer_tmp_free(t);
      return r;
    }
  struct keel_layer_info *i = &nl->info;
  memset(i, 0, sizeof(*i));
  strcpy(i->diff_id, wr.diff_id);
  strcpy(i->digest, wr.digest);
  i->size = wr.size;
  i->unpacked = st.content_bytes;
  size_t n = base ? base->n_layers : 0;
  if (n)
    strcpy(i->parent, base->layers[n - 1].chain_id);
  char *ids[2] = { i->parent, i->diff_id };
  char chain[2][KEEL_DIGEST_MAX];
  /* chain(n) = sha256(chain(n-1) + " " + diff(n)) */
  if (n)
    {
      char buf[2 * KEEL_DIGEST_MAX + 2];
      snprintf(buf, sizeof(buf), "%s %s", ids[0], ids[1]);
      keel_digest_buffer(buf, strlen(buf), i->chain_id);
    }
  else
    {
      keel_chain_ids(&ids[1], 1, chain);
      strcpy(i->chain_id, chain[0]);
    }
  nl->present = true;
  snprintf(nl->media_type, sizeof(nl->media_type), "%s", layer_media_type(o->compression));
  return keel_store_layer_commit(s, t, i, err);
}

static json_object *
descriptor(const char *mt, const char *digest, uint64_t size)
{
  json_object *d = json_object_new_object();
  json_object_object_add(d, "mediaType", json_object_new_string(mt));
  json_object_object_add(d, "digest", json_object_new_string(digest));
  json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
  return d;
}

/* The config's rootfs, created time and history for this commit. */
static json_object *
final_config(json_object *image_config, const struct keel_image *base, const struct new_layer *nl,
             const struct keel_commit_opts *o)
{
  json_object *c = NULL;
  json_object_deep_copy(image_config, &c, NULL);
  char now[64];
  working_now(now, sizeof(now), o->source_date);
  json_object_object_add(c, "created", json_object_new_string(now));
  json_object *rootfs = json_object_new_object(), *ids = json_object_new_array();
  for (size_t i = 0; base && i < base->n_layers; i++)
    json_object_array_add(ids, json_object_new_string(base->layers[i].diff_id));
  if (nl->present)
    json_object_array_add(ids, json_object_new_string(nl->info.diff_id));
  json_object_object_add(rootfs, "type", json_object_new_string("layers"));
  json_object_object_add(rootfs, "diff_ids", ids);
  json_object_object_add(c, "rootfs", rootfs);
  if (!o->omit_history)
    working_history_add(c, now, o->created_by ? o->created_by : "", o->comment, !nl->present);
  if (!working_str(c, "architecture") || !working_str(c, "os"))
    {
      struct keel_platform p;
      keel_platform_host(&p);
      json_object_object_add(c, "architecture", json_object_new_string(p.arch));
      json_object_object_add(c, "os", json_object_new_string(p.os));
    }
  return c;
}

static int
put_json(struct keel_store *s, json_object *o, char digest[KEEL_DIGEST_MAX], size_t *ret_len,
         struct keel_error *err)
{
  size_t len;
  const char *text = json_object_to_json_string_length(
      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (!text)
    return keel_error_set(err, -ENOMEM, "out of memory");
  keel_digest_buffer(text, len, digest);
  *ret_len = len;
  return keel_store_blob_put(s, digest, text, len, err);
}

static int
record_image(struct keel_store *s, const struct keel_image *base, const struct new_layer *nl,
             json_object *cfg, const char *manifest, const struct keel_commit_opts *o,
             const char *id, struct keel_error *err)
{
  size_t n = (base ? base->n_layers : 0) + nl->present;
  struct keel_image img = { .n_layers = n, .pulled = (int64_t)time(NULL) };
  _cleanup_free_ struct keel_image_layer *layers = calloc(n + 1, sizeof(*layers));
  if (!layers)
    return keel_error_set(err, -ENOMEM, "out of memory");
  img.layers = layers;
  snprintf(img.id, sizeof(img.id), "%s", id);
  snprintf(img.manifest, sizeof(img.manifest), "%s", manifest);
  const char *v = working_str(cfg, "variant");
  snprintf(img.platform, sizeof(img.platform), "%s/%s%s%s", working_str(cfg, "os"),
           working_str(cfg, "architecture"), v ? "/" : "", v ? v : "");
  snprintf(img.created, sizeof(img.created), "%s", working_str(cfg, "created"));
  for (size_t i = 0; base && i < base->n_layers; i++)
    {
      struct keel_layer_info info;
      layers[i] = base->layers[i];
      snprintf(layers[i].media_type, sizeof(layers[i].media_type), "%s",
               oci_media_type(base->layers[i].media_type));
      if (keel_store_layer_read(s, layers[i].chain_id, &info) == 0)
        img.size += info.unpacked;
    }
  if (nl->present)
    {
      struct keel_image_layer *l = &layers[n - 1];
      strcpy(l->chain_id, nl->info.chain_id);
      strcpy(l->diff_id, nl->info.diff_id);
      strcpy(l->digest, nl->info.digest);
      strcpy(l->media_type, nl->media_type);
      l->size = nl->info.size;
      img.size += nl->info.unpacked;
    }
  /* the record first, the names after it: a reader never sees a name
   * without its image */
  const char *first = o->names && o->names[0] && *o->names[0] ? o->names[0] : NULL;
  int r = keel_store_image_commit(s, &img, first, manifest, err);
  for (size_t i = 1; r >= 0 && first && o->names[i]; i++)
    if (*o->names[i])
      r = keel_store_tag(s, id, o->names[i], err);
  return r;
}

static int
write_image(struct keel_store *s, const struct keel_image *base, const struct new_layer *nl,
            json_object *image_config, const struct keel_commit_opts *o,
            char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  _cleanup_json_ json_object *cfg = final_config(image_config, base, nl, o);
  char id[KEEL_DIGEST_MAX], mdigest[KEEL_DIGEST_MAX];
  size_t clen, mlen;
  int r = put_json(s, cfg, id, &clen, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *m = json_object_new_object();
  json_object *layers = json_object_new_array();
  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  json_object_object_add(m, "mediaType", json_object_new_string(KEEL_MT_OCI_MANIFEST));
  json_object_object_add(m, "config", descriptor(KEEL_MT_OCI_CONFIG, id, clen));
  for (size_t i = 0; base && i < base->n_layers; i++)
    json_object_array_add(layers, descriptor(oci_media_type(base->layers[i].media_type),
                                             base->layers[i].digest, base->layers[i].size));
  if (nl->present)
    json_object_array_add(layers, descriptor(nl->media_type, nl->info.digest, nl->info.size));
  json_object_object_add(m, "layers", layers);
  if ((r = put_json(s, m, mdigest, &mlen, err)) < 0)
    return r;
  if ((r = record_image(s, base, nl, cfg, mdigest, o, id, err)) < 0)
    return r;
  strcpy(ret_id, id);
  return 0;
}

static int
check_names(const struct keel_commit_opts *o, struct keel_error *err)
{
  for (size_t i = 0; o->names && o->names[i]; i++)
    if (*o->names[i] && (strchr(o->names[i], ' ') || !strchr(o->names[i], ':')))
      return keel_error_set(err, -EINVAL, "invalid image name '%s'", o->names[i]);
  return 0;
}

int
keel_build_commit(struct keel_store *s, const struct keel_image *base, const char *upper_dir,
                  json_object *image_config, const struct keel_commit_opts *o,
                  char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  struct new_layer nl = { 0 };
  int r = check_names(o, err);
  if (r < 0)
    return r;
  if (o->compression != KEEL_COMPRESSION_GZIP && o->compression != KEEL_COMPRESSION_ZSTD
      && o->compression != KEEL_COMPRESSION_NONE)
    return keel_error_set(err, -EINVAL, "unknown layer compression");
  if ((r = keel_store_pull_begin(s, err)) < 0)
    return r;
  _cleanup_close_ int upper = -EBADF;
  if (upper_dir && !o->omit_layer)
    {
      upper = open(upper_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (upper < 0)
        r = keel_error_set_errno(err, -errno, "cannot open '%s'", upper_dir);
      else if ((r = keel_layer_dir_empty(upper, err)) == 0)
        r = write_layer(s, base, upper, o, &nl, err);
      else if (r > 0)
        r = 0; /* nothing changed: no layer, an empty_layer history entry */
    }
  if (r >= 0)
    r = write_image(s, base, &nl, image_config, o, ret_id, err);
  keel_store_pull_end(s);
  return r < 0 ? r : 0;
}

int
keel_working_commit(struct keel_working *w, const struct keel_commit_opts *o,
                    char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  int r = keel_working_save(w, err);
  if (r < 0)
    return r;
  struct keel_image *base = NULL;
  const char *image = keel_working_image(w);
  if (*image && (r = keel_store_image_lookup(w->store, image, &base, err)) < 0)
    return keel_error_prefix(err, "the working container's image");
  char upper[4096];
  keel_ctr_path(keel_store_root(w->store), w->id, "upper", upper, sizeof(upper));
  /* never mounted: nothing changed yet */
  bool none = access(upper, F_OK) < 0;
  r = keel_build_commit(w->store, base, none ? NULL : upper, keel_working_image_config(w), o,
                        ret_id, err);
  keel_image_free(base);
  return r;
}
