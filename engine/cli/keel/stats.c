/* keel stats: CPU, memory and pids of running containers from their
 * cgroups, refreshed every second until interrupted (podman's default),
 * or once with --no-stream. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define NO_LIMIT (1LL << 60)

struct sample
{
  long long cpu_ns, mem, limit, pids;
  struct timespec at;
};

struct row
{
  struct ctr *c;
  bool no_trunc;
  double cpu;
  struct sample s;
};

/* /sys/fs/cgroup/<ctrl>/keel/<id>/<file> ("" ctrl: the v2 tree); with
 * key, the number after "key " in a flat-keyed file (cpu.stat) */
static long long
read_ll(const char *ctrl, const char *id, const char *file, const char *key)
{
  char path[512], buf[1024];
  snprintf(path, sizeof(path), "/sys/fs/cgroup/%s%skeel/%s/%s", ctrl, *ctrl ? "/" : "", id, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (fd >= 0)
    close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  const char *p = buf;
  if (key && !(p = strstr(buf, key)))
    return -1;
  if (key)
    p += strlen(key) + 1;
  return !strncmp(p, "max", 3) ? NO_LIMIT : strtoll(p, NULL, 10);
}

/* cgroup v1 (the dev machine) with the v2 names as a fallback */
static void
sample(const char *id, struct sample *s)
{
  clock_gettime(CLOCK_MONOTONIC, &s->at);
  s->cpu_ns = read_ll("cpuacct", id, "cpuacct.usage", NULL);
  s->mem = read_ll("memory", id, "memory.usage_in_bytes", NULL);
  s->limit = read_ll("memory", id, "memory.limit_in_bytes", NULL);
  s->pids = read_ll("pids", id, "pids.current", NULL);
  if (s->cpu_ns < 0 && (s->cpu_ns = read_ll("", id, "cpu.stat", "usage_usec")) >= 0)
    s->cpu_ns *= 1000;
  if (s->mem < 0)
    s->mem = read_ll("", id, "memory.current", NULL);
  if (s->limit < 0)
    s->limit = read_ll("", id, "memory.max", NULL);
  if (s->pids < 0)
    s->pids = read_ll("", id, "pids.current", NULL);
}

/* CPU % between two samples, as podman: of one CPU */
static double
cpu_percent(const struct sample *a, const struct sample *b)
{
  double dt = (double)(b->at.tv_sec - a->at.tv_sec) * 1e9 + (double)(b->at.tv_nsec - a->at.tv_nsec);
  if (a->cpu_ns < 0 || b->cpu_ns < a->cpu_ns || dt <= 0)
    return 0;
  return 100.0 * (double)(b->cpu_ns - a->cpu_ns) / dt;
}

static bool
has_limit(const struct sample *s)
{
  return s->limit > 0 && s->limit < NO_LIMIT;
}

static const char *
stat_value(const char *k, void *data, char *buf, size_t size)
{
  struct row *r = data;
  char used[32], limit[32];
  if (!strcmp(k, "ID"))
    snprintf(buf, size, "%.*s", r->no_trunc ? 64 : 12, r->c->id);
  else if (!strcmp(k, "Name"))
    snprintf(buf, size, "%s", ctr_str(r->c->cfg, "Name"));
  else if (!strcmp(k, "CPUPerc") || !strcmp(k, "CPU"))
    snprintf(buf, size, "%.2f%%", r->cpu);
  else if (!strcmp(k, "MemUsage"))
    {
      cli_human_size(r->s.mem > 0 ? (uint64_t)r->s.mem : 0, used, sizeof(used));
      cli_human_size(has_limit(&r->s) ? (uint64_t)r->s.limit : 0, limit, sizeof(limit));
      snprintf(buf, size, "%s / %s", used, has_limit(&r->s) ? limit : "-");
    }
  else if (!strcmp(k, "MemPerc"))
    snprintf(buf, size, "%.2f%%",
             has_limit(&r->s) && r->s.mem > 0 ? 100.0 * (double)r->s.mem / (double)r->s.limit : 0);
  else if (!strcmp(k, "PIDs") || !strcmp(k, "PIDS"))
    snprintf(buf, size, "%lld", r->s.pids < 0 ? 0 : r->s.pids);
  else
    return "";
  return buf;
}

static json_object *
stat_json(struct row *r)
{
  json_object *o = json_object_new_object();
  char buf[128];
  static const char *const keys[] = { "ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "PIDs" };
  for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
    json_object_object_add(o, keys[i],
                           json_object_new_string(stat_value(keys[i], r, buf, sizeof(buf))));
  json_object_object_add(o, "MemUsageBytes", json_object_new_int64(r->s.mem < 0 ? 0 : r->s.mem));
  return o;
}

#define DEFAULT_FORMAT                                                                             \
  "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.PIDs}}"

struct stats_opts
{
  bool no_stream, no_trunc, all;
  const char *format;
  char **names; /* NULL: every running container */
  size_t n_names;
};

static void
print_rows(struct row *rows, size_t n, const struct stats_opts *o)
{
  if (!strcmp(o->format, "json"))
    {
      _cleanup_json_ json_object *a = json_object_new_array();
      for (size_t i = 0; i < n; i++)
        json_object_array_add(a, stat_json(&rows[i]));
      puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY));
      return;
    }
  cli_template_header(o->format);
  for (size_t i = 0; i < n; i++)
    cli_template(o->format, stat_value, &rows[i]);
}

static void
print_default(struct row *rows, size_t n)
{
  printf("%-12s  %-20s  %-7s  %-22s  %-6s  %s\n", "ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
         "MEM %", "PIDS");
  for (size_t i = 0; i < n; i++)
    {
      char id[80], cpu[32], mem[80], memp[32], pids[32];
      stat_value("ID", &rows[i], id, sizeof(id));
      stat_value("CPUPerc", &rows[i], cpu, sizeof(cpu));
      stat_value("MemUsage", &rows[i], mem, sizeof(mem));
      stat_value("MemPerc", &rows[i], memp, sizeof(memp));
      stat_value("PIDs", &rows[i], pids, sizeof(pids));
      printf("%-12s  %-20s  %7s  %22s  %6s  %s\n", id, ctr_str(rows[i].c->cfg, "Name"), cpu, mem,
             memp, pids);
    }
}

/* The containers to show: the named ones (an unknown name is an error),
 * else every running one (every one with --all). */
static int
load_rows(const struct stats_opts *o, struct ctr **ret, size_t *ret_n, struct keel_error *err)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n = o->n_names;
  if (!o->names && keel_ctr_list(cli_root, &ids, &n, err) < 0)
    return err->code;
  struct ctr *v = calloc(n + 1, sizeof(*v));
  size_t k = 0;
  if (!v)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      int r = o->names ? ctr_find(o->names[i], &v[k], err) : ctr_load(ids[i], &v[k], err);
      if (r < 0 && o->names)
        {
          for (size_t j = 0; j < k; j++)
            ctr_done(&v[j]);
          free(v);
          return r;
        }
      bool live = r >= 0 && (!strcmp(v[k].status, "running") || !strcmp(v[k].status, "paused"));
      if (live || (r >= 0 && (o->names || o->all)))
        k++;
      else if (r >= 0)
        ctr_done(&v[k]);
    }
  *ret = v;
  *ret_n = k;
  return 0;
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
  interrupted = sig;
}

/* One refresh: sample, wait (100 ms the first time, a second after),
 * sample again, print. */
static int
refresh(const struct stats_opts *o, bool first, struct keel_error *err)
{
  struct ctr *cs = NULL;
  size_t n = 0;
  if (load_rows(o, &cs, &n, err) < 0)
    return err->code;
  struct row *rows = calloc(n + 1, sizeof(*rows));
  struct sample *before = calloc(n + 1, sizeof(*before));
  if (!rows || !before)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    sample(cs[i].id, &before[i]);
  usleep(first ? 100 * 1000 : 1000 * 1000);
  for (size_t i = 0; i < n; i++)
    {
      rows[i] = (struct row){ .c = &cs[i], .no_trunc = o->no_trunc };
      sample(cs[i].id, &rows[i].s);
      rows[i].cpu = cpu_percent(&before[i], &rows[i].s);
    }
  if (!o->no_stream && isatty(1))
    fputs("\033[2J\033[H", stdout); /* a screen of its own, as top */
  if (!o->format)
    print_default(rows, n);
  else
    print_rows(rows, n, o);
  fflush(stdout);
  for (size_t i = 0; i < n; i++)
    ctr_done(&cs[i]);
  free(cs);
  free(rows);
  free(before);
  return 0;
}

int
cmd_stats(int argc, char **argv)
{
  static const struct option opts[] = {
    { "no-stream", no_argument, NULL, 's' },
    { "no-trunc", no_argument, NULL, 't' },
    { "format", required_argument, NULL, 'f' },
    { "all", no_argument, NULL, 'a' },
    { NULL, 0, NULL, 0 },
  };
  struct stats_opts o = { 0 };
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1)
    if (c == 's')
      o.no_stream = true;
    else if (c == 't')
      o.no_trunc = true;
    else if (c == 'f')
      o.format = optarg;
    else if (c == 'a')
      o.all = true;
    else
      return cli_usage("stats", "usage: keel stats [-a] [--no-stream] [--no-trunc] [--format F] "
                                "[CONTAINER...]");
  if (optind < argc)
    {
      o.names = argv + optind;
      o.n_names = (size_t)(argc - optind);
    }
  struct sigaction sa = { .sa_handler = on_interrupt };
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  struct keel_error err = KEEL_ERROR_INIT;
  for (bool first = true; !interrupted; first = false)
    {
      if (refresh(&o, first, &err) < 0)
        return cli_fail(&err);
      if (o.no_stream)
        break;
    }
  return 0;
}
