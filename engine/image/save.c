/* keel save: the store's blobs written out as a docker-archive, an
 * oci-archive or an OCI layout directory. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/compress.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

/* Where the files go: a tar being written, or a directory. */
struct out
{
  struct archive *a;
  int dirfd;
  char **written; /* names already in (layers shared between images) */
  size_t n_written;
};

static bool
already(struct out *o, const char *name)
{
  for (size_t i = 0; i < o->n_written; i++)
    if (!strcmp(o->written[i], name))
      return true;
  char **v = realloc(o->written, (o->n_written + 1) * sizeof(char *));
  if (v)
    {
      o->written = v;
      o->written[o->n_written++] = strdup(name);
    }
  return false;
}

/* Add name with size bytes from buf or (buf NULL) from fd's start. */
static int
out_add(struct out *o, const char *name, const void *buf, int fd, uint64_t size,
        struct keel_error *err)
{
  if (already(o, name))
    return 0;
  _cleanup_close_ int wfd = -EBADF;
  if (o->a)
    {
      struct archive_entry *e = archive_entry_new();
      archive_entry_set_pathname(e, name);
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, (la_int64_t)size);
      int ar = archive_write_header(o->a, e);
      archive_entry_free(e);
      if (ar != ARCHIVE_OK)
        return keel_error_set(err, -EIO, "cannot write '%s': %s", name, archive_error_string(o->a));
    }
  else
    {
      char dir[256];
      snprintf(dir, sizeof(dir), "%s", name);
      for (char *slash = strchr(dir, '/'); slash; slash = strchr(slash + 1, '/'))
        {
          *slash = '\0';
          if (mkdirat(o->dirfd, dir, 0755) < 0 && errno != EEXIST)
            return keel_error_set_errno(err, -errno, "cannot create '%s'", dir);
          *slash = '/';
        }
      wfd = openat(o->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (wfd < 0)
        return keel_error_set_errno(err, -errno, "cannot create '%s'", name);
    }
  static char chunk[256 << 10];
  for (uint64_t off = 0; off < size;)
    {
      size_t n = size - off < sizeof(chunk) ? (size_t)(size - off) : sizeof(chunk);
      const void *p = buf ? (const char *)buf + off : chunk;
      if (!buf && pread(fd, chunk, n, (off_t)off) != (ssize_t)n)
        return keel_error_set_errno(err, -EIO, "cannot read the blob for '%s'", name);
      int r = 0;
      if (o->a)
        r = archive_write_data(o->a, p, n) == (la_ssize_t)n ? 0 : -EIO;
      else
        r = keel_write_all(wfd, p, n);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot write '%s'", name);
      off += n;
    }
  return 0;
}

static int
out_add_blob(struct keel_store *s, struct out *o, const char *digest, struct keel_error *err)
{
  char name[128];
  snprintf(name, sizeof(name), "blobs/sha256/%s", keel_digest_hex(digest));
  int fd;
  uint64_t size;
  int r = keel_store_blob_open(s, digest, &fd, &size, err);
  if (r < 0)
    return r;
  r = out_add(o, name, NULL, fd, size, err);
  close(fd);
  return r;
}

static int
out_add_json(struct out *o, const char *name, json_object *j, struct keel_error *err)
{
  size_t len;
  const char *t = json_object_to_json_string_length(
      j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  return t ? out_add(o, name, t, -1, len, err) : keel_error_set(err, -ENOMEM, "out of memory");
}

/* OCI layout: every blob, the manifests in index.json with their names. */
static int
save_oci(struct keel_store *s, const struct keel_save_item *items, size_t n, struct out *o,
         struct keel_error *err)
{
  _cleanup_json_ json_object *index = json_object_new_object();
  json_object *list = json_object_new_array();
  json_object_object_add(index, "schemaVersion", json_object_new_int(2));
  json_object_object_add(index, "mediaType", json_object_new_string(KEEL_MT_OCI_INDEX));
  json_object_object_add(index, "manifests", list);
  int r;
  for (size_t i = 0; i < n; i++)
    {
      const struct keel_image *img = items[i].img;
      _cleanup_free_ char *mbuf = NULL;
      size_t mlen;
      struct keel_manifest m;
      if ((r = keel_store_blob_read(s, img->manifest, KEEL_MANIFEST_MAX_BYTES, &mbuf, &mlen, err))
              < 0
          || (r = keel_manifest_parse(mbuf, mlen, NULL, &m, err)) < 0)
        return r;
      for (size_t k = 0; k < m.n_layers && r == 0; k++)
        r = out_add_blob(s, o, m.layers[k].digest, err);
      if (r == 0)
        r = out_add_blob(s, o, img->id, err);
      if (r == 0)
        r = out_add_blob(s, o, img->manifest, err);
      json_object *d = json_object_new_object();
      json_object_object_add(d, "mediaType", json_object_new_string(m.media_type));
      json_object_object_add(d, "digest", json_object_new_string(img->manifest));
      json_object_object_add(d, "size", json_object_new_int64((int64_t)mlen));
      if (items[i].name)
        {
          json_object *ann = json_object_new_object();
          json_object_object_add(ann, "org.opencontainers.image.ref.name",
                                 json_object_new_string(items[i].name));
          json_object_object_add(d, "annotations", ann);
        }
      json_object_array_add(list, d);
      keel_manifest_free(&m);
      if (r < 0)
        return keel_error_prefix(err, "image %.12s", keel_digest_hex(img->id));
    }
  _cleanup_json_ json_object *layout = json_object_new_object();
  json_object_object_add(layout, "imageLayoutVersion", json_object_new_string("1.0.0"));
  if ((r = out_add_json(o, "oci-layout", layout, err)) < 0)
    return r;
  return out_add_json(o, "index.json", index, err);
}

/* One docker-archive layer: the tar uncompressed, named by its diff id. */
static int
docker_layer(struct keel_store *s, struct out *o, const struct keel_image_layer *l,
             struct keel_error *err)
{
  char name[128];
  snprintf(name, sizeof(name), "%s.tar", keel_digest_hex(l->diff_id));
  int in;
  uint64_t size;
  int r = keel_store_blob_open(s, l->digest, &in, &size, err);
  if (r < 0)
    return r;
  _cleanup_close_ int tmp = keel_store_tmpfile(s, err);
  struct keel_recompress_result res;
  if (tmp >= 0 && (r = keel_recompress(in, tmp, KEEL_COMPRESSION_NONE, &res, err)) == 0
      && strcmp(res.diff_id, l->diff_id))
    r = keel_error_set(err, -EBADMSG, "layer %s: its tar has diff id %s", l->digest, res.diff_id);
  close(in);
  if (tmp < 0)
    return tmp;
  if (r == 0)
    r = out_add(o, name, NULL, tmp, res.size, err);
  return r;
}

static int
save_docker(struct keel_store *s, const struct keel_save_item *items, size_t n, struct out *o,
            struct keel_error *err)
{
  _cleanup_json_ json_object *manifest = json_object_new_array();
  int r;
  for (size_t i = 0; i < n; i++)
    {
      const struct keel_image *img = items[i].img;
      json_object *e = json_object_new_object(), *tags = json_object_new_array(),
                  *layers = json_object_new_array();
      json_object_array_add(manifest, e);
      char cfg[128];
      snprintf(cfg, sizeof(cfg), "%s.json", keel_digest_hex(img->id));
      json_object_object_add(e, "Config", json_object_new_string(cfg));
      if (items[i].name)
        json_object_array_add(tags, json_object_new_string(items[i].name));
      json_object_object_add(e, "RepoTags", tags);
      json_object_object_add(e, "Layers", layers);
      _cleanup_free_ char *cbuf = NULL;
      size_t clen;
      if ((r = keel_store_blob_read(s, img->id, KEEL_CONFIG_MAX_BYTES, &cbuf, &clen, err)) < 0
          || (r = out_add(o, cfg, cbuf, -1, clen, err)) < 0)
        return r;
      for (size_t k = 0; k < img->n_layers; k++)
        {
          char lname[128];
          snprintf(lname, sizeof(lname), "%s.tar", keel_digest_hex(img->layers[k].diff_id));
          json_object_array_add(layers, json_object_new_string(lname));
          if ((r = docker_layer(s, o, &img->layers[k], err)) < 0)
            return r;
        }
    }
  return out_add_json(o, "manifest.json", manifest, err);
}

static int
open_out(struct keel_store *s, enum keel_archive_format f, const char *path, struct out *o,
         char **ret_tmp, struct keel_error *err)
{
  if (f == KEEL_ARCHIVE_OCI_DIR)
    {
      if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return keel_error_set_errno(err, -errno, "cannot create '%s'", path);
      o->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (o->dirfd < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s'", path);
      return 0;
    }
  /* The tar appears under its name only once complete. */
  if (asprintf(ret_tmp, "%s.keel-tmp-%d", path, (int)getpid()) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  o->a = archive_write_new();
  if (!o->a || archive_write_set_format_pax_restricted(o->a) != ARCHIVE_OK
      || archive_write_open_filename(o->a, *ret_tmp) != ARCHIVE_OK)
    return keel_error_set(err, -EIO, "cannot create '%s': %s", path,
                          o->a ? archive_error_string(o->a) : "out of memory");
  return 0;
}

int
keel_save(struct keel_store *s, const struct keel_save_item *items, size_t n,
          enum keel_archive_format format, const char *path, struct keel_error *err)
{
  struct out o = { .dirfd = -EBADF };
  _cleanup_free_ char *tmp = NULL;
  int r = open_out(s, format, path, &o, &tmp, err);
  if (r == 0)
    r = format == KEEL_ARCHIVE_DOCKER ? save_docker(s, items, n, &o, err)
                                      : save_oci(s, items, n, &o, err);
  if (o.a)
    {
      if (archive_write_close(o.a) != ARCHIVE_OK && r == 0)
        r = keel_error_set(err, -EIO, "cannot write '%s': %s", path, archive_error_string(o.a));
      archive_write_free(o.a);
      if (r == 0 && rename(tmp, path) < 0)
        r = keel_error_set_errno(err, -errno, "cannot rename into '%s'", path);
      if (r < 0)
        unlink(tmp);
    }
  if (o.dirfd >= 0)
    close(o.dirfd);
  for (size_t i = 0; i < o.n_written; i++)
    free(o.written[i]);
  free(o.written);
  return r;
}
