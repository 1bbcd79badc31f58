/* keel load: docker-archive, oci-archive or an OCI layout directory.  A
 * tar is first extracted through the layer unpacker (hostile names are
 * refused there), then read as a directory: every path it names is
 * resolved inside it (RESOLVE_IN_ROOT), every blob checked by digest. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/compress.h"
#include "image/unpack.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

#define MAX_IMAGES 256

struct load_image
{
  char *manifest;
  size_t manifest_len;
  char manifest_digest[KEEL_DIGEST_MAX];
  char *config;
  size_t config_len;
  char id[KEEL_DIGEST_MAX];
  struct keel_image_config cfg;
  size_t n_layers;
  char **paths;                     /* layer files inside the archive */
  char (*digests)[KEEL_DIGEST_MAX]; /* what each must hash to ("" docker: learnt) */
  char (*chain)[KEEL_DIGEST_MAX];
  uint64_t *sizes;
  char **names;
};

struct loader
{
  struct keel_store *s;
  int root; /* the layout */
  const char *path;
  struct load_image imgs[MAX_IMAGES];
  size_t n;
};

static void
load_image_free(struct load_image *li)
{
  free(li->manifest);
  free(li->config);
  keel_image_config_free(&li->cfg);
  keel_strv_free(li->paths);
  keel_strv_free(li->names);
  free(li->digests);
  free(li->chain);
  free(li->sizes);
}

void
keel_load_result_free(struct keel_load_result *r)
{
  keel_strv_free(r->ids);
  keel_strv_free(r->names);
  memset(r, 0, sizeof(*r));
}

static int
open_in(struct loader *L, const char *rel, struct keel_error *err)
{
  struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
  int fd = (int)syscall(SYS_openat2, L->root, rel, &how, sizeof(how));
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "%s: cannot open '%.200s'", L->path, rel);
  return fd;
}

static int
read_in(struct loader *L, const char *rel, size_t max, char **ret, size_t *ret_len,
        struct keel_error *err)
{
  _cleanup_close_ int fd = open_in(L, rel, err);
  if (fd < 0)
    return fd;
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  int r = keel_read_file(AT_FDCWD, proc, max, ret, ret_len);
  return r < 0 ? keel_error_set_errno(err, r, "%s: cannot read '%.200s'", L->path, rel) : 0;
}

/* A blob of the OCI layout, checked against its digest. */
static int
read_blob(struct loader *L, const char *digest, size_t max, char **ret, size_t *ret_len,
          struct keel_error *err)
{
  char rel[128], got[KEEL_DIGEST_MAX];
  if (!keel_digest_valid(digest))
    return keel_error_set(err, -EBADMSG, "%s: '%.80s' is not a digest", L->path, digest);
  snprintf(rel, sizeof(rel), "blobs/sha256/%s", keel_digest_hex(digest));
  int r = read_in(L, rel, max, ret, ret_len, err);
  if (r < 0)
    return r;
  keel_digest_buffer(*ret, *ret_len, got);
  if (strcmp(got, digest))
    return keel_error_set(err, -EBADMSG, "%s: blob %s has digest %s", L->path, digest, got);
  return 0;
}

static int
take_config(struct loader *L, struct load_image *li, size_t n_layers, struct keel_error *err)
{
  int r = keel_image_config_parse(li->config, li->config_len, n_layers, &li->cfg, err);
  if (r < 0)
    return keel_error_prefix(err, "%s", L->path);
  keel_digest_buffer(li->config, li->config_len, li->id);
  li->n_layers = n_layers;
  li->paths = calloc(n_layers + 1, sizeof(char *));
  li->digests = calloc(n_layers + 1, KEEL_DIGEST_MAX);
  li->chain = calloc(n_layers + 1, KEEL_DIGEST_MAX);
  li->sizes = calloc(n_layers + 1, sizeof(uint64_t));
  li->names = calloc(2, sizeof(char *));
  if (!li->paths || !li->digests || !li->chain || !li->sizes || !li->names)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return keel_chain_ids(li->cfg.diff_ids, n_layers, li->chain);
}

/* One OCI index entry: its manifest (a platform's, for a nested index). */
static int
oci_entry(struct loader *L, const struct keel_descriptor *d, const char *name,
          struct keel_error *err)
{
  if (L->n == MAX_IMAGES)
    return keel_error_set(err, -E2BIG, "%s: more than %d images", L->path, MAX_IMAGES);
  struct load_image *li = &L->imgs[L->n++];
  struct keel_manifest m = { 0 };
  int r = read_blob(L, d->digest, KEEL_MANIFEST_MAX_BYTES, &li->manifest, &li->manifest_len, err);
  if (r == 0 && (r = keel_manifest_parse(li->manifest, li->manifest_len, NULL, &m, err)) < 0)
    keel_error_prefix(err, "%s", L->path);
  if (r == 0 && m.kind == KEEL_DOC_INDEX)
    {
      struct keel_platform host;
      const struct keel_descriptor *c;
      keel_platform_host(&host);
      if ((r = keel_index_choose(&m, &host, &c, err)) == 0)
        {
          L->n--;
          load_image_free(li);
          memset(li, 0, sizeof(*li));
          struct keel_descriptor child = *c;
          keel_manifest_free(&m);
          return oci_entry(L, &child, name, err);
        }
    }
  if (r == 0)
    {
      snprintf(li->manifest_digest, sizeof(li->manifest_digest), "%s", d->digest);
      r = read_blob(L, m.config.digest, KEEL_CONFIG_MAX_BYTES, &li->config, &li->config_len, err);
    }
  if (r == 0)
    r = take_config(L, li, m.n_layers, err);
  for (size_t i = 0; r == 0 && i < m.n_layers; i++)
    {
      strcpy(li->digests[i], m.layers[i].digest);
      li->sizes[i] = m.layers[i].size;
      if (asprintf(&li->paths[i], "blobs/sha256/%s", keel_digest_hex(m.layers[i].digest)) < 0)
        r = keel_error_set(err, -ENOMEM, "out of memory");
    }
  /* A bare tag ("latest", as skopeo writes it) names no repository. */
  if (r == 0 && name && (strchr(name, '/') || strchr(name, ':')))
    li->names[0] = strdup(name);
  keel_manifest_free(&m);
  return r;
}

static int
scan_oci(struct loader *L, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  _cleanup_json_ json_object *o = NULL;
  struct keel_manifest idx;
  int r = read_in(L, "index.json", KEEL_MANIFEST_MAX_BYTES, &buf, &len, err);
  if (r < 0)
    return r;
  if ((r = keel_manifest_parse(buf, len, KEEL_MT_OCI_INDEX, &idx, err)) < 0)
    return keel_error_prefix(err, "%s: index.json", L->path);
  json_object *list = NULL;
  if (keel_json_parse(buf, len, "index.json", &o, NULL) == 0)
    json_object_object_get_ex(o, "manifests", &list);
  for (size_t i = 0; r == 0 && i < idx.n_manifests; i++)
    {
      json_object *e = list ? json_object_array_get_idx(list, i) : NULL, *ann, *name = NULL;
      if (e && json_object_object_get_ex(e, "annotations", &ann))
        json_object_object_get_ex(ann, "org.opencontainers.image.ref.name", &name);
      r = oci_entry(L, &idx.manifests[i], name ? json_object_get_string(name) : NULL, err);
    }
  keel_manifest_free(&idx);
  return r;
}

static int
docker_entry(struct loader *L, json_object *e, struct keel_error *err)
{
  json_object *cfg, *layers, *tags = NULL;
  if (L->n == MAX_IMAGES)
    return keel_error_set(err, -E2BIG, "%s: more than %d images", L->path, MAX_IMAGES);
  if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "Config", &cfg)
      || !json_object_is_type(cfg, json_type_string)
      || !json_object_object_get_ex(e, "Layers", &layers)
      || !json_object_is_type(layers, json_type_array))
    return keel_error_set(err, -EBADMSG, "%s: manifest.json: an entry lacks Config or Layers",
                          L->path);
  struct load_image *li = &L->imgs[L->n++];
  int r = read_in(L, json_object_get_string(cfg), KEEL_CONFIG_MAX_BYTES, &li->config,
                  &li->config_len, err);
  size_t n = json_object_array_length(layers);
  if (r == 0 && n > KEEL_MANIFEST_MAX_LAYERS)
    r = keel_error_set(err, -E2BIG, "%s: too many layers", L->path);
  if (r == 0)
    r = take_config(L, li, n, err);
  for (size_t i = 0; r == 0 && i < n; i++)
    {
      json_object *l = json_object_array_get_idx(layers, i);
      if (!json_object_is_type(l, json_type_string))
        r = keel_error_set(err, -EBADMSG, "%s: manifest.json: a layer is not a path", L->path);
      else if (!(li->paths[i] = strdup(json_object_get_string(l))))
        r = keel_error_set(err, -ENOMEM, "out of memory");
    }
  json_object_object_get_ex(e, "RepoTags", &tags);
  if (r == 0 && tags && json_object_is_type(tags, json_type_array)
      && json_object_array_length(tags) > 0
      && json_object_is_type(json_object_array_get_idx(tags, 0), json_type_string))
    li->names[0] = strdup(json_object_get_string(json_object_array_get_idx(tags, 0)));
  return r;
}

static int
scan_docker(struct loader *L, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  _cleanup_json_ json_object *o = NULL;
  int r = read_in(L, "manifest.json", KEEL_MANIFEST_MAX_BYTES, &buf, &len, err);
  if (r < 0)
    return r;
  if ((r = keel_json_parse(buf, len, "manifest.json", &o, err)) < 0)
    return keel_error_prefix(err, "%s", L->path);
  if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) == 0)
    return keel_error_set(err, -EBADMSG, "%s: manifest.json is not a list of images", L->path);
  for (size_t i = 0; r == 0 && i < json_object_array_length(o); i++)
    r = docker_entry(L, json_object_array_get_idx(o, i), err);
  return r;
}

/* Unpack layer i of li unless the store has it; the file's bytes are kept
 * as the layer's blob.  Docker archives name no digest: it is learnt. */
static int
load_layer(struct loader *L, struct load_image *li, size_t i, struct keel_error *err)
{
  if (keel_store_layer_exists(L->s, li->chain[i]) && li->digests[i][0])
    return 0;
  _cleanup_close_ int fd = open_in(L, li->paths[i], err);
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return keel_error_set(err, -EBADMSG, "%s: layer '%.200s' is not a file", L->path, li->paths[i]);
  if (li->digests[i][0] && (uint64_t)st.st_size != li->sizes[i])
    return keel_error_set(err, -EBADMSG, "%s: layer %s has %lld bytes, the manifest says %llu",
                          L->path, li->digests[i], (long long)st.st_size,
                          (unsigned long long)li->sizes[i]);
  struct keel_layer_tmp *tmp = NULL;
  int r = keel_store_layer_tmp_new(L->s, &tmp, err);
  if (r < 0)
    return r;
  struct keel_unpack_source src = { keel_unpack_read_fd, &fd };
  struct keel_unpack_opts uo = { .compressed_size = (uint64_t)st.st_size, .tee = true };
  struct keel_unpack_stats stats;
  uo.tee_fd = r = keel_store_layer_tmp_blob(tmp, err);
  if (r >= 0)
    r = keel_unpack_layer(keel_store_layer_tmp_fd(tmp), &src, &uo, &stats, err);
  if (r < 0)
    keel_error_prefix(err, "%s: layer '%.100s'", L->path, li->paths[i]);
  else if (li->digests[i][0] && strcmp(stats.digest, li->digests[i]))
    r = keel_error_set(err, -EBADMSG, "%s: layer %s has digest %s", L->path, li->digests[i],
                       stats.digest);
  else if (strcmp(stats.diff_id, li->cfg.diff_ids[i]))
    r = keel_error_set(err, -EBADMSG, "%s: layer '%.100s' has diff id %s, the config says %s",
                       L->path, li->paths[i], stats.diff_id, li->cfg.diff_ids[i]);
  if (r < 0)
    {
      keel_store_layer_tmp_free(tmp);
      return r;
    }
  strcpy(li->digests[i], stats.digest);
  li->sizes[i] = stats.compressed_bytes;
  struct keel_layer_info info = { .size = stats.compressed_bytes, .unpacked = stats.content_bytes };
  strcpy(info.chain_id, li->chain[i]);
  strcpy(info.diff_id, li->cfg.diff_ids[i]);
  strcpy(info.parent, i ? li->chain[i - 1] : "");
  strcpy(info.digest, stats.digest);
  return keel_store_layer_commit(L->s, tmp, &info, err);
}

static const char *
layer_type(struct loader *L, struct load_image *li, size_t i)
{
  int fd;
  uint64_t size;
  enum keel_layer_compression c = KEEL_COMPRESSION_GZIP;
  if (keel_store_blob_open(L->s, li->digests[i], &fd, &size, NULL) == 0)
    {
      keel_blob_compression(fd, &c, NULL);
      close(fd);
    }
  return c == KEEL_COMPRESSION_NONE   ? KEEL_MT_OCI_LAYER
         : c == KEEL_COMPRESSION_ZSTD ? KEEL_MT_OCI_LAYER_ZSTD
                                      : KEEL_MT_OCI_LAYER_GZIP;
}

/* A docker-archive has no manifest: write the OCI one the layers imply. */
static int
make_manifest(struct loader *L, struct load_image *li, struct keel_error *err)
{
  _cleanup_json_ json_object *m = json_object_new_object();
  json_object *layers = json_object_new_array(), *c = json_object_new_object();
  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  json_object_object_add(m, "mediaType", json_object_new_string(KEEL_MT_OCI_MANIFEST));
  json_object_object_add(c, "mediaType", json_object_new_string(KEEL_MT_OCI_CONFIG));
  json_object_object_add(c, "digest", json_object_new_string(li->id));
  json_object_object_add(c, "size", json_object_new_int64((int64_t)li->config_len));
  json_object_object_add(m, "config", c);
  for (size_t i = 0; i < li->n_layers; i++)
    {
      json_object *l = json_object_new_object();
      json_object_object_add(l, "mediaType", json_object_new_string(layer_type(L, li, i)));
      json_object_object_add(l, "digest", json_object_new_string(li->digests[i]));
      json_object_object_add(l, "size", json_object_new_int64((int64_t)li->sizes[i]));
      json_object_array_add(layers, l);
    }
  json_object_object_add(m, "layers", layers);
  size_t len;
  const char *t = json_object_to_json_string_length(
      m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (!t || !(li->manifest = strdup(t)))
    return keel_error_set(err, -ENOMEM, "out of memory");
  li->manifest_len = len;
  keel_digest_buffer(li->manifest, len, li->manifest_digest);
  return 0;
}

static int
commit_image(struct loader *L, struct load_image *li, struct keel_error *err)
{
  int r;
  if (!li->manifest && (r = make_manifest(L, li, err)) < 0)
    return r;
  if ((r = keel_store_blob_put(L->s, li->manifest_digest, li->manifest, li->manifest_len, err)) < 0
      || (r = keel_store_blob_put(L->s, li->id, li->config, li->config_len, err)) < 0)
    return r;
  struct keel_image img = { .n_layers = li->n_layers, .pulled = (int64_t)time(NULL) };
  if (!(img.layers = calloc(li->n_layers + 1, sizeof(*img.layers))))
    return keel_error_set(err, -ENOMEM, "out of memory");
  strcpy(img.id, li->id);
  strcpy(img.manifest, li->manifest_digest);
  keel_platform_format(&li->cfg.platform, img.platform, sizeof(img.platform));
  snprintf(img.created, sizeof(img.created), "%s", li->cfg.created);
  for (size_t i = 0; i < li->n_layers; i++)
    {
      struct keel_image_layer *l = &img.layers[i];
      struct keel_layer_info info;
      strcpy(l->chain_id, li->chain[i]);
      strcpy(l->diff_id, li->cfg.diff_ids[i]);
      strcpy(l->digest, li->digests[i]);
      snprintf(l->media_type, sizeof(l->media_type), "%s", layer_type(L, li, i));
      l->size = li->sizes[i];
      if (keel_store_layer_read(L->s, l->chain_id, &info) == 0)
        img.size += info.unpacked;
    }
  r = keel_store_image_commit(L->s, &img, li->names[0], li->manifest_digest, err);
  free(img.layers);
  return r;
}

/* Extract the tar at path into a temporary directory of the store. */
static int
extract(struct loader *L, struct keel_layer_tmp **ret, struct keel_error *err)
{
  _cleanup_close_ int fd = open(L->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", L->path);
  int r = keel_store_layer_tmp_new(L->s, ret, err);
  if (r < 0)
    return r;
  struct keel_unpack_source src = { keel_unpack_read_fd, &fd };
  struct keel_unpack_opts uo = { .max_bytes = KEEL_LAYER_MAX_BYTES };
  struct keel_unpack_stats st;
  r = keel_unpack_layer(keel_store_layer_tmp_fd(*ret), &src, &uo, &st, err);
  if (r < 0)
    return keel_error_prefix(err, "archive '%s'", L->path);
  L->root = fcntl(keel_store_layer_tmp_fd(*ret), F_DUPFD_CLOEXEC, 3);
  return L->root < 0 ? keel_error_set_errno(err, -errno, "cannot open the extracted archive") : 0;
}

static int
scan(struct loader *L, struct keel_error *err)
{
  if (faccessat(L->root, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return scan_oci(L, err);
  if (faccessat(L->root, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return scan_docker(L, err);
  return keel_error_set(err, -EBADMSG,
                        "%s: not an image archive (neither index.json nor manifest.json)", L->path);
}

static int
record(struct loader *L, struct keel_load_result *ret, struct keel_error *err)
{
  ret->ids = calloc(L->n + 1, sizeof(char *));
  ret->names = calloc(L->n + 1, sizeof(char *));
  if (!ret->ids || !ret->names)
    return keel_error_set(err, -ENOMEM, "out of memory");
  size_t nn = 0;
  for (size_t i = 0; i < L->n; i++)
    {
      int r = commit_image(L, &L->imgs[i], err);
      if (r < 0)
        return r;
      ret->ids[i] = strdup(L->imgs[i].id);
      if (L->imgs[i].names[0])
        ret->names[nn++] = strdup(L->imgs[i].names[0]);
    }
  return 0;
}

int
keel_load(struct keel_store *s, const char *path, struct keel_load_result *ret,
          struct keel_error *err)
{
  struct loader L = { .s = s, .root = -EBADF, .path = path };
  struct keel_layer_tmp *tmp = NULL;
  memset(ret, 0, sizeof(*ret));
  struct stat st;
  int r = stat(path, &st) < 0 ? keel_error_set_errno(err, -errno, "cannot open '%s'", path) : 0;
  if (r == 0 && (r = keel_store_pull_begin(s, err)) == 0)
    {
      if (S_ISDIR(st.st_mode))
        {
          L.root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (L.root < 0)
            r = keel_error_set_errno(err, -errno, "cannot open '%s'", path);
        }
      else
        r = extract(&L, &tmp, err);
      if (r == 0)
        r = scan(&L, err);
      /* every layer of every image in, before any image is recorded */
      for (size_t i = 0; r == 0 && i < L.n; i++)
        for (size_t k = 0; r == 0 && k < L.imgs[i].n_layers; k++)
          r = load_layer(&L, &L.imgs[i], k, err);
      if (r == 0)
        r = record(&L, ret, err);
      keel_store_pull_end(s);
    }
  keel_store_layer_tmp_free(tmp);
  if (L.root >= 0)
    close(L.root);
  for (size_t i = 0; i < L.n; i++)
    load_image_free(&L.imgs[i]);
  if (r < 0)
    {
      /* layers of a load that failed belong to no image: gc them now */
      struct keel_gc_stats gs;
      keel_store_gc(s, false, &gs, NULL);
      keel_load_result_free(ret);
    }
  return r;
}
