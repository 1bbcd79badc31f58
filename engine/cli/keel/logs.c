/* keel logs: the json-file log keel-monitor writes (container.log and its
 * rotated .1), with --tail, --since, -t and -f. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

struct logs_opts
{
  bool timestamps, follow;
  long tail;      /* -1: all */
  char since[64]; /* RFC 3339 UTC, compared as strings */
};

static void
print_line(const char *line, const struct logs_opts *o)
{
  _cleanup_json_ json_object *rec = NULL;
  if (keel_json_parse(line, strlen(line), "log", &rec, NULL) < 0)
    return;
  const char *t = ctr_str(rec, "time"), *s = ctr_str(rec, "stream"), *l = ctr_str(rec, "log");
  if (!l || (o->since[0] && t && strcmp(t, o->since) < 0))
    return;
  FILE *f = s && !strcmp(s, "stderr") ? stderr : stdout;
  if (o->timestamps)
    fprintf(f, "%s ", t ? t : "");
  fputs(l, f);
  fflush(f);
}

/* Print the last o->tail lines (or all) of the text; returns how much of
 * it was whole lines (a partial last line waits for -f). */
static size_t
print_text(const char *buf, size_t len, long tail, const struct logs_opts *o)
{
  size_t end = len;
  while (end > 0 && buf[end - 1] != '\n')
    end--;
  size_t start = 0;
  if (tail >= 0)
    {
      start = end;
      for (long k = 0; start > 0 && k < tail; k++)
        {
          start--;
          while (start > 0 && buf[start - 1] != '\n')
            start--;
        }
    }
  static char line[128 * 1024];
  for (size_t p = start; p < end;)
    {
      const char *nl = memchr(buf + p, '\n', end - p);
      size_t n = (size_t)(nl - (buf + p));
      snprintf(line, sizeof(line), "%.*s", (int)n, buf + p);
      print_line(line, o);
      p += n + 1;
    }
  return end;
}

/* --since: RFC 3339, or a duration back from now (10s, 5m, 2h) */
static int
parse_since(const char *s, char *out, size_t size)
{
  char *end;
  double v = strtod(s, &end);
  if (end != s && (!strcmp(end, "s") || !strcmp(end, "m") || !strcmp(end, "h")))
    {
      double mult = *end == 's' ? 1 : *end == 'm' ? 60 : 3600;
      time_t t = time(NULL) - (time_t)(v * mult);
      struct tm tm;
      gmtime_r(&t, &tm);
      strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
      return 0;
    }
  struct tm tm = { 0 };
  if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) && !strptime(s, "%Y-%m-%d", &tm))
    return -EINVAL;
  strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
  return 0;
}

static int
logs_one(struct ctr *c, struct logs_opts *o)
{
  char path[4096], old[4200];
  keel_ctr_path(cli_root, c->id, "container.log", path, sizeof(path));
  snprintf(old, sizeof(old), "%s.1", path);
  _cleanup_free_ char *a = NULL, *b = NULL;
  size_t alen = 0, blen = 0;
  if (keel_read_file(AT_FDCWD, old, 1 << 30, &a, &alen) < 0)
    alen = 0;
  if (keel_read_file(AT_FDCWD, path, 1 << 30, &b, &blen) < 0)
    blen = 0;
  _cleanup_free_ char *all = malloc(alen + blen + 1);
  if (!all)
    return -ENOMEM;
  if (alen)
    memcpy(all, a, alen);
  if (blen)
    memcpy(all + alen, b, blen);
  size_t done = print_text(all, alen + blen, o->tail, o);
  off_t pos = (off_t)(done > alen ? done - alen : 0);
  if (!o->follow)
    return 0;
  /* follow the current file until the monitor is gone */
  for (;;)
    {
      bool alive = c->alive;
      _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          char buf[65536];
          static char pend[256 * 1024];
          size_t plen = 0;
          ssize_t n;
          lseek(fd, pos, SEEK_SET);
          while ((n = read(fd, buf, sizeof(buf))) > 0 && plen + (size_t)n < sizeof(pend))
            {
              memcpy(pend + plen, buf, (size_t)n);
              plen += (size_t)n;
            }
          pos += (off_t)print_text(pend, plen, -1, o);
        }
      if (!alive)
        return 0;
      usleep(100 * 1000);
      json_object_put(c->state);
      c->state = NULL;
      struct ctr fresh;
      if (ctr_load(c->id, &fresh, NULL) < 0)
        return 0;
      c->alive = fresh.alive;
      ctr_done(&fresh);
    }
}

int
cmd_logs(int argc, char **argv)
{
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },
    { "timestamps", no_argument, NULL, 't' },
    { "tail", required_argument, NULL, 'T' },
    { "since", required_argument, NULL, 's' },
    { NULL, 0, NULL, 0 },
  };
  struct logs_opts o = { .tail = -1 };
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, "+ft", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        o.follow = true;
        break;
      case 't':
        o.timestamps = true;
        break;
      case 'T':
        o.tail = strtol(optarg, &end, 10);
        if (*end || !*optarg || o.tail < -1)
          return cli_usage("logs", "invalid --tail \"%s\"", optarg);
        break;
      case 's':
        if (parse_since(optarg, o.since, sizeof(o.since)) < 0)
          return cli_usage("logs", "invalid --since \"%s\"", optarg);
        break;
      default:
        return cli_usage("logs", "usage: keel logs [-f] [-t] [--tail N] [--since T] CONTAINER");
      }
  if (optind >= argc)
    return cli_usage("logs", "requires at least 1 arg(s), only received 0");
  int rc = 0;
  for (int i = optind; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct ctr ct;
      if (ctr_find(argv[i], &ct, &err) < 0)
        {
          rc = cli_fail(&err);
          continue;
        }
      logs_one(&ct, &o);
      ctr_done(&ct);
    }
  return rc;
}
