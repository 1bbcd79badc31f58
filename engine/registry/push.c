#include "registry/push.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/compress.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "registry/reference.h"
#include "registry/upload.h"

#define MAX_MOUNT_SOURCES   4
#define MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

struct layer_plan
{
  int fd; /* the blob to send: stored, or a recompressed tmpfile */
  struct keel_descriptor out;
};

struct push
{
  struct keel_store *store;
  const struct keel_image *img;
  const char *manifest_digest; /* the stored manifest to send: img's, or another of its own */
  const struct keel_push_opts *opts;
  struct keel_reference dest;
  struct keel_registry *registry;
  char *manifest_buf, *config_buf;
  size_t manifest_len, config_len;
  struct keel_manifest manifest;
  enum keel_push_format format; /* settled: OCI or V2S2 */
  struct layer_plan *layers;
  char *sources[MAX_MOUNT_SOURCES + 1];
};

static void
push_free(struct push *p)
{
  keel_registry_free(p->registry);
  free(p->manifest_buf);
  free(p->config_buf);
  keel_manifest_free(&p->manifest);
  for (size_t i = 0; p->layers && i < p->img->n_layers; i++)
    if (p->layers[i].fd >= 0)
      close(p->layers[i].fd);
  free(p->layers);
  for (size_t i = 0; p->sources[i]; i++)
    free(p->sources[i]);
}

static void
emit(const struct push *p, enum keel_push_event_kind kind, const char *digest, const char *msg)
{
  if (!p->opts->progress)
    return;
  struct keel_push_event ev = { kind, digest, msg };
  p->opts->progress(p->opts->progress_userdata, &ev);
}

static const char *
layer_media_type(enum keel_push_format f, enum keel_layer_compression c)
{
  if (f == KEEL_PUSH_FORMAT_V2S2)
    return c == KEEL_COMPRESSION_NONE ? MT_DOCKER_LAYER_TAR : KEEL_MT_DOCKER_LAYER;
  return c == KEEL_COMPRESSION_NONE   ? KEEL_MT_OCI_LAYER
         : c == KEEL_COMPRESSION_ZSTD ? KEEL_MT_OCI_LAYER_ZSTD
                                      : KEEL_MT_OCI_LAYER_GZIP;
}

/* Other repositories of the destination registry the image is named in:
 * the registry may mount their blobs instead of taking them again. */
static void
find_sources(struct push *p)
{
  size_t n = 0;
  for (size_t i = 0; p->img->names && p->img->names[i] && n < MAX_MOUNT_SOURCES; i++)
    {
      struct keel_reference ref;
      if (keel_reference_parse(p->img->names[i], &ref, NULL) < 0
          || strcmp(ref.domain, p->dest.domain) || !strcmp(ref.path, p->dest.path))
        continue;
      bool dup = false;
      for (size_t k = 0; k < n; k++)
        dup = dup || !strcmp(p->sources[k], ref.path);
      if (!dup && (p->sources[n] = strdup(ref.path)))
        n++;
    }
}

static int
load_documents(struct push *p, struct keel_error *err)
{
  int r = keel_store_blob_read(p->store, p->manifest_digest, KEEL_MANIFEST_MAX_BYTES,
                               &p->manifest_buf, &p->manifest_len, err);
  if (r < 0
      || (r = keel_manifest_parse(p->manifest_buf, p->manifest_len, NULL, &p->manifest, err)) < 0)
    return r;
  if (p->manifest.kind != KEEL_DOC_MANIFEST || p->manifest.n_layers != p->img->n_layers)
    return keel_error_set(err, -EBADMSG, "image %.19s: its manifest does not match its record",
                          keel_digest_hex(p->img->id));
  r = keel_store_blob_read(p->store, p->img->id, KEEL_CONFIG_MAX_BYTES, &p->config_buf,
                           &p->config_len, err);
  if (r < 0)
    return r;
  p->format = p->opts->format;
  if (p->format == KEEL_PUSH_FORMAT_KEEP)
    p->format = !strcmp(p->manifest.media_type, KEEL_MT_DOCKER_MANIFEST) ? KEEL_PUSH_FORMAT_V2S2
                                                                         : KEEL_PUSH_FORMAT_OCI;
  return 0;
}

/* The stored blob of layer i: the one the image names, else the one its
 * (shared) layer was unpacked from, which has the same tar inside. */
static int
open_layer_blob(struct push *p, size_t i, int *ret_fd, char digest[KEEL_DIGEST_MAX],
                uint64_t *ret_size, struct keel_error *err)
{
  const struct keel_image_layer *l = &p->img->layers[i];
  struct keel_layer_info info;
  const char *d = l->digest;
  if (!keel_store_blob_exists(p->store, d)
      && keel_store_layer_read(p->store, l->chain_id, &info) == 0
      && keel_store_blob_exists(p->store, info.digest))
    d = info.digest;
  if (!keel_store_blob_exists(p->store, d))
    return keel_error_set(err, -ENOENT,
                          "layer %s: no compressed blob in the store (pulled by an older keel? "
                          "pull the image again)",
                          l->digest);
  snprintf(digest, KEEL_DIGEST_MAX, "%s", d);
  return keel_store_blob_open(p->store, d, ret_fd, ret_size, err);
}

static int
plan_layer(struct push *p, size_t i, struct keel_error *err)
{
  struct layer_plan *pl = &p->layers[i];
  char digest[KEEL_DIGEST_MAX];
  uint64_t size;
  enum keel_layer_compression have, want;
  int r = open_layer_blob(p, i, &pl->fd, digest, &size, err);
  if (r < 0 || (r = keel_blob_compression(pl->fd, &have, err)) < 0)
    return r;
  want = p->opts->compression >= 0 ? (enum keel_layer_compression)p->opts->compression : have;
  if (p->format == KEEL_PUSH_FORMAT_V2S2 && want == KEEL_COMPRESSION_ZSTD)
    {
      if (p->opts->compression == KEEL_COMPRESSION_ZSTD)
        return keel_error_set(err, -EINVAL,
                              "the Docker v2s2 format has no zstd layers: use "
                              "--format oci");
      want = KEEL_COMPRESSION_GZIP;
    }
  if (want != have)
    {
      emit(p, KEEL_PUSH_RECOMPRESSING, digest, keel_compression_name(want));
      int out = keel_store_tmpfile(p->store, err);
      if (out < 0)
        return out;
      struct keel_recompress_result res;
      r = keel_recompress(pl->fd, out, want, &res, err);
      close(pl->fd);
      pl->fd = out;
      if (r < 0)
        return keel_error_prefix(err, "layer %s", digest);
      if (strcmp(res.diff_id, p->img->layers[i].diff_id))
        return keel_error_set(err, -EBADMSG, "layer %s: its tar has diff id %s, the config says %s",
                              digest, res.diff_id, p->img->layers[i].diff_id);
      snprintf(digest, sizeof(digest), "%s", res.digest);
      size = res.size;
    }
  snprintf(pl->out.media_type, sizeof(pl->out.media_type), "%s", layer_media_type(p->format, want));
  snprintf(pl->out.digest, sizeof(pl->out.digest), "%s", digest);
  pl->out.size = size;
  return 0;
}

static void
on_retry(void *ud, const char *why)
{
  struct push *p = ud;
  emit(p, KEEL_PUSH_BLOB_RETRY, NULL, why);
}

static int
send_blob(struct push *p, const char *digest, uint64_t size, const void *buf, int fd,
          struct keel_error *err)
{
  uint64_t chunk = p->opts->chunk_size ? p->opts->chunk_size : KEEL_PUSH_CHUNK_DEFAULT;
  struct registry_blob b = {
    .digest = digest,
    .size = size,
    .buf = buf,
    .fd = fd,
    .mount_from = (const char *const *)p->sources,
    .chunk_size = chunk == UINT64_MAX ? 0 : chunk,
  };
  enum registry_blob_result how;
  int r = registry_push_blob(p->registry, p->dest.path, &b, on_retry, p, &how, err);
  if (r < 0)
    return keel_error_prefix(err, "%s/%s", p->dest.domain, p->dest.path);
  static const enum keel_push_event_kind kinds[] = {
    [REGISTRY_BLOB_EXISTS] = KEEL_PUSH_BLOB_EXISTS,
    [REGISTRY_BLOB_MOUNTED] = KEEL_PUSH_BLOB_MOUNTED,
    [REGISTRY_BLOB_UPLOADED] = KEEL_PUSH_BLOB_UPLOADED,
    [REGISTRY_BLOB_CHUNKED] = KEEL_PUSH_BLOB_CHUNKED,
  };
  emit(p, kinds[how], digest, NULL);
  return 0;
}

static json_object *
descriptor_json(const char *media_type, const char *digest, uint64_t size)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "mediaType", json_object_new_string(media_type));
  json_object_object_add(o, "digest", json_object_new_string(digest));
  json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
  return o;
}

/* The manifest to send: the stored one when every blob is the one it
 * names in the format it was, else a new one over the same config. */
static int
build_manifest(struct push *p, char **ret, size_t *ret_len, const char **ret_mt,
               struct keel_error *err)
{
  bool v2 = p->format == KEEL_PUSH_FORMAT_V2S2;
  const char *mt = v2 ? KEEL_MT_DOCKER_MANIFEST : KEEL_MT_OCI_MANIFEST;
  bool same = !strcmp(mt, p->manifest.media_type);
  for (size_t i = 0; same && i < p->img->n_layers; i++)
    same = !strcmp(p->layers[i].out.digest, p->manifest.layers[i].digest);
  *ret_mt = mt;
  if (same)
    {
      *ret = malloc(p->manifest_len + 1);
      if (!*ret)
        return keel_error_set(err, -ENOMEM, "out of memory");
      memcpy(*ret, p->manifest_buf, p->manifest_len);
      *ret_len = p->manifest_len;
      return 0;
    }
  _cleanup_json_ json_object *m = json_object_new_object();
  json_object *layers = json_object_new_array();
  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  json_object_object_add(m, "mediaType", json_object_new_string(mt));
  json_object_object_add(
      m, "config",
      descriptor_json(v2 ? KEEL_MT_DOCKER_CONFIG : KEEL_MT_OCI_CONFIG, p->img->id, p->config_len));
  for (size_t i = 0; i < p->img->n_layers; i++)
    json_object_array_add(layers, descriptor_json(p->layers[i].out.media_type,
                                                  p->layers[i].out.digest, p->layers[i].out.size));
  json_object_object_add(m, "layers", layers);
  size_t len;
  const char *text = json_object_to_json_string_length(
      m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (!text || !(*ret = strdup(text)))
    return keel_error_set(err, -ENOMEM, "out of memory");
  *ret_len = len;
  return 0;
}

static int
push_run(struct push *p, char ret_digest[KEEL_DIGEST_MAX], struct keel_error *err)
{
  int r = load_documents(p, err);
  if (r < 0)
    return r;
  size_t n = p->img->n_layers;
  if (!(p->layers = calloc(n + 1, sizeof(*p->layers))))
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    p->layers[i].fd = -EBADF;
  for (size_t i = 0; i < n; i++)
    if ((r = plan_layer(p, i, err)) < 0)
      return r;
  find_sources(p);
  /* One token for the whole push: push to the destination, pull from
   * every repository a blob may be mounted from. */
  char scope[1024];
  int o = snprintf(scope, sizeof(scope), "repository:%s:pull,push", p->dest.path);
  for (size_t i = 0; p->sources[i] && o < (int)sizeof(scope); i++)
    o += snprintf(scope + o, sizeof(scope) - (size_t)o, " repository:%s:pull", p->sources[i]);
  if ((r = keel_registry_new(p->dest.domain, &p->opts->registry, &p->registry, err)) < 0
      || (r = registry_authorize_scope(p->registry, scope, err)) < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    if ((r
         = send_blob(p, p->layers[i].out.digest, p->layers[i].out.size, NULL, p->layers[i].fd, err))
        < 0)
      return r;
  if ((r = send_blob(p, p->img->id, p->config_len, p->config_buf, -1, err)) < 0)
    return r;
  _cleanup_free_ char *body = NULL;
  size_t len = 0;
  const char *mt = NULL;
  if ((r = build_manifest(p, &body, &len, &mt, err)) < 0)
    return r;
  keel_digest_buffer(body, len, ret_digest);
  const char *target = p->dest.tag[0] ? p->dest.tag : ret_digest;
  if (p->dest.digest[0] && strcmp(p->dest.digest, ret_digest))
    return keel_error_set(err, -EINVAL, "%s: the manifest to push has digest %s", p->dest.digest,
                          ret_digest);
  r = registry_push_manifest(p->registry, p->dest.path, target, mt, body, len, ret_digest, err);
  if (r == 0)
    emit(p, KEEL_PUSH_MANIFEST, ret_digest, NULL);
  return r;
}

static int
push_single(struct keel_store *store, const struct keel_image *img, const char *manifest,
            const char *dest, const struct keel_push_opts *opts, char ret_digest[KEEL_DIGEST_MAX],
            struct keel_error *err)
{
  struct push p = { .store = store, .img = img, .opts = opts };
  p.manifest_digest = manifest ? manifest : img->manifest;
  int r = keel_reference_parse(dest, &p.dest, err);
  if (r == 0)
    r = push_run(&p, ret_digest, err);
  push_free(&p);
  return r;
}

/* The stored image whose platform manifest is digest, or NULL: the one
 * it was last pulled by, or one a name of it was resolved to (one image,
 * that is one config, can be listed by an OCI index and a Docker list). */
static const struct keel_image *
image_by_manifest(struct keel_store *s, struct keel_image **v, size_t n, const char *digest)
{
  for (size_t i = 0; i < n; i++)
    {
      if (!strcmp(v[i]->manifest, digest))
        return v[i];
      for (size_t k = 0; v[i]->digests && v[i]->names[k]; k++)
        if (v[i]->digests[k] && !strcmp(v[i]->digests[k], digest)
            && keel_store_blob_exists(s, digest))
          return v[i];
    }
  return NULL;
}

/* Every image the index lists, by digest, then the index itself under the
 * destination's tag.  The images go byte for byte, so their digests stay
 * the ones the index names. */
static int
push_index_entries(struct keel_store *store, const struct keel_manifest *index,
                   struct keel_image **imgs, size_t n, const struct keel_reference *dest,
                   const struct keel_push_opts *opts, struct keel_error *err)
{
  for (size_t i = 0; i < index->n_manifests; i++)
    {
      const struct keel_descriptor *d = &index->manifests[i];
      const struct keel_image *img = image_by_manifest(store, imgs, n, d->digest);
      if (!img)
        continue; /* not an image (attestations): checked by the caller */
      char to[600], got[KEEL_DIGEST_MAX];
      snprintf(to, sizeof(to), "%s/%s@%s", dest->domain, dest->path, d->digest);
      int r = push_single(store, img, d->digest, to, opts, got, err);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
send_index(const char *body, size_t len, const char *media_type, const struct keel_reference *dest,
           const struct keel_push_opts *opts, char ret_digest[KEEL_DIGEST_MAX],
           struct keel_error *err)
{
  struct keel_registry *reg = NULL;
  char scope[600];
  snprintf(scope, sizeof(scope), "repository:%s:pull,push", dest->path);
  keel_digest_buffer(body, len, ret_digest);
  const char *target = dest->tag[0] ? dest->tag : ret_digest;
  int r = keel_registry_new(dest->domain, &opts->registry, &reg, err);
  if (r == 0)
    r = registry_authorize_scope(reg, scope, err);
  if (r == 0)
    r = registry_push_manifest(reg, dest->path, target, media_type, body, len, ret_digest, err);
  keel_registry_free(reg);
  if (r == 0 && opts->progress)
    {
      struct keel_push_event ev = { KEEL_PUSH_MANIFEST, ret_digest, NULL };
      opts->progress(opts->progress_userdata, &ev);
    }
  return r;
}

/* 1 when the index was pushed, 0 when some of its images are not in the
 * store (pulled without --all-platforms: push the one image instead). */
static int
push_index(struct keel_store *store, const char *index_digest, const char *dest,
           const struct keel_push_opts *opts, char ret_digest[KEEL_DIGEST_MAX],
           struct keel_error *err)
{
  _cleanup_free_ char *body = NULL;
  size_t len = 0, n = 0;
  struct keel_manifest index = { 0 };
  struct keel_image **imgs = NULL;
  struct keel_reference to;
  int r = keel_reference_parse(dest, &to, err);
  if (r == 0)
    r = keel_store_blob_read(store, index_digest, KEEL_MANIFEST_MAX_BYTES, &body, &len, err);
  if (r == 0)
    r = keel_manifest_parse(body, len, NULL, &index, err);
  if (r == 0 && (r = keel_store_image_list(store, &imgs, &n, err)) == 0)
    {
      bool complete = index.kind == KEEL_DOC_INDEX;
      for (size_t i = 0; complete && i < index.n_manifests; i++)
        {
          const struct keel_descriptor *d = &index.manifests[i];
          complete = image_by_manifest(store, imgs, n, d->digest)
                     || (d->has_platform && !strcmp(d->platform.os, "unknown"));
        }
      if (complete && (opts->format != KEEL_PUSH_FORMAT_KEEP || opts->compression >= 0))
        r = keel_error_set(err, -EINVAL,
                           "an index is pushed as it was pulled: --format and "
                           "--compression-format would change the digests it lists");
      else if (complete && (r = push_index_entries(store, &index, imgs, n, &to, opts, err)) == 0)
        r = send_index(body, len, index.media_type, &to, opts, ret_digest, err);
      if (r == 0)
        r = complete ? 1 : 0;
    }
  keel_image_list_free(imgs, n);
  keel_manifest_free(&index);
  return r;
}

int
keel_push(struct keel_store *store, const struct keel_image *img, const char *dest,
          const struct keel_push_opts *opts, char ret_digest[KEEL_DIGEST_MAX],
          struct keel_error *err)
{
  if (opts->index && strcmp(opts->index, img->manifest))
    {
      int r = push_index(store, opts->index, dest, opts, ret_digest, err);
      if (r != 0)
        return r < 0 ? r : 0;
    }
  return push_single(store, img, NULL, dest, opts, ret_digest, err);
}
