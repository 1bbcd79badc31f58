/* keel create / keel run's flags: the container's record, built from the
 * image config and the command line as podman merges them. */
#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/create.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "network/network.h"

enum
{
  O_RM = 256,
  O_NAME,
  O_ENV_FILE,
  O_ENTRYPOINT,
  O_HOSTNAME,
  O_MOUNT,
  O_TMPFS,
  O_READ_ONLY,
  O_CAP_ADD,
  O_CAP_DROP,
  O_PRIVILEGED,
  O_SECURITY_OPT,
  O_CPUS,
  O_PIDS_LIMIT,
  O_ULIMIT,
  O_INIT,
  O_RESTART,
  O_NETWORK,
  O_DNS,
  O_ADD_HOST,
  O_LABEL,
  O_STOP_SIGNAL,
  O_STOP_TIMEOUT,
  O_HEALTH_CMD,
  O_HEALTH_INTERVAL,
  O_HEALTH_TIMEOUT,
  O_HEALTH_RETRIES,
  O_PULL,
  O_PLATFORM,
  O_LOG_OPT,
  O_SIG_PROXY,
  O_REPLACE,
  O_SDNOTIFY,
};

static const struct option run_opts[] = {
  { "detach", no_argument, NULL, 'd' },
  { "interactive", no_argument, NULL, 'i' },
  { "tty", no_argument, NULL, 't' },
  { "rm", no_argument, NULL, O_RM },
  { "name", required_argument, NULL, O_NAME },
  { "env", required_argument, NULL, 'e' },
  { "env-file", required_argument, NULL, O_ENV_FILE },
  { "workdir", required_argument, NULL, 'w' },
  { "user", required_argument, NULL, 'u' },
  { "entrypoint", required_argument, NULL, O_ENTRYPOINT },
  { "hostname", required_argument, NULL, O_HOSTNAME },
  { "volume", required_argument, NULL, 'v' },
  { "mount", required_argument, NULL, O_MOUNT },
  { "tmpfs", required_argument, NULL, O_TMPFS },
  { "read-only", no_argument, NULL, O_READ_ONLY },
  { "cap-add", required_argument, NULL, O_CAP_ADD },
  { "cap-drop", required_argument, NULL, O_CAP_DROP },
  { "privileged", no_argument, NULL, O_PRIVILEGED },
  { "security-opt", required_argument, NULL, O_SECURITY_OPT },
  { "memory", required_argument, NULL, 'm' },
  { "cpus", required_argument, NULL, O_CPUS },
  { "pids-limit", required_argument, NULL, O_PIDS_LIMIT },
  { "ulimit", required_argument, NULL, O_ULIMIT },
  { "init", no_argument, NULL, O_INIT },
  { "restart", required_argument, NULL, O_RESTART },
  { "publish", required_argument, NULL, 'p' },
  { "network", required_argument, NULL, O_NETWORK },
  { "net", required_argument, NULL, O_NETWORK },
  { "dns", required_argument, NULL, O_DNS },
  { "add-host", required_argument, NULL, O_ADD_HOST },
  { "label", required_argument, NULL, O_LABEL },
  { "stop-signal", required_argument, NULL, O_STOP_SIGNAL },
  { "stop-timeout", required_argument, NULL, O_STOP_TIMEOUT },
  { "health-cmd", required_argument, NULL, O_HEALTH_CMD },
  { "health-interval", required_argument, NULL, O_HEALTH_INTERVAL },
  { "health-timeout", required_argument, NULL, O_HEALTH_TIMEOUT },
  { "health-retries", required_argument, NULL, O_HEALTH_RETRIES },
  { "pull", required_argument, NULL, O_PULL },
  { "platform", required_argument, NULL, O_PLATFORM },
  { "log-opt", required_argument, NULL, O_LOG_OPT },
  { "sig-proxy", optional_argument, NULL, O_SIG_PROXY },
  { "replace", no_argument, NULL, O_REPLACE },
  { "sdnotify", required_argument, NULL, O_SDNOTIFY },
  { NULL, 0, NULL, 0 },
};

static json_object *
obj(json_object *o, const char *key)
{
  json_object *v;
  if (json_object_object_get_ex(o, key, &v))
    return v;
  v = json_object_new_object();
  json_object_object_add(o, key, v);
  return v;
}

static json_object *
arr(json_object *o, const char *key)
{
  json_object *v;
  if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array))
    return v;
  v = json_object_new_array();
  json_object_object_add(o, key, v);
  return v;
}

static void
set_str(json_object *o, const char *key, const char *v)
{
  json_object_object_add(o, key, json_object_new_string(v));
}

/* "512m" → bytes; -1 when malformed */
static int64_t
parse_bytes(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < 0)
    return -1;
  double mult = 1;
  switch (tolower((unsigned char)*end))
    {
    case 'k':
      mult = 1024;
      end++;
      break;
    case 'm':
      mult = 1024 * 1024;
      end++;
      break;
    case 'g':
      mult = 1024.0 * 1024 * 1024;
      end++;
      break;
    case 'b':
      end++;
      break;
    default:
      break;
    }
  if (tolower((unsigned char)*end) == 'b')
    end++;
  return *end ? -1 : (int64_t)(v * mult);
}

/* KEY=VALUE, or KEY taken from our environment (skipped when unset) */
static void
env_set(json_object *env, const char *kv)
{
  char buf[8192];
  if (!strchr(kv, '='))
    {
      const char *v = getenv(kv);
      if (!v)
        return;
      snprintf(buf, sizeof(buf), "%s=%s", kv, v);
      kv = buf;
    }
  size_t klen = (size_t)(strchr(kv, '=') - kv);
  for (size_t i = 0; i < json_object_array_length(env); i++)
    {
      const char *e = json_object_get_string(json_object_array_get_idx(env, i));
      if (!strncmp(e, kv, klen) && e[klen] == '=')
        {
          json_object_array_put_idx(env, i, json_object_new_string(kv));
          return;
        }
    }
  json_object_array_add(env, json_object_new_string(kv));
}

static int
env_file(json_object *env, const char *path, struct keel_error *err)
{
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  if (!f)
    return keel_error_set_errno(err, errno, "--env-file: cannot open '%s'", path);
  char line[8192];
  while (fgets(line, sizeof(line), f))
    {
      line[strcspn(line, "\r\n")] = '\0';
      char *p = line;
      while (isspace((unsigned char)*p))
        p++;
      if (*p && *p != '#')
        env_set(env, p);
    }
  return 0;
}

static int
add_mount(json_object *host, const char *type, const char *src, const char *dst, bool ro,
          struct keel_error *err)
{
  if (!dst || dst[0] != '/')
    return keel_error_set(err, -EINVAL, "invalid container path \"%s\", must be an absolute path",
                          dst ? dst : "");
  json_object *m = json_object_new_object();
  set_str(m, "Type", type);
  if (!strcmp(type, "volume"))
    set_str(m, "Name", src ? src : "");
  else if (src)
    {
      if (src[0] != '/')
        {
          json_object_put(m);
          return keel_error_set(err, -EINVAL, "invalid source path \"%s\"", src);
        }
      if (!strcmp(type, "bind") && access(src, F_OK) < 0)
        {
          json_object_put(m);
          return keel_error_set_errno(err, errno, "statfs %s", src);
        }
      set_str(m, "Source", src);
    }
  set_str(m, "Destination", dst);
  json_object_object_add(m, "ReadOnly", json_object_new_boolean(ro));
  json_object_array_add(arr(host, "Mounts"), m);
  return 0;
}

/* -v SRC:DST[:ro|rw,...] | DST; a SRC without a slash names a volume */
static int
parse_volume(json_object *host, const char *spec, struct keel_error *err)
{
  char buf[4096];
  snprintf(buf, sizeof(buf), "%s", spec);
  char *part[3] = { buf, NULL, NULL };
  for (int i = 1; i < 3 && part[i - 1]; i++)
    if ((part[i] = strchr(part[i - 1], ':')))
      *part[i]++ = '\0';
  if (!part[1])
    return add_mount(host, "volume", NULL, part[0], false, err);
  bool ro = part[2] && strstr(part[2], "ro") && !strstr(part[2], "rw");
  if (part[2] && strcmp(part[2], "ro") && strcmp(part[2], "rw") && strcmp(part[2], "z")
      && strcmp(part[2], "Z"))
    return keel_error_set(err, -EINVAL, "invalid volume option \"%s\" in \"%s\"", part[2], spec);
  return add_mount(host, part[0][0] == '/' ? "bind" : "volume", part[0], part[1], ro, err);
}

static int
parse_mount(json_object *host, const char *spec, struct keel_error *err)
{
  char buf[4096], *type = NULL, *src = NULL, *dst = NULL;
  bool ro = false;
  snprintf(buf, sizeof(buf), "%s", spec);
  for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
    {
      char *eq = strchr(t, '=');
      if (eq)
        *eq++ = '\0';
      if (!strcmp(t, "type"))
        type = eq;
      else if (!strcmp(t, "source") || !strcmp(t, "src"))
        src = eq;
      else if (!strcmp(t, "target") || !strcmp(t, "destination") || !strcmp(t, "dst"))
        dst = eq;
      else if (!strcmp(t, "ro") || !strcmp(t, "readonly"))
        ro = !eq || !strcmp(eq, "true") || !strcmp(eq, "1");
      else if (strcmp(t, "rw") && strcmp(t, "tmpfs-size") && strcmp(t, "tmpfs-mode"))
        return keel_error_set(err, -EINVAL, "--mount: unknown option \"%s\"", t);
    }
  if (!type || (strcmp(type, "bind") && strcmp(type, "volume") && strcmp(type, "tmpfs")))
    return keel_error_set(err, -EINVAL, "--mount: type must be bind, volume or tmpfs");
  return add_mount(host, type, !strcmp(type, "tmpfs") ? NULL : src, dst, ro, err);
}

static int
parse_ulimit(json_object *host, const char *spec, struct keel_error *err)
{
  char name[64];
  long long soft, hard;
  int n = 0;
  if (sscanf(spec, "%63[a-z]=%lld%n", name, &soft, &n) != 2)
    return keel_error_set(err, -EINVAL, "invalid ulimit \"%s\"", spec);
  hard = soft;
  if (spec[n] == ':' && sscanf(spec + n + 1, "%lld", &hard) != 1)
    return keel_error_set(err, -EINVAL, "invalid ulimit \"%s\"", spec);
  static const char *const known[]
      = { "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
          "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",    "as" };
  bool ok = false;
  for (size_t i = 0; i < ARRAY_SIZE(known); i++)
    ok |= !strcmp(known[i], name);
  if (!ok || soft > hard || soft < 0)
    return keel_error_set(err, -EINVAL, "invalid ulimit \"%s\"", spec);
  json_object *u = json_object_new_object();
  set_str(u, "Name", name);
  json_object_object_add(u, "Soft", json_object_new_int64(soft));
  json_object_object_add(u, "Hard", json_object_new_int64(hard));
  json_object_array_add(arr(host, "Ulimits"), u);
  return 0;
}

static int
parse_security(json_object *host, const char *spec, struct keel_error *err)
{
  if (!strcmp(spec, "no-new-privileges") || !strcmp(spec, "no-new-privileges=true")
      || !strcmp(spec, "no-new-privileges:true"))
    json_object_object_add(host, "NoNewPrivileges", json_object_new_boolean(true));
  else if (!strncmp(spec, "seccomp=", 8) || !strncmp(spec, "seccomp:", 8))
    {
      const char *p = spec + 8;
      if (strcmp(p, "unconfined") && access(p, R_OK) < 0)
        return keel_error_set_errno(err, errno, "opening seccomp profile failed: %s", p);
      set_str(host, "Seccomp", p);
    }
  else if (!strncmp(spec, "label=", 6) || !strncmp(spec, "apparmor=", 9))
    ; /* no LSM on Keel hosts: accepted and ignored as podman does without one */
  else
    return keel_error_set(err, -EINVAL, "invalid --security-opt \"%s\"", spec);
  return 0;
}

static int
parse_restart(const char *s, struct keel_error *err)
{
  if (!strcmp(s, "no") || !strcmp(s, "always") || !strcmp(s, "unless-stopped")
      || !strcmp(s, "on-failure"))
    return 0;
  char *end;
  if (!strncmp(s, "on-failure:", 11) && strtol(s + 11, &end, 10) >= 0 && !*end && s[11])
    return 0;
  return keel_error_set(err, -EINVAL, "invalid restart policy \"%s\"", s);
}

/* -m, --cpus, --pids-limit, --ulimit, --init: 1 when c was one of them */
static int
parse_resource(int c, json_object *host, struct keel_error *err)
{
  int64_t v;
  char *end;
  switch (c)
    {
    case 'm':
      if ((v = parse_bytes(optarg)) <= 0)
        return keel_error_set(err, -EINVAL, "invalid memory limit \"%s\"", optarg);
      json_object_object_add(host, "Memory", json_object_new_int64(v));
      break;
    case O_CPUS:
      {
        double d = strtod(optarg, &end);
        if (*end || d <= 0 || d > 1024)
          return keel_error_set(err, -EINVAL, "invalid --cpus \"%s\"", optarg);
        json_object_object_add(host, "NanoCpus", json_object_new_int64((int64_t)(d * 1e9)));
        break;
      }
    case O_PIDS_LIMIT:
      v = strtoll(optarg, &end, 10);
      if (*end || !*optarg)
        return keel_error_set(err, -EINVAL, "invalid --pids-limit \"%s\"", optarg);
      json_object_object_add(host, "PidsLimit", json_object_new_int64(v));
      break;
    case O_ULIMIT:
      return parse_ulimit(host, optarg, err) < 0 ? err->code : 1;
    case O_INIT:
      {
        const char *init = ctr_helper_path("KEEL_INIT", "keel-init");
        if (access(init, X_OK) < 0)
          return keel_error_set_errno(err, errno, "--init: cannot use '%s'", init);
        json_object_object_add(host, "Init", json_object_new_boolean(true));
        set_str(host, "InitPath", init);
        break;
      }
    default:
      return 0;
    }
  return 1;
}

/* Each parse_* below handles a group of flags: 1 when c was one of its
 * own, 0 when not, a negative errno (err set) for a bad value. */

/* -d, -i, -t, --rm, --name, --replace, --sdnotify, --sig-proxy */
static int
parse_mode(int c, json_object *conf, json_object *host, struct create_flags *f,
           struct keel_error *err)
{
  switch (c)
    {
    case 'd':
      f->detach = true;
      return 1;
    case 'i':
      f->interactive = true;
      json_object_object_add(conf, "OpenStdin", json_object_new_boolean(true));
      return 1;
    case 't':
      f->tty = true;
      json_object_object_add(conf, "Tty", json_object_new_boolean(true));
      return 1;
    case O_RM:
      f->rm = true;
      json_object_object_add(host, "AutoRemove", json_object_new_boolean(true));
      return 1;
    case O_NAME:
      set_str(conf, "Name", optarg);
      return 1;
    case O_REPLACE:
      f->replace = true;
      return 1;
    case O_SDNOTIFY:
      if (strcmp(optarg, "container") && strcmp(optarg, "conmon") && strcmp(optarg, "ignore"))
        return keel_error_set(
            err, -EINVAL, "invalid --sdnotify \"%s\": must be container, conmon or ignore", optarg);
      set_str(host, "SdNotify", optarg);
      return 1;
    case O_SIG_PROXY:
      return 1;
    default:
      return 0;
    }
}

/* the process: -e, --env-file, -w, -u, --entrypoint, --hostname */
static int
parse_process(int c, json_object *conf, struct keel_error *err)
{
  switch (c)
    {
    case 'e':
      env_set(arr(conf, "Env"), optarg);
      return 1;
    case O_ENV_FILE:
      return env_file(arr(conf, "Env"), optarg, err) < 0 ? err->code : 1;
    case 'w':
      if (optarg[0] != '/')
        return keel_error_set(err, -EINVAL, "workdir \"%s\" must be an absolute path", optarg);
      set_str(conf, "WorkingDir", optarg);
      return 1;
    case 'u':
      set_str(conf, "User", optarg);
      return 1;
    case O_ENTRYPOINT:
      set_str(conf, "EntrypointFlag", optarg);
      return 1;
    case O_HOSTNAME:
      set_str(conf, "Hostname", optarg);
      return 1;
    default:
      return 0;
    }
}

/* storage and security: -v, --mount, --tmpfs, --read-only, --cap-add,
 * --cap-drop, --privileged, --security-opt */
static int
parse_storage_security(int c, json_object *host, struct keel_error *err)
{
  int r = 0;
  char dst[4096];
  switch (c)
    {
    case 'v':
      r = parse_volume(host, optarg, err);
      break;
    case O_MOUNT:
      r = parse_mount(host, optarg, err);
      break;
    case O_TMPFS:
      snprintf(dst, sizeof(dst), "%s", optarg);
      dst[strcspn(dst, ":")] = '\0';
      r = add_mount(host, "tmpfs", NULL, dst, false, err);
      break;
    case O_READ_ONLY:
      json_object_object_add(host, "ReadonlyRootfs", json_object_new_boolean(true));
      break;
    case O_CAP_ADD:
    case O_CAP_DROP:
      json_object_array_add(arr(host, c == O_CAP_ADD ? "CapAdd" : "CapDrop"),
                            json_object_new_string(optarg));
      break;
    case O_PRIVILEGED:
      json_object_object_add(host, "Privileged", json_object_new_boolean(true));
      break;
    case O_SECURITY_OPT:
      r = parse_security(host, optarg, err);
      break;
    default:
      return 0;
    }
  return r < 0 ? r : 1;
}

/* networking: -p, --network, --dns, --add-host */
static int
parse_net(int c, json_object *host, struct keel_error *err)
{
  struct keel_net_port p;
  switch (c)
    {
    case 'p':
      if (keel_net_port_parse(optarg, &p, err) < 0)
        return err->code;
      json_object_array_add(arr(host, "PortBindings"), json_object_new_string(optarg));
      return 1;
    case O_NETWORK:
      set_str(host, "NetworkMode", optarg);
      return 1;
    case O_DNS:
      json_object_array_add(arr(host, "Dns"), json_object_new_string(optarg));
      return 1;
    case O_ADD_HOST:
      if (!strchr(optarg, ':'))
        return keel_error_set(err, -EINVAL, "invalid --add-host \"%s\": expected HOST:IP", optarg);
      json_object_array_add(arr(host, "ExtraHosts"), json_object_new_string(optarg));
      return 1;
    default:
      return 0;
    }
}

/* the container's life: --restart, --label, --stop-*, --health-*, --log-opt */
static int
parse_life(int c, json_object *conf, json_object *host, struct keel_error *err)
{
  static const struct
  {
    int opt;
    const char *key;
  } health[] = { { O_HEALTH_CMD, "Test" },
                 { O_HEALTH_INTERVAL, "Interval" },
                 { O_HEALTH_TIMEOUT, "Timeout" },
                 { O_HEALTH_RETRIES, "Retries" } };
  for (size_t i = 0; i < ARRAY_SIZE(health); i++)
    if (c == health[i].opt)
      {
        set_str(obj(conf, "Healthcheck"), health[i].key, optarg);
        return 1;
      }
  char *end, k[1024];
  const char *eq;
  switch (c)
    {
    case O_RESTART:
      if (parse_restart(optarg, err) < 0)
        return err->code;
      set_str(host, "RestartPolicy", optarg);
      return 1;
    case O_LABEL:
      eq = strchr(optarg, '=');
      snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - optarg) : (int)strlen(optarg), optarg);
      set_str(obj(conf, "Labels"), k, eq ? eq + 1 : "");
      return 1;
    case O_STOP_SIGNAL:
      set_str(conf, "StopSignal", optarg);
      return 1;
    case O_STOP_TIMEOUT:
      if (strtol(optarg, &end, 10) < 0 || *end || !*optarg)
        return keel_error_set(err, -EINVAL, "invalid --stop-timeout \"%s\"", optarg);
      set_str(conf, "StopTimeout", optarg);
      return 1;
    case O_LOG_OPT:
      if (!strncmp(optarg, "max-size=", 9))
        set_str(host, "LogMaxSize", optarg + 9);
      return 1;
    default:
      return 0;
    }
}

/* the image: --pull, --platform */
static int
parse_image(int c, struct create_flags *f, struct keel_error *err)
{
  switch (c)
    {
    case O_PULL:
      if (strcmp(optarg, "always") && strcmp(optarg, "missing") && strcmp(optarg, "never")
          && strcmp(optarg, "newer"))
        return keel_error_set(err, -EINVAL, "invalid --pull \"%s\"", optarg);
      f->pull = optarg;
      return 1;
    case O_PLATFORM:
      f->platform = optarg;
      return 1;
    default:
      return 0;
    }
}

static int
parse_one(int c, json_object *conf, json_object *host, struct create_flags *f,
          struct keel_error *err)
{
  int r = parse_mode(c, conf, host, f, err);
  if (!r)
    r = parse_process(c, conf, err);
  if (!r)
    r = parse_storage_security(c, host, err);
  if (!r)
    r = parse_net(c, host, err);
  if (!r)
    r = parse_life(c, conf, host, err);
  if (!r)
    r = parse_image(c, f, err);
  if (!r)
    r = parse_resource(c, host, err);
  if (!r)
    return keel_error_set(err, -EINVAL, "unknown flag (see keel --help)");
  return r < 0 ? r : 0;
}

int
create_parse(const char *verb, int argc, char **argv, struct create_flags *f, json_object **ret_cfg,
             struct keel_error *err)
{
  _cleanup_json_ json_object *cfg = json_object_new_object();
  json_object *conf = obj(cfg, "Config"), *host = obj(cfg, "HostConfig");
  set_str(host, "NetworkMode", "bridge");
  int c, r;
  memset(f, 0, sizeof(*f));
  f->pull = "missing";
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+ditre:w:u:v:m:p:h:", run_opts, NULL)) != -1)
    {
      if (c == '?')
        return keel_error_set(err, -EINVAL, "%s: unknown flag: %s", verb, argv[optind - 1]);
      if (c == ':')
        return keel_error_set(err, -EINVAL, "%s: flag needs an argument: %s", verb,
                              argv[optind - 1]);
      if (c == 'h')
        c = O_HOSTNAME;
      if ((r = parse_one(c, conf, host, f, err)) < 0)
        return r;
    }
  if (optind >= argc)
    return keel_error_set(err, -EINVAL, "%s requires at least 1 arg(s), only received 0", verb);
  f->image = argv[optind];
  f->cmd = argv + optind + 1;
  f->n_cmd = argc - optind - 1;
  /* the command line, as podman keeps it: `generate systemd --new` runs it again */
  json_object *cmdline = json_object_new_array();
  for (int i = 0; i < argc; i++)
    json_object_array_add(cmdline, json_object_new_string(argv[i]));
  json_object_object_add(cfg, "CreateCommand", cmdline);
  /* the name goes top-level, where the record keeps it */
  json_object *name;
  if (json_object_object_get_ex(conf, "Name", &name))
    {
      json_object_object_add(cfg, "Name", json_object_get(name));
      json_object_object_del(conf, "Name");
    }
  *ret_cfg = TAKE_PTR(cfg);
  return 0;
}

static const char *
long_name(int c, int index)
{
  if (index >= 0)
    return run_opts[index].name;
  if (c == 'h')
    return "hostname";
  for (size_t i = 0; run_opts[i].name; i++)
    if (run_opts[i].val == c)
      return run_opts[i].name;
  return NULL;
}

/* Flags that a service's own `run` line sets itself, or that make no
 * sense without a terminal. */
static bool
unit_drops(int c)
{
  return c == 'd' || c == 'i' || c == 't' || c == O_RM || c == O_NAME || c == O_REPLACE
         || c == O_SDNOTIFY;
}

int
create_unit_args(json_object *record, char ***ret, struct keel_error *err)
{
  _cleanup_strv_ char **argv = NULL, **out = NULL;
  json_object *cmd = ctr_get(record, "CreateCommand");
  if (!cmd || keel_json_get_strv(record, "CreateCommand", "record", &argv, err) < 0 || !argv[0])
    return keel_error_set(err, -EINVAL,
                          "container %s has no create command (made by an older keel): "
                          "cannot generate a unit with --new",
                          ctr_str(record, "Name"));
  int argc = 0, n = 0, c, index;
  while (argv[argc])
    argc++;
  if (!(out = calloc((size_t)argc + 1, sizeof(*out))))
    return keel_error_set(err, -ENOMEM, "out of memory");
  optind = 0;
  opterr = 0;
  while ((index = -1, c = getopt_long(argc, argv, "+ditre:w:u:v:m:p:h:", run_opts, &index)) != -1)
    {
      const char *name = long_name(c, index);
      if (!name)
        return keel_error_set(err, -EINVAL, "the recorded create command has a bad flag");
      if (unit_drops(c))
        continue;
      if (asprintf(&out[n], "--%s%s%s", name, optarg ? "=" : "", optarg ? optarg : "") < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
      n++;
    }
  for (int i = optind; i < argc; i++)
    if (!(out[n++] = strdup(argv[i])))
      return keel_error_set(err, -ENOMEM, "out of memory");
  *ret = TAKE_PTR(out);
  return 0;
}

int
create_find_image(struct create_flags *f, struct keel_store *s, struct keel_image **img,
                  struct keel_error *err)
{
  int r = -ENOENT;
  if (strcmp(f->pull, "always"))
    r = cli_find_image(s, f->image, img, err);
  if (r == -ENOENT && strcmp(f->pull, "never"))
    {
      keel_error_clear(err);
      if ((r = cli_pull_step(f->image, f->platform, -1, err)) < 0)
        return r;
      r = cli_find_image(s, f->image, img, err);
    }
  if (r == -ENOENT)
    return keel_error_set(err, -ENOENT, "%s: image not known", f->image);
  if (r >= 0 && f->platform && strncmp((*img)->platform, f->platform, strlen(f->platform)))
    return keel_error_set(err, -EINVAL, "image %s is for %s, not %s", f->image, (*img)->platform,
                          f->platform);
  return r;
}

static void
copy_if_absent(json_object *conf, json_object *ic, const char *key)
{
  json_object *v;
  if (!json_object_object_get_ex(conf, key, &v) && ic && json_object_object_get_ex(ic, key, &v)
      && !json_object_is_type(v, json_type_null))
    json_object_object_add(conf, key, json_object_get(v));
}

/* podman's merge: flags win; --entrypoint drops the image's Cmd; args
 * after the image replace its Cmd. */
static void
merge_image(struct create_flags *f, json_object *conf, json_object *ic)
{
  json_object *v, *env = json_object_new_array(), *flags_env = NULL;
  if (ic && json_object_object_get_ex(ic, "Env", &v))
    for (size_t i = 0; i < json_object_array_length(v); i++)
      json_object_array_add(env, json_object_get(json_object_array_get_idx(v, i)));
  if (json_object_object_get_ex(conf, "Env", &flags_env))
    for (size_t i = 0; i < json_object_array_length(flags_env); i++)
      env_set(env, json_object_get_string(json_object_array_get_idx(flags_env, i)));
  json_object_object_add(conf, "Env", env);
  const char *ep
      = json_object_object_get_ex(conf, "EntrypointFlag", &v) ? json_object_get_string(v) : NULL;
  json_object *cmd = json_object_new_array();
  for (int i = 0; i < f->n_cmd; i++)
    json_object_array_add(cmd, json_object_new_string(f->cmd[i]));
  if (ep)
    {
      json_object *e = json_object_new_array();
      if (*ep)
        json_object_array_add(e, json_object_new_string(ep));
      json_object_object_add(conf, "Entrypoint", e);
      json_object_object_del(conf, "EntrypointFlag");
    }
  else
    copy_if_absent(conf, ic, "Entrypoint");
  if (!f->n_cmd && !ep && ic && json_object_object_get_ex(ic, "Cmd", &v)
      && json_object_is_type(v, json_type_array))
    {
      json_object_put(cmd);
      cmd = json_object_get(v);
    }
  json_object_object_add(conf, "Cmd", cmd);
  copy_if_absent(conf, ic, "WorkingDir");
  copy_if_absent(conf, ic, "User");
  copy_if_absent(conf, ic, "StopSignal");
  copy_if_absent(conf, ic, "ExposedPorts");
  copy_if_absent(conf, ic, "Volumes");
  json_object *labels = obj(conf, "Labels");
  if (ic && json_object_object_get_ex(ic, "Labels", &v) && json_object_is_type(v, json_type_object))
    {
      json_object_object_foreach(v, k, lv)
      {
        if (!json_object_object_get_ex(labels, k, NULL))
          json_object_object_add(labels, k, json_object_get(lv));
      }
    }
}

static void
now_rfc3339(char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

static bool
mounted_at(json_object *mounts, const char *dst)
{
  for (size_t i = 0; i < json_object_array_length(mounts); i++)
    if (!strcmp(ctr_str(json_object_array_get_idx(mounts, i), "Destination"), dst))
      return true;
  return false;
}

/* Named volumes made (or found), anonymous ones made for -v /path and for
 * the image's VOLUMEs, each mount given its Source. */
static int
make_volumes(json_object *cfg, struct keel_error *err)
{
  json_object *host = ctr_get(cfg, "HostConfig"), *mounts = arr(host, "Mounts");
  json_object *iv = ctr_get(cfg, "Config.Volumes");
  if (iv && json_object_is_type(iv, json_type_object))
    {
      json_object_object_foreach(iv, dst, unused)
      {
        (void)unused;
        if (!mounted_at(mounts, dst) && add_mount(host, "volume", NULL, dst, false, err) < 0)
          return err->code;
      }
    }
  for (size_t i = 0; i < json_object_array_length(mounts); i++)
    {
      json_object *m = json_object_array_get_idx(mounts, i);
      if (strcmp(ctr_str(m, "Type"), "volume"))
        continue;
      const char *name = ctr_str(m, "Name");
      char got[KEEL_VOLUME_NAME_MAX + 1], path[4096];
      int r = keel_volume_create(cli_root, name && *name ? name : NULL, NULL, true, got, err);
      if (r < 0)
        return r;
      if (!name || !*name)
        json_object_object_add(m, "Anonymous", json_object_new_boolean(true));
      set_str(m, "Name", got);
      keel_volume_path(cli_root, got, path, sizeof(path));
      set_str(m, "Source", path);
    }
  return 0;
}

static int
check_network(json_object *cfg, struct keel_error *err)
{
  const char *mode = ctr_str(cfg, "HostConfig.NetworkMode");
  if (!strcmp(mode, "none") || !strcmp(mode, "host") || !strcmp(mode, "bridge"))
    {
      json_object *p = ctr_get(cfg, "HostConfig.PortBindings");
      if (strcmp(mode, "bridge") && p && json_object_array_length(p))
        return keel_error_set(err, -EINVAL,
                              "cannot set port bindings on an existing container "
                              "network namespace: --network %s",
                              mode);
      return 0;
    }
  struct keel_net_env env;
  struct keel_network *net = NULL;
  ctr_net_env(&env);
  int r = keel_network_load(&env, mode, &net, err);
  keel_network_free(net);
  if (r < 0)
    return keel_error_set(err, -ENOENT,
                          "unable to find network with name or ID %s: network not found", mode);
  return 0;
}

int
create_record(struct create_flags *f, json_object *cfg, char *ret_id, struct keel_error *err)
{
  if (check_network(cfg, err) < 0)
    return err->code;
  struct keel_store *s = NULL;
  struct keel_image *img = NULL;
  int r = cli_open_store(&s, err);
  if (r >= 0)
    r = create_find_image(f, s, &img, err);
  _cleanup_free_ char *buf = NULL;
  size_t len;
  _cleanup_json_ json_object *icfg = NULL;
  if (r >= 0 && (r = keel_store_blob_read(s, img->id, KEEL_CONFIG_MAX_BYTES, &buf, &len, err)) >= 0)
    r = keel_json_parse(buf, len, "image config", &icfg, err);
  if (r >= 0)
    {
      json_object *ic = NULL;
      json_object_object_get_ex(icfg, "config", &ic);
      merge_image(f, ctr_get(cfg, "Config"), ic);
      set_str(cfg, "Image", img->id);
      set_str(cfg, "ImageName", img->names && img->names[0] ? img->names[0] : f->image);
      char now[64];
      now_rfc3339(now, sizeof(now));
      set_str(cfg, "Created", now);
      json_object *args = ctr_get(cfg, "Config.Cmd"), *ep = ctr_get(cfg, "Config.Entrypoint");
      if ((!args || !json_object_array_length(args)) && (!ep || !json_object_array_length(ep)))
        r = keel_error_set(err, -EINVAL,
                           "no command or entrypoint provided, and no CMD or "
                           "ENTRYPOINT from image");
    }
  if (r >= 0)
    r = make_volumes(cfg, err);
  if (r >= 0)
    r = keel_ctr_new(cli_root, cfg, ret_id, err);
  if (r >= 0 && !ctr_str(cfg, "Config.Hostname"))
    {
      char hn[13];
      snprintf(hn, sizeof(hn), "%.12s", ret_id);
      set_str(ctr_get(cfg, "Config"), "Hostname", hn);
      if ((r = keel_ctr_save(cli_root, ret_id, cfg, err)) < 0)
        keel_ctr_remove(cli_root, ret_id, NULL);
    }
  keel_image_free(img);
  keel_store_free(s);
  return r;
}
