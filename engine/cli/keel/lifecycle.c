/* keel stop, kill, rm, restart, wait, pause, unpause, rename, port and
 * container prune: each finds records and asks the monitor or the runtime. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "network/network.h"
#include "runtime/container.h"

enum
{
  EACH_PRINT = 1,          /* the name of each container done */
  EACH_IGNORE_MISSING = 2, /* a container that is not there is no error (rm -i) */
};

/* Run fn on every named container; 125 if any failed (1 when one was
 * simply not there, as podman). */
static int
each(int argc, char **argv, int (*fn)(struct ctr *, void *, struct keel_error *), void *data,
     int flags)
{
  int rc = 0;
  for (int i = optind; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct ctr c;
      int r = ctr_find(argv[i], &c, &err);
      if (r == -ENOENT && (flags & EACH_IGNORE_MISSING))
        continue;
      if (r >= 0)
        r = fn(&c, data, &err);
      if (r < 0)
        {
          cli_fail(&err);
          rc = rc ? rc : (r == -ENOENT ? 1 : EXIT_ENGINE);
        }
      else if (flags & EACH_PRINT)
        printf("%s\n", argv[i]);
      ctr_done(&c);
    }
  return rc;
}

static int
stop_timeout(struct ctr *c, int flag)
{
  const char *t = ctr_str(c->cfg, "Config.StopTimeout");
  return flag >= 0 ? flag : t ? atoi(t) : 10;
}

static int
do_stop(struct ctr *c, void *data, struct keel_error *err)
{
  return ctr_stop(c, stop_timeout(c, *(int *)data), err);
}

int
cmd_stop(int argc, char **argv)
{
  static const struct option opts[] = { { "time", required_argument, NULL, 't' },
                                        { "all", no_argument, NULL, 'a' },
                                        { NULL, 0, NULL, 0 } };
  int c, t = -1;
  char *end;
  while ((c = getopt_long(argc, argv, "+t:", opts, NULL)) != -1)
    if (c == 't' && (t = (int)strtol(optarg, &end, 10)) >= 0 && !*end)
      ;
    else
      return cli_usage("stop", "usage: keel stop [-t SECONDS] CONTAINER...");
  if (optind >= argc)
    return cli_usage("stop", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_stop, &t, EACH_PRINT);
}

static int
parse_sig(const char *s)
{
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end)
    return n > 0 && n < 65 ? (int)n : -1;
  if (!strncasecmp(s, "SIG", 3))
    s += 3;
  for (int i = 1; i < 32; i++)
    if (sigabbrev_np(i) && !strcasecmp(s, sigabbrev_np(i)))
      return i;
  return -1;
}

static int
do_kill(struct ctr *c, void *data, struct keel_error *err)
{
  if (strcmp(c->status, "running") && strcmp(c->status, "paused"))
    return keel_error_set(err, -EINVAL,
                          "can only kill running containers. %.12s is in state %s: container "
                          "state improper",
                          c->id, c->status);
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  return keel_container_kill(&rt, c->id, *(int *)data, false, err);
}

int
cmd_kill(int argc, char **argv)
{
  static const struct option opts[]
      = { { "signal", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
  int c, sig = SIGKILL;
  while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1)
    if (c != 's' || (sig = parse_sig(optarg)) < 0)
      return cli_usage(
          "kill", c == 's' ? "invalid signal \"%s\"" : "usage: keel kill [-s SIG] CONTAINER...",
          optarg);
  if (optind >= argc)
    return cli_usage("kill", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_kill, &sig, EACH_PRINT);
}

struct rm_opts
{
  bool force, volumes;
};

static int
do_rm(struct ctr *c, void *data, struct keel_error *err)
{
  struct rm_opts *o = data;
  return ctr_remove(c, o->force, o->volumes, err);
}

int
cmd_rm(int argc, char **argv)
{
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
                                        { "volumes", no_argument, NULL, 'v' },
                                        { "all", no_argument, NULL, 'a' },
                                        { "ignore", no_argument, NULL, 'i' },
                                        { NULL, 0, NULL, 0 } };
  struct rm_opts o = { 0 };
  bool all = false;
  int c, flags = EACH_PRINT;
  while ((c = getopt_long(argc, argv, "+fvai", opts, NULL)) != -1)
    if (c == 'f')
      o.force = true;
    else if (c == 'v')
      o.volumes = true;
    else if (c == 'a')
      all = true;
    else if (c == 'i')
      flags |= EACH_IGNORE_MISSING;
    else
      return cli_usage("rm", "usage: keel rm [-f] [-v] [-i] CONTAINER...");
  if (all)
    {
      _cleanup_strv_ char **ids = NULL;
      size_t n;
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_ctr_list(cli_root, &ids, &n, &err) < 0)
        return cli_fail(&err);
      optind = 0;
      return n ? each((int)n, ids, do_rm, &o, flags) : 0;
    }
  if (optind >= argc)
    return cli_usage("rm", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_rm, &o, flags);
}

static int
do_restart(struct ctr *c, void *data, struct keel_error *err)
{
  int r = ctr_stop(c, stop_timeout(c, *(int *)data), err);
  return r < 0 ? r : ctr_start(c, -1, err);
}

int
cmd_restart(int argc, char **argv)
{
  static const struct option opts[]
      = { { "time", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 } };
  int c, t = -1;
  while ((c = getopt_long(argc, argv, "+t:", opts, NULL)) != -1)
    if (c == 't')
      t = atoi(optarg);
    else
      return cli_usage("restart", "usage: keel restart [-t SECONDS] CONTAINER...");
  if (optind >= argc)
    return cli_usage("restart", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_restart, &t, EACH_PRINT);
}

static int
do_wait(struct ctr *c, void *data, struct keel_error *err)
{
  (void)data;
  (void)err;
  int code = c->exit_code;
  if (c->alive)
    ctr_wait(c, &code);
  printf("%d\n", code);
  return 0;
}

int
cmd_wait(int argc, char **argv)
{
  static const struct option opts[]
      = { { "condition", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 } };
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
    if (c != 'c' || (strcmp(optarg, "stopped") && strcmp(optarg, "exited")))
      return cli_usage("wait", "usage: keel wait [--condition stopped] CONTAINER...");
  if (optind >= argc)
    return cli_usage("wait", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_wait, NULL, 0);
}

static int
do_pause(struct ctr *c, void *data, struct keel_error *err)
{
  bool pause = *(bool *)data;
  if (strcmp(c->status, pause ? "running" : "paused"))
    return keel_error_set(err, -EINVAL, "\"%s\" is not %s, can't %s: container state improper",
                          c->id, pause ? "running" : "paused", pause ? "pause" : "unpause");
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  return keel_container_pause(&rt, c->id, pause, err);
}

int
cmd_pause(int argc, char **argv)
{
  bool pause = true;
  optind = 1;
  if (argc < 2)
    return cli_usage("pause", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_pause, &pause, EACH_PRINT);
}

int
cmd_unpause(int argc, char **argv)
{
  bool pause = false;
  optind = 1;
  if (argc < 2)
    return cli_usage("unpause", "requires at least 1 arg(s), only received 0");
  return each(argc, argv, do_pause, &pause, EACH_PRINT);
}

int
cmd_rename(int argc, char **argv)
{
  if (argc != 3)
    return cli_usage("rename", "usage: keel rename CONTAINER NEW_NAME");
  struct keel_error err = KEEL_ERROR_INIT;
  char id[KEEL_CTR_ID_LEN + 1];
  if (keel_ctr_lookup(cli_root, argv[1], id, NULL, &err) < 0
      || keel_ctr_rename(cli_root, id, argv[2], &err) < 0)
    return cli_fail(&err);
  return 0;
}

int
cmd_port(int argc, char **argv)
{
  if (argc != 2)
    return cli_usage("port", "usage: keel port CONTAINER");
  struct keel_error err = KEEL_ERROR_INIT;
  struct ctr c;
  if (ctr_find(argv[1], &c, &err) < 0)
    return cli_fail(&err);
  json_object *p = ctr_get(c.cfg, "HostConfig.PortBindings");
  for (size_t i = 0; p && i < json_object_array_length(p); i++)
    {
      struct keel_net_port port;
      if (keel_net_port_parse(json_object_get_string(json_object_array_get_idx(p, i)), &port, NULL)
          == 0)
        printf("%u/%s -> %s:%u\n", port.container_port, port.proto,
               port.host_ip[0] ? port.host_ip : "0.0.0.0", port.host_port);
    }
  ctr_done(&c);
  return 0;
}

static int
prune(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  _cleanup_strv_ char **ids = NULL;
  size_t n;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_ctr_list(cli_root, &ids, &n, &err) < 0)
    return cli_fail(&err);
  for (size_t i = 0; i < n; i++)
    {
      struct ctr c;
      if (ctr_load(ids[i], &c, NULL) < 0)
        continue;
      /* working containers (keel from) are not stopped containers */
      if (!c.alive && strcmp(c.status, "unknown") && !ctr_str(c.cfg, "Kind")
          && ctr_remove(&c, false, false, &err) == 0)
        printf("%s\n", c.id);
      ctr_done(&c);
    }
  return 0;
}

int
cmd_container(int argc, char **argv)
{
  static const struct cli_command table[] = {
    { "prune", prune, NULL },         { "ls", cmd_ps, NULL },
    { "list", cmd_ps, NULL },         { "ps", cmd_ps, NULL },
    { "run", cmd_run, NULL },         { "create", cmd_create, NULL },
    { "start", cmd_start, NULL },     { "stop", cmd_stop, NULL },
    { "kill", cmd_kill, NULL },       { "rm", cmd_rm, NULL },
    { "restart", cmd_restart, NULL }, { "wait", cmd_wait, NULL },
    { "inspect", cmd_inspect, NULL }, { "logs", cmd_logs, NULL },
    { "exec", cmd_exec, NULL },       { "attach", cmd_attach, NULL },
    { "pause", cmd_pause, NULL },     { "unpause", cmd_unpause, NULL },
    { "rename", cmd_rename, NULL },   { "port", cmd_port, NULL },
    { "top", cmd_top, NULL },         { "stats", cmd_stats, NULL },
    { "cp", cmd_cp, NULL },
  };
  return cli_dispatch("container", table, ARRAY_SIZE(table), argc, argv);
}
