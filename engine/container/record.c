/* Container records under <root>/containers/: ids, names, the lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

void
keel_ctr_path(const char *root, const char *id, const char *sub, char *buf, size_t size)
{
  snprintf(buf, size, "%s/containers/%s%s%s", root, id, *sub ? "/" : "", sub);
}

int
keel_ctr_lock(const char *root, int *ret_fd, struct keel_error *err)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/containers", root);
  if (keel_mkdir_p(path, 0700) < 0)
    return keel_error_set_errno(err, errno, "cannot create '%s'", path);
  snprintf(path, sizeof(path), "%s/containers/.lock", root);
  int fd = keel_lock_open(path);
  if (fd < 0)
    return keel_error_set_errno(err, fd, "cannot lock '%s'", path);
  *ret_fd = fd;
  return 0;
}

static bool
is_id(const char *s)
{
  if (strlen(s) != KEEL_CTR_ID_LEN)
    return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return false;
  return true;
}

int
keel_ctr_load(const char *root, const char *id, json_object **ret, struct keel_error *err)
{
  char path[4096];
  keel_ctr_path(root, id, "config.json", path, sizeof(path));
  return keel_json_parse_file(path, ret, err);
}

int
keel_ctr_save(const char *root, const char *id, json_object *cfg, struct keel_error *err)
{
  char path[4096];
  keel_ctr_path(root, id, "config.json", path, sizeof(path));
  return keel_json_write_file(path, cfg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                              err);
}

static int
created_cmp(const void *a, const void *b)
{
  const char *const *x = a, *const *y = b;
  return strcmp(*x, *y);
}

/* Ids sorted by their record's creation (the "Created" time is in the
 * record; the directory's mtime changes, so read a sort key kept in the
 * name of a file: we simply use the ctime of config's directory birth
 * order by reading Created). */
int
keel_ctr_list(const char *root, char ***ret_ids, size_t *ret_n, struct keel_error *err)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/containers", root);
  _cleanup_closedir_ DIR *d = opendir(path);
  *ret_ids = NULL;
  *ret_n = 0;
  if (!d)
    return errno == ENOENT ? 0 : keel_error_set_errno(err, errno, "cannot open '%s'", path);
  char **keys = NULL;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      if (!is_id(de->d_name))
        continue;
      _cleanup_json_ json_object *cfg = NULL;
      if (keel_ctr_load(root, de->d_name, &cfg, NULL) < 0)
        continue; /* half-made or half-removed: not a container */
      json_object *c;
      const char *created
          = json_object_object_get_ex(cfg, "Created", &c) ? json_object_get_string(c) : "";
      char **nk = realloc(keys, (n + 2) * sizeof(*keys));
      if (!nk)
        break;
      keys = nk;
      /* "created\tid": sorting the strings sorts by time */
      if (asprintf(&keys[n], "%s\t%s", created, de->d_name) < 0)
        break;
      keys[++n] = NULL;
    }
  if (n)
    qsort(keys, n, sizeof(*keys), created_cmp);
  for (size_t i = 0; i < n; i++)
    memmove(keys[i], strchr(keys[i], '\t') + 1, KEEL_CTR_ID_LEN + 1);
  *ret_ids = keys;
  *ret_n = n;
  return 0;
}

static const char *
cfg_name(json_object *cfg)
{
  json_object *v;
  return json_object_object_get_ex(cfg, "Name", &v) ? json_object_get_string(v) : "";
}

/* Which record holds name, under the lock; "" when none. */
static int
find_name(const char *root, const char *name, char ret_id[KEEL_CTR_ID_LEN + 1],
          struct keel_error *err)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  int r = keel_ctr_list(root, &ids, &n, err);
  ret_id[0] = '\0';
  for (size_t i = 0; r >= 0 && i < n; i++)
    {
      _cleanup_json_ json_object *cfg = NULL;
      if (keel_ctr_load(root, ids[i], &cfg, NULL) == 0 && !strcmp(cfg_name(cfg), name))
        {
          memcpy(ret_id, ids[i], KEEL_CTR_ID_LEN + 1);
          return 1;
        }
    }
  return r;
}

static int
check_name(const char *name, struct keel_error *err)
{
  /* podman's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
  size_t n = strlen(name);
  if (n == 0 || n > 128
      || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", name[0]))
    return keel_error_set(err, -EINVAL, "invalid container name '%s'", name);
  for (size_t i = 0; i < n; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", name[i]))
      return keel_error_set(err, -EINVAL, "invalid container name '%s'", name);
  return 0;
}

/* A generated name as podman's, adjective_noun, short and unique. */
static void
gen_name(const unsigned char *rnd, char *buf, size_t size)
{
  static const char *const adj[] = { "brave", "calm",  "eager", "fond",  "keen",  "lucid",
                                     "merry", "quiet", "sharp", "vivid", "witty", "zen" };
  static const char *const noun[] = { "anchor", "buoy", "cove", "dock", "fjord", "harbor",
                                      "hull",   "mast", "reef", "sail", "tide",  "wharf" };
  snprintf(buf, size, "%s_%s%02x%02x", adj[rnd[0] % ARRAY_SIZE(adj)],
           noun[rnd[1] % ARRAY_SIZE(noun)], rnd[2], rnd[3]);
}

int
keel_ctr_new(const char *root, json_object *cfg, char ret_id[KEEL_CTR_ID_LEN + 1],
             struct keel_error *err)
{
  _cleanup_close_ int lock = -EBADF;
  int r = keel_ctr_lock(root, &lock, err);
  if (r < 0)
    return r;
  unsigned char rnd[32];
  if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
    return keel_error_set_errno(err, errno, "cannot get random bytes");
  char name[160];
  const char *want = cfg_name(cfg);
  if (*want)
    {
      if ((r = check_name(want, err)) < 0)
        return r;
      snprintf(name, sizeof(name), "%s", want);
    }
  else
    gen_name(rnd, name, sizeof(name));
  char other[KEEL_CTR_ID_LEN + 1];
  if ((r = find_name(root, name, other, err)) < 0)
    return r;
  if (r > 0)
    return keel_error_set(err, -EEXIST,
                          "the container name \"%s\" is already in use by %.12s: "
                          "remove it or pick another name",
                          name, other);
  for (size_t i = 0; i < 32; i++)
    sprintf(ret_id + 2 * i, "%02x", rnd[i]);
  json_object_object_add(cfg, "Id", json_object_new_string(ret_id));
  json_object_object_add(cfg, "Name", json_object_new_string(name));
  char path[4096];
  keel_ctr_path(root, ret_id, "", path, sizeof(path));
  if (mkdir(path, 0700) < 0)
    return keel_error_set_errno(err, errno, "cannot create '%s'", path);
  if ((r = keel_ctr_save(root, ret_id, cfg, err)) < 0)
    keel_rm_rf_at(AT_FDCWD, path);
  return r;
}

int
keel_ctr_lookup(const char *root, const char *what, char ret_id[KEEL_CTR_ID_LEN + 1],
                json_object **ret_cfg, struct keel_error *err)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  int r = keel_ctr_list(root, &ids, &n, err);
  if (r < 0)
    return r;
  const char *found = NULL;
  size_t len = strlen(what);
  /* a name wins over an id prefix, as in podman */
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_json_ json_object *cfg = NULL;
      if (keel_ctr_load(root, ids[i], &cfg, NULL) == 0 && !strcmp(cfg_name(cfg), what))
        {
          found = ids[i];
          break;
        }
    }
  for (size_t i = 0; !found && len && len <= KEEL_CTR_ID_LEN && i < n; i++)
    if (!strncmp(ids[i], what, len))
      {
        for (size_t j = i + 1; j < n; j++)
          if (!strncmp(ids[j], what, len))
            return keel_error_set(err, -EINVAL, "more than one container matches '%s'", what);
        found = ids[i];
      }
  if (!found)
    return keel_error_set(err, -ENOENT, "no container with name or ID \"%s\" found", what);
  memcpy(ret_id, found, KEEL_CTR_ID_LEN + 1);
  return ret_cfg ? keel_ctr_load(root, ret_id, ret_cfg, err) : 0;
}

int
keel_ctr_rename(const char *root, const char *id, const char *name, struct keel_error *err)
{
  _cleanup_close_ int lock = -EBADF;
  int r = keel_ctr_lock(root, &lock, err);
  if (r < 0 || (r = check_name(name, err)) < 0)
    return r;
  char other[KEEL_CTR_ID_LEN + 1];
  if ((r = find_name(root, name, other, err)) < 0)
    return r;
  if (r > 0)
    return keel_error_set(err, -EEXIST, "the container name \"%s\" is already in use by %.12s",
                          name, other);
  _cleanup_json_ json_object *cfg = NULL;
  if ((r = keel_ctr_load(root, id, &cfg, err)) < 0)
    return r;
  json_object_object_add(cfg, "Name", json_object_new_string(name));
  return keel_ctr_save(root, id, cfg, err);
}

int
keel_ctr_remove(const char *root, const char *id, struct keel_error *err)
{
  _cleanup_close_ int lock = -EBADF;
  int r = keel_ctr_lock(root, &lock, err);
  if (r < 0)
    return r;
  char path[4096], dead[4200];
  keel_ctr_path(root, id, "", path, sizeof(path));
  /* rename first so a half-removed record is never listed */
  snprintf(dead, sizeof(dead), "%s/containers/.rm-%s", root, id);
  if (rename(path, dead) < 0)
    return errno == ENOENT ? 0 : keel_error_set_errno(err, errno, "cannot remove '%s'", path);
  if (keel_rm_rf_at(AT_FDCWD, dead) < 0)
    return keel_error_set_errno(err, errno, "cannot remove '%s'", dead);
  return 0;
}
