/* keel-runtime kill / delete / pause / resume */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cli/runtime/cli.h"

int
cmd_kill(int argc, char **argv)
{
  static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
                                        { "pid", required_argument, NULL, 'p' },
                                        { NULL, 0, NULL, 0 } };
  bool all = false;
  int c;
  while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1)
    {
      if (c == 'a')
        all = true;
      else if (c != 'p')
        return cli_usage("kill", "usage: keel-runtime kill [--all] ID [SIGNAL]");
    }
  int n = argc - optind;
  if (n < 1 || n > 2)
    return cli_usage("kill", "usage: keel-runtime kill [--all] ID [SIGNAL]");
  int sig = SIGTERM;
  if (n == 2 && (sig = cli_parse_signal(argv[optind + 1])) < 0)
    return cli_usage("kill", "unknown signal '%s'", argv[optind + 1]);
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_container_kill(&cli_rt, argv[optind], sig, all, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int
cmd_delete(int argc, char **argv)
{
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  bool force = false;
  int c;
  const char *id;
  while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1)
    {
      if (c != 'f')
        return cli_usage("delete", "usage: keel-runtime delete [--force] ID");
      force = true;
    }
  if (cli_one_id("delete", argc, argv, optind, &id))
    return 1;
  struct keel_error err = KEEL_ERROR_INIT;
  int r = keel_container_delete(&cli_rt, id, force, &err);
  if (r < 0)
    {
      /* runc: deleting what does not exist with --force is not an error */
      if (force && r == -ENOENT)
        return 0;
      return cli_fail(&err);
    }
  if (r > 0)
    keel_log_warning("%s", err.msg);
  return 0;
}

static int
pause_resume(const char *verb, bool pause, int argc, char **argv)
{
  const char *id;
  if (getopt_long(argc, argv, "+", (struct option[]){ { NULL, 0, NULL, 0 } }, NULL) != -1
      || cli_one_id(verb, argc, argv, optind, &id))
    return 1;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_container_pause(&cli_rt, id, pause, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int
cmd_pause(int argc, char **argv)
{
  return pause_resume("pause", true, argc, argv);
}

int
cmd_resume(int argc, char **argv)
{
  return pause_resume("resume", false, argc, argv);
}
