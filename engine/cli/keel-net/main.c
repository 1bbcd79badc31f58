/* keel-net: a small CLI over engine/network, for tests and for poking at a
 * host until `keel network` and `keel run` call the library themselves.
 *
 *   keel-net [--root DIR] [--conf FILE] [--resolv FILE] VERB ...
 *   create NAME [--subnet CIDR] [--gateway IP] [--internal] [--label K=V]...
 *   ls | inspect NAME... | rm NAME...
 *   attach NETWORK --id ID --netns PATH [--name N] [--hostname H] [--ifname IF]
 *          [-p SPEC]... [--dns IP]... [--dns-search D]... [--add-host H:IP]... [--alias A]...
 *   detach ID | reclaim
 *
 * Errors: one line on stderr, exit 125 (as podman's engine errors). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/log.h"
#include "network/network.h"

#define MAXV 32

static struct keel_net_env env;

static int
fail(const struct keel_error *err)
{
  keel_log(KEEL_LOG_ERROR, "%s", err->msg);
  return 125;
}

static int
usage(const char *what)
{
  keel_log(KEEL_LOG_ERROR, "%s", what);
  return 125;
}

static int
push(const char **v, int *n, const char *s)
{
  if (*n >= MAXV - 1)
    return -1;
  v[(*n)++] = s;
  v[*n] = NULL;
  return 0;
}

static int
cmd_create(int argc, char **argv)
{
  static const struct option opts[] = { { "subnet", required_argument, 0, 's' },
                                        { "gateway", required_argument, 0, 'g' },
                                        { "internal", no_argument, 0, 'i' },
                                        { "label", required_argument, 0, 'l' },
                                        { 0, 0, 0, 0 } };
  struct keel_network_create_opts o = { 0 };
  const char *labels[MAXV] = { 0 };
  int nl = 0, c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
    switch (c)
      {
      case 's':
        o.subnet = optarg;
        break;
      case 'g':
        o.gateway = optarg;
        break;
      case 'i':
        o.internal = true;
        break;
      case 'l':
        if (push(labels, &nl, optarg) < 0)
          return usage("too many labels");
        break;
      default:
        return usage("create: bad flag");
      }
  if (optind != argc - 1)
    return usage("create: expected one NAME");
  o.name = argv[optind];
  o.labels = labels;
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_network *net = NULL;
  if (keel_network_create(&env, &o, &net, &err) < 0)
    return fail(&err);
  printf("%s\n", keel_network_name(net));
  keel_network_free(net);
  return 0;
}

static int
cmd_ls(void)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_network **v = NULL;
  size_t n = 0;
  if (keel_network_list(&env, &v, &n, &err) < 0)
    return fail(&err);
  printf("%-20s %-8s %-8s %-18s %s\n", "NAME", "DRIVER", "BRIDGE", "SUBNET", "GATEWAY");
  for (size_t i = 0; i < n; i++)
    printf("%-20s %-8s %-8s %-18s %s\n", keel_network_name(v[i]), "bridge",
           keel_network_bridge(v[i]), keel_network_subnet(v[i]), keel_network_gateway(v[i]));
  keel_network_list_free(v, n);
  return 0;
}

static int
cmd_inspect(int argc, char **argv)
{
  _cleanup_json_ json_object *all = json_object_new_array();
  for (int i = 1; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct keel_network *net = NULL;
      json_object *o = NULL;
      if (keel_network_load(&env, argv[i], &net, &err) < 0
          || keel_network_inspect(&env, net, &o, &err) < 0)
        {
          keel_network_free(net);
          return fail(&err);
        }
      keel_network_free(net);
      json_object_array_add(all, o);
    }
  printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY));
  return 0;
}

static int
cmd_rm(int argc, char **argv)
{
  int rc = 0;
  for (int i = 1; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_network_remove(&env, argv[i], &err) < 0)
        rc = fail(&err);
      else
        printf("%s\n", argv[i]);
    }
  return rc;
}

struct attach_args
{
  const char *dns[MAXV], *search[MAXV], *hosts[MAXV], *aliases[MAXV];
  int ndns, nsearch, nhosts, naliases;
  struct keel_net_port ports[MAXV];
  size_t nports;
};

static int
attach_flag(int c, struct keel_network_attach_opts *o, struct attach_args *a)
{
  struct keel_error err = KEEL_ERROR_INIT;
  switch (c)
    {
    case 'I':
      o->container_id = optarg;
      return 0;
    case 'n':
      o->netns_path = optarg;
      return 0;
    case 'N':
      o->name = optarg;
      return 0;
    case 'H':
      o->hostname = optarg;
      return 0;
    case 'f':
      o->ifname = optarg;
      return 0;
    case 'd':
      return push(a->dns, &a->ndns, optarg);
    case 's':
      return push(a->search, &a->nsearch, optarg);
    case 'a':
      return push(a->hosts, &a->nhosts, optarg);
    case 'A':
      return push(a->aliases, &a->naliases, optarg);
    case 'p':
      if (a->nports >= MAXV)
        return -1;
      if (keel_net_port_parse(optarg, &a->ports[a->nports], &err) < 0)
        {
          fail(&err);
          return -1;
        }
      a->nports++;
      return 0;
    default:
      return -1;
    }
}

static int
cmd_attach(int argc, char **argv)
{
  static const struct option opts[] = { { "id", required_argument, 0, 'I' },
                                        { "netns", required_argument, 0, 'n' },
                                        { "name", required_argument, 0, 'N' },
                                        { "hostname", required_argument, 0, 'H' },
                                        { "ifname", required_argument, 0, 'f' },
                                        { "publish", required_argument, 0, 'p' },
                                        { "dns", required_argument, 0, 'd' },
                                        { "dns-search", required_argument, 0, 's' },
                                        { "add-host", required_argument, 0, 'a' },
                                        { "alias", required_argument, 0, 'A' },
                                        { 0, 0, 0, 0 } };
  struct keel_network_attach_opts o = KEEL_NETWORK_ATTACH_OPTS_INIT;
  struct attach_args a = { 0 };
  int c;
  while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1)
    if (attach_flag(c, &o, &a) < 0)
      return usage("attach: bad flag");
  if (optind != argc - 1)
    return usage("attach: expected one NETWORK");
  o.dns = a.ndns ? a.dns : NULL;
  o.dns_search = a.nsearch ? a.search : NULL;
  o.add_hosts = a.hosts;
  o.aliases = a.aliases;
  o.ports = a.ports;
  o.n_ports = a.nports;
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_net_attachment at;
  if (keel_network_attach(&env, argv[optind], &o, &at, &err) < 0)
    return fail(&err);
  printf("{\"network\":\"%s\",\"ifname\":\"%s\",\"ip\":\"%s\",\"prefix\":%d,\"gateway\":\"%s\","
         "\"mac\":\"%s\",\"hosts\":\"%s\",\"resolv\":\"%s\"}\n",
         at.network, at.ifname, at.ip, at.prefix, at.gateway, at.mac, at.hosts_path,
         at.resolv_path);
  return 0;
}

int
main(int argc, char **argv)
{
  keel_log_init("keel-net");
  static const struct option opts[] = { { "root", required_argument, 0, 'r' },
                                        { "conf", required_argument, 0, 'c' },
                                        { "resolv", required_argument, 0, 'R' },
                                        { 0, 0, 0, 0 } };
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        env.root = optarg;
        break;
      case 'c':
        env.conf_path = optarg;
        break;
      case 'R':
        env.host_resolv = optarg;
        break;
      default:
        return usage("bad global flag");
      }
  if (optind >= argc)
    return usage("expected a verb: create, ls, inspect, rm, attach, detach, reclaim");
  const char *verb = argv[optind];
  argc -= optind;
  argv += optind;
  optind = 0; /* glibc: start over on the new argv */
  struct keel_error err = KEEL_ERROR_INIT;
  if (!strcmp(verb, "create"))
    return cmd_create(argc, argv);
  if (!strcmp(verb, "ls"))
    return cmd_ls();
  if (!strcmp(verb, "inspect"))
    return cmd_inspect(argc, argv);
  if (!strcmp(verb, "rm"))
    return cmd_rm(argc, argv);
  if (!strcmp(verb, "attach"))
    return cmd_attach(argc, argv);
  if (!strcmp(verb, "detach") && argc == 2)
    return keel_network_detach(&env, argv[1], &err) < 0 ? fail(&err) : 0;
  if (!strcmp(verb, "reclaim"))
    {
      int n = keel_network_reclaim(&env, &err);
      if (n < 0)
        return fail(&err);
      printf("%d\n", n);
      return 0;
    }
  return usage("unknown verb or arguments");
}
