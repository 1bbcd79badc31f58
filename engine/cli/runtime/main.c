/* keel-runtime: an OCI runtime with runc's command line. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/runtime/cli.h"
#include "runtime/selfexec.h"

struct keel_runtime cli_rt = { .root = KEEL_RUNTIME_DEFAULT_ROOT };

static const struct cli_command commands[] = {
  { "create", cmd_create, "create [--bundle DIR] [--console-socket SOCK] [--pid-file F] ID", true },
  { "run", cmd_run, "run [--bundle DIR] [--detach] [--console-socket SOCK] [--pid-file F] ID",
    true },
  { "start", cmd_start, "start ID", false },
  { "state", cmd_state, "state ID", false },
  { "kill", cmd_kill, "kill [--all] ID [SIGNAL]", false },
  { "delete", cmd_delete, "delete [--force] ID", false },
  { "list", cmd_list, "list [--format table|json] [--quiet]", false },
  { "ps", cmd_ps, "ps [--format table|json] ID", false },
  { "pause", cmd_pause, "pause ID", false },
  { "resume", cmd_resume, "resume ID", false },
  { "update", cmd_update, "update [--resources FILE] [--memory N] [--pids-limit N] ... ID", false },
  { "exec", cmd_exec, "exec [--process FILE] [-t] [-d] ID [COMMAND...]", true },
  { "features", cmd_features, "features", false },
  { "spec", cmd_spec, "spec [--bundle DIR] [--rootless]", false },
};

static void
usage(FILE *f)
{
  fprintf(f, "usage: keel-runtime [--root DIR] [--log FILE] [--log-format text|json]\n"
             "                    [--systemd-cgroup] [--debug] COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(f, "  %s\n", commands[i].usage);
}

int
cli_fail(const struct keel_error *err)
{
  keel_log_keel_error(err);
  return 1;
}

int
cli_usage(const char *verb, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  keel_log_error("%s: %s", verb, msg);
  return 1;
}

int
cli_one_id(const char *verb, int argc, char **argv, int optind_, const char **ret)
{
  if (argc - optind_ != 1)
    return cli_usage(verb, "expects exactly one container id");
  *ret = argv[optind_];
  return 0;
}

int
cli_parse_signal(const char *s)
{
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end)
    return n > 0 && n < 65 ? (int)n : -1;
  if (!strncasecmp(s, "SIG", 3))
    s += 3;
  for (int i = 1; i < 32; i++)
    {
      const char *abbrev = sigabbrev_np(i);
      if (abbrev && !strcasecmp(s, abbrev))
        return i;
    }
  if (!strncasecmp(s, "RTMIN", 5))
    return SIGRTMIN + (s[5] == '+' ? atoi(s + 6) : 0);
  if (!strncasecmp(s, "RTMAX", 5))
    return SIGRTMAX - (s[5] == '-' ? atoi(s + 6) : 0);
  return -1;
}

static int
parse_globals(int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' },
    { "systemd-cgroup", no_argument, NULL, 's' },
    { "debug", no_argument, NULL, 'd' },
    { "rootless", required_argument, NULL, 'R' },
    { "criu", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const char *log_path = NULL, *log_format = "text";
  int c;
  while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        cli_rt.root = optarg;
        break;
      case 'l':
        log_path = optarg;
        break;
      case 'f':
        log_format = optarg;
        break;
      case 's':
        cli_rt.systemd_cgroup = true;
        break;
      case 'd':
        keel_log_set_level(KEEL_LOG_DEBUG);
        break;
      case 'R':
      case 'c':
        break; /* accepted for compatibility */
      case 'h':
        usage(stdout);
        exit(0);
      case 'v':
        printf("keel-runtime version 0.1.0\nspec: " KEEL_OCI_VERSION "\n");
        exit(0);
      default:
        usage(stderr);
        exit(1);
      }
  if (strcmp(log_format, "text") && strcmp(log_format, "json"))
    {
      keel_log_error("--log-format: expected text or json, not '%s'", log_format);
      exit(1);
    }
  if (log_path
      && keel_log_set_file(log_path, !strcmp(log_format, "json") ? KEEL_LOG_JSON : KEEL_LOG_TEXT)
             < 0)
    {
      keel_log_error("cannot open log file '%s': %s", log_path, strerror(errno));
      exit(1);
    }
  return optind;
}

int
main(int argc, char **argv, char **envp)
{
  keel_log_init("keel-runtime");
  int first = parse_globals(argc, argv);
  if (first >= argc)
    {
      usage(stderr);
      return 1;
    }
  const char *verb = argv[first];
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    {
      if (strcmp(verb, commands[i].name))
        continue;
      if (commands[i].enters_container)
        {
          struct keel_error err = KEEL_ERROR_INIT;
          if (keel_selfexec_ensure(argv, envp, &err) < 0)
            return cli_fail(&err);
        }
      optind = 0; /* reset getopt for the verb's own options */
      return commands[i].run(argc - first, argv + first);
    }
  keel_log_error("unknown command '%s'", verb);
  usage(stderr);
  return 1;
}
