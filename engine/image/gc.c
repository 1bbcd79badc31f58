/* Garbage collection, prune, system check and df.  Everything here runs
 * with the gc lock held exclusively (no pull in flight, so nothing in
 * tmp/ or locks/ is alive and no committed layer is waiting for its image
 * record) and the metadata lock held. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/store-internal.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

/* A sorted set of hex strings. */
struct hexset
{
  char **v;
  size_t n, cap;
  bool sorted;
};

static int
hexset_add(struct hexset *h, const char *digest)
{
  if (h->n == h->cap)
    {
      size_t cap = h->cap ? h->cap * 2 : 64;
      char **v = realloc(h->v, cap * sizeof(char *));
      if (!v)
        return -ENOMEM;
      h->v = v;
      h->cap = cap;
    }
  h->v[h->n] = strdup(keel_digest_hex(digest));
  if (!h->v[h->n])
    return -ENOMEM;
  h->n++;
  h->sorted = false;
  return 0;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
hexset_has(struct hexset *h, const char *hex)
{
  if (!h->sorted)
    {
      if (h->n)
        qsort(h->v, h->n, sizeof(char *), cmp_str);
      h->sorted = true;
    }
  return h->n && bsearch(&hex, h->v, h->n, sizeof(char *), cmp_str);
}

static void
hexset_free(struct hexset *h)
{
  for (size_t i = 0; i < h->n; i++)
    free(h->v[i]);
  free(h->v);
  memset(h, 0, sizeof(*h));
}

/* Lock for a whole-store operation; 0 when wait=false and a pull is on. */
static int
lock_all(struct keel_store *s, bool wait, struct keel_error *err)
{
  int r = store_flock(s, "gc.lock", LOCK_EX | (wait ? 0 : LOCK_NB), &s->gc_fd, err);
  if (r <= 0)
    return r;
  r = keel_store_lock(s, err);
  if (r < 0)
    {
      flock(s->gc_fd, LOCK_UN);
      return r;
    }
  return 1;
}

static void
unlock_all(struct keel_store *s)
{
  keel_store_unlock(s);
  flock(s->gc_fd, LOCK_UN);
}

typedef int (*entry_fn)(struct keel_store *s, int dirfd, const char *name, void *ud);

static int
for_each(struct keel_store *s, const char *dir, entry_fn fn, void *ud)
{
  int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : -errno;
  _cleanup_closedir_ DIR *d = fdopendir(fd);
  if (!d)
    {
      close(fd);
      return -errno;
    }
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      int r = fn(s, dirfd(d), de->d_name, ud);
      if (r < 0)
        return r;
    }
  return 0;
}

static bool
is_hex64(const char *s, const char *suffix)
{
  size_t n = strlen(s), sl = suffix ? strlen(suffix) : 0;
  if (n != 64 + sl || (suffix && strcmp(s + 64, suffix)))
    return false;
  return strspn(s, "0123456789abcdef") >= 64;
}

/* Read a layer's record; 0 and *ret filled, or negative. */
static int
layer_record(int layers_fd, const char *hex, struct keel_layer_info *ret)
{
  char rel[128];
  snprintf(rel, sizeof(rel), "%s/layer.json", hex);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(layers_fd, rel, 1 << 20, &buf, &len);
  if (r < 0)
    return r;
  _cleanup_json_ json_object *o = NULL;
  if (keel_json_parse(buf, len, rel, &o, NULL) < 0)
    return -EINVAL;
  const char *chain = NULL, *diff = NULL, *parent = NULL, *digest = NULL;
  memset(ret, 0, sizeof(*ret));
  if (keel_json_get_string(o, "chain", "", &chain, NULL) <= 0
      || keel_json_get_string(o, "diff", "", &diff, NULL) <= 0
      || keel_json_get_string(o, "digest", "", &digest, NULL) <= 0
      || keel_json_get_string(o, "parent", "", &parent, NULL) < 0 || !keel_digest_valid(chain)
      || !keel_digest_valid(diff) || !keel_digest_valid(digest)
      || (parent && !keel_digest_valid(parent)))
    return -EINVAL;
  strcpy(ret->chain_id, chain);
  strcpy(ret->diff_id, diff);
  strcpy(ret->digest, digest);
  strcpy(ret->parent, parent ? parent : "");
  keel_json_get_uint64(o, "size", "", &ret->size, NULL);
  keel_json_get_uint64(o, "unpacked", "", &ret->unpacked, NULL);
  return 0;
}

int
keel_store_layer_read(struct keel_store *s, const char *chain_id, struct keel_layer_info *ret)
{
  if (!keel_digest_valid(chain_id))
    return -EINVAL;
  _cleanup_close_ int fd = openat(s->dirfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  return layer_record(fd, keel_digest_hex(chain_id), ret);
}

/* What the image records reference. */
struct refs
{
  struct hexset layers, blobs, named_layers;
  struct keel_image **images;
  size_t n_images;
};

static void
refs_free(struct refs *r)
{
  hexset_free(&r->layers);
  hexset_free(&r->blobs);
  hexset_free(&r->named_layers);
  keel_image_list_free(r->images, r->n_images);
}

static int
collect_refs(struct keel_store *s, struct refs *refs, struct keel_error *err)
{
  memset(refs, 0, sizeof(*refs));
  int r = keel_store_image_list(s, &refs->images, &refs->n_images, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < refs->n_images; i++)
    {
      struct keel_image *img = refs->images[i];
      bool named = img->names && img->names[0];
      if (hexset_add(&refs->blobs, img->id) < 0 || hexset_add(&refs->blobs, img->manifest) < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
      for (size_t k = 0; img->digests && img->digests[k]; k++)
        if (keel_digest_valid(img->digests[k]) && hexset_add(&refs->blobs, img->digests[k]) < 0)
          return keel_error_set(err, -ENOMEM, "out of memory");
      for (size_t k = 0; k < img->n_layers; k++)
        {
          /* The compressed blobs kept for push: the one the image names
           * and the one its (shared) layer was unpacked from. */
          struct keel_layer_info info;
          if (hexset_add(&refs->layers, img->layers[k].chain_id) < 0
              || (named && hexset_add(&refs->named_layers, img->layers[k].chain_id) < 0)
              || (keel_digest_valid(img->layers[k].digest)
                  && hexset_add(&refs->blobs, img->layers[k].digest) < 0)
              || (keel_store_layer_read(s, img->layers[k].chain_id, &info) == 0
                  && hexset_add(&refs->blobs, info.digest) < 0))
            return keel_error_set(err, -ENOMEM, "out of memory");
        }
    }
  return 0;
}

struct sweep
{
  struct refs *refs;
  struct keel_gc_stats *st;
};

static int
sweep_layer(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct sweep *w = ud;
  if (hexset_has(&w->refs->layers, name))
    return 0;
  struct keel_layer_info info;
  if (layer_record(dirfd, name, &info) == 0)
    w->st->bytes += info.unpacked;
  keel_rm_rf_at(dirfd, name);
  w->st->layers++;
  return 0;
}

static int
sweep_blob(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct sweep *w = ud;
  if (hexset_has(&w->refs->blobs, name))
    return 0;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    w->st->bytes += (uint64_t)st.st_size;
  unlinkat(dirfd, name, 0);
  w->st->blobs++;
  return 0;
}

static int
sweep_any(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  size_t *n = ud;
  keel_rm_rf_at(dirfd, name);
  if (n)
    (*n)++;
  return 0;
}

static int
gc_locked(struct keel_store *s, struct keel_gc_stats *st, struct keel_error *err)
{
  struct refs refs;
  int r = collect_refs(s, &refs, err);
  struct sweep w = { &refs, st };
  if (r == 0)
    r = for_each(s, "layers", sweep_layer, &w);
  if (r == 0)
    r = for_each(s, "blobs/sha256", sweep_blob, &w);
  if (r == 0)
    r = for_each(s, "tmp", sweep_any, &st->tmp);
  if (r == 0)
    r = for_each(s, "locks", sweep_any, NULL);
  refs_free(&refs);
  if (r < 0 && !err->code)
    keel_error_set_errno(err, r, "cannot collect garbage in '%s'", s->root);
  return r < 0 ? err->code : 0;
}

int
keel_store_gc(struct keel_store *s, bool wait, struct keel_gc_stats *ret, struct keel_error *err)
{
  struct keel_error local = KEEL_ERROR_INIT;
  if (!err)
    err = &local;
  memset(ret, 0, sizeof(*ret));
  int r = lock_all(s, wait, err);
  if (r <= 0)
    {
      ret->skipped = r == 0;
      return r;
    }
  r = gc_locked(s, ret, err);
  unlock_all(s);
  return r;
}

int
keel_store_prune(struct keel_store *s, bool all, struct keel_gc_stats *ret, struct keel_error *err)
{
  return keel_store_prune_keep(s, all, NULL, ret, err);
}

static bool
kept(const char *const *keep, const char *id)
{
  for (size_t i = 0; keep && keep[i]; i++)
    if (!strcmp(keep[i], id))
      return true;
  return false;
}

int
keel_store_prune_keep(struct keel_store *s, bool all, const char *const *keep,
                      struct keel_gc_stats *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  int r = lock_all(s, true, err);
  if (r < 0)
    return r;
  struct keel_image **v = NULL;
  size_t n = 0;
  if ((r = keel_store_image_list(s, &v, &n, err)) < 0)
    {
      unlock_all(s);
      return r;
    }
  for (size_t i = 0; i < n && r == 0; i++)
    {
      if ((!all && v[i]->names && v[i]->names[0]) || kept(keep, v[i]->id))
        continue;
      r = keel_store_image_remove(s, v[i]->id, true, err);
      if (r == 0)
        ret->images++;
    }
  keel_image_list_free(v, n);
  if (r == 0)
    {
      size_t images = ret->images;
      r = gc_locked(s, ret, err);
      ret->images = images;
    }
  unlock_all(s);
  return r;
}

/* system check ----------------------------------------------------------- */

struct checker
{
  struct keel_check_report *rep;
  bool repair;
  struct hexset good_layers, good_blobs;
  struct refs refs;
};

static int problem(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
problem(struct checker *c, const char *fmt, ...)
{
  char **v = realloc(c->rep->problems, (c->rep->n_problems + 2) * sizeof(char *));
  if (!v)
    return -ENOMEM;
  c->rep->problems = v;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&v[c->rep->n_problems], fmt, ap);
  va_end(ap);
  if (r < 0)
    return -ENOMEM;
  v[++c->rep->n_problems] = NULL;
  return 0;
}

static int
check_blob(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct checker *c = ud;
  c->rep->blobs++;
  char digest[KEEL_DIGEST_MAX], got[KEEL_DIGEST_MAX] = "";
  snprintf(digest, sizeof(digest), "sha256:%s", name);
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  bool ok = is_hex64(name, NULL) && keel_read_file(dirfd, name, 64 << 20, &buf, &len) == 0
            && keel_digest_buffer(buf, len, got) == 0 && !strcmp(got, digest);
  if (ok)
    return hexset_add(&c->good_blobs, name);
  if (c->repair && unlinkat(dirfd, name, 0) == 0)
    c->rep->repaired++;
  return problem(c, "blob %s: content does not match its digest%s", digest,
                 c->repair ? " (removed)" : "");
}

static int
check_layer(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct checker *c = ud;
  c->rep->layers++;
  struct keel_layer_info info;
  char chain[KEEL_DIGEST_MAX] = "", why[100] = "";
  struct stat st;
  if (!is_hex64(name, NULL))
    snprintf(why, sizeof(why), "not a chain id");
  else if (layer_record(dirfd, name, &info) < 0)
    snprintf(why, sizeof(why), "missing or malformed layer.json");
  else if (strcmp(keel_digest_hex(info.chain_id), name))
    snprintf(why, sizeof(why), "layer.json names chain %.19s", info.chain_id);
  else if (!info.parent[0] && strcmp(info.chain_id, info.diff_id))
    snprintf(why, sizeof(why), "chain id of a bottom layer differs from its diff id");
  else if (fstatat(dirfd, name, &st, 0) < 0
           || (snprintf(chain, sizeof(chain), "%s/diff", name), fstatat(dirfd, chain, &st, 0) < 0)
           || !S_ISDIR(st.st_mode))
    snprintf(why, sizeof(why), "missing diff directory");
  if (info.parent[0] && !why[0])
    {
      char two[2][KEEL_DIGEST_MAX];
      char *ids[2] = { info.parent, info.diff_id };
      keel_chain_ids(ids, 2, two);
      if (strcmp(two[1], info.chain_id))
        snprintf(why, sizeof(why), "chain id does not follow from parent and diff id");
    }
  if (!why[0])
    return hexset_add(&c->good_layers, name);
  if (c->repair && keel_rm_rf_at(dirfd, name) == 0)
    c->rep->repaired++;
  return problem(c, "layer %.19s: %s%s", name, why, c->repair ? " (removed)" : "");
}

/* An image is sound when its blobs verified, its config's diff ids are
 * its layers', and every layer is present and sound. */
static int
check_image(struct keel_store *s, struct checker *c, struct keel_image *img)
{
  char why[200] = "";
  _cleanup_free_ char *cfg = NULL;
  size_t len = 0;
  struct keel_image_config ic = { 0 };
  if (!hexset_has(&c->good_blobs, keel_digest_hex(img->id)))
    snprintf(why, sizeof(why), "config blob missing or corrupt");
  else if (!hexset_has(&c->good_blobs, keel_digest_hex(img->manifest)))
    snprintf(why, sizeof(why), "manifest blob %.19s missing or corrupt", img->manifest);
  else if (keel_store_blob_read(s, img->id, KEEL_CONFIG_MAX_BYTES, &cfg, &len, NULL) < 0
           || keel_image_config_parse(cfg, len, img->n_layers, &ic, NULL) < 0)
    snprintf(why, sizeof(why), "config does not parse or does not match its layers");
  for (size_t i = 0; !why[0] && i < img->n_layers; i++)
    {
      if (strcmp(ic.diff_ids[i], img->layers[i].diff_id))
        snprintf(why, sizeof(why), "layer %zu diff id differs from the config's", i);
      else if (!hexset_has(&c->good_layers, keel_digest_hex(img->layers[i].chain_id)))
        snprintf(why, sizeof(why), "layer %.19s missing or broken", img->layers[i].chain_id);
    }
  keel_image_config_free(&ic);
  if (!why[0])
    return 0;
  if (c->repair && keel_store_image_remove(s, img->id, true, NULL) == 0)
    c->rep->repaired++;
  return problem(c, "image %.19s: %s%s", img->id, why, c->repair ? " (removed)" : "");
}

static int
check_names(struct keel_store *s, struct checker *c, struct keel_error *err)
{
  _cleanup_json_ json_object *names = NULL;
  int r = store_names_load(s, &names, err);
  if (r < 0)
    return r;
  _cleanup_strv_ char **drop = calloc(json_object_object_length(names) + 1, sizeof(char *));
  size_t n = 0;
  if (!drop)
    return -ENOMEM;
  json_object_object_foreach(names, k, v)
  {
    c->rep->names++;
    const char *id = NULL;
    char rel[128] = "";
    if (keel_json_get_string(v, "id", "", &id, NULL) > 0 && keel_digest_valid(id))
      snprintf(rel, sizeof(rel), "images/%s.json", keel_digest_hex(id));
    if (rel[0] && faccessat(s->dirfd, rel, F_OK, 0) == 0)
      continue;
    if ((r = problem(c, "name '%s' points at a missing image%s", k, c->repair ? " (removed)" : ""))
        < 0)
      return r;
    drop[n++] = strdup(k);
  }
  if (!c->repair || !n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (drop[i])
      json_object_object_del(names, drop[i]);
  c->rep->repaired += n;
  return store_names_save(s, names, err);
}

static int
orphan_layer(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct checker *c = ud;
  if (!hexset_has(&c->good_layers, name) || hexset_has(&c->refs.layers, name))
    return 0;
  if (c->repair && keel_rm_rf_at(dirfd, name) == 0)
    c->rep->repaired++;
  return problem(c, "layer %.19s: no image uses it%s", name, c->repair ? " (removed)" : "");
}

static int
orphan_blob(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct checker *c = ud;
  if (!hexset_has(&c->good_blobs, name) || hexset_has(&c->refs.blobs, name))
    return 0;
  if (c->repair && unlinkat(dirfd, name, 0) == 0)
    c->rep->repaired++;
  return problem(c, "blob sha256:%.12s: no image uses it%s", name, c->repair ? " (removed)" : "");
}

static int
leftover(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct checker *c = ud;
  if (c->repair && keel_rm_rf_at(dirfd, name) == 0)
    c->rep->repaired++;
  return problem(c, "tmp/%s: left over from an interrupted pull%s", name,
                 c->repair ? " (removed)" : "");
}

static int
check_locked(struct keel_store *s, struct checker *c, struct keel_error *err)
{
  int r;
  if ((r = for_each(s, "blobs/sha256", check_blob, c)) < 0
      || (r = for_each(s, "layers", check_layer, c)) < 0)
    return keel_error_set_errno(err, r, "cannot check '%s'", s->root);
  if ((r = collect_refs(s, &c->refs, err)) < 0)
    return r;
  c->rep->images = c->refs.n_images;
  for (size_t i = 0; i < c->refs.n_images; i++)
    if ((r = check_image(s, c, c->refs.images[i])) < 0)
      return keel_error_set(err, r, "out of memory");
  if ((r = check_names(s, c, err)) < 0)
    return r;
  /* Orphans against what sound images reference (re-read after repairs). */
  refs_free(&c->refs);
  if ((r = collect_refs(s, &c->refs, err)) < 0)
    return r;
  if ((r = for_each(s, "layers", orphan_layer, c)) < 0
      || (r = for_each(s, "blobs/sha256", orphan_blob, c)) < 0
      || (r = for_each(s, "tmp", leftover, c)) < 0)
    return keel_error_set_errno(err, r, "cannot check '%s'", s->root);
  return 0;
}

int
keel_store_check(struct keel_store *s, bool repair, struct keel_check_report *ret,
                 struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  struct checker c = { .rep = ret, .repair = repair };
  int r = lock_all(s, true, err);
  if (r < 0)
    return r;
  r = check_locked(s, &c, err);
  unlock_all(s);
  hexset_free(&c.good_layers);
  hexset_free(&c.good_blobs);
  refs_free(&c.refs);
  return r;
}

void
keel_check_report_free(struct keel_check_report *r)
{
  keel_strv_free(r->problems);
  r->problems = NULL;
  r->n_problems = 0;
}

/* df --------------------------------------------------------------------- */

struct dfw
{
  struct keel_df *df;
  struct refs *refs;
};

static int
df_layer(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct dfw *w = ud;
  struct keel_layer_info info;
  if (layer_record(dirfd, name, &info) < 0)
    return 0;
  w->df->layers++;
  w->df->layer_bytes += info.unpacked;
  if (!hexset_has(&w->refs->named_layers, name))
    w->df->reclaimable_bytes += info.unpacked;
  return 0;
}

static int
df_blob(struct keel_store *s, int dirfd, const char *name, void *ud)
{
  struct dfw *w = ud;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  w->df->blobs++;
  w->df->blob_bytes += (uint64_t)st.st_size;
  return 0;
}

int
keel_store_df(struct keel_store *s, struct keel_df *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  struct refs refs;
  int r = collect_refs(s, &refs, err);
  if (r == 0)
    {
      struct dfw w = { ret, &refs };
      ret->images = refs.n_images;
      for (size_t i = 0; i < refs.n_images; i++)
        if (!refs.images[i]->names || !refs.images[i]->names[0])
          ret->dangling++;
      if ((r = for_each(s, "layers", df_layer, &w)) < 0
          || (r = for_each(s, "blobs/sha256", df_blob, &w)) < 0)
        r = keel_error_set_errno(err, r, "cannot read '%s'", s->root);
    }
  refs_free(&refs);
  return r;
}
