/* keel ps: the records with the monitors' truth (a killed CLI changes
 * nothing; a killed monitor shows as such). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"

static void
human_for(const char *since, char *buf, size_t size)
{
  struct tm tm = { 0 };
  if (!since || !strptime(since, "%Y-%m-%dT%H:%M:%S", &tm))
    {
      snprintf(buf, size, "?");
      return;
    }
  long d = (long)difftime(time(NULL), timegm(&tm));
  if (d < 60)
    snprintf(buf, size, "%ld second%s", d < 1 ? 1 : d, d == 1 ? "" : "s");
  else if (d < 3600)
    snprintf(buf, size, "%ld minute%s", d / 60, d / 60 == 1 ? "" : "s");
  else if (d < 86400)
    snprintf(buf, size, "%ld hour%s", d / 3600, d / 3600 == 1 ? "" : "s");
  else
    snprintf(buf, size, "%ld days", d / 86400);
}

void
ctr_status_line(struct ctr *c, char *buf, size_t size)
{
  char t[64];
  if (!strcmp(c->status, "running") || !strcmp(c->status, "paused"))
    {
      human_for(ctr_str(c->state, "startedAt"), t, sizeof(t));
      snprintf(buf, size, "Up %s%s", t, !strcmp(c->status, "paused") ? " (Paused)" : "");
    }
  else if (!strcmp(c->status, "exited") || !strcmp(c->status, "stopped"))
    {
      human_for(ctr_str(c->state, "finishedAt"), t, sizeof(t));
      snprintf(buf, size, "Exited (%d) %s ago", c->exit_code, t);
    }
  else if (!strcmp(c->status, "unknown"))
    snprintf(buf, size, "Unknown (its monitor is gone)");
  else if (!strcmp(c->status, "created"))
    snprintf(buf, size, "Created");
  else
    snprintf(buf, size, "%c%s", c->status[0] - 32, c->status + 1);
}

static void
command_of(struct ctr *c, char *buf, size_t size)
{
  size_t off = 0;
  buf[0] = '\0';
  const char *keys[] = { "Config.Entrypoint", "Config.Cmd" };
  for (size_t k = 0; k < 2; k++)
    {
      json_object *a = ctr_get(c->cfg, keys[k]);
      for (size_t i = 0; a && i < json_object_array_length(a) && off < size - 1; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? " " : "",
                                json_object_get_string(json_object_array_get_idx(a, i)));
    }
}

static void
ports_of(struct ctr *c, char *buf, size_t size)
{
  json_object *p = ctr_get(c->cfg, "HostConfig.PortBindings");
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; p && i < json_object_array_length(p) && off < size - 1; i++)
    off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
                            json_object_get_string(json_object_array_get_idx(p, i)));
}

static bool
match_filter(struct ctr *c, char **filters, int n)
{
  for (int i = 0; i < n; i++)
    {
      const char *f = filters[i], *eq = strchr(f, '=');
      if (!eq)
        return false;
      size_t k = (size_t)(eq - f);
      const char *v = eq + 1;
      if (!strncmp(f, "name", k) && k == 4 && !strstr(ctr_str(c->cfg, "Name"), v))
        return false;
      if (!strncmp(f, "id", k) && k == 2 && strncmp(c->id, v, strlen(v)))
        return false;
      if (!strncmp(f, "status", k) && k == 6 && strcmp(c->status, v))
        return false;
      if (!strncmp(f, "label", k) && k == 5)
        {
          char key[512];
          const char *veq = strchr(v, '=');
          snprintf(key, sizeof(key), "%.*s", veq ? (int)(veq - v) : (int)strlen(v), v);
          json_object *labels = ctr_get(c->cfg, "Config.Labels"), *lv;
          if (!labels || !json_object_object_get_ex(labels, key, &lv)
              || (veq && strcmp(json_object_get_string(lv), veq + 1)))
            return false;
        }
    }
  return true;
}

struct ps_row
{
  struct ctr *c;
  char status[128], cmd[1024], ports[1024];
};

static const char *
ps_value(const char *k, void *data, char *buf, size_t size)
{
  struct ps_row *row = data;
  struct ctr *c = row->c;
  if (!strcmp(k, "ID"))
    {
      snprintf(buf, size, "%.12s", c->id);
      return buf;
    }
  return !strcmp(k, "Names")       ? ctr_str(c->cfg, "Name")
         : !strcmp(k, "Image")     ? ctr_str(c->cfg, "ImageName")
         : !strcmp(k, "Status")    ? row->status
         : !strcmp(k, "State")     ? c->status
         : !strcmp(k, "Command")   ? row->cmd
         : !strcmp(k, "Ports")     ? row->ports
         : !strcmp(k, "CreatedAt") ? ctr_str(c->cfg, "Created")
                                   : "";
}

/* {{.ID}} {{.Names}} {{.Image}} {{.Status}} {{.State}} {{.Command}} {{.Ports}} {{.Labels}} */
static void
print_format(struct ctr *c, const char *fmt)
{
  struct ps_row row = { .c = c };
  ctr_status_line(c, row.status, sizeof(row.status));
  command_of(c, row.cmd, sizeof(row.cmd));
  ports_of(c, row.ports, sizeof(row.ports));
  cli_template(fmt, ps_value, &row);
}

static json_object *
ps_json(struct ctr *c)
{
  json_object *o = json_object_new_object();
  char status[128];
  ctr_status_line(c, status, sizeof(status));
  json_object_object_add(o, "Id", json_object_new_string(c->id));
  json_object *names = json_object_new_array();
  json_object_array_add(names, json_object_new_string(ctr_str(c->cfg, "Name")));
  json_object_object_add(o, "Names", names);
  json_object_object_add(o, "Image", json_object_new_string(ctr_str(c->cfg, "ImageName")));
  json_object_object_add(o, "ImageID", json_object_new_string(ctr_str(c->cfg, "Image")));
  json_object_object_add(o, "State", json_object_new_string(c->status));
  json_object_object_add(o, "Status", json_object_new_string(status));
  json_object_object_add(o, "ExitCode", json_object_new_int(c->exit_code));
  json_object_object_add(o, "Created", json_object_new_string(ctr_str(c->cfg, "Created")));
  json_object *pid = ctr_get(c->state, "pid");
  json_object_object_add(o, "Pid", json_object_new_int(pid ? json_object_get_int(pid) : 0));
  json_object *l = ctr_get(c->cfg, "Config.Labels");
  json_object_object_add(o, "Labels", l ? json_object_get(l) : json_object_new_object());
  return o;
}

int
cmd_ps(int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },          { "quiet", no_argument, NULL, 'q' },
    { "format", required_argument, NULL, 'f' }, { "filter", required_argument, NULL, 'F' },
    { "no-trunc", no_argument, NULL, 'n' },     { "latest", no_argument, NULL, 'l' },
    { "external", no_argument, NULL, 'x' },     { NULL, 0, NULL, 0 },
  };
  bool all = false, quiet = false, latest = false, external = false;
  const char *fmt = NULL;
  char *filters[32];
  int nf = 0, c;
  while ((c = getopt_long(argc, argv, "+aqf:l", opts, NULL)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      case 'q':
        quiet = true;
        break;
      case 'f':
        fmt = optarg;
        break;
      case 'l':
        latest = true;
        break;
      case 'n':
        break;
      case 'x':
        external = true;
        break;
      case 'F':
        if (nf == 32 || !strchr(optarg, '='))
          return cli_usage("ps", "invalid filter \"%s\"", optarg);
        filters[nf++] = optarg;
        break;
      default:
        return cli_usage("ps", "usage: keel ps [-a] [-q] [--external] [--format F] [--filter K=V]");
      }
  ctr_sweep();
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_ctr_list(cli_root, &ids, &n, &err) < 0)
    return cli_fail(&err);
  bool json = fmt && !strcmp(fmt, "json");
  _cleanup_json_ json_object *arr = json_object_new_array();
  if (!quiet && !fmt)
    printf("%-12s  %-28s  %-20s  %-18s  %-28s  %-20s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
           "CREATED", "STATUS", "PORTS", "NAMES");
  for (size_t i = n; i-- > 0;) /* newest first */
    {
      struct ctr ct;
      if (ctr_load(ids[i], &ct, NULL) < 0)
        continue;
      /* working containers (keel from) only with --external, as podman */
      const char *kind = ctr_str(ct.cfg, "Kind");
      bool show = (all || !strcmp(ct.status, "running") || !strcmp(ct.status, "paused") || nf)
                  && match_filter(&ct, filters, nf) && (external || !kind);
      if (kind && show && !quiet && !fmt)
        ct.status = "storage";
      if (show && quiet)
        printf("%.12s\n", ct.id);
      else if (show && json)
        json_object_array_add(arr, ps_json(&ct));
      else if (show && fmt)
        print_format(&ct, fmt);
      else if (show)
        {
          char status[128], cmd[1024], ports[1024], created[64];
          ctr_status_line(&ct, status, sizeof(status));
          command_of(&ct, cmd, sizeof(cmd));
          ports_of(&ct, ports, sizeof(ports));
          cli_human_ago(ctr_str(ct.cfg, "Created"), created, sizeof(created));
          printf("%.12s  %-28s  %-20.20s  %-18s  %-28s  %-20s  %s\n", ct.id,
                 ctr_str(ct.cfg, "ImageName"), cmd, created, status, ports,
                 ctr_str(ct.cfg, "Name"));
        }
      ctr_done(&ct);
      if (show && latest)
        break;
    }
  if (json)
    printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY
                                                           | JSON_C_TO_STRING_NOSLASHESCAPE));
  return 0;
}
