/* The image store: layout, locks, blobs and layers.  Image records and
 * names are in images.c, garbage collection and checks in gc.c. */
#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/store-internal.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

const char *
keel_digest_hex(const char *digest)
{
  const char *c = strchr(digest, ':');
  return c ? c + 1 : digest;
}

int
keel_store_open(const char *root, struct keel_store **ret, struct keel_error *err)
{
  static const char *const dirs[] = { "images", "blobs", "blobs/sha256", "layers", "locks", "tmp" };
  int r = keel_mkdir_p(root, 0700);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create store '%s'", root);
  _cleanup_free_ struct keel_store *s = calloc(1, sizeof(*s));
  if (!s)
    return keel_error_set(err, -ENOMEM, "out of memory");
  s->lock_fd = s->gc_fd = -EBADF;
  s->root = realpath(root, NULL);
  if (!s->root)
    return keel_error_set_errno(err, -errno, "cannot resolve store '%s'", root);
  s->dirfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0)
    {
      r = keel_error_set_errno(err, -errno, "cannot open store '%s'", root);
      free(s->root);
      return r;
    }
  /* Layers hold set-id binaries and device whiteouts: no other user may
   * walk into the store. */
  fchmod(s->dirfd, 0700);
  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
    if (mkdirat(s->dirfd, dirs[i], 0700) < 0 && errno != EEXIST)
      {
        r = keel_error_set_errno(err, -errno, "cannot create '%s/%s'", s->root, dirs[i]);
        keel_store_free(TAKE_PTR(s));
        return r;
      }
  *ret = TAKE_PTR(s);
  return 0;
}

void
keel_store_free(struct keel_store *s)
{
  if (!s)
    return;
  if (s->lock_fd >= 0)
    close(s->lock_fd);
  if (s->gc_fd >= 0)
    close(s->gc_fd);
  if (s->dirfd >= 0)
    close(s->dirfd);
  free(s->root);
  free(s);
}

const char *
keel_store_root(const struct keel_store *s)
{
  return s->root;
}

int
store_flock(struct keel_store *s, const char *name, int op, int *fdp, struct keel_error *err)
{
  if (*fdp < 0)
    {
      *fdp = openat(s->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (*fdp < 0)
        return keel_error_set_errno(err, -errno, "cannot open '%s/%s'", s->root, name);
    }
  while (flock(*fdp, op) < 0)
    {
      if (errno == EINTR)
        continue;
      if (errno == EWOULDBLOCK)
        return 0;
      return keel_error_set_errno(err, -errno, "cannot lock '%s/%s'", s->root, name);
    }
  return 1;
}

int
keel_store_lock(struct keel_store *s, struct keel_error *err)
{
  if (s->lock_depth++ > 0)
    return 0;
  int r = store_flock(s, "lock", LOCK_EX, &s->lock_fd, err);
  if (r < 0)
    s->lock_depth = 0;
  return r < 0 ? r : 0;
}

void
keel_store_unlock(struct keel_store *s)
{
  if (s->lock_depth > 0 && --s->lock_depth == 0 && s->lock_fd >= 0)
    flock(s->lock_fd, LOCK_UN);
}

int
keel_store_pull_begin(struct keel_store *s, struct keel_error *err)
{
  int r = store_flock(s, "gc.lock", LOCK_SH, &s->gc_fd, err);
  return r < 0 ? r : 0;
}

void
keel_store_pull_end(struct keel_store *s)
{
  if (s->gc_fd >= 0)
    flock(s->gc_fd, LOCK_UN);
}

/* blobs ------------------------------------------------------------------ */

int
store_blob_relpath(const char *digest, char *buf, size_t size)
{
  if (!keel_digest_valid(digest))
    return -EINVAL;
  snprintf(buf, size, "blobs/sha256/%s", keel_digest_hex(digest));
  return 0;
}

int
keel_store_blob_put(struct keel_store *s, const char *digest, const void *buf, size_t len,
                    struct keel_error *err)
{
  char rel[128], got[KEEL_DIGEST_MAX];
  if (store_blob_relpath(digest, rel, sizeof(rel)) < 0)
    return keel_error_set(err, -EINVAL, "'%s' is not a digest", digest);
  int r = keel_digest_buffer(buf, len, got);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot digest blob");
  if (strcmp(got, digest))
    return keel_error_set(err, -EBADMSG, "blob %s: content has digest %s", digest, got);
  if (faccessat(s->dirfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0; /* content-addressed: already there means already right */
  r = keel_write_file_atomic(s->dirfd, rel, buf, len, 0644);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s/%s'", s->root, rel);
  return 0;
}

int
keel_store_blob_read(struct keel_store *s, const char *digest, size_t max, char **ret,
                     size_t *ret_len, struct keel_error *err)
{
  char rel[128];
  if (store_blob_relpath(digest, rel, sizeof(rel)) < 0)
    return keel_error_set(err, -EINVAL, "'%s' is not a digest", digest);
  int r = keel_read_file(s->dirfd, rel, max, ret, ret_len);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read blob %s", digest);
  return 0;
}

bool
keel_store_blob_exists(struct keel_store *s, const char *digest)
{
  char rel[128];
  return store_blob_relpath(digest, rel, sizeof(rel)) == 0
         && faccessat(s->dirfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
keel_store_blob_open(struct keel_store *s, const char *digest, int *ret_fd, uint64_t *ret_size,
                     struct keel_error *err)
{
  char rel[128];
  if (store_blob_relpath(digest, rel, sizeof(rel)) < 0)
    return keel_error_set(err, -EINVAL, "'%s' is not a digest", digest);
  int fd = openat(s->dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    {
      int r = -errno;
      if (fd >= 0)
        close(fd);
      return keel_error_set_errno(err, r, "cannot open blob %s", digest);
    }
  *ret_fd = fd;
  *ret_size = (uint64_t)st.st_size;
  return 0;
}

int
keel_store_tmpfile(struct keel_store *s, struct keel_error *err)
{
  int fd = openat(s->dirfd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create a file in '%s/tmp'", s->root);
  return fd;
}

/* layers ----------------------------------------------------------------- */

bool
keel_store_layer_exists(struct keel_store *s, const char *chain_id)
{
  char rel[128];
  if (!keel_digest_valid(chain_id))
    return false;
  snprintf(rel, sizeof(rel), "layers/%s/layer.json", keel_digest_hex(chain_id));
  return faccessat(s->dirfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
keel_store_layer_path(struct keel_store *s, const char *chain_id, char **ret)
{
  if (!keel_digest_valid(chain_id))
    return -EINVAL;
  if (asprintf(ret, "%s/layers/%s/diff", s->root, keel_digest_hex(chain_id)) < 0)
    return -ENOMEM;
  return 0;
}

int
keel_store_layer_claim(struct keel_store *s, const char *chain_id, bool wait, int *ret_fd,
                       struct keel_error *err)
{
  char rel[128];
  snprintf(rel, sizeof(rel), "locks/%s.lock", keel_digest_hex(chain_id));
  int fd = -EBADF;
  int r = store_flock(s, rel, LOCK_EX | (wait ? 0 : LOCK_NB), &fd, err);
  if (r <= 0)
    {
      if (fd >= 0)
        close(fd);
      return r;
    }
  *ret_fd = fd;
  return 1;
}

struct keel_layer_tmp
{
  struct keel_store *store;
  char name[64];
  int fd;      /* tmp/<name> */
  int diff_fd; /* tmp/<name>/diff */
  int blob_fd; /* tmp/<name>/blob: the compressed layer, kept for push */
};

/* A temporary layer directory is made under a dot name, locked, and only
 * then renamed to its working name: keel_store_tmp_sweep() in another
 * pull skips dot names and removes any other directory whose lock it can
 * take, so it must never see one that its owner has not locked yet.  A
 * crash before the rename leaves a dot directory that gc removes. */
static int
layer_tmp_create(struct keel_store *s, struct keel_layer_tmp *t, struct keel_error *err)
{
  uint32_t rnd = 0;
  if (getrandom(&rnd, sizeof(rnd), 0) < 0)
    rnd = (uint32_t)time(NULL);
  char final[64];
  snprintf(t->name, sizeof(t->name), "tmp/.new-%d-%08x", (int)getpid(), rnd);
  snprintf(final, sizeof(final), "tmp/layer-%d-%08x", (int)getpid(), rnd);
  if (mkdirat(s->dirfd, t->name, 0700) < 0)
    {
      int r = keel_error_set_errno(err, -errno, "cannot create '%s/%s'", s->root, t->name);
      t->name[0] = '\0';
      return r;
    }
  if ((t->fd = openat(s->dirfd, t->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s/%s'", s->root, t->name);
  if (flock(t->fd, LOCK_EX | LOCK_NB) < 0)
    return keel_error_set_errno(err, -errno, "cannot lock '%s/%s'", s->root, t->name);
  if (renameat(s->dirfd, t->name, s->dirfd, final) < 0)
    return keel_error_set_errno(err, -errno, "cannot rename '%s/%s'", s->root, t->name);
  memcpy(t->name, final, sizeof(final));
  if (mkdirat(t->fd, "diff", 0755) < 0
      || (t->diff_fd = openat(t->fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return keel_error_set_errno(err, -errno, "cannot create '%s/%s/diff'", s->root, t->name);
  return 0;
}

int
keel_store_layer_tmp_new(struct keel_store *s, struct keel_layer_tmp **ret, struct keel_error *err)
{
  struct keel_layer_tmp *t = calloc(1, sizeof(*t));
  if (!t)
    return keel_error_set(err, -ENOMEM, "out of memory");
  t->store = s;
  t->fd = t->diff_fd = t->blob_fd = -EBADF;
  int r = layer_tmp_create(s, t, err);
  if (r < 0)
    {
      keel_store_layer_tmp_free(t);
      return r;
    }
  *ret = t;
  return 0;
}

int
keel_store_layer_tmp_fd(const struct keel_layer_tmp *t)
{
  return t->diff_fd;
}

int
keel_store_layer_tmp_blob(struct keel_layer_tmp *t, struct keel_error *err)
{
  if (t->blob_fd < 0)
    t->blob_fd = openat(t->fd, "blob", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (t->blob_fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create '%s/%s/blob'", t->store->root, t->name);
  return t->blob_fd;
}

void
keel_store_layer_tmp_free(struct keel_layer_tmp *t)
{
  if (!t)
    return;
  if (t->diff_fd >= 0)
    close(t->diff_fd);
  if (t->blob_fd >= 0)
    close(t->blob_fd);
  if (t->fd >= 0)
    close(t->fd);
  if (t->name[0])
    keel_rm_rf_at(t->store->dirfd, t->name);
  free(t);
}

int
store_layer_info_to_json(const struct keel_layer_info *info, json_object **ret)
{
  json_object *o = json_object_new_object();
  if (!o)
    return -ENOMEM;
  json_object_object_add(o, "chain", json_object_new_string(info->chain_id));
  json_object_object_add(o, "diff", json_object_new_string(info->diff_id));
  json_object_object_add(o, "parent",
                         info->parent[0] ? json_object_new_string(info->parent) : NULL);
  json_object_object_add(o, "digest", json_object_new_string(info->digest));
  json_object_object_add(o, "size", json_object_new_uint64(info->size));
  json_object_object_add(o, "unpacked", json_object_new_uint64(info->unpacked));
  *ret = o;
  return 0;
}

int
keel_store_layer_commit(struct keel_store *s, struct keel_layer_tmp *t,
                        const struct keel_layer_info *info, struct keel_error *err)
{
  char dst[128];
  snprintf(dst, sizeof(dst), "layers/%s", keel_digest_hex(info->chain_id));
  _cleanup_json_ json_object *o = NULL;
  if (store_layer_info_to_json(info, &o) < 0)
    {
      keel_store_layer_tmp_free(t);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  size_t len;
  const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
  int r = keel_write_file_atomic(t->fd, "layer.json", text, len, 0644);
  /* One syncfs makes every file of the layer durable before it becomes
   * visible: cheaper than an fsync per file, and the rename is the commit. */
  if (r == 0 && syncfs(t->fd) < 0)
    r = -errno;
  /* The compressed blob goes first: a crash between the two renames
   * leaves an orphan blob for gc, never a layer whose blob push lacks. */
  if (r == 0 && t->blob_fd >= 0)
    {
      char blob[128];
      if (store_blob_relpath(info->digest, blob, sizeof(blob)) < 0)
        r = -EINVAL;
      else if (renameat(t->fd, "blob", s->dirfd, blob) < 0)
        r = -errno;
    }
  if (r < 0)
    {
      keel_store_layer_tmp_free(t);
      return keel_error_set_errno(err, r, "cannot record layer %s", info->chain_id);
    }
  if (renameat(s->dirfd, t->name, s->dirfd, dst) < 0)
    {
      r = -errno;
      if (r == -EEXIST || r == -ENOTEMPTY)
        r = 0; /* another pull committed the same layer first: it is identical */
      keel_store_layer_tmp_free(t);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot commit layer %s", info->chain_id);
      return 0;
    }
  t->name[0] = '\0';
  keel_store_layer_tmp_free(t);
  _cleanup_close_ int lfd = openat(s->dirfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lfd >= 0)
    fsync(lfd);
  return 0;
}

int
keel_store_tmp_sweep(struct keel_store *s)
{
  /* A temporary directory is alive while its owner holds a flock on it;
   * one whose lock can be taken belongs to a process that died. */
  _cleanup_close_ int fd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  DIR *d = fdopendir(fd);
  if (!d)
    return -errno;
  fd = -EBADF;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_close_ int e = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (e < 0 || flock(e, LOCK_EX | LOCK_NB) < 0)
        continue;
      if (keel_rm_rf_at(dirfd(d), de->d_name) == 0)
        n++;
    }
  closedir(d);
  return n;
}
