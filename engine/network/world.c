/* The "world" under the networks lock: every network with its leases, and
 * the per-container files (hosts, resolv.conf, meta.json) derived from it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "network/hosts.h"
#include "network/world.h"

void
keel_world_free(struct keel_world *w)
{
  for (size_t i = 0; i < w->n; i++)
    keel_leases_free(&w->leases[i]);
  free(w->leases);
  keel_network_list_free(w->nets, w->n);
  memset(w, 0, sizeof(*w));
}

int
keel_world_lease_path(const struct keel_world *w, size_t i, char buf[PATH_MAX])
{
  char sub[160];
  snprintf(sub, sizeof(sub), "leases/%s.json", w->nets[i]->name);
  return keel_net_dir(w->env, sub, buf);
}

int
keel_world_load(const struct keel_net_env *env, struct keel_world *w, struct keel_error *err)
{
  memset(w, 0, sizeof(*w));
  w->env = env;
  char dir[PATH_MAX];
  int r = keel_net_dir(env, "leases", dir);
  if (r == 0)
    r = keel_mkdir_p(dir, 0700);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create the leases directory");
  r = keel_network_read_all(env, &w->nets, &w->n, err);
  if (r < 0)
    return r;
  w->leases = calloc(w->n ? w->n : 1, sizeof(*w->leases));
  if (!w->leases)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < w->n; i++)
    {
      char path[PATH_MAX];
      keel_world_lease_path(w, i, path);
      r = keel_leases_load(path, &w->leases[i], err);
      if (r < 0)
        return r;
    }
  return 0;
}

int
keel_world_save(struct keel_world *w, size_t i, struct keel_error *err)
{
  char path[PATH_MAX];
  int r = keel_world_lease_path(w, i, path);
  if (r < 0)
    return keel_error_set_errno(err, r, "lease file of '%s'", w->nets[i]->name);
  return keel_leases_save(path, &w->leases[i], err);
}

ssize_t
keel_world_find(const struct keel_world *w, const char *name)
{
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->nets[i]->name, name) == 0)
      return (ssize_t)i;
  return -1;
}

const struct keel_lease *
keel_world_lease_of(const struct keel_world *w, size_t i, const char *container)
{
  for (size_t j = 0; j < w->leases[i].n; j++)
    if (strcmp(w->leases[i].v[j].container, container) == 0)
      return &w->leases[i].v[j];
  return NULL;
}

size_t
keel_world_count(const struct keel_world *w)
{
  size_t n = 0;
  for (size_t i = 0; i < w->n; i++)
    n += w->leases[i].n;
  return n;
}

int
keel_world_container_dir(const struct keel_world *w, const char *id, const char *file,
                         char buf[PATH_MAX])
{
  char sub[PATH_MAX];
  snprintf(sub, sizeof(sub), "containers/%s%s%s", id, file ? "/" : "", file ? file : "");
  return keel_net_dir(w->env, sub, buf);
}

/* Bind mounts pin the inode: a rename would never reach a running
 * container, so an existing file is rewritten in place (as podman does);
 * a new one appears atomically. */
static int
write_in_place(const char *path, const char *text)
{
  size_t len = strlen(text);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? keel_write_file_atomic(AT_FDCWD, path, text, len, 0644) : -errno;
  if (pwrite(fd, text, len, 0) != (ssize_t)len)
    return -EIO;
  return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

static void
add_entry(struct keel_hosts_entry **v, size_t *n, uint32_t ip, const char *a, const char *b,
          const char *c)
{
  struct keel_hosts_entry *nv = realloc(*v, (*n + 1) * sizeof(**v));
  if (!nv)
    return;
  *v = nv;
  keel_ip_format(ip, nv[*n].ip);
  snprintf(nv[*n].names, sizeof(nv[*n].names), "%s%s%s%s%s", a, a[0] && b[0] ? " " : "", b,
           (a[0] || b[0]) && c[0] ? " " : "", c);
  (*n)++;
}

static void
add_extra_hosts(struct keel_hosts_entry **v, size_t *n, json_object *meta)
{
  json_object *extra = NULL;
  if (!meta || !json_object_object_get_ex(meta, "add_hosts", &extra))
    return;
  for (size_t i = 0; i < json_object_array_length(extra); i++)
    {
      const char *s = json_object_get_string(json_object_array_get_idx(extra, i));
      const char *colon = s ? strrchr(s, ':') : NULL;
      uint32_t ip;
      if (!colon || keel_ip_parse(colon + 1, &ip) < 0)
        continue;
      char name[256];
      snprintf(name, sizeof(name), "%.*s", (int)(colon - s), s);
      add_entry(v, n, ip, name, "", "");
    }
}

int
keel_world_write_hosts(const struct keel_world *w, const char *id, struct keel_error *err)
{
  char dir[PATH_MAX], path[PATH_MAX];
  keel_world_container_dir(w, id, NULL, dir);
  if (access(dir, F_OK) < 0)
    return 0;
  keel_world_container_dir(w, id, "meta.json", path);
  _cleanup_json_ json_object *meta = NULL;
  struct keel_error ignored = KEEL_ERROR_INIT;
  keel_json_parse_file(path, &meta, &ignored);
  json_object *h = NULL;
  const char *hostname
      = meta && json_object_object_get_ex(meta, "hostname", &h) ? json_object_get_string(h) : "";
  _cleanup_free_ struct keel_hosts_entry *v = NULL;
  size_t n = 0;
  add_extra_hosts(&v, &n, meta);
  bool gateway_done = false;
  for (size_t i = 0; i < w->n; i++)
    {
      const struct keel_lease *self = keel_world_lease_of(w, i, id);
      if (!self)
        continue;
      add_entry(&v, &n, self->ip, strcmp(hostname, self->name) ? hostname : "", self->name,
                self->aliases);
      if (!gateway_done)
        add_entry(&v, &n, w->nets[i]->gw, "host.containers.internal", "", "");
      gateway_done = true;
      for (size_t j = 0; j < w->leases[i].n; j++)
        if (&w->leases[i].v[j] != self)
          add_entry(&v, &n, w->leases[i].v[j].ip, w->leases[i].v[j].name, "",
                    w->leases[i].v[j].aliases);
    }
  _cleanup_free_ char *text = keel_hosts_text(v, n);
  if (!text)
    return keel_error_set(err, -ENOMEM, "out of memory");
  keel_world_container_dir(w, id, "hosts", path);
  int r = write_in_place(path, text);
  return r < 0 ? keel_error_set_errno(err, r, "cannot write '%s'", path) : 0;
}

int
keel_world_write_members(const struct keel_world *w, size_t i, struct keel_error *err)
{
  for (size_t j = 0; j < w->leases[i].n; j++)
    {
      int r = keel_world_write_hosts(w, w->leases[i].v[j].container, err);
      if (r < 0)
        return r;
    }
  return 0;
}
