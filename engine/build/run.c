/* Running a command in a working container: the record-shaped config
 * engine/container turns into an OCI spec (podman's defaults), a bundle
 * beside the record, and the runtime library in-process (create, start,
 * wait, delete) with this process's stdio. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/internal.h"
#include "lib/cleanup.h"
#include "lib/digest.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/path.h"
#include "network/network.h"
#include "runtime/container.h"

#define MAX_TARGETS 64

/* Paths the run creates only as mount points, removed after it. */
struct targets
{
  char *created[MAX_TARGETS];
  size_t n;
  /* directories that had no copy in upper/ before the run: creating a
   * mount point in them copies them up, which would put them in the
   * next layer though nothing in them changed */
  char *fresh[MAX_TARGETS];
  size_t n_fresh;
  const char *upper;
};

static void
targets_free(struct targets *t)
{
  for (size_t i = 0; i < t->n; i++)
    free(t->created[i]);
  for (size_t i = 0; i < t->n_fresh; i++)
    free(t->fresh[i]);
  t->n = t->n_fresh = 0;
}

/* Remember the ancestors of path that upper/ does not hold yet. */
static void
note_fresh(const char *upper, const char *path, struct targets *t)
{
  char p[4096];
  snprintf(p, sizeof(p), "%s", path);
  for (char *slash = strrchr(p, '/'); slash && slash != p && t->n_fresh < MAX_TARGETS;
       slash = strrchr(p, '/'))
    {
      *slash = '\0';
      char u[8192];
      struct stat st;
      snprintf(u, sizeof(u), "%s%s", upper, p);
      if (lstat(u, &st) == 0)
        return;
      for (size_t i = 0; i < t->n_fresh; i++)
        if (!strcmp(t->fresh[i], p))
          return;
      t->fresh[t->n_fresh++] = strdup(p);
    }
}

/* The lowest-priority answer to "what is dir like below upper/": the
 * topmost lower layer holding it. */
static bool
same_as_lower(struct keel_working *w, const char *dir, const struct stat *up)
{
  _cleanup_strv_ char **lowers = NULL;
  size_t n;
  if (working_lowers(w->store, keel_working_image(w), NULL, &lowers, &n, NULL) < 0)
    return false;
  for (size_t i = n; i-- > 0;)
    {
      char p[8192];
      struct stat st;
      snprintf(p, sizeof(p), "%s%s", lowers[i], dir);
      if (lstat(p, &st) == 0)
        return S_ISDIR(st.st_mode) && st.st_mode == up->st_mode && st.st_uid == up->st_uid
               && st.st_gid == up->st_gid;
    }
  return false;
}

/* After the run, with the overlay unmounted (it was not mounted
 * before): drop the copied-up
 * directories that are empty, not opaque and as in the layers below. */
static void
drop_fresh(struct keel_working *w, const char *upper, struct targets *t)
{
  if (!t->n_fresh || keel_working_umount(w, NULL) < 0)
    return;
  for (size_t i = t->n_fresh; i-- > 0;)
    {
      char u[8192], v[4];
      struct stat st;
      snprintf(u, sizeof(u), "%s%s", upper, t->fresh[i]);
      if (lstat(u, &st) < 0 || !S_ISDIR(st.st_mode)
          || lgetxattr(u, "trusted.overlay.opaque", v, sizeof(v)) >= 0
          || !same_as_lower(w, t->fresh[i], &st))
        continue;
      rmdir(u);
    }
}

/* Remember the first missing component of path (if any). */
static void
note_target(int rootfd, const char *path, struct targets *t)
{
  char prefix[4096];
  size_t len = strlen(path);
  for (size_t i = 1; i <= len && len < sizeof(prefix) && t->n < MAX_TARGETS; i++)
    {
      if (i < len && path[i] != '/')
        continue;
      memcpy(prefix, path, i);
      prefix[i] = '\0';
      int fd = keel_path_open_in_root(rootfd, prefix, O_PATH | O_NOFOLLOW | O_CLOEXEC, NULL);
      if (fd >= 0)
        {
          close(fd);
          continue;
        }
      if (fd == -ENOENT)
        t->created[t->n++] = strdup(prefix);
      if (fd == -ENOENT && t->upper)
        note_fresh(t->upper, prefix, t);
      return;
    }
}

/* Remove what is only empty directories and empty files below name. */
static bool
prune_empty(int dfd, const char *name)
{
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT;
  if (S_ISREG(st.st_mode))
    return st.st_size == 0 && unlinkat(dfd, name, 0) == 0;
  if (!S_ISDIR(st.st_mode))
    return false;
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d)
    {
      if (fd >= 0)
        close(fd);
      return false;
    }
  bool all = true;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      all = prune_empty(dirfd(d), de->d_name) && all;
  closedir(d);
  return all && unlinkat(dfd, name, AT_REMOVEDIR) == 0;
}

static void
remove_targets(int rootfd, struct targets *t)
{
  for (size_t i = t->n; i-- > 0;)
    {
      char *slash = strrchr(t->created[i], '/');
      const char *parent = slash == t->created[i] ? "/" : t->created[i];
      if (slash != t->created[i])
        *slash = '\0';
      int pfd = keel_path_open_in_root(rootfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, NULL);
      if (pfd >= 0)
        {
          prune_empty(pfd, slash + 1);
          close(pfd);
        }
    }
}

static int
cache_dir(struct keel_working *w, const struct keel_working_mount *m, char *buf, size_t size,
          struct keel_error *err)
{
  char d[KEEL_DIGEST_MAX];
  keel_digest_buffer(m->source ? m->source : m->target, strlen(m->source ? m->source : m->target),
                     d);
  snprintf(buf, size, "%s/build-cache", keel_store_root(w->store));
  if (mkdir(buf, 0700) < 0 && errno != EEXIST)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", buf);
  snprintf(buf, size, "%s/build-cache/%s", keel_store_root(w->store), keel_digest_hex(d));
  if (mkdir(buf, m->mode ? m->mode : 0755) == 0)
    {
      if (chown(buf, m->uid, m->gid) < 0 || chmod(buf, m->mode ? m->mode : 0755) < 0)
        return keel_error_set_errno(err, -errno, "cannot set up cache '%s'", buf);
    }
  else if (errno != EEXIST)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", buf);
  return 0;
}

static int
add_mounts(struct keel_working *w, const struct keel_working_run_opts *o, json_object *host,
           struct keel_error *err)
{
  json_object *mounts = json_object_new_array();
  json_object_object_add(host, "Mounts", mounts);
  for (size_t i = 0; i < o->n_mounts; i++)
    {
      const struct keel_working_mount *m = &o->mounts[i];
      char src[4096];
      if (!m->target || m->target[0] != '/')
        return keel_error_set(err, -EINVAL, "mount target '%s' is not absolute",
                              m->target ? m->target : "");
      if (m->type == KEEL_WORKING_MOUNT_CACHE)
        {
          int r = cache_dir(w, m, src, sizeof(src), err);
          if (r < 0)
            return r;
        }
      else if (m->type == KEEL_WORKING_MOUNT_BIND)
        {
          if (!m->source || access(m->source, F_OK) < 0)
            return keel_error_set_errno(err, -errno, "bind mount source '%s'",
                                        m->source ? m->source : "");
          snprintf(src, sizeof(src), "%s", m->source);
        }
      else
        snprintf(src, sizeof(src), "tmpfs");
      json_object *j = json_object_new_object();
      json_object_object_add(
          j, "Type",
          json_object_new_string(m->type == KEEL_WORKING_MOUNT_TMPFS ? "tmpfs" : "bind"));
      json_object_object_add(j, "Source", json_object_new_string(src));
      json_object_object_add(j, "Destination", json_object_new_string(m->target));
      json_object_object_add(j, "ReadOnly", json_object_new_boolean(m->readonly));
      json_object_array_add(mounts, j);
    }
  return 0;
}

static void
env_put(json_object *env, const char *kv)
{
  size_t kn = strcspn(kv, "=");
  for (size_t i = 0; i < json_object_array_length(env); i++)
    {
      const char *e = json_object_get_string(json_object_array_get_idx(env, i));
      if (!strncmp(e, kv, kn) && e[kn] == '=')
        {
          json_object_array_put_idx(env, i, json_object_new_string(kv));
          return;
        }
    }
  json_object_array_add(env, json_object_new_string(kv));
}

/* What engine/container's spec builder reads: Config and HostConfig. */
static int
run_record(struct keel_working *w, const struct keel_working_run_opts *o, json_object **ret,
           struct keel_error *err)
{
  json_object *ic = keel_working_config(w), *v;
  _cleanup_json_ json_object *rec = json_object_new_object();
  json_object *conf = json_object_new_object(), *host = json_object_new_object();
  json_object_object_add(rec, "Config", conf);
  json_object_object_add(rec, "HostConfig", host);
  json_object *cmd = json_object_new_array(), *env = json_object_new_array();
  for (size_t i = 0; o->argv[i]; i++)
    json_object_array_add(cmd, json_object_new_string(o->argv[i]));
  json_object_object_add(conf, "Cmd", cmd);
  if (json_object_object_get_ex(ic, "Env", &v) && json_object_is_type(v, json_type_array))
    for (size_t i = 0; i < json_object_array_length(v); i++)
      env_put(env, json_object_get_string(json_object_array_get_idx(v, i)));
  for (size_t i = 0; o->env && o->env[i]; i++)
    env_put(env, o->env[i]);
  json_object_object_add(conf, "Env", env);
  const char *wd = o->workdir ? o->workdir : working_str(ic, "WorkingDir");
  const char *user = o->user ? o->user : working_str(ic, "User");
  json_object_object_add(conf, "WorkingDir", json_object_new_string(wd && *wd ? wd : "/"));
  if (user && *user)
    json_object_object_add(conf, "User", json_object_new_string(user));
  json_object_object_add(conf, "Hostname",
                         json_object_new_string(o->hostname ? o->hostname : keel_working_name(w)));
  static const char *const modes[] = { "none", "host", "bridge" };
  json_object_object_add(host, "NetworkMode", json_object_new_string(modes[o->network]));
  int r = add_mounts(w, o, host, err);
  if (r < 0)
    return r;
  *ret = TAKE_PTR(rec);
  return 0;
}

static int
write_etc(const char *root, const char *id, const char *name, const char *text,
          struct keel_error *err)
{
  char path[4096];
  keel_ctr_path(root, id, "etc", path, sizeof(path));
  mkdir(path, 0755);
  keel_ctr_path(root, id, name, path, sizeof(path));
  int r = keel_write_file_replace(AT_FDCWD, path, text, strlen(text), 0644);
  return r < 0 ? keel_error_set_errno(err, r, "cannot write '%s'", path) : 0;
}

/* hostname, and hosts and resolv.conf for none and host networking (on
 * the bridge, engine/network writes those two and the spec points at
 * them). */
static int
own_etc(struct keel_working *w, json_object *rec, bool host_net, struct keel_error *err)
{
  const char *root = keel_store_root(w->store),
             *hn = working_str(working_obj(rec, "Config"), "Hostname");
  _cleanup_free_ char *base = NULL, *hosts = NULL, *resolv = NULL, *name = NULL;
  size_t len;
  if (host_net)
    keel_read_file(AT_FDCWD, "/etc/hosts", 1 << 20, &base, &len);
  if (keel_read_file(AT_FDCWD, "/etc/resolv.conf", 1 << 20, &resolv, &len) < 0)
    resolv = NULL;
  if (asprintf(&hosts, "%s127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s\n", base ? base : "",
               hn)
          < 0
      || asprintf(&name, "%s\n", hn) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = write_etc(root, w->id, "etc/hosts", hosts, err);
  if (r >= 0)
    r = write_etc(root, w->id, "etc/hostname", name, err);
  if (r >= 0)
    r = write_etc(root, w->id, "etc/resolv.conf", resolv ? resolv : "", err);
  return r;
}

/* A network namespace bind-mounted on the record's netns, attached to the
 * default bridge. */
static int
bridge_up(struct keel_working *w, const struct keel_working_run_opts *o, json_object *rec,
          char *netns, size_t size, struct keel_error *err)
{
  const char *root = keel_store_root(w->store);
  keel_ctr_path(root, w->id, "netns", netns, size);
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = open(netns, O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
  if (fd < 0 || self < 0)
    return keel_error_set_errno(err, -errno, "cannot create '%s'", netns);
  close(fd);
  if (unshare(CLONE_NEWNET) < 0)
    return keel_error_set_errno(err, -errno, "cannot make a network namespace");
  int r = mount("/proc/self/ns/net", netns, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
  if (setns(self, CLONE_NEWNET) < 0)
    return keel_error_set_errno(err, -errno, "cannot return to the host network namespace");
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot bind-mount the network namespace");
  struct keel_net_env env
      = { .root = root, .conf_path = o->network_conf, .host_resolv = o->host_resolv };
  struct keel_network_attach_opts ao = KEEL_NETWORK_ATTACH_OPTS_INIT;
  ao.container_id = w->id;
  ao.name = keel_working_name(w);
  ao.hostname = working_str(working_obj(rec, "Config"), "Hostname");
  ao.netns_path = netns;
  struct keel_net_attachment a;
  if ((r = keel_network_attach(&env, KEEL_NETWORK_DEFAULT, &ao, &a, err)) < 0)
    return r;
  json_object *host = working_obj(rec, "HostConfig");
  json_object_object_add(host, "HostsPath", json_object_new_string(a.hosts_path));
  json_object_object_add(host, "ResolvConfPath", json_object_new_string(a.resolv_path));
  return 0;
}

static void
bridge_down(struct keel_working *w, const struct keel_working_run_opts *o)
{
  const char *root = keel_store_root(w->store);
  struct keel_net_env env
      = { .root = root, .conf_path = o->network_conf, .host_resolv = o->host_resolv };
  char netns[4096];
  keel_network_detach(&env, w->id, NULL);
  keel_ctr_path(root, w->id, "netns", netns, sizeof(netns));
  umount2(netns, MNT_DETACH);
  unlink(netns);
}

static int
write_bundle(struct keel_working *w, json_object *rec, const char *netns, char *bundle, size_t size,
             struct keel_error *err)
{
  const char *root = keel_store_root(w->store);
  _cleanup_json_ json_object *spec = NULL;
  int r = keel_ctr_spec(root, w->id, rec, netns, &spec, err);
  if (r < 0)
    return r;
  keel_ctr_path(root, w->id, "bundle", bundle, size);
  mkdir(bundle, 0700);
  char path[4200];
  snprintf(path, sizeof(path), "%s/config.json", bundle);
  const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN
                                                              | JSON_C_TO_STRING_NOSLASHESCAPE);
  if ((r = keel_write_file_replace(AT_FDCWD, path, text, strlen(text), 0600)) < 0)
    return keel_error_set_errno(err, r, "cannot write '%s'", path);
  return 0;
}

/* fd onto target for the clone inside create; the old one kept in *saved. */
static int
redirect(int target, int fd, int *saved)
{
  *saved = -1;
  if (fd < 0 || fd == target)
    return 0;
  *saved = fcntl(target, F_DUPFD_CLOEXEC, 10);
  return dup2(fd, target) < 0 ? -errno : 0;
}

static void
restore(int target, int saved)
{
  if (saved >= 0)
    {
      dup2(saved, target);
      close(saved);
    }
}

static int
run_runtime(struct keel_working *w, const struct keel_working_run_opts *o, const char *bundle,
            int *ret_status, struct keel_error *err)
{
  struct keel_runtime rt
      = { .root = o->runtime_root ? o->runtime_root : KEEL_RUNTIME_DEFAULT_ROOT };
  /* a run killed with its caller leaves runtime state behind */
  keel_container_delete(&rt, w->id, true, NULL);
  int start_fd = -1, saved[3];
  json_object *state = NULL;
  pid_t pid;
  struct keel_create_opts co
      = { .id = w->id, .bundle = bundle, .ret_start_fd = &start_fd, .ret_state = &state };
  _cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  fflush(NULL);
  int r = redirect(0, o->stdin_inherit ? -1 : devnull, &saved[0]);
  if (r == 0)
    r = redirect(1, o->stdout_fd, &saved[1]);
  if (r == 0)
    r = redirect(2, o->stderr_fd, &saved[2]);
  if (r < 0)
    keel_error_set_errno(err, r, "cannot set up the command's stdio");
  else
    r = keel_container_create(&rt, &co, &pid, err);
  for (int i = 0; i < 3; i++)
    restore(i, saved[i]);
  if (r < 0)
    return r;
  r = keel_container_start_run(start_fd, state, err);
  if (r < 0)
    {
      keel_container_delete_state(&rt, state, NULL);
      json_object_put(state);
      return r;
    }
  keel_error_clear(err); /* a poststart hook's warning */
  r = keel_container_wait_child(pid, ret_status);
  keel_container_delete_state(&rt, state, NULL);
  json_object_put(state);
  return r < 0 ? keel_error_set_errno(err, r, "cannot wait for the command") : 0;
}

static void
note_targets(int rootfd, json_object *rec, struct targets *t)
{
  static const char *const fixed[]
      = { "/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf" };
  for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
    note_target(rootfd, fixed[i], t);
  json_object *m = NULL;
  json_object_object_get_ex(working_obj(rec, "HostConfig"), "Mounts", &m);
  for (size_t i = 0; m && i < json_object_array_length(m); i++)
    note_target(rootfd, working_str(json_object_array_get_idx(m, i), "Destination"), t);
}

int
keel_working_run(struct keel_working *w, const struct keel_working_run_opts *o, int *ret_status,
                 struct keel_error *err)
{
  if (!o->argv || !o->argv[0])
    return keel_error_set(err, -EINVAL, "no command given");
  const char *rootfs;
  /* left mounted (keel mount) → stays mounted, upper/ untouched */
  bool was_mounted = keel_working_mounted(w);
  int r = keel_working_mount(w, &rootfs, err);
  if (r < 0)
    return r;
  _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_json_ json_object *rec = NULL;
  if (rootfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", rootfs);
  if ((r = run_record(w, o, &rec, err)) < 0)
    return r;
  /* the working directory exists for the command, as in buildah */
  int fd = keel_path_create_in_root(rootfd, working_str(working_obj(rec, "Config"), "WorkingDir"),
                                    KEEL_PATH_CREATE_DIR, 0755, err);
  if (fd < 0)
    return keel_error_prefix(err, "working directory");
  close(fd);
  char upper[4096];
  keel_ctr_path(keel_store_root(w->store), w->id, "upper", upper, sizeof(upper));
  struct targets t = { .upper = upper };
  note_targets(rootfd, rec, &t);
  char netns[4096], bundle[4096];
  bool bridge = o->network == KEEL_WORKING_NET_BRIDGE;
  r = own_etc(w, rec, o->network == KEEL_WORKING_NET_HOST, err);
  if (r >= 0 && bridge)
    r = bridge_up(w, o, rec, netns, sizeof(netns), err);
  if (r >= 0)
    r = write_bundle(w, rec, bridge ? netns : NULL, bundle, sizeof(bundle), err);
  if (r >= 0)
    r = run_runtime(w, o, bundle, ret_status, err);
  if (bridge)
    bridge_down(w, o);
  remove_targets(rootfd, &t);
  if (!was_mounted)
    drop_fresh(w, upper, &t);
  targets_free(&t);
  return r;
}
