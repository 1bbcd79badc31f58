/* The step cache index: <root>/build-steps/<hex of key> holds the id of the
 * image a step produced.  A hit counts only while that image is still in
 * the store, so removing images can never make a stale hit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build/bld.h"
#include "lib/cleanup.h"
#include "lib/fs.h"

static void
index_path(struct keel_store *s, const char *key, char *buf, size_t size)
{
  const char *hex = strchr(key, ':');
  snprintf(buf, size, "%s/build-steps/%s", keel_store_root(s), hex ? hex + 1 : key);
}

int
cache_lookup(struct keel_store *s, const char *key, char id[KEEL_DIGEST_MAX])
{
  char path[4096];
  index_path(s, key, path, sizeof(path));
  _cleanup_free_ char *text = NULL;
  size_t len;
  if (keel_read_file(AT_FDCWD, path, KEEL_DIGEST_MAX, &text, &len) < 0)
    return 0;
  text[strcspn(text, "\n")] = '\0';
  if (!keel_digest_valid(text))
    return 0;
  struct keel_image *img = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_store_image_lookup(s, text, &img, &err) < 0)
    return 0;
  snprintf(id, KEEL_DIGEST_MAX, "%s", img->id);
  keel_image_free(img);
  return 1;
}

int
cache_record(struct keel_store *s, const char *key, const char *id, struct keel_error *err)
{
  char dir[4096], path[4096];
  snprintf(dir, sizeof(dir), "%s/build-steps", keel_store_root(s));
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return keel_error_set_errno(err, errno, "cannot create '%s'", dir);
  index_path(s, key, path, sizeof(path));
  char line[KEEL_DIGEST_MAX + 2];
  snprintf(line, sizeof(line), "%s\n", id);
  int r = keel_write_file_atomic(AT_FDCWD, path, line, strlen(line), 0600);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s'", path);
  return 0;
}
