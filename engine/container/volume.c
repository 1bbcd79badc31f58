/* Named volumes: a directory per volume, its metadata beside it, and the
 * first-use copy of the image's content (what podman and docker do for a
 * fresh named volume mounted over a non-empty image directory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/path.h"

extern char **environ;

void
keel_volume_path(const char *root, const char *name, char *buf, size_t size)
{
  snprintf(buf, size, "%s/volumes/%s/_data", root, name);
}

static void
meta_path(const char *root, const char *name, char *buf, size_t size)
{
  snprintf(buf, size, "%s/volumes/%s/volume.json", root, name);
}

static int
check_volume_name(const char *name, struct keel_error *err)
{
  size_t n = strlen(name);
  bool ok = n > 0 && n <= KEEL_VOLUME_NAME_MAX && name[0] != '.' && name[0] != '_';
  for (size_t i = 0; ok && i < n; i++)
    ok = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", name[i]);
  return ok ? 0 : keel_error_set(err, -EINVAL, "invalid volume name \"%s\"", name);
}

int
keel_volume_load(const char *root, const char *name, json_object **ret, struct keel_error *err)
{
  char path[4096];
  if (check_volume_name(name, err) < 0)
    return err->code;
  meta_path(root, name, path, sizeof(path));
  int r = keel_json_parse_file(path, ret, NULL);
  if (r < 0)
    return keel_error_set(err, -ENOENT, "no volume with name \"%s\" found: no such volume", name);
  return 0;
}

int
keel_volume_create(const char *root, const char *name, const char *const *labels, bool exist_ok,
                   char *ret_name, struct keel_error *err)
{
  char gen[KEEL_VOLUME_NAME_MAX + 1], path[4096];
  if (!name)
    {
      unsigned char rnd[32];
      if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        return keel_error_set_errno(err, errno, "cannot get random bytes");
      for (size_t i = 0; i < 32; i++)
        sprintf(gen + 2 * i, "%02x", rnd[i]);
      name = gen;
    }
  if (check_volume_name(name, err) < 0)
    return err->code;
  if (ret_name)
    snprintf(ret_name, KEEL_VOLUME_NAME_MAX + 1, "%s", name);
  snprintf(path, sizeof(path), "%s/volumes/%s", root, name);
  if (keel_mkdir_p(path, 0700) < 0)
    return keel_error_set_errno(err, errno, "cannot create volume '%s'", name);
  meta_path(root, name, path, sizeof(path));
  if (access(path, F_OK) == 0)
    return exist_ok ? 0 : keel_error_set(err, -EEXIST, "volume with name %s already exists", name);
  keel_volume_path(root, name, path, sizeof(path));
  if (mkdir(path, 0755) < 0 && errno != EEXIST)
    return keel_error_set_errno(err, errno, "cannot create volume '%s'", name);
  _cleanup_json_ json_object *m = json_object_new_object(), *l = json_object_new_object();
  for (size_t i = 0; labels && labels[i]; i++)
    {
      const char *eq = strchr(labels[i], '=');
      char k[512];
      snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - labels[i]) : (int)strlen(labels[i]),
               labels[i]);
      json_object_object_add(l, k, json_object_new_string(eq ? eq + 1 : ""));
    }
  char now[64];
  time_t t = time(NULL);
  strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  json_object_object_add(m, "Name", json_object_new_string(name));
  json_object_object_add(m, "Driver", json_object_new_string("local"));
  json_object_object_add(m, "Mountpoint", json_object_new_string(path));
  json_object_object_add(m, "CreatedAt", json_object_new_string(now));
  json_object_object_add(m, "Labels", json_object_get(l));
  json_object_object_add(m, "Anonymous", json_object_new_boolean(name == gen));
  json_object_object_add(m, "Filled", json_object_new_boolean(false));
  meta_path(root, name, path, sizeof(path));
  int r = keel_json_write_file(path, m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
                               err);
  return r < 0 ? r : 1;
}

int
keel_volume_list(const char *root, char ***ret, size_t *ret_n, struct keel_error *err)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/volumes", root);
  *ret = NULL;
  *ret_n = 0;
  struct dirent **v = NULL;
  int n = scandir(path, &v, NULL, alphasort);
  if (n < 0)
    return errno == ENOENT ? 0 : keel_error_set_errno(err, errno, "cannot list '%s'", path);
  char **names = calloc((size_t)n + 1, sizeof(*names));
  size_t k = 0;
  for (int i = 0; i < n; i++)
    {
      char meta[4096];
      meta_path(root, v[i]->d_name, meta, sizeof(meta));
      if (names && v[i]->d_name[0] != '.' && access(meta, F_OK) == 0)
        names[k++] = strdup(v[i]->d_name);
      free(v[i]);
    }
  free(v);
  if (!names)
    return keel_error_set(err, -ENOMEM, "out of memory");
  *ret = names;
  *ret_n = k;
  return 0;
}

bool
keel_volume_in_use(const char *root, const char *name)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  if (keel_ctr_list(root, &ids, &n, NULL) < 0)
    return true;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_json_ json_object *cfg = NULL;
      json_object *hc, *mounts;
      if (keel_ctr_load(root, ids[i], &cfg, NULL) < 0
          || !json_object_object_get_ex(cfg, "HostConfig", &hc)
          || !json_object_object_get_ex(hc, "Mounts", &mounts))
        continue;
      for (size_t j = 0; j < json_object_array_length(mounts); j++)
        {
          json_object *nm;
          if (json_object_object_get_ex(json_object_array_get_idx(mounts, j), "Name", &nm)
              && !strcmp(json_object_get_string(nm), name))
            return true;
        }
    }
  return false;
}

int
keel_volume_remove(const char *root, const char *name, bool force, struct keel_error *err)
{
  _cleanup_json_ json_object *m = NULL;
  int r = keel_volume_load(root, name, &m, err);
  if (r < 0)
    return r;
  if (!force && keel_volume_in_use(root, name))
    return keel_error_set(err, -EBUSY, "volume %s is being used by a container", name);
  char path[4096], dead[4200];
  snprintf(path, sizeof(path), "%s/volumes/%s", root, name);
  snprintf(dead, sizeof(dead), "%s/volumes/.rm-%s", root, name);
  if (rename(path, dead) < 0 || keel_rm_rf_at(AT_FDCWD, dead) < 0)
    return keel_error_set_errno(err, errno, "cannot remove volume '%s'", name);
  return 0;
}

int
keel_volume_fill(const char *root, const char *name, const char *rootfs, const char *dst,
                 struct keel_error *err)
{
  _cleanup_json_ json_object *m = NULL;
  json_object *filled;
  int r = keel_volume_load(root, name, &m, err);
  if (r < 0)
    return r;
  if (json_object_object_get_ex(m, "Filled", &filled) && json_object_get_boolean(filled))
    return 0;
  _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  /* resolved inside the rootfs: an image's symlink cannot point the copy
   * at the host */
  _cleanup_close_ int src
      = rfd < 0 ? -1 : keel_path_open_in_root(rfd, dst, O_PATH | O_DIRECTORY | O_CLOEXEC, NULL);
  char data[4096];
  keel_volume_path(root, name, data, sizeof(data));
  if (src >= 0)
    {
      char from[64];
      snprintf(from, sizeof(from), "/proc/self/fd/%d/.", src);
      fcntl(src, F_SETFD, 0);
      char *argv[] = { "cp", "-a", "--", from, data, NULL };
      pid_t pid;
      int status = 0;
      if (posix_spawnp(&pid, "cp", NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0
          || !WIFEXITED(status) || WEXITSTATUS(status))
        return keel_error_set(err, -EIO, "cannot fill volume %s from the image's %s", name, dst);
    }
  json_object_object_add(m, "Filled", json_object_new_boolean(true));
  char path[4096];
  meta_path(root, name, path, sizeof(path));
  return keel_json_write_file(path, m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
                              err);
}
