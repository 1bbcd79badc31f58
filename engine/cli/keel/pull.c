/* keel pull */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "registry/auth.h"
#include "registry/pull.h"
#include "registry/reference.h"

#define MAX_BARS 64

/* Progress: one bar per layer redrawn in place on a terminal, plain lines
 * otherwise (logs, CI), nothing with --quiet. */
struct progress
{
  bool tty, quiet;
  unsigned drawn; /* bar lines on screen */
  unsigned n;
  struct
  {
    char digest[20];
    uint64_t done, total;
    const char *state;
  } bars[MAX_BARS];
};

static void
short_digest(const char *d, char out[20])
{
  const char *c = strchr(d, ':');
  snprintf(out, 20, "%.12s", c ? c + 1 : d);
}

static void
redraw(struct progress *p)
{
  if (p->drawn)
    fprintf(stderr, "\033[%uA", p->drawn);
  for (unsigned i = 0; i < p->n; i++)
    {
      char done[32], total[32], bar[31];
      cli_human_size(p->bars[i].done, done, sizeof(done));
      cli_human_size(p->bars[i].total, total, sizeof(total));
      unsigned fill = p->bars[i].total ? (unsigned)(30 * p->bars[i].done / p->bars[i].total) : 30;
      for (unsigned k = 0; k < 30; k++)
        bar[k] = k < fill ? '=' : k == fill ? '>' : ' ';
      bar[30] = '\0';
      fprintf(stderr, "\033[2KCopying blob %s [%s] %s / %s%s%s\n", p->bars[i].digest, bar, done,
              total, p->bars[i].state ? " " : "", p->bars[i].state ? p->bars[i].state : "");
    }
  p->drawn = p->n;
  fflush(stderr);
}

static unsigned
bar_of(struct progress *p, const struct keel_pull_event *ev)
{
  char d[20];
  short_digest(ev->digest, d);
  for (unsigned i = 0; i < p->n; i++)
    if (!strcmp(p->bars[i].digest, d))
      return i;
  if (p->n == MAX_BARS)
    return MAX_BARS - 1;
  strcpy(p->bars[p->n].digest, d);
  p->bars[p->n].total = ev->total;
  return p->n++;
}

static void
plain_line(const struct keel_pull_event *ev)
{
  char d[20];
  switch (ev->kind)
    {
    case KEEL_PULL_TRYING:
      fprintf(stderr, "Trying to pull %s...\n", ev->ref);
      break;
    case KEEL_PULL_LAYER_DONE:
      short_digest(ev->digest, d);
      fprintf(stderr, "Copying blob %s %s\n", d, ev->exists ? "skipped: already exists" : "done");
      break;
    case KEEL_PULL_LAYER_RETRY:
      short_digest(ev->digest, d);
      fprintf(stderr, "Retrying blob %s: %s\n", d, ev->message);
      break;
    case KEEL_PULL_WAITING:
      short_digest(ev->digest, d);
      fprintf(stderr, "Waiting for blob %s (another pull is fetching it)\n", d);
      break;
    case KEEL_PULL_COMMITTED:
      fprintf(stderr, "Writing manifest to image destination\n");
      break;
    default:
      break;
    }
}

static void
on_event(void *userdata, const struct keel_pull_event *ev)
{
  struct progress *p = userdata;
  if (p->quiet)
    return;
  if (!p->tty || ev->kind == KEEL_PULL_TRYING || ev->kind == KEEL_PULL_COMMITTED)
    {
      plain_line(ev);
      if (!p->tty)
        return;
    }
  if (!ev->digest || ev->kind == KEEL_PULL_RESOLVED || ev->kind == KEEL_PULL_COMMITTED)
    return;
  unsigned i = bar_of(p, ev);
  p->bars[i].done = ev->done;
  if (ev->kind == KEEL_PULL_LAYER_DONE)
    {
      p->bars[i].done = p->bars[i].total;
      p->bars[i].state = ev->exists ? "already exists" : "done";
    }
  else if (ev->kind == KEEL_PULL_LAYER_RETRY)
    p->bars[i].state = "retrying";
  else if (ev->kind == KEEL_PULL_WAITING)
    p->bars[i].state = "waiting for another pull";
  else
    p->bars[i].state = NULL;
  redraw(p);
}

struct pull_flags
{
  const char *platform, *arch, *variant, *os, *creds;
  bool quiet, tls_verify;
};

static int
apply_flags(const struct pull_flags *f, struct keel_pull_opts *o, struct keel_error *err)
{
  int r;
  if (f->platform && (r = keel_platform_parse(f->platform, &o->platform, err)) < 0)
    return r;
  if (!o->platform.os[0] && (f->arch || f->os || f->variant))
    keel_platform_host(&o->platform);
  if (f->os)
    snprintf(o->platform.os, sizeof(o->platform.os), "%s", f->os);
  if (f->arch)
    {
      snprintf(o->platform.arch, sizeof(o->platform.arch), "%s", f->arch);
      o->platform.variant[0] = '\0';
    }
  if (f->variant)
    snprintf(o->platform.variant, sizeof(o->platform.variant), "%s", f->variant);
  o->registry.insecure = !f->tls_verify;
  if ((r = cli_registry_creds(f->creds, &o->registry, err)) < 0)
    return r;
  cli_registry_env(&o->registry);
  return 0;
}

int
cmd_pull(int argc, char **argv)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' }, { "arch", required_argument, NULL, 'a' },
    { "variant", required_argument, NULL, 'V' },  { "os", required_argument, NULL, 'o' },
    { "quiet", no_argument, NULL, 'q' },          { "tls-verify", optional_argument, NULL, 't' },
    { "cert-dir", required_argument, NULL, 'c' }, { "creds", required_argument, NULL, 'C' },
    { "retry", required_argument, NULL, 'R' },    { "retry-delay", required_argument, NULL, 'D' },
    { "all-platforms", no_argument, NULL, 'A' },  { NULL, 0, NULL, 0 },
  };
  struct keel_pull_opts o = { .registry = KEEL_REGISTRY_OPTS_INIT };
  struct pull_flags f = { .tls_verify = true };
  int c;
  while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        f.platform = optarg;
        break;
      case 'a':
        f.arch = optarg;
        break;
      case 'V':
        f.variant = optarg;
        break;
      case 'o':
        f.os = optarg;
        break;
      case 'q':
        f.quiet = true;
        break;
      case 'A':
        o.all_platforms = true;
        break;
      case 'c':
        o.registry.cert_dir = optarg;
        break;
      case 'C':
        f.creds = optarg;
        break;
      case 'R':
        o.registry.retries = (unsigned)atoi(optarg);
        break;
      case 'D':
        o.registry.retry_delay_ms = (unsigned)atoi(optarg);
        break;
      case 't':
        if (cli_parse_bool(optarg, &f.tls_verify) < 0)
          return cli_usage("pull", "--tls-verify expects true or false");
        break;
      default:
        return cli_usage("pull", "usage: keel pull [--platform P] [--quiet] REF");
      }
  if (argc - optind != 1)
    return cli_usage("pull", "expects exactly one image reference");
  struct keel_error err = KEEL_ERROR_INIT;
  if (apply_flags(&f, &o, &err) < 0)
    return cli_fail(&err);
  o.conf = cli_registries_conf();
  struct progress prog = { .tty = isatty(STDERR_FILENO), .quiet = f.quiet };
  o.progress = on_event;
  o.progress_userdata = &prog;
  o.search = cli_search_registries();
  struct keel_store *s = NULL;
  char id[KEEL_DIGEST_MAX];
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = keel_pull(s, argv[optind], &o, id, &err);
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  printf("%s\n", keel_digest_hex(id));
  return 0;
}

/* keel pull as a step of another verb (run, build): its progress and id
 * line go to out_fd (-1: nowhere), never to our stdout. */
int
cli_pull_step(const char *ref, const char *platform, int out_fd, struct keel_error *err)
{
  char plat[300];
  char *argv[5] = { "pull", "-q" };
  int n = 2;
  if (platform)
    {
      snprintf(plat, sizeof(plat), "--platform=%s", platform);
      argv[n++] = plat;
    }
  argv[n++] = (char *)ref;
  argv[n] = NULL;
  fflush(stdout);
  int saved = dup(1);
  int to = out_fd >= 0 ? dup(out_fd) : open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved < 0 || to < 0 || dup2(to, 1) < 0)
    {
      int e = errno;
      if (saved >= 0)
        close(saved);
      if (to >= 0)
        close(to);
      return keel_error_set_errno(err, e, "cannot redirect stdout");
    }
  close(to);
  optind = 0;
  int r = cmd_pull(n, argv);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  if (r != 0)
    return keel_error_set(err, -ENOENT, "%s: image not known and could not be pulled", ref);
  return 0;
}
