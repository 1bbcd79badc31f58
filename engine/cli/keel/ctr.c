/* The container verbs' common ground: records with their status, starting
 * a container under keel-monitor, stopping, waiting, cleaning up. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "monitor/attach.h"
#include "monitor/status.h"
#include "network/network.h"
#include "runtime/container.h"

const char *
ctr_runtime_root(void)
{
  const char *r = getenv("KEEL_RUNTIME_ROOT");
  return r && *r ? r : KEEL_RUNTIME_DEFAULT_ROOT;
}

json_object *
ctr_get(json_object *o, const char *path)
{
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *save, *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save))
    if (!json_object_object_get_ex(o, t, &o))
      o = NULL;
  return o;
}

const char *
ctr_str(json_object *o, const char *key)
{
  json_object *v = ctr_get(o, key);
  return v ? json_object_get_string(v) : NULL;
}

void
ctr_done(struct ctr *c)
{
  json_object_put(c->cfg);
  json_object_put(c->state);
  c->cfg = c->state = NULL;
}

static void
status_of(struct ctr *c)
{
  char dir[4096];
  keel_ctr_path(cli_root, c->id, "userdata", dir, sizeof(dir));
  c->status = "created";
  c->exit_code = 0;
  if (keel_monitor_status(dir, &c->alive, &c->state, NULL) < 0 || !c->state)
    return;
  const char *s = ctr_str(c->state, "status");
  json_object *code = ctr_get(c->state, "exitCode");
  c->exit_code = code ? json_object_get_int(code) : 0;
  if (!s)
    return;
  bool live = !strcmp(s, "running") || !strcmp(s, "stopping") || !strcmp(s, "restarting")
              || !strcmp(s, "starting");
  if (live && !c->alive)
    c->status = "unknown"; /* the monitor was killed: nobody watches it */
  else if (!strcmp(s, "failed"))
    c->status = "exited";
  else if (!strcmp(s, "running"))
    {
      const char *rs = NULL;
      struct keel_runtime rt = { .root = ctr_runtime_root() };
      c->status = "running";
      if (keel_container_status(&rt, c->id, &rs, NULL, NULL) == 0 && rs && !strcmp(rs, "paused"))
        c->status = "paused";
    }
  else if (!strcmp(s, "starting"))
    c->status = "running";
  else
    c->status = s;
}

int
ctr_load(const char *id, struct ctr *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  snprintf(ret->id, sizeof(ret->id), "%s", id);
  int r = keel_ctr_load(cli_root, id, &ret->cfg, err);
  if (r < 0)
    return r;
  status_of(ret);
  return 0;
}

int
ctr_find(const char *what, struct ctr *ret, struct keel_error *err)
{
  char id[KEEL_CTR_ID_LEN + 1];
  memset(ret, 0, sizeof(*ret));
  int r = keel_ctr_lookup(cli_root, what, id, NULL, err);
  return r < 0 ? r : ctr_load(id, ret, err);
}

/* ---- start ---- */

int
ctr_mount_rootfs(struct ctr *c, struct keel_error *err)
{
  struct keel_store *s = NULL;
  struct keel_image *img = NULL;
  int r = cli_open_store(&s, err);
  if (r >= 0)
    r = keel_store_image_lookup(s, ctr_str(c->cfg, "Image"), &img, err);
  char **lowers = NULL;
  if (r >= 0 && !(lowers = calloc(img->n_layers + 1, sizeof(*lowers))))
    r = keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; r >= 0 && i < img->n_layers; i++)
    if ((r = keel_store_layer_path(s, img->layers[i].chain_id, &lowers[i])) < 0)
      keel_error_set_errno(err, r, "layer %s of the image is missing", img->layers[i].chain_id);
  if (r >= 0)
    r = keel_ctr_mount(cli_root, c->id, lowers, img->n_layers, err);
  keel_strv_free(lowers);
  keel_image_free(img);
  keel_store_free(s);
  return r;
}

static int
write_etc(struct ctr *c, const char *name, const char *text, struct keel_error *err)
{
  char dir[4096], path[4200];
  keel_ctr_path(cli_root, c->id, "etc", dir, sizeof(dir));
  mkdir(dir, 0755);
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  /* regenerated at every start: atomic, but no fsync on the start path */
  int r = keel_write_file_replace(AT_FDCWD, path, text, strlen(text), 0644);
  return r < 0 ? keel_error_set_errno(err, r, "cannot write '%s'", path) : 0;
}

static char *
slurp(const char *path)
{
  char *buf = NULL;
  size_t len;
  return keel_read_file(AT_FDCWD, path, 1 << 20, &buf, &len) < 0 ? strdup("") : buf;
}

/* hosts and resolv.conf when no keel network writes them (none, host) */
static int
own_etc(struct ctr *c, bool host_net, struct keel_error *err)
{
  const char *hn = ctr_str(c->cfg, "Config.Hostname"), *name = ctr_str(c->cfg, "Name");
  _cleanup_free_ char *hosts = NULL, *base = host_net ? slurp("/etc/hosts") : NULL;
  _cleanup_free_ char *extra = strdup("");
  json_object *add = ctr_get(c->cfg, "HostConfig.ExtraHosts");
  for (size_t i = 0; add && i < json_object_array_length(add); i++)
    {
      char line[600];
      const char *e = json_object_get_string(json_object_array_get_idx(add, i));
      const char *colon = strchr(e, ':');
      if (!colon)
        continue;
      snprintf(line, sizeof(line), "%s\t%.*s\n", colon + 1, (int)(colon - e), e);
      char *n = NULL;
      if (asprintf(&n, "%s%s", extra, line) < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
      free(extra);
      extra = n;
    }
  if (asprintf(&hosts, "%s%s127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t%s %s\n",
               base ? base : "", extra, hn, name)
      < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = write_etc(c, "hosts", hosts, err);
  _cleanup_free_ char *resolv = slurp("/etc/resolv.conf");
  json_object *dns = ctr_get(c->cfg, "HostConfig.Dns");
  if (dns && json_object_array_length(dns))
    {
      free(resolv);
      resolv = strdup("");
      for (size_t i = 0; resolv && i < json_object_array_length(dns); i++)
        {
          char *n = NULL;
          if (asprintf(&n, "%snameserver %s\n", resolv,
                       json_object_get_string(json_object_array_get_idx(dns, i)))
              < 0)
            return keel_error_set(err, -ENOMEM, "out of memory");
          free(resolv);
          resolv = n;
        }
    }
  return r < 0 ? r : write_etc(c, "resolv.conf", resolv ? resolv : "", err);
}

void
ctr_net_env(struct keel_net_env *env)
{
  memset(env, 0, sizeof(*env));
  env->root = cli_root;
  env->conf_path = getenv("KEEL_NETWORK_CONF");
  env->host_resolv = getenv("KEEL_HOST_RESOLV");
}

/* A network namespace of the container's own, bind-mounted on
 * containers/<id>/netns so it exists before the container does and the
 * network can be attached to it first (what podman does too). */
static int
make_netns(const char *path, struct keel_error *err)
{
  _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = open(path, O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
  if (fd < 0 || self < 0)
    return keel_error_set_errno(err, errno, "cannot create '%s'", path);
  close(fd);
  if (unshare(CLONE_NEWNET) < 0)
    return keel_error_set_errno(err, errno, "cannot make a network namespace");
  int r = mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
  if (setns(self, CLONE_NEWNET) < 0)
    return keel_error_set_errno(err, errno, "cannot return to the host network namespace");
  return r < 0 ? keel_error_set_errno(err, r, "cannot bind-mount the network namespace") : 0;
}

static int
attach_network(struct ctr *c, const char *mode, char *netns, size_t size, struct keel_error *err)
{
  keel_ctr_path(cli_root, c->id, "netns", netns, size);
  int r = make_netns(netns, err);
  if (r < 0)
    return r;
  struct keel_net_env env;
  ctr_net_env(&env);
  json_object *ports = ctr_get(c->cfg, "HostConfig.PortBindings");
  size_t n = ports ? json_object_array_length(ports) : 0;
  _cleanup_free_ struct keel_net_port *pv = calloc(n + 1, sizeof(*pv));
  for (size_t i = 0; i < n; i++)
    if ((r = keel_net_port_parse(json_object_get_string(json_object_array_get_idx(ports, i)),
                                 &pv[i], err))
        < 0)
      return r;
  _cleanup_strv_ char **dns = NULL, **hosts = NULL;
  keel_json_get_strv(c->cfg ? ctr_get(c->cfg, "HostConfig") : NULL, "Dns", "HostConfig", &dns,
                     NULL);
  keel_json_get_strv(ctr_get(c->cfg, "HostConfig"), "ExtraHosts", "HostConfig", &hosts, NULL);
  struct keel_network_attach_opts o = KEEL_NETWORK_ATTACH_OPTS_INIT;
  o.container_id = c->id;
  o.name = ctr_str(c->cfg, "Name");
  o.hostname = ctr_str(c->cfg, "Config.Hostname");
  o.netns_path = netns;
  o.ports = pv;
  o.n_ports = n;
  o.dns = dns && dns[0] ? (const char *const *)dns : NULL;
  o.add_hosts = (const char *const *)hosts;
  struct keel_net_attachment a;
  if ((r = keel_network_attach(&env, mode, &o, &a, err)) < 0)
    return r;
  json_object *host = ctr_get(c->cfg, "HostConfig"), *ns = json_object_new_object();
  json_object_object_add(host, "HostsPath", json_object_new_string(a.hosts_path));
  json_object_object_add(host, "ResolvConfPath", json_object_new_string(a.resolv_path));
  json_object_object_add(ns, "Network", json_object_new_string(a.network));
  json_object_object_add(ns, "IPAddress", json_object_new_string(a.ip));
  json_object_object_add(ns, "IPPrefixLen", json_object_new_int(a.prefix));
  json_object_object_add(ns, "Gateway", json_object_new_string(a.gateway));
  json_object_object_add(ns, "MacAddress", json_object_new_string(a.mac));
  json_object_object_add(c->cfg, "NetworkSettings", ns);
  return keel_ctr_save(cli_root, c->id, c->cfg, err);
}

static int
fill_volumes(struct ctr *c, struct keel_error *err)
{
  json_object *mounts = ctr_get(c->cfg, "HostConfig.Mounts");
  char rootfs[4096];
  keel_ctr_path(cli_root, c->id, "rootfs", rootfs, sizeof(rootfs));
  for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++)
    {
      json_object *m = json_object_array_get_idx(mounts, i);
      const char *type = ctr_str(m, "Type");
      if (type && !strcmp(type, "volume")
          && keel_volume_fill(cli_root, ctr_str(m, "Name"), rootfs, ctr_str(m, "Destination"), err)
                 < 0)
        return err->code;
    }
  return 0;
}

/* --sdnotify when a unit listens ($NOTIFY_SOCKET): conmon or container
 * (podman's default); NULL for ignore or when nobody listens. */
static const char *
notify_mode(struct ctr *c)
{
  const char *mode = ctr_str(c->cfg, "HostConfig.SdNotify"), *sock = getenv("NOTIFY_SOCKET");
  if (!sock || !*sock || (mode && !strcmp(mode, "ignore")))
    return NULL;
  return mode ? mode : "container";
}

/* container mode: a directory for the monitor's socket, bind-mounted at
 * /run/notify (keel_ctr_spec reads HostConfig.NotifySocketDir). */
static int
notify_dir(struct ctr *c, struct keel_error *err)
{
  char dir[4096];
  json_object *host = ctr_get(c->cfg, "HostConfig");
  const char *mode = notify_mode(c);
  json_object_object_del(host, "NotifySocketDir");
  if (!mode || strcmp(mode, "container"))
    return 0;
  keel_ctr_path(cli_root, c->id, "notify", dir, sizeof(dir));
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return keel_error_set_errno(err, errno, "cannot create '%s'", dir);
  json_object_object_add(host, "NotifySocketDir", json_object_new_string(dir));
  return 0;
}

static int
prepare(struct ctr *c, struct keel_error *err)
{
  const char *mode = ctr_str(c->cfg, "HostConfig.NetworkMode");
  bool none = !mode || !strcmp(mode, "none"), host = mode && !strcmp(mode, "host");
  char netns[4096], hn[300];
  int r = ctr_mount_rootfs(c, err);
  if (r >= 0)
    r = fill_volumes(c, err);
  if (r >= 0)
    {
      snprintf(hn, sizeof(hn), "%s\n", ctr_str(c->cfg, "Config.Hostname"));
      r = write_etc(c, "hostname", hn, err);
    }
  if (r >= 0 && (none || host))
    r = own_etc(c, host, err);
  else if (r >= 0)
    r = attach_network(c, strcmp(mode, "bridge") ? mode : KEEL_NETWORK_DEFAULT, netns,
                       sizeof(netns), err);
  _cleanup_json_ json_object *spec = NULL;
  if (r >= 0)
    r = notify_dir(c, err);
  if (r >= 0)
    r = keel_ctr_spec(cli_root, c->id, c->cfg, none || host ? NULL : netns, &spec, err);
  char path[4096];
  keel_ctr_path(cli_root, c->id, "bundle", path, sizeof(path));
  mkdir(path, 0700);
  keel_ctr_path(cli_root, c->id, "bundle/config.json", path, sizeof(path));
  if (r >= 0)
    {
      /* the bundle is rewritten at every start: no fsync needed */
      const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN
                                                                  | JSON_C_TO_STRING_NOSLASHESCAPE);
      if ((r = keel_write_file_replace(AT_FDCWD, path, text, strlen(text), 0600)) < 0)
        keel_error_set_errno(err, r, "cannot write '%s'", path);
    }
  return r;
}

/* A helper program: $ENV, else beside this binary, else on $PATH. */
const char *
ctr_helper_path(const char *env_name, const char *name)
{
  static char path[PATH_MAX];
  const char *env = getenv(env_name);
  if (env && *env)
    return env;
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
  if (n > 0)
    {
      path[n] = '\0';
      char *slash = strrchr(path, '/');
      strcpy(slash + 1, name);
      if (access(path, X_OK) == 0)
        return path;
    }
  return name;
}

static const char *
monitor_path(void)
{
  return ctr_helper_path("KEEL_MONITOR", "keel-monitor");
}

static void
add_arg(char **argv, size_t *n, const char *a, const char *b)
{
  argv[(*n)++] = (char *)a;
  if (b)
    argv[(*n)++] = (char *)b;
}

static void
exec_monitor(struct ctr *c, int sync_fd, int attach_fd)
{
  char bundle[4096], state[4096], log[4096], name[300], notify[4096];
  keel_ctr_path(cli_root, c->id, "notify/notify.sock", notify, sizeof(notify));
  keel_ctr_path(cli_root, c->id, "bundle", bundle, sizeof(bundle));
  keel_ctr_path(cli_root, c->id, "userdata", state, sizeof(state));
  keel_ctr_path(cli_root, c->id, "container.log", log, sizeof(log));
  snprintf(name, sizeof(name), "%s", ctr_str(c->cfg, "Name"));
  char *argv[64];
  size_t n = 0;
  add_arg(argv, &n, monitor_path(), NULL);
  add_arg(argv, &n, "--id", c->id);
  add_arg(argv, &n, "--name", name);
  add_arg(argv, &n, "--bundle", bundle);
  add_arg(argv, &n, "--state-dir", state);
  add_arg(argv, &n, "--runtime-root", ctr_runtime_root());
  add_arg(argv, &n, "--log-path", log);
  add_arg(argv, &n, "--sync-fd", "3");
  if (attach_fd >= 0)
    add_arg(argv, &n, "--attach-fd", "4");
  json_object *conf = ctr_get(c->cfg, "Config"), *v;
  if ((v = ctr_get(conf, "Tty")) && json_object_get_boolean(v))
    add_arg(argv, &n, "--terminal", NULL);
  if ((v = ctr_get(conf, "OpenStdin")) && json_object_get_boolean(v))
    add_arg(argv, &n, "--stdin", NULL);
  static const char *const pass[][2] = {
    { "HostConfig.RestartPolicy", "--restart" },
    { "Config.StopSignal", "--stop-signal" },
    { "Config.StopTimeout", "--stop-timeout" },
    { "Config.Healthcheck.Test", "--health-cmd" },
    { "Config.Healthcheck.Interval", "--health-interval" },
    { "Config.Healthcheck.Timeout", "--health-timeout" },
    { "Config.Healthcheck.Retries", "--health-retries" },
    { "HostConfig.LogMaxSize", "--log-max-size" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(pass); i++)
    {
      const char *s = ctr_str(c->cfg, pass[i][0]);
      if (s && *s)
        add_arg(argv, &n, pass[i][1], s);
    }
  if (notify_mode(c))
    {
      add_arg(argv, &n, "--sdnotify", notify_mode(c));
      if (!strcmp(notify_mode(c), "container"))
        add_arg(argv, &n, "--notify-socket", notify);
    }
  else
    unsetenv("NOTIFY_SOCKET"); /* --sdnotify=ignore */
  argv[n] = NULL;
  /* out of the way first: either may already sit on 3 or 4 */
  int s = fcntl(sync_fd, F_DUPFD, 10), a = attach_fd >= 0 ? fcntl(attach_fd, F_DUPFD, 10) : -1;
  if (s < 0 || dup2(s, 3) < 0 || (attach_fd >= 0 && (a < 0 || dup2(a, 4) < 0)))
    _exit(125);
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0)
      open("/dev/null", O_RDWR);
  execv(argv[0], argv);
  execvp(argv[0], argv);
  fprintf(stderr, "Error: cannot execute '%s': %s\n", argv[0], strerror(errno));
  _exit(125);
}

static void
read_line(int fd, char *line, size_t size)
{
  size_t len = 0;
  while (len < size - 1)
    {
      ssize_t n = read(fd, line + len, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || line[len] == '\n')
        break;
      len++;
    }
  line[len] = '\0';
}

/* The monitor's first line: "started PID" or "failed: MESSAGE"; then,
 * when it tells systemd of readiness for us, "ready" (or the end). */
static int
read_sync(int fd, bool wait_ready, struct keel_error *err)
{
  char line[1400];
  read_line(fd, line, sizeof(line));
  if (!strncmp(line, "started ", 8))
    {
      /* a unit's main process (us) must not end before its readiness is told */
      if (wait_ready)
        read_line(fd, line, sizeof(line));
      return 0;
    }
  if (!strncmp(line, "failed: ", 8))
    return keel_error_set(err, -EIO, "%s", line + 8);
  return keel_error_set(err, -EIO, "keel-monitor ended before the container started");
}

int
ctr_start(struct ctr *c, int attach_fd, struct keel_error *err)
{
  char state[4096];
  keel_ctr_path(cli_root, c->id, "userdata", state, sizeof(state));
  /* a fresh state directory for each start: the log lives beside it */
  keel_rm_rf_at(AT_FDCWD, state);
  if (mkdir(state, 0700) < 0)
    return keel_error_set_errno(err, errno, "cannot create '%s'", state);
  int r = prepare(c, err);
  int p[2];
  if (r < 0 || pipe2(p, O_CLOEXEC) < 0)
    {
      if (r >= 0)
        r = keel_error_set_errno(err, errno, "cannot make a pipe");
      ctr_cleanup(c);
      return r;
    }
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    exec_monitor(c, p[1], attach_fd);
  close(p[1]);
  int status = 0;
  if (pid > 0)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  r = pid < 0 ? keel_error_set_errno(err, errno, "cannot fork")
              : read_sync(p[0], attach_fd < 0 && notify_mode(c), err);
  close(p[0]);
  if (r < 0)
    ctr_cleanup(c);
  return r;
}

/* ---- stop, wait, cleanup ---- */

int
ctr_wait(struct ctr *c, int *ret_code)
{
  char path[4096];
  keel_ctr_path(cli_root, c->id, "userdata/" KEEL_MONITOR_LOCK, path, sizeof(path));
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  /* the monitor holds it exclusively for its whole life */
  if (fd >= 0)
    while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
      ;
  json_object_put(c->state);
  c->state = NULL;
  status_of(c);
  if (ret_code)
    *ret_code = c->exit_code;
  return 0;
}

int
ctr_stop(struct ctr *c, int timeout_s, struct keel_error *err)
{
  char dir[4096];
  keel_ctr_path(cli_root, c->id, "userdata", dir, sizeof(dir));
  if (c->alive)
    {
      _cleanup_close_ int fd = keel_attach_connect(dir, err);
      if (fd < 0)
        return fd;
      uint8_t t[4];
      keel_attach_encode_u32(t, timeout_s < 0 ? 10 : (uint32_t)timeout_s);
      int r = keel_attach_send(fd, KEEL_ATTACH_STOP, t, timeout_s < 0 ? 0 : 4);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot ask the monitor of %.12s to stop it", c->id);
      ctr_wait(c, NULL);
    }
  else if (!strcmp(c->status, "unknown"))
    {
      /* nobody watches it: end it through the runtime */
      struct keel_runtime rt = { .root = ctr_runtime_root() };
      keel_container_kill(&rt, c->id, SIGKILL, true, NULL);
      keel_container_delete(&rt, c->id, true, NULL);
    }
  ctr_cleanup(c);
  return 0;
}

void
ctr_cleanup(struct ctr *c)
{
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  struct keel_net_env env;
  char path[4096];
  keel_container_delete(&rt, c->id, true, NULL);
  ctr_net_env(&env);
  const char *mode = ctr_str(c->cfg, "HostConfig.NetworkMode");
  if (mode && strcmp(mode, "none") && strcmp(mode, "host"))
    keel_network_detach(&env, c->id, NULL);
  keel_ctr_path(cli_root, c->id, "netns", path, sizeof(path));
  umount2(path, MNT_DETACH);
  unlink(path);
  keel_ctr_umount(cli_root, c->id);
}

int
ctr_remove(struct ctr *c, bool force, bool volumes, struct keel_error *err)
{
  if (c->alive && !force)
    return keel_error_set(err, -EBUSY,
                          "cannot remove container %s as it is %s - running or paused "
                          "containers cannot be removed without force",
                          c->id, c->status);
  int r = ctr_stop(c, 0, err);
  if (r >= 0)
    r = keel_ctr_remove(cli_root, c->id, err);
  json_object *mounts = ctr_get(c->cfg, "HostConfig.Mounts");
  for (size_t i = 0; r >= 0 && volumes && mounts && i < json_object_array_length(mounts); i++)
    {
      json_object *m = json_object_array_get_idx(mounts, i), *anon = ctr_get(m, "Anonymous");
      if (anon && json_object_get_boolean(anon))
        keel_volume_remove(cli_root, ctr_str(m, "Name"), false, NULL);
    }
  return r;
}

void
ctr_sweep(void)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  if (keel_ctr_list(cli_root, &ids, &n, NULL) < 0)
    return;
  for (size_t i = 0; i < n; i++)
    {
      struct ctr c;
      if (ctr_load(ids[i], &c, NULL) < 0)
        continue;
      json_object *rm = ctr_get(c.cfg, "HostConfig.AutoRemove");
      if (rm && json_object_get_boolean(rm) && c.state && !c.alive)
        {
          ctr_remove(&c, true, true, NULL);
        }
      ctr_done(&c);
    }
}
