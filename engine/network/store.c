/* Network definitions: NAME.json under <root>/networks, written atomically
 * under the networks lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "network/internal.h"

#define DEFAULT_SUBNET "10.88.0.0/16"

int
keel_net_dir(const struct keel_net_env *env, const char *sub, char buf[PATH_MAX])
{
  const char *root = env && env->root ? env->root : getenv("KEEL_ROOT");
  if (!root || !*root)
    root = "/var/lib/keel";
  int n = snprintf(buf, PATH_MAX, "%s/networks%s%s", root, sub ? "/" : "", sub ? sub : "");
  return n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int
keel_net_lock(const struct keel_net_env *env, struct keel_error *err)
{
  char dir[PATH_MAX], path[PATH_MAX];
  int r = keel_net_dir(env, NULL, dir);
  if (r < 0)
    return keel_error_set_errno(err, r, "network state directory");
  r = keel_mkdir_p(dir, 0700);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create '%s'", dir);
  snprintf(path, sizeof(path), "%s/.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return keel_error_set_errno(err, errno, "cannot open '%s'", path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        close(fd);
        return keel_error_set_errno(err, e, "cannot lock '%s'", path);
      }
  return fd;
}

bool
keel_net_name_valid(const char *s, size_t max)
{
  if (!s || !*s || strlen(s) > max)
    return false;
  for (const char *p = s; *p; p++)
    {
      bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
      if (!alnum && (p == s || (*p != '_' && *p != '.' && *p != '-')))
        return false;
    }
  return true;
}

int
keel_net_conf_parse(const char *text, char subnet[19], char gateway[16], struct keel_error *err)
{
  int lineno = 0;
  for (const char *p = text; p && *p;)
    {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      char line[512], key[64], val[256];
      lineno++;
      snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
      p = nl ? nl + 1 : p + len;
      char *hash = strchr(line, '#');
      if (hash)
        *hash = '\0';
      if (strspn(line, " \t\r") == strlen(line))
        continue;
      if (sscanf(line, " %63[a-z_] = %255s", key, val) != 2)
        return keel_error_set(err, -EINVAL, "network.conf:%d: expected 'key = value'", lineno);
      if (strcmp(key, "subnet") == 0 && strlen(val) < 19)
        strcpy(subnet, val);
      else if (strcmp(key, "gateway") == 0 && strlen(val) < 16)
        strcpy(gateway, val);
      else
        return keel_error_set(err, -EINVAL, "network.conf:%d: unknown or bad key '%s'", lineno,
                              key);
    }
  return 0;
}

void
keel_network_free(struct keel_network *net)
{
  if (!net)
    return;
  if (net->labels)
    json_object_put(net->labels);
  free(net);
}

static void
network_freep(struct keel_network **n)
{
  keel_network_free(*n);
}
#define _cleanup_network_ _cleanup_(network_freep)

json_object *
keel_network_to_json(const struct keel_network *net)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "name", json_object_new_string(net->name));
  json_object_object_add(o, "id", json_object_new_string(net->id));
  json_object_object_add(o, "driver", json_object_new_string("bridge"));
  json_object_object_add(o, "network_interface", json_object_new_string(net->bridge));
  json_object_object_add(o, "created", json_object_new_string(net->created));
  json_object *subnets = json_object_new_array(), *s = json_object_new_object();
  json_object_object_add(s, "subnet", json_object_new_string(net->subnet));
  json_object_object_add(s, "gateway", json_object_new_string(net->gateway));
  json_object_array_add(subnets, s);
  json_object_object_add(o, "subnets", subnets);
  json_object_object_add(o, "ipv6_enabled", json_object_new_boolean(0));
  json_object_object_add(o, "internal", json_object_new_boolean(net->internal));
  json_object_object_add(o, "dns_enabled", json_object_new_boolean(0));
  json_object_object_add(o, "labels",
                         net->labels ? json_object_get(net->labels) : json_object_new_object());
  json_object *ipam = json_object_new_object();
  json_object_object_add(ipam, "driver", json_object_new_string("host-local"));
  json_object_object_add(o, "ipam_options", ipam);
  return o;
}

static int
copy_str(json_object *o, const char *key, const char *ctx, char *buf, size_t size,
         struct keel_error *err)
{
  const char *s = NULL;
  int r = keel_json_get_string(o, key, ctx, &s, err);
  if (r < 0)
    return r;
  if (r == 0 || strlen(s) >= size)
    return keel_error_set(err, -EINVAL, "%s: missing or bad '%s'", ctx, key);
  strcpy(buf, s);
  return 0;
}

static int
network_from_json(json_object *o, const char *ctx, struct keel_network **ret,
                  struct keel_error *err)
{
  _cleanup_network_ struct keel_network *n = calloc(1, sizeof(*n));
  if (!n)
    return keel_error_set(err, -ENOMEM, "out of memory");
  json_object *subnets = NULL, *labels = NULL;
  int r;
  if ((r = copy_str(o, "name", ctx, n->name, sizeof(n->name), err)) < 0
      || (r = copy_str(o, "id", ctx, n->id, sizeof(n->id), err)) < 0
      || (r = copy_str(o, "network_interface", ctx, n->bridge, sizeof(n->bridge), err)) < 0
      || (r = copy_str(o, "created", ctx, n->created, sizeof(n->created), err)) < 0
      || (r = keel_json_get_bool(o, "internal", ctx, &n->internal, err)) < 0
      || (r = keel_json_get_array(o, "subnets", ctx, &subnets, err)) < 0)
    return r;
  if (!subnets || json_object_array_length(subnets) != 1)
    return keel_error_set(err, -EINVAL, "%s: expected one subnet", ctx);
  json_object *s = json_object_array_get_idx(subnets, 0);
  if ((r = copy_str(s, "subnet", ctx, n->subnet, sizeof(n->subnet), err)) < 0
      || (r = copy_str(s, "gateway", ctx, n->gateway, sizeof(n->gateway), err)) < 0)
    return r;
  if ((r = keel_cidr_parse(n->subnet, &n->cidr, err)) < 0)
    return keel_error_prefix(err, "%s", ctx);
  if (keel_ip_parse(n->gateway, &n->gw) < 0)
    return keel_error_set(err, -EINVAL, "%s: bad gateway '%s'", ctx, n->gateway);
  if (json_object_object_get_ex(o, "labels", &labels)
      && json_object_is_type(labels, json_type_object))
    n->labels = json_object_get(labels);
  *ret = TAKE_PTR(n);
  return 0;
}

int
keel_network_read(const struct keel_net_env *env, const char *name, struct keel_network **ret,
                  struct keel_error *err)
{
  if (!keel_net_name_valid(name, 63))
    return keel_error_set(err, -EINVAL, "invalid network name '%s'", name ? name : "");
  char path[PATH_MAX], file[128];
  snprintf(file, sizeof(file), "%s.json", name);
  int r = keel_net_dir(env, file, path);
  if (r < 0)
    return keel_error_set_errno(err, r, "network '%s'", name);
  if (access(path, F_OK) < 0)
    return keel_error_set(err, -ENOENT, "network '%s' not found", name);
  _cleanup_json_ json_object *o = NULL;
  r = keel_json_parse_file(path, &o, err);
  if (r < 0)
    return r;
  return network_from_json(o, path, ret, err);
}

static int
cmp_net(const void *a, const void *b)
{
  return strcmp((*(struct keel_network *const *)a)->name, (*(struct keel_network *const *)b)->name);
}

void
keel_network_list_free(struct keel_network **v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    keel_network_free(v[i]);
  free(v);
}

int
keel_network_read_all(const struct keel_net_env *env, struct keel_network ***ret, size_t *ret_n,
                      struct keel_error *err)
{
  char dir[PATH_MAX];
  int r = keel_net_dir(env, NULL, dir);
  if (r < 0)
    return keel_error_set_errno(err, r, "network state directory");
  struct keel_network **v = NULL;
  size_t n = 0;
  _cleanup_closedir_ DIR *d = opendir(dir);
  for (struct dirent *de; d && (de = readdir(d));)
    {
      size_t len = strlen(de->d_name);
      if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 || de->d_name[0] == '.')
        continue;
      char name[128];
      snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
      struct keel_network *net = NULL;
      r = keel_network_read(env, name, &net, err);
      struct keel_network **nv = r < 0 ? NULL : realloc(v, (n + 1) * sizeof(*v));
      if (!nv)
        {
          keel_network_free(net);
          keel_network_list_free(v, n);
          return r < 0 ? r : keel_error_set(err, -ENOMEM, "out of memory");
        }
      v = nv;
      v[n++] = net;
    }
  if (n)
    qsort(v, n, sizeof(*v), cmp_net);
  *ret = v;
  *ret_n = n;
  return 0;
}

static bool
host_has_address_in(const struct keel_cidr *c)
{
  struct ifaddrs *ifa = NULL;
  if (getifaddrs(&ifa) < 0)
    return false;
  bool found = false;
  for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
      found = keel_cidr_contains(c, ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr));
  freeifaddrs(ifa);
  return found;
}

static int
pick_subnet(const char *want, struct keel_network **v, size_t n, struct keel_cidr *ret,
            struct keel_error *err)
{
  if (want)
    {
      int r = keel_cidr_parse(want, ret, err);
      if (r < 0)
        return r;
      for (size_t i = 0; i < n; i++)
        if (keel_cidr_overlap(ret, &v[i]->cidr))
          return keel_error_set(err, -EINVAL, "subnet %s overlaps network '%s' (%s)", want,
                                v[i]->name, v[i]->subnet);
      return 0;
    }
  /* As podman: the first free 10.89.N.0/24. */
  for (uint32_t k = 0; k < 256; k++)
    {
      struct keel_cidr c = { (10u << 24) | (89u << 16) | (k << 8), 24 };
      bool busy = host_has_address_in(&c);
      for (size_t i = 0; i < n && !busy; i++)
        busy = keel_cidr_overlap(&c, &v[i]->cidr);
      if (!busy)
        {
          *ret = c;
          return 0;
        }
    }
  return keel_error_set(err, -ENOSPC, "no free subnet left in 10.89.0.0/16: pass --subnet");
}

static int
pick_gateway(struct keel_network *net, const char *want, struct keel_error *err)
{
  if (!want)
    net->gw = keel_cidr_first(&net->cidr);
  else if (keel_ip_parse(want, &net->gw) < 0)
    return keel_error_set(err, -EINVAL, "invalid gateway '%s': expected a.b.c.d", want);
  else if (!keel_cidr_contains(&net->cidr, net->gw) || net->gw < keel_cidr_first(&net->cidr)
           || net->gw > keel_cidr_last(&net->cidr))
    return keel_error_set(err, -EINVAL, "gateway %s is not a host address of subnet %s", want,
                          net->subnet);
  keel_ip_format(net->gw, net->gateway);
  return 0;
}

static void
pick_bridge(struct keel_network *net, struct keel_network **v, size_t n)
{
  for (int k = 1;; k++)
    {
      char name[16];
      snprintf(name, sizeof(name), "keel%d", k);
      bool busy = if_nametoindex(name) != 0;
      for (size_t i = 0; i < n && !busy; i++)
        busy = strcmp(v[i]->bridge, name) == 0;
      if (!busy)
        {
          strcpy(net->bridge, name);
          return;
        }
    }
}

static int
set_labels(struct keel_network *net, const char *const *labels, struct keel_error *err)
{
  net->labels = json_object_new_object();
  for (const char *const *l = labels; l && *l; l++)
    {
      const char *eq = strchr(*l, '=');
      size_t klen = eq ? (size_t)(eq - *l) : strlen(*l);
      if (klen == 0 || klen > 255)
        return keel_error_set(err, -EINVAL, "invalid label '%s': expected key=value", *l);
      char key[256];
      snprintf(key, sizeof(key), "%.*s", (int)klen, *l);
      json_object_object_add(net->labels, key, json_object_new_string(eq ? eq + 1 : ""));
    }
  return 0;
}

static void
fill_identity(struct keel_network *net)
{
  unsigned char rnd[32];
  if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
    memset(rnd, 0, sizeof(rnd));
  for (size_t i = 0; i < sizeof(rnd); i++)
    snprintf(net->id + 2 * i, 3, "%02x", rnd[i]);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(net->created, sizeof(net->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
save(const struct keel_net_env *env, const struct keel_network *net, struct keel_error *err)
{
  char path[PATH_MAX], file[128];
  snprintf(file, sizeof(file), "%s.json", net->name);
  int r = keel_net_dir(env, file, path);
  if (r < 0)
    return keel_error_set_errno(err, r, "network '%s'", net->name);
  _cleanup_json_ json_object *o = keel_network_to_json(net);
  return keel_json_write_file(path, o, JSON_C_TO_STRING_PRETTY, err);
}

/* Create with the lock held; bridge NULL picks keelN. */
static int
create_locked(const struct keel_net_env *env, const struct keel_network_create_opts *o,
              const char *bridge, struct keel_network **ret, struct keel_error *err)
{
  if (!keel_net_name_valid(o->name, 63))
    return keel_error_set(err, -EINVAL,
                          "invalid network name '%s': use letters, digits, '_', '.', '-'",
                          o->name ? o->name : "");
  struct keel_network **v = NULL;
  size_t n = 0;
  int r = keel_network_read_all(env, &v, &n, err);
  if (r < 0)
    return r;
  _cleanup_network_ struct keel_network *net = calloc(1, sizeof(*net));
  for (size_t i = 0; i < n && r == 0; i++)
    if (strcmp(v[i]->name, o->name) == 0)
      r = keel_error_set(err, -EEXIST, "network '%s' already exists", o->name);
  if (r == 0 && !net)
    r = keel_error_set(err, -ENOMEM, "out of memory");
  if (r == 0)
    {
      strcpy(net->name, o->name);
      net->internal = o->internal;
      r = pick_subnet(o->subnet, v, n, &net->cidr, err);
    }
  if (r == 0)
    {
      keel_cidr_format(&net->cidr, net->subnet);
      r = pick_gateway(net, o->gateway, err);
    }
  if (r == 0 && bridge)
    strcpy(net->bridge, bridge);
  else if (r == 0)
    pick_bridge(net, v, n);
  keel_network_list_free(v, n);
  if (r == 0)
    r = set_labels(net, o->labels, err);
  if (r < 0)
    return r;
  fill_identity(net);
  r = save(env, net, err);
  if (r < 0)
    return r;
  if (ret)
    *ret = TAKE_PTR(net);
  return 0;
}

int
keel_network_ensure_default(const struct keel_net_env *env, struct keel_error *err)
{
  char path[PATH_MAX];
  int r = keel_net_dir(env, KEEL_NETWORK_DEFAULT ".json", path);
  if (r < 0)
    return keel_error_set_errno(err, r, "network state directory");
  if (access(path, F_OK) == 0)
    return 0;
  char subnet[19] = DEFAULT_SUBNET, gateway[16] = "";
  const char *conf = env && env->conf_path ? env->conf_path : "/etc/keel/network.conf";
  _cleanup_free_ char *text = NULL;
  r = keel_read_file(AT_FDCWD, conf, 1 << 20, &text, NULL);
  if (r < 0 && r != -ENOENT)
    return keel_error_set_errno(err, r, "cannot read '%s'", conf);
  if (text && (r = keel_net_conf_parse(text, subnet, gateway, err)) < 0)
    return keel_error_prefix(err, "%s", conf);
  struct keel_network_create_opts o
      = { .name = KEEL_NETWORK_DEFAULT, .subnet = subnet, .gateway = gateway[0] ? gateway : NULL };
  r = create_locked(env, &o, "keel0", NULL, err);
  if (r < 0)
    return keel_error_prefix(err, "default network");
  return 0;
}

int
keel_network_create(const struct keel_net_env *env, const struct keel_network_create_opts *o,
                    struct keel_network **ret, struct keel_error *err)
{
  _cleanup_close_ int lock = keel_net_lock(env, err);
  if (lock < 0)
    return lock;
  int r = keel_network_ensure_default(env, err);
  if (r < 0)
    return r;
  return create_locked(env, o, NULL, ret, err);
}

int
keel_network_load(const struct keel_net_env *env, const char *name, struct keel_network **ret,
                  struct keel_error *err)
{
  if (name && strcmp(name, KEEL_NETWORK_DEFAULT) == 0)
    {
      _cleanup_close_ int lock = keel_net_lock(env, err);
      if (lock < 0)
        return lock;
      int r = keel_network_ensure_default(env, err);
      if (r < 0)
        return r;
    }
  return keel_network_read(env, name, ret, err);
}

int
keel_network_list(const struct keel_net_env *env, struct keel_network ***ret, size_t *ret_n,
                  struct keel_error *err)
{
  {
    _cleanup_close_ int lock = keel_net_lock(env, err);
    if (lock < 0)
      return lock;
    int r = keel_network_ensure_default(env, err);
    if (r < 0)
      return r;
  }
  return keel_network_read_all(env, ret, ret_n, err);
}

const char *
keel_network_name(const struct keel_network *net)
{
  return net->name;
}

const char *
keel_network_bridge(const struct keel_network *net)
{
  return net->bridge;
}

const char *
keel_network_subnet(const struct keel_network *net)
{
  return net->subnet;
}

const char *
keel_network_gateway(const struct keel_network *net)
{
  return net->gateway;
}

bool
keel_network_internal(const struct keel_network *net)
{
  return net->internal;
}
