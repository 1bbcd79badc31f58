/* keel volume create / ls / inspect / rm / prune. */
#include <stdio.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static int
vol_create(int argc, char **argv)
{
  static const struct option opts[] = { { "label", required_argument, 0, 'l' },
                                        { "driver", required_argument, 0, 'd' },
                                        { 0, 0, 0, 0 } };
  const char *labels[33] = { 0 };
  int nl = 0, c;
  while ((c = getopt_long(argc, argv, "+l:d:", opts, NULL)) != -1)
    if (c == 'l' && nl < 32)
      labels[nl++] = optarg;
    else if (c == 'd' && !strcmp(optarg, "local"))
      ;
    else
      return cli_usage("volume create", "usage: keel volume create [--label K=V] [NAME]");
  if (argc - optind > 1)
    return cli_usage("volume create", "too many arguments");
  struct keel_error err = KEEL_ERROR_INIT;
  char name[KEEL_VOLUME_NAME_MAX + 1];
  if (keel_volume_create(cli_root, optind < argc ? argv[optind] : NULL, labels, false, name, &err)
      < 0)
    return cli_fail(&err);
  printf("%s\n", name);
  return 0;
}

static int
vol_ls(int argc, char **argv)
{
  bool quiet = argc > 1 && (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet"));
  _cleanup_strv_ char **names = NULL;
  size_t n;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_volume_list(cli_root, &names, &n, &err) < 0)
    return cli_fail(&err);
  if (!quiet)
    printf("%-10s  %s\n", "DRIVER", "VOLUME NAME");
  for (size_t i = 0; i < n; i++)
    if (quiet)
      printf("%s\n", names[i]);
    else
      printf("%-10s  %s\n", "local", names[i]);
  return 0;
}

static int
vol_inspect(int argc, char **argv)
{
  if (argc < 2)
    return cli_usage("volume inspect", "requires at least 1 arg");
  _cleanup_json_ json_object *all = json_object_new_array();
  int rc = 0;
  for (int i = 1; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      json_object *m = NULL;
      if (keel_volume_load(cli_root, argv[i], &m, &err) < 0)
        rc = cli_fail(&err);
      else
        json_object_array_add(all, m);
    }
  printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY
                                                         | JSON_C_TO_STRING_NOSLASHESCAPE));
  return rc;
}

static int
vol_rm(int argc, char **argv)
{
  bool force = false;
  int i = 1, rc = 0;
  if (argc > 1 && (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--force")))
    force = true, i++;
  if (i >= argc)
    return cli_usage("volume rm", "requires at least 1 arg");
  for (; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_volume_remove(cli_root, argv[i], force, &err) < 0)
        rc = cli_fail(&err);
      else
        printf("%s\n", argv[i]);
    }
  return rc;
}

static int
vol_prune(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  _cleanup_strv_ char **names = NULL;
  size_t n;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_volume_list(cli_root, &names, &n, &err) < 0)
    return cli_fail(&err);
  for (size_t i = 0; i < n; i++)
    if (keel_volume_remove(cli_root, names[i], false, NULL) == 0)
      printf("%s\n", names[i]);
  return 0;
}

int
cmd_volume(int argc, char **argv)
{
  static const struct cli_command table[] = {
    { "create", vol_create, NULL },   { "ls", vol_ls, NULL }, { "list", vol_ls, NULL },
    { "inspect", vol_inspect, NULL }, { "rm", vol_rm, NULL }, { "remove", vol_rm, NULL },
    { "prune", vol_prune, NULL },
  };
  return cli_dispatch("volume", table, ARRAY_SIZE(table), argc, argv);
}
