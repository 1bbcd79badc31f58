/* keel exec: a process in a running container through the runtime library,
 * in-process (no keel-runtime exec), with the container's environment and
 * user lookup in its rootfs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "runtime/container.h"
#include "runtime/terminal.h"

/* -t: our terminal raw, bytes both ways until the process is done
 * (keel-runtime's console proxy, without the window-size signal). */
static int
console_proxy(int master, pid_t pid)
{
  struct termios saved, raw;
  bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
  if (tty)
    {
      struct winsize ws;
      raw = saved;
      cfmakeraw(&raw);
      tcsetattr(0, TCSANOW, &raw);
      if (ioctl(0, TIOCGWINSZ, &ws) == 0)
        ioctl(master, TIOCSWINSZ, &ws);
    }
  bool in_open = true;
  char buf[16384];
  for (;;)
    {
      struct pollfd p[2] = { { master, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
      if (poll(p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read(master, buf, sizeof(buf));
          if (n <= 0 || keel_write_all(1, buf, (size_t)n) < 0)
            break;
        }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read(0, buf, sizeof(buf));
          char eof = 4;
          if (n <= 0)
            in_open = false;
          if (n <= 0 ? write(master, &eof, 1) < 0 : keel_write_all(master, buf, (size_t)n) < 0)
            break;
        }
    }
  if (tty)
    tcsetattr(0, TCSANOW, &saved);
  close(master);
  int code = 1;
  keel_container_wait_child(pid, &code);
  return code;
}

static int
exec_user(struct ctr *c, const char *user, char *buf, size_t size, struct keel_error *err)
{
  char rootfs[4096];
  unsigned uid, gid;
  _cleanup_free_ unsigned *groups = NULL;
  size_t n;
  keel_ctr_path(cli_root, c->id, "rootfs", rootfs, sizeof(rootfs));
  int r = keel_ctr_user(rootfs, user, &uid, &gid, &groups, &n, err);
  if (r >= 0)
    snprintf(buf, size, "%u:%u", uid, gid);
  return r;
}

int
cmd_exec(int argc, char **argv)
{
  static const struct option opts[] = {
    { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },      { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },  { "workdir", required_argument, NULL, 'w' },
    { "privileged", no_argument, NULL, 'P' },  { NULL, 0, NULL, 0 },
  };
  struct keel_exec_opts o = { 0 };
  _cleanup_free_ char **env = calloc((size_t)argc + 1, sizeof(*env));
  size_t n_env = 0;
  const char *user = NULL;
  bool in = false;
  int c;
  while ((c = getopt_long(argc, argv, "+itde:u:w:", opts, NULL)) != -1)
    switch (c)
      {
      case 'i':
        in = true;
        break;
      case 't':
        o.tty = true;
        break;
      case 'd':
        o.detach = true;
        break;
      case 'e':
        env[n_env++] = optarg;
        break;
      case 'u':
        user = optarg;
        break;
      case 'w':
        o.cwd = optarg;
        break;
      case 'P':
        break;
      default:
        return cli_usage(
            "exec", "usage: keel exec [-it] [-d] [-e K=V] [-u U] [-w DIR] CONTAINER COMMAND...");
      }
  if (argc - optind < 2)
    return cli_usage("exec", "requires at least 2 arg(s)");
  struct keel_error err = KEEL_ERROR_INIT;
  struct ctr ct;
  if (ctr_find(argv[optind], &ct, &err) < 0)
    return cli_fail(&err);
  if (strcmp(ct.status, "running"))
    {
      keel_error_set(&err, -EINVAL,
                     "can only create exec sessions on running containers: "
                     "container state improper");
      ctr_done(&ct);
      return cli_fail(&err);
    }
  char ubuf[64];
  if (user && exec_user(&ct, user, ubuf, sizeof(ubuf), &err) < 0)
    {
      ctr_done(&ct);
      return cli_fail(&err);
    }
  o.user = user ? ubuf : NULL;
  o.env = env;
  o.args = argv + optind + 1;
  if (!in && !o.detach)
    {
      /* podman gives a non-interactive exec no stdin */
      int null = open("/dev/null", O_RDONLY);
      if (null >= 0 && null != 0)
        dup2(null, 0), close(null);
    }
  int master = -1;
  if (o.tty && !o.detach)
    o.ret_console_master = &master;
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  pid_t pid;
  int r = keel_container_exec(&rt, ct.id, &o, &pid, &err);
  ctr_done(&ct);
  if (r < 0)
    return cli_fail(&err);
  if (o.detach)
    return 0;
  if (master >= 0)
    {
      int fd = -1;
      r = keel_fd_recv(master, &fd);
      close(master);
      if (r == 0)
        return console_proxy(fd, pid);
    }
  int code = 1;
  keel_container_wait_child(pid, &code);
  return code;
}
