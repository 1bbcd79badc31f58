/* keel-runtime exec */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/runtime/cli.h"
#include "lib/cleanup.h"
#include "runtime/terminal.h"

enum
{
  OPT_PID_FILE = 256,
  OPT_CONSOLE,
  OPT_PRESERVE,
  OPT_CWD,
  OPT_NNP,
  OPT_IGNORED,
};

static int
push(char ***v, size_t *n, const char *s)
{
  char **nv = realloc(*v, (*n + 2) * sizeof(char *));
  if (!nv)
    return -1;
  nv[(*n)++] = (char *)s;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

int
cmd_exec(int argc, char **argv)
{
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' },
    { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "console-socket", required_argument, NULL, OPT_CONSOLE },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, OPT_NNP },
    { "process-label", required_argument, NULL, OPT_IGNORED },
    { "apparmor", required_argument, NULL, OPT_IGNORED },
    { "ignore-paused", no_argument, NULL, OPT_IGNORED },
    { NULL, 0, NULL, 0 },
  };
  struct keel_exec_opts o = { 0 };
  _cleanup_free_ char **env = NULL, **caps = NULL;
  size_t nenv = 0, ncaps = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:tde:u:c:", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        o.process_file = optarg;
        break;
      case 't':
        o.tty = true;
        break;
      case 'd':
        o.detach = true;
        break;
      case OPT_PID_FILE:
        o.pid_file = optarg;
        break;
      case OPT_CONSOLE:
        o.console_socket = optarg;
        break;
      case OPT_PRESERVE:
        o.preserve_fds = atoi(optarg);
        if (o.preserve_fds < 0)
          return cli_usage("exec", "--preserve-fds: expected a count");
        break;
      case OPT_CWD:
        o.cwd = optarg;
        break;
      case 'e':
        if (push(&env, &nenv, optarg) < 0)
          return 1;
        break;
      case 'u':
        o.user = optarg;
        break;
      case 'c':
        if (push(&caps, &ncaps, optarg) < 0)
          return 1;
        break;
      case OPT_NNP:
        o.no_new_privs = true;
        break;
      case OPT_IGNORED:
        break;
      default:
        return cli_usage("exec", "usage: keel-runtime exec [OPTIONS] ID [COMMAND...]");
      }
  if (optind >= argc)
    return cli_usage("exec", "expects a container id");
  const char *id = argv[optind];
  o.args = argv + optind + 1;
  o.env = env;
  o.caps = caps;
  if (!o.process_file && !o.args[0])
    return cli_usage("exec", "expects a command or --process");
  int master = -1;
  if (!o.detach)
    o.ret_console_master = &master;
  struct keel_error err = KEEL_ERROR_INIT;
  pid_t pid;
  if (keel_container_exec(&cli_rt, id, &o, &pid, &err) < 0)
    return cli_fail(&err);
  if (o.detach)
    return 0;
  int code = 1;
  if (master >= 0)
    {
      int fd = -1;
      int r = keel_fd_recv(master, &fd);
      close(master);
      if (r == 0)
        return cli_console_proxy(fd, pid);
    }
  keel_container_wait_child(pid, &code);
  return code;
}
