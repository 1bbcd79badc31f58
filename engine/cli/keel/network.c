/* keel network create / ls / inspect / rm: thin wrappers over
 * engine/network. */
#include <stdio.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "network/network.h"

static int
net_create(int argc, char **argv)
{
  static const struct option opts[]
      = { { "subnet", required_argument, 0, 's' }, { "gateway", required_argument, 0, 'g' },
          { "internal", no_argument, 0, 'i' },     { "label", required_argument, 0, 'l' },
          { "driver", required_argument, 0, 'd' }, { 0, 0, 0, 0 } };
  struct keel_network_create_opts o = { 0 };
  const char *labels[33] = { 0 };
  int nl = 0, c;
  while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1)
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
        if (nl == 32)
          return cli_usage("network create", "too many labels");
        labels[nl++] = optarg;
        break;
      case 'd':
        if (strcmp(optarg, "bridge"))
          return cli_usage("network create", "unsupported driver \"%s\": only bridge", optarg);
        break;
      default:
        return cli_usage("network create", "usage: keel network create [--subnet CIDR] "
                                           "[--gateway IP] [--internal] [--label K=V] NAME");
      }
  if (optind != argc - 1)
    return cli_usage("network create", "requires exactly 1 arg (the name)");
  o.name = argv[optind];
  o.labels = labels;
  struct keel_net_env env;
  ctr_net_env(&env);
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_network *net = NULL;
  if (keel_network_create(&env, &o, &net, &err) < 0)
    return cli_fail(&err);
  printf("%s\n", keel_network_name(net));
  keel_network_free(net);
  return 0;
}

static int
net_ls(int argc, char **argv)
{
  bool quiet = argc > 1 && (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet"));
  struct keel_net_env env;
  ctr_net_env(&env);
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_network **v = NULL;
  size_t n = 0;
  if (keel_network_list(&env, &v, &n, &err) < 0)
    return cli_fail(&err);
  if (!quiet)
    printf("%-20s %-8s %-8s %-18s %s\n", "NAME", "DRIVER", "BRIDGE", "SUBNET", "GATEWAY");
  for (size_t i = 0; i < n; i++)
    if (quiet)
      printf("%s\n", keel_network_name(v[i]));
    else
      printf("%-20s %-8s %-8s %-18s %s\n", keel_network_name(v[i]), "bridge",
             keel_network_bridge(v[i]), keel_network_subnet(v[i]), keel_network_gateway(v[i]));
  keel_network_list_free(v, n);
  return 0;
}

static int
net_inspect(int argc, char **argv)
{
  if (argc < 2)
    return cli_usage("network inspect", "requires at least 1 arg");
  struct keel_net_env env;
  ctr_net_env(&env);
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
          return cli_fail(&err);
        }
      keel_network_free(net);
      json_object_array_add(all, o);
    }
  printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY
                                                         | JSON_C_TO_STRING_NOSLASHESCAPE));
  return 0;
}

static int
net_rm(int argc, char **argv)
{
  int rc = 0;
  struct keel_net_env env;
  ctr_net_env(&env);
  if (argc < 2)
    return cli_usage("network rm", "requires at least 1 arg");
  for (int i = 1; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_network_remove(&env, argv[i], &err) < 0)
        rc = cli_fail(&err);
      else
        printf("%s\n", argv[i]);
    }
  return rc;
}

int
cmd_network(int argc, char **argv)
{
  static const struct cli_command table[] = {
    { "create", net_create, NULL },   { "ls", net_ls, NULL }, { "list", net_ls, NULL },
    { "inspect", net_inspect, NULL }, { "rm", net_rm, NULL }, { "remove", net_rm, NULL },
  };
  return cli_dispatch("network", table, ARRAY_SIZE(table), argc, argv);
}
