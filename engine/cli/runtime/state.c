/* keel-runtime state / list / ps */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/runtime/cli.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static const struct option no_opts[] = { { NULL, 0, NULL, 0 } };

int
cmd_state(int argc, char **argv)
{
  const char *id;
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *st = NULL;
  if (getopt_long(argc, argv, "+", no_opts, NULL) != -1
      || cli_one_id("state", argc, argv, optind, &id))
    return 1;
  if (keel_container_state(&cli_rt, id, &st, &err) < 0)
    return cli_fail(&err);
  puts(
      json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  return 0;
}

static const char *
str(json_object *o, const char *k)
{
  json_object *v;
  return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

int
cmd_list(int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "quiet", no_argument, NULL, 'q' },
                                        { NULL, 0, NULL, 0 } };
  const char *format = "table";
  bool quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case 'q':
        quiet = true;
        break;
      default:
        return cli_usage("list", "usage: keel-runtime list [--format table|json] [--quiet]");
      }
  if (strcmp(format, "table") && strcmp(format, "json"))
    return cli_usage("list", "--format: expected table or json, not '%s'", format);
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *arr = NULL;
  if (keel_container_list(&cli_rt, &arr, &err) < 0)
    return cli_fail(&err);
  size_t n = json_object_array_length(arr);
  if (!strcmp(format, "json"))
    {
      puts(json_object_to_json_string_ext(arr,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      return 0;
    }
  if (!quiet)
    printf("%-24s %-8s %-10s %-50s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
           "OWNER");
  for (size_t i = 0; i < n; i++)
    {
      json_object *o = json_object_array_get_idx(arr, i);
      if (quiet)
        printf("%s\n", str(o, "id"));
      else
        printf("%-24s %-8s %-10s %-50s %-30s %s\n", str(o, "id"), str(o, "pid"), str(o, "status"),
               str(o, "bundle"), str(o, "created"), str(o, "owner"));
    }
  return 0;
}

int
cmd_ps(int argc, char **argv)
{
  static const struct option opts[]
      = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  const char *format = "table";
  int c;
  while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1)
    {
      if (c != 'f')
        return cli_usage("ps", "usage: keel-runtime ps [--format table|json] ID");
      format = optarg;
    }
  if (strcmp(format, "table") && strcmp(format, "json"))
    return cli_usage("ps", "--format: expected table or json, not '%s'", format);
  if (optind >= argc)
    return cli_usage("ps", "expects a container id");
  const char *id = argv[optind];
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (keel_container_pids(&cli_rt, id, &pids, &n, &err) < 0)
    return cli_fail(&err);
  if (!strcmp(format, "json"))
    {
      printf("[");
      for (size_t i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", (int)pids[i]);
      printf("]\n");
      return 0;
    }
  printf("PID\tCMD\n");
  for (size_t i = 0; i < n; i++)
    {
      char path[64], cmd[256] = "";
      snprintf(path, sizeof(path), "/proc/%d/comm", (int)pids[i]);
      FILE *f = fopen(path, "re");
      if (f)
        {
          if (fgets(cmd, sizeof(cmd), f))
            cmd[strcspn(cmd, "\n")] = '\0';
          fclose(f);
        }
      printf("%d\t%s\n", (int)pids[i], cmd);
    }
  return 0;
}
