/* keel inspect (containers, and images as a fallback): podman's shape of
 * the record, the monitor's state and the network settings, with a small
 * --format that walks {{.A.B}} paths. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static void
copy(json_object *to, const char *key, json_object *from, const char *path)
{
  json_object *v = ctr_get(from, path);
  if (v)
    json_object_object_add(to, key, json_object_get(v));
}

static json_object *
state_json(struct ctr *c)
{
  json_object *s = json_object_new_object();
  json_object_object_add(s, "Status", json_object_new_string(c->status));
  json_object_object_add(s, "Running", json_object_new_boolean(!strcmp(c->status, "running")));
  json_object_object_add(s, "Paused", json_object_new_boolean(!strcmp(c->status, "paused")));
  json_object_object_add(s, "Dead", json_object_new_boolean(!strcmp(c->status, "unknown")));
  json_object *pid = ctr_get(c->state, "pid");
  bool live = !strcmp(c->status, "running") || !strcmp(c->status, "paused");
  json_object_object_add(s, "Pid", json_object_new_int(live && pid ? json_object_get_int(pid) : 0));
  json_object_object_add(
      s, "ConmonPid",
      json_object_new_int(c->alive ? json_object_get_int(ctr_get(c->state, "monitorPid")) : 0));
  json_object_object_add(s, "ExitCode", json_object_new_int(c->exit_code));
  copy(s, "StartedAt", c->state, "startedAt");
  copy(s, "FinishedAt", c->state, "finishedAt");
  copy(s, "Error", c->state, "error");
  char path[4096];
  keel_ctr_path(cli_root, c->id, "userdata/health.json", path, sizeof(path));
  json_object *h = NULL;
  if (keel_json_parse_file(path, &h, NULL) == 0)
    {
      json_object *health = json_object_new_object();
      copy(health, "Status", h, "status");
      copy(health, "FailingStreak", h, "failingStreak");
      copy(health, "Log", h, "log");
      json_object_object_add(s, "Health", health);
      json_object_put(h);
    }
  return s;
}

static json_object *
inspect_json(struct ctr *c)
{
  json_object *o = json_object_new_object(), *args = json_object_new_array();
  json_object_object_add(o, "Id", json_object_new_string(c->id));
  copy(o, "Created", c->cfg, "Created");
  const char *keys[] = { "Config.Entrypoint", "Config.Cmd" };
  for (size_t k = 0; k < 2; k++)
    {
      json_object *a = ctr_get(c->cfg, keys[k]);
      for (size_t i = 0; a && i < json_object_array_length(a); i++)
        json_object_array_add(args, json_object_get(json_object_array_get_idx(a, i)));
    }
  json_object *path = json_object_array_length(args) ? json_object_array_get_idx(args, 0) : NULL;
  json_object_object_add(o, "Path", path ? json_object_get(path) : json_object_new_string(""));
  if (path)
    json_object_array_del_idx(args, 0, 1);
  json_object_object_add(o, "Args", args);
  json_object_object_add(o, "State", state_json(c));
  copy(o, "Image", c->cfg, "Image");
  copy(o, "ImageName", c->cfg, "ImageName");
  copy(o, "Name", c->cfg, "Name");
  json_object *rc = ctr_get(c->state, "restartCount");
  json_object_object_add(o, "RestartCount", json_object_new_int(rc ? json_object_get_int(rc) : 0));
  char p[4096];
  keel_ctr_path(cli_root, c->id, "container.log", p, sizeof(p));
  json_object_object_add(o, "LogPath", json_object_new_string(p));
  keel_ctr_path(cli_root, c->id, "rootfs", p, sizeof(p));
  json_object *gd = json_object_new_object(), *data = json_object_new_object();
  json_object_object_add(gd, "Name", json_object_new_string("overlay"));
  json_object_object_add(data, "MergedDir", json_object_new_string(p));
  keel_ctr_path(cli_root, c->id, "upper", p, sizeof(p));
  json_object_object_add(data, "UpperDir", json_object_new_string(p));
  json_object_object_add(gd, "Data", data);
  json_object_object_add(o, "GraphDriver", gd);
  copy(o, "Mounts", c->cfg, "HostConfig.Mounts");
  copy(o, "Config", c->cfg, "Config");
  copy(o, "HostConfig", c->cfg, "HostConfig");
  json_object *ns = ctr_get(c->cfg, "NetworkSettings");
  json_object_object_add(o, "NetworkSettings", ns ? json_object_get(ns) : json_object_new_object());
  return o;
}

/* {{.A.B}} → the value at that path (strings bare, the rest as JSON);
 * {{json .A}} → JSON. */
void
cli_format_json(json_object *o, const char *fmt)
{
  for (const char *p = fmt; *p;)
    {
      if (strncmp(p, "{{", 2))
        {
          if (*p == '\\' && p[1] == 'n')
            putchar('\n'), p += 2;
          else
            putchar(*p++);
          continue;
        }
      const char *end = strstr(p, "}}");
      if (!end)
        break;
      char expr[256];
      snprintf(expr, sizeof(expr), "%.*s", (int)(end - p - 2), p + 2);
      char *e = expr;
      while (*e == ' ')
        e++;
      bool json = !strncmp(e, "json ", 5);
      if (json)
        e += 5;
      while (*e == ' ' || *e == '.')
        e++;
      e[strcspn(e, " ")] = '\0';
      json_object *v = *e ? ctr_get(o, e) : o;
      if (!json && v && json_object_is_type(v, json_type_string))
        fputs(json_object_get_string(v), stdout);
      else if (v || json)
        fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN
                                                    | JSON_C_TO_STRING_NOSLASHESCAPE),
              stdout);
      else
        fputs("<no value>", stdout);
      p = end + 2;
    }
  putchar('\n');
}

int
cmd_inspect(int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "type", required_argument, NULL, 't' },
                                        { NULL, 0, NULL, 0 } };
  const char *fmt = NULL;
  int c, rc = 0;
  while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1)
    if (c == 'f')
      fmt = optarg;
    else if (c != 't')
      return cli_usage("inspect", "usage: keel inspect [--format F] CONTAINER...");
  if (optind >= argc)
    return cli_usage("inspect", "requires at least 1 arg(s), only received 0");
  _cleanup_json_ json_object *arr = json_object_new_array();
  for (int i = optind; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct ctr ct;
      if (ctr_find(argv[i], &ct, &err) < 0)
        {
          keel_error_set(&err, -ENOENT, "no such object: \"%s\"", argv[i]);
          rc = cli_fail(&err);
          continue;
        }
      json_object *o = inspect_json(&ct);
      if (fmt)
        {
          cli_format_json(o, fmt);
          json_object_put(o);
        }
      else
        json_object_array_add(arr, o);
      ctr_done(&ct);
    }
  if (!fmt)
    printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY
                                                           | JSON_C_TO_STRING_NOSLASHESCAPE));
  return rc;
}
