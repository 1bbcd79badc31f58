/* keel-runtime create / run / start */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli/runtime/cli.h"
#include "lib/fs.h"
#include "runtime/terminal.h"

enum
{
  OPT_CONSOLE = 256,
  OPT_PID_FILE,
  OPT_NO_PIVOT,
  OPT_NO_KEYRING,
  OPT_PRESERVE,
  OPT_KEEP,
  OPT_IGNORED,
};

static const struct option create_opts[] = {
  { "bundle", required_argument, NULL, 'b' },
  { "console-socket", required_argument, NULL, OPT_CONSOLE },
  { "pid-file", required_argument, NULL, OPT_PID_FILE },
  { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
  { "no-new-keyring", no_argument, NULL, OPT_NO_KEYRING },
  { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
  { "detach", no_argument, NULL, 'd' },
  { "keep", no_argument, NULL, OPT_KEEP },
  { "no-subreaper", no_argument, NULL, OPT_IGNORED },
  { NULL, 0, NULL, 0 },
};

/* Parse create/run options; returns the index of the id or -1. */
static int
parse_create(const char *verb, int argc, char **argv, struct keel_create_opts *o, bool *detach,
             bool *keep)
{
  int c;
  o->bundle = ".";
  while ((c = getopt_long(argc, argv, "+b:d", create_opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        o->bundle = optarg;
        break;
      case OPT_CONSOLE:
        o->console_socket = optarg;
        break;
      case OPT_PID_FILE:
        o->pid_file = optarg;
        break;
      case OPT_NO_PIVOT:
        o->no_pivot = true;
        break;
      case OPT_NO_KEYRING:
        o->no_new_keyring = true;
        break;
      case OPT_PRESERVE:
        {
          char *end;
          long n = strtol(optarg, &end, 10);
          if (*end || n < 0 || n > 65536)
            return cli_usage(verb, "--preserve-fds: expected a count, not '%s'", optarg), -1;
          o->preserve_fds = (int)n;
          break;
        }
      case 'd':
        if (!detach)
          return cli_usage(verb, "unknown option --detach"), -1;
        *detach = true;
        break;
      case OPT_KEEP:
        if (keep)
          *keep = true;
        break;
      case OPT_IGNORED:
        break;
      default:
        return cli_usage(verb, "bad option; usage: keel-runtime %s [OPTIONS] ID", verb), -1;
      }
  if (cli_one_id(verb, argc, argv, optind, &o->id) != 0)
    return -1;
  return optind;
}

int
cmd_create(int argc, char **argv)
{
  struct keel_create_opts o = { 0 };
  struct keel_error err = KEEL_ERROR_INIT;
  pid_t pid;
  if (parse_create("create", argc, argv, &o, NULL, NULL) < 0)
    return 1;
  if (keel_container_create(&cli_rt, &o, &pid, &err) < 0)
    return cli_fail(&err);
  return 0;
}

int
cmd_start(int argc, char **argv)
{
  const char *id;
  struct keel_error err = KEEL_ERROR_INIT;
  if (getopt_long(argc, argv, "+", (struct option[]){ { NULL, 0, NULL, 0 } }, NULL) != -1
      || cli_one_id("start", argc, argv, optind, &id) != 0)
    return 1;
  int r = keel_container_start(&cli_rt, id, &err);
  if (r < 0)
    return cli_fail(&err);
  if (r > 0)
    keel_log_warning("%s", err.msg);
  return 0;
}

static pid_t forward_pid;

static void
forward_signal(int sig)
{
  if (forward_pid > 0)
    kill(forward_pid, sig);
}

static void
forward_signals(pid_t pid)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  struct sigaction sa = { .sa_handler = forward_signal };
  sigemptyset(&sa.sa_mask);
  forward_pid = pid;
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    sigaction(sigs[i], &sa, NULL);
}

int
cmd_run(int argc, char **argv)
{
  struct keel_create_opts o = { 0 };
  struct keel_error err = KEEL_ERROR_INIT;
  bool detach = false, keep = false;
  int master = -1, start_fd = -1, code = 0;
  json_object *state = NULL;
  pid_t pid;
  if (parse_create("run", argc, argv, &o, &detach, &keep) < 0)
    return 1;
  if (!detach)
    o.ret_console_master = &master;
  /* start without the exec.fifo round trip and delete from memory */
  o.ret_start_fd = &start_fd;
  o.ret_state = &state;
  if (keel_container_create(&cli_rt, &o, &pid, &err) < 0)
    return cli_fail(&err);
  if (!detach)
    forward_signals(pid);
  int r = keel_container_start_run(start_fd, state, &err);
  if (r < 0)
    {
      cli_fail(&err);
      keel_container_delete_state(&cli_rt, state, NULL);
      json_object_put(state);
      return 1;
    }
  if (r > 0)
    keel_log_warning("%s", err.msg);
  if (detach)
    {
      json_object_put(state);
      return 0;
    }
  if (master >= 0)
    {
      int fd = -1;
      r = keel_fd_recv(master, &fd);
      close(master);
      if (r < 0)
        {
          keel_log_error("cannot receive the container's terminal: %s", strerror(-r));
          keel_container_wait_child(pid, &code);
        }
      else
        code = cli_console_proxy(fd, pid);
    }
  else if (keel_container_wait_child(pid, &code) < 0)
    code = 1;
  if (!keep && keel_container_delete_state(&cli_rt, state, &err) < 0)
    cli_fail(&err);
  json_object_put(state);
  return code;
}
