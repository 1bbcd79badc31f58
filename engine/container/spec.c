/* The OCI runtime configuration of a container, from its record (image
 * config merged with the flags at create time) with podman's defaults:
 * its capability set, Keel's seccomp profile, its masked and
 * read-only paths, no_new_privs off unless asked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

/* podman's default_capabilities (containers.conf) */
static const char *const default_caps[]
    = { "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
        "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT" };

/* podman's masked and read-only paths */
static const char *const masked[]
    = { "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block" };
static const char *const readonly[]
    = { "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };

static json_object *
strv(const char *const *v, size_t n)
{
  json_object *a = json_object_new_array();
  for (size_t i = 0; i < n; i++)
    json_object_array_add(a, json_object_new_string(v[i]));
  return a;
}

static json_object *
get(json_object *o, const char *key)
{
  json_object *v = NULL;
  return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *
get_str(json_object *o, const char *key)
{
  json_object *v = get(o, key);
  return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool
get_bool(json_object *o, const char *key)
{
  json_object *v = get(o, key);
  return v && json_object_get_boolean(v);
}

static int64_t
get_int(json_object *o, const char *key)
{
  json_object *v = get(o, key);
  return v ? json_object_get_int64(v) : 0;
}

static bool
in_array(json_object *a, const char *s)
{
  for (size_t i = 0; a && i < json_object_array_length(a); i++)
    {
      const char *x = json_object_get_string(json_object_array_get_idx(a, i));
      if (!strcasecmp(x, s) || (!strncasecmp(s, "CAP_", 4) && !strcasecmp(x, s + 4))
          || !strcasecmp(x, "ALL"))
        return true;
    }
  return false;
}

/* podman's set, --cap-add / --cap-drop applied (ALL works both ways) */
static json_object *
capabilities(json_object *host)
{
  json_object *add = get(host, "CapAdd"), *drop = get(host, "CapDrop");
  json_object *set = json_object_new_array();
  bool priv = get_bool(host, "Privileged");
  for (int i = 0; i <= keel_cap_last(); i++)
    {
      const char *name = keel_cap_name(i);
      if (keel_cap_from_name(name) != i)
        continue; /* newer than the names we know */
      bool want = priv || in_array(add, name);
      for (size_t j = 0; !want && j < ARRAY_SIZE(default_caps); j++)
        want = !strcmp(default_caps[j], name);
      if (want && !priv && in_array(drop, name))
        want = false;
      /* the runtime's table is in capability-number order; what we lack ourselves
       * (here: CAP_SYS_RESOURCE) cannot be given, so --privileged means
       * every capability we have, as in podman */
      if (want && prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) != 1)
        want = false;
      if (want)
        json_object_array_add(set, json_object_new_string(name));
    }
  json_object *caps = json_object_new_object();
  json_object_object_add(caps, "bounding", set);
  json_object_object_add(caps, "effective", json_object_get(set));
  json_object_object_add(caps, "permitted", json_object_get(set));
  return caps;
}

static void
add_mount(json_object *mounts, const char *dst, const char *type, const char *src, const char *opts)
{
  json_object *m = json_object_new_object();
  json_object_object_add(m, "destination", json_object_new_string(dst));
  json_object_object_add(m, "type", json_object_new_string(type));
  json_object_object_add(m, "source", json_object_new_string(src));
  json_object *o = json_object_new_array();
  _cleanup_free_ char *copy = strdup(opts);
  for (char *save, *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
    json_object_array_add(o, json_object_new_string(t));
  json_object_object_add(m, "options", o);
  json_object_array_add(mounts, m);
}

static bool
user_mounted(json_object *binds, const char *dst)
{
  for (size_t i = 0; binds && i < json_object_array_length(binds); i++)
    {
      const char *d = get_str(json_object_array_get_idx(binds, i), "Destination");
      if (d && !strcmp(d, dst))
        return true;
    }
  return false;
}

static json_object *
mounts(const char *root, const char *id, json_object *host)
{
  json_object *m = json_object_new_array(), *binds = get(host, "Mounts");
  bool priv = get_bool(host, "Privileged");
  add_mount(m, "/proc", "proc", "proc", "nosuid,noexec,nodev");
  add_mount(m, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
  add_mount(m, "/dev/pts", "devpts", "devpts",
            "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
  add_mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
  add_mount(m, "/sys", "sysfs", "sysfs",
            priv ? "nosuid,noexec,nodev,rw" : "nosuid,noexec,nodev,ro");
  add_mount(m, "/sys/fs/cgroup", "cgroup", "cgroup",
            priv ? "nosuid,noexec,nodev,relatime,rw" : "nosuid,noexec,nodev,relatime,ro");
  if (!user_mounted(binds, "/dev/shm"))
    add_mount(m, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=64000k");
  static const char *const etc[] = { "hosts", "hostname", "resolv.conf" };
  for (size_t i = 0; i < ARRAY_SIZE(etc); i++)
    {
      char dst[64], key[64], src[4096];
      snprintf(dst, sizeof(dst), "/etc/%s", etc[i]);
      snprintf(key, sizeof(key), "etc/%s", etc[i]);
      const char *key_p = i == 0 ? "HostsPath" : i == 2 ? "ResolvConfPath" : NULL;
      const char *p = key_p ? get_str(host, key_p) : NULL;
      if (p)
        snprintf(src, sizeof(src), "%s", p);
      else
        keel_ctr_path(root, id, key, src, sizeof(src));
      if (!user_mounted(binds, dst))
        add_mount(m, dst, "bind", src, "rbind,rprivate,nosuid,noexec,nodev,rw");
    }
  /* sd_notify proxied by keel-monitor (--sdnotify=container) */
  if (get_str(host, "NotifySocketDir"))
    add_mount(m, "/run/notify", "bind", get_str(host, "NotifySocketDir"),
              "rbind,rprivate,nosuid,noexec,nodev,rw");
  if (get_bool(host, "Init") && get_str(host, "InitPath"))
    add_mount(m, "/run/keel-init", "bind", get_str(host, "InitPath"), "bind,ro,nosuid,nodev");
  for (size_t i = 0; binds && i < json_object_array_length(binds); i++)
    {
      json_object *b = json_object_array_get_idx(binds, i);
      const char *type = get_str(b, "Type"), *src = get_str(b, "Source");
      const char *dst = get_str(b, "Destination");
      bool ro = get_bool(b, "ReadOnly");
      if (type && !strcmp(type, "tmpfs"))
        add_mount(m, dst, "tmpfs", "tmpfs", ro ? "nosuid,nodev,ro" : "nosuid,nodev,rw");
      else
        add_mount(m, dst, "bind", src, ro ? "rbind,rprivate,ro" : "rbind,rprivate,rw");
    }
  return m;
}

static json_object *
rlimits(json_object *host)
{
  json_object *out = json_object_new_array(), *u = get(host, "Ulimits");
  for (size_t i = 0; u && i < json_object_array_length(u); i++)
    {
      json_object *e = json_object_array_get_idx(u, i), *r = json_object_new_object();
      char type[64];
      snprintf(type, sizeof(type), "RLIMIT_%s", get_str(e, "Name"));
      for (char *p = type; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
      json_object_object_add(r, "type", json_object_new_string(type));
      json_object_object_add(r, "soft", json_object_new_int64(get_int(e, "Soft")));
      json_object_object_add(r, "hard", json_object_new_int64(get_int(e, "Hard")));
      json_object_array_add(out, r);
    }
  return out;
}

static json_object *
resources(json_object *host)
{
  json_object *res = json_object_new_object();
  if (get_bool(host, "Privileged"))
    {
      json_object *d = json_object_new_object();
      json_object_object_add(d, "allow", json_object_new_boolean(true));
      json_object_object_add(d, "access", json_object_new_string("rwm"));
      json_object *a = json_object_new_array();
      json_object_array_add(a, d);
      json_object_object_add(res, "devices", a);
    }
  int64_t mem = get_int(host, "Memory"), cpus = get_int(host, "NanoCpus");
  int64_t pids = get_int(host, "PidsLimit");
  if (mem > 0)
    {
      json_object *o = json_object_new_object();
      json_object_object_add(o, "limit", json_object_new_int64(mem));
      json_object_object_add(res, "memory", o);
    }
  if (cpus > 0)
    {
      json_object *o = json_object_new_object();
      json_object_object_add(o, "period", json_object_new_int64(100000));
      json_object_object_add(o, "quota", json_object_new_int64(cpus / 10000));
      json_object_object_add(res, "cpu", o);
    }
  if (pids > 0)
    {
      json_object *o = json_object_new_object();
      json_object_object_add(o, "limit", json_object_new_int64(pids));
      json_object_object_add(res, "pids", o);
    }
  return res;
}

/* The profile (the default or --security-opt seccomp=FILE) resolved for
 * the container's bounding set. */
static int
seccomp(json_object *host, json_object *caps, json_object *lx, struct keel_error *err)
{
  const char *sc = get_str(host, "Seccomp");
  if (get_bool(host, "Privileged") || (sc && !strcmp(sc, "unconfined")))
    return 0;
  json_object *prof = NULL;
  int r;
  if (sc && *sc && strcmp(sc, "default"))
    r = keel_json_parse_file(sc, &prof, err);
  else
    {
      const char *text = keel_ctr_seccomp_default();
      r = keel_json_parse(text, strlen(text), "seccomp profile", &prof, err);
    }
  json_object *resolved = NULL;
  if (r >= 0)
    r = keel_ctr_seccomp_resolve(prof, caps, NULL, &resolved, err);
  json_object_put(prof);
  if (r < 0)
    return r;
  json_object_object_add(lx, "seccomp", resolved);
  return 0;
}

static json_object *
namespaces(json_object *host, const char *netns_path)
{
  json_object *ns = json_object_new_array();
  static const char *const types[] = { "pid", "ipc", "uts", "mount", "network" };
  const char *mode = get_str(host, "NetworkMode");
  for (size_t i = 0; i < ARRAY_SIZE(types); i++)
    {
      bool net = !strcmp(types[i], "network");
      if (net && mode && !strcmp(mode, "host"))
        continue;
      json_object *o = json_object_new_object();
      json_object_object_add(o, "type", json_object_new_string(types[i]));
      if (net && netns_path)
        json_object_object_add(o, "path", json_object_new_string(netns_path));
      json_object_array_add(ns, o);
    }
  /* As podman: a private cgroup namespace on unified (v2) hosts, so the
   * container sees its own cgroup at /sys/fs/cgroup; the host's on v1. */
  enum keel_cgroup_mode cg = KEEL_CGROUP_V1;
  keel_cgroup_detect(&cg, NULL);
  const char *cgns = get_str(host, "CgroupnsMode");
  if (cgns ? !strcmp(cgns, "private") : cg == KEEL_CGROUP_V2)
    {
      json_object *o = json_object_new_object();
      json_object_object_add(o, "type", json_object_new_string("cgroup"));
      json_object_array_add(ns, o);
    }
  return ns;
}

static json_object *
linux_section(json_object *host, const char *netns_path)
{
  json_object *l = json_object_new_object();
  json_object_object_add(l, "namespaces", namespaces(host, netns_path));
  json_object_object_add(l, "resources", resources(host));
  if (!get_bool(host, "Privileged"))
    {
      json_object_object_add(l, "maskedPaths", strv(masked, ARRAY_SIZE(masked)));
      json_object_object_add(l, "readonlyPaths", strv(readonly, ARRAY_SIZE(readonly)));
    }
  return l;
}

static json_object *
args_of(json_object *conf, json_object *host)
{
  json_object *a = json_object_new_array();
  if (get_bool(host, "Init"))
    {
      /* --init: keel-init, bind-mounted read-only, runs the command */
      json_object_array_add(a, json_object_new_string("/run/keel-init"));
      json_object_array_add(a, json_object_new_string("--"));
    }
  json_object *parts[] = { get(conf, "Entrypoint"), get(conf, "Cmd") };
  for (size_t p = 0; p < 2; p++)
    for (size_t i = 0; parts[p] && i < json_object_array_length(parts[p]); i++)
      json_object_array_add(a, json_object_get(json_object_array_get_idx(parts[p], i)));
  return a;
}

static bool
env_has(json_object *env, const char *key)
{
  size_t n = strlen(key);
  for (size_t i = 0; i < json_object_array_length(env); i++)
    {
      const char *e = json_object_get_string(json_object_array_get_idx(env, i));
      if (!strncmp(e, key, n) && e[n] == '=')
        return true;
    }
  return false;
}

static int
process(const char *rootfs, json_object *cfg, json_object **ret, struct keel_error *err)
{
  json_object *conf = get(cfg, "Config"), *host = get(cfg, "HostConfig");
  unsigned uid, gid;
  _cleanup_free_ unsigned *groups = NULL;
  size_t n_groups;
  int r = keel_ctr_user(rootfs, get_str(conf, "User"), &uid, &gid, &groups, &n_groups, err);
  if (r < 0)
    return r;
  json_object *p = json_object_new_object(), *user = json_object_new_object();
  json_object_object_add(p, "terminal", json_object_new_boolean(get_bool(conf, "Tty")));
  json_object_object_add(user, "uid", json_object_new_int64(uid));
  json_object_object_add(user, "gid", json_object_new_int64(gid));
  json_object *ag = json_object_new_array();
  for (size_t i = 0; i < n_groups; i++)
    json_object_array_add(ag, json_object_new_int64(groups[i]));
  json_object_object_add(user, "additionalGids", ag);
  json_object_object_add(p, "user", user);
  json_object_object_add(p, "args", args_of(conf, host));
  json_object *env = json_object_new_array(), *ienv = get(conf, "Env");
  for (size_t i = 0; ienv && i < json_object_array_length(ienv); i++)
    json_object_array_add(env, json_object_get(json_object_array_get_idx(ienv, i)));
  if (!env_has(env, "PATH"))
    json_object_array_add(env,
                          json_object_new_string(
                              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  if (get_bool(conf, "Tty") && !env_has(env, "TERM"))
    json_object_array_add(env, json_object_new_string("TERM=xterm"));
  json_object_array_add(env, json_object_new_string("container=keel"));
  char hn[320];
  snprintf(hn, sizeof(hn), "HOSTNAME=%s", get_str(conf, "Hostname"));
  if (!env_has(env, "HOSTNAME"))
    json_object_array_add(env, json_object_new_string(hn));
  if (get_str(host, "NotifySocketDir") && !env_has(env, "NOTIFY_SOCKET"))
    json_object_array_add(env, json_object_new_string("NOTIFY_SOCKET=/run/notify/notify.sock"));
  if (!env_has(env, "HOME"))
    json_object_array_add(env, json_object_new_string(uid ? "HOME=/" : "HOME=/root"));
  json_object_object_add(p, "env", env);
  const char *cwd = get_str(conf, "WorkingDir");
  json_object_object_add(p, "cwd", json_object_new_string(cwd && *cwd ? cwd : "/"));
  json_object_object_add(p, "capabilities", capabilities(host));
  json_object_object_add(p, "rlimits", rlimits(host));
  json_object_object_add(p, "noNewPrivileges",
                         json_object_new_boolean(get_bool(host, "NoNewPrivileges")));
  *ret = p;
  return 0;
}

int
keel_ctr_spec(const char *root, const char *id, json_object *cfg, const char *netns_path,
              json_object **ret, struct keel_error *err)
{
  char rootfs[4096];
  keel_ctr_path(root, id, "rootfs", rootfs, sizeof(rootfs));
  json_object *host = get(cfg, "HostConfig"), *conf = get(cfg, "Config");
  _cleanup_json_ json_object *spec = json_object_new_object();
  json_object *proc = NULL;
  int r = process(rootfs, cfg, &proc, err);
  if (r < 0)
    return r;
  json_object_object_add(spec, "ociVersion", json_object_new_string("1.1.0"));
  json_object_object_add(spec, "process", proc);
  json_object *rt = json_object_new_object();
  json_object_object_add(rt, "path", json_object_new_string(rootfs));
  json_object_object_add(rt, "readonly", json_object_new_boolean(get_bool(host, "ReadonlyRootfs")));
  json_object_object_add(spec, "root", rt);
  const char *hn = get_str(conf, "Hostname");
  if (!(get_str(host, "NetworkMode") && !strcmp(get_str(host, "NetworkMode"), "host")))
    json_object_object_add(spec, "hostname", json_object_new_string(hn ? hn : id));
  json_object_object_add(spec, "mounts", mounts(root, id, host));
  json_object *l = linux_section(host, netns_path);
  json_object_object_add(spec, "linux", l);
  json_object *caps = NULL;
  json_object_object_get_ex(get(proc, "capabilities"), "bounding", &caps);
  if ((r = seccomp(host, caps, l, err)) < 0)
    return r;
  json_object *ann = json_object_new_object();
  json_object_object_add(ann, "io.container.manager", json_object_new_string("keel"));
  json_object_object_add(spec, "annotations", ann);
  *ret = TAKE_PTR(spec);
  return 0;
}
