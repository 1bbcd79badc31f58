/* keel run, keel create, keel start, keel attach: a record, a monitor, and
 * for the foreground the container's stdio relayed over the attach socket. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/create.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "monitor/attach.h"
#include "runtime/container.h"

static struct termios saved_tio;
/* --sig-proxy (podman's default): signals to a foreground run go to the
 * container, through the runtime, from the relay loop */
static volatile sig_atomic_t pending_sig;
static const char *proxy_id;

static void
on_signal(int sig)
{
  pending_sig = sig;
}

static void
proxy_signals(const char *id)
{
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  struct sigaction sa = { .sa_handler = on_signal };
  proxy_id = id;
  for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
    sigaction(sigs[i], &sa, NULL);
}

static void
forward_pending(void)
{
  int sig = pending_sig;
  if (!sig || !proxy_id)
    return;
  pending_sig = 0;
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  keel_container_kill(&rt, proxy_id, sig, false, NULL);
}
static bool raw_mode;

static void
restore_tty(void)
{
  if (raw_mode)
    tcsetattr(0, TCSANOW, &saved_tio);
  raw_mode = false;
}

static void
send_resize(int fd)
{
  struct winsize ws;
  uint8_t p[4];
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
    {
      keel_attach_encode_resize(p, ws.ws_row, ws.ws_col);
      keel_attach_send(fd, KEEL_ATTACH_RESIZE, p, 4);
    }
}

static int
output_frame(uint8_t type, const uint8_t *p, uint32_t len, int *code, bool *gone)
{
  switch (type)
    {
    case KEEL_ATTACH_STDOUT:
      return keel_write_all(1, p, len);
    case KEEL_ATTACH_STDERR:
      return keel_write_all(2, p, len);
    case KEEL_ATTACH_EXIT:
      {
        char num[16];
        snprintf(num, sizeof(num), "%.*s", (int)(len < 15 ? len : 15), (const char *)p);
        *code = atoi(num);
        return 0;
      }
    case KEEL_ATTACH_GONE:
      *gone = true;
      return 0;
    default:
      return 0;
    }
}

/* Relay until the monitor says it is gone (or the socket closes); the
 * last EXIT frame's code, or -1 when none came (detached). */
int
relay(int sock, bool in, bool tty)
{
  static struct keel_attach_decoder dec;
  int code = -1;
  bool gone = false, in_open = in;
  dec.len = dec.taken = 0;
  if (tty && isatty(0) && tcgetattr(0, &saved_tio) == 0)
    {
      struct termios t = saved_tio;
      cfmakeraw(&t);
      raw_mode = tcsetattr(0, TCSANOW, &t) == 0;
      atexit(restore_tty);
      send_resize(sock);
    }
  while (!gone)
    {
      struct pollfd pf[2] = { { sock, POLLIN, 0 }, { 0, POLLIN, 0 } };
      int pr = poll(pf, in_open ? 2 : 1, -1);
      forward_pending();
      if (pr < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (in_open && pf[1].revents)
        {
          char buf[16384];
          ssize_t n = read(0, buf, sizeof(buf));
          if (n > 0)
            keel_attach_send(sock, KEEL_ATTACH_STDIN, buf, (uint32_t)n);
          else if (n == 0 || errno != EINTR)
            {
              keel_attach_send(sock, KEEL_ATTACH_STDIN_CLOSE, NULL, 0);
              in_open = false;
            }
        }
      if (!pf[0].revents)
        continue;
      uint8_t buf[65536];
      ssize_t n = read(sock, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      size_t off = 0;
      while (off < (size_t)n)
        {
          off += keel_attach_feed(&dec, buf + off, (size_t)n - off);
          uint8_t type;
          const uint8_t *p;
          uint32_t len;
          int r;
          while ((r = keel_attach_next(&dec, &type, &p, &len)) == 1)
            output_frame(type, p, len, &code, &gone);
          if (r < 0)
            {
              gone = true;
              break;
            }
        }
    }
  restore_tty();
  return code;
}

/* podman's codes when the command itself cannot run: 127 not found,
 * 126 not executable; 125 for everything else. */
int
cli_exec_fail(struct keel_error *err)
{
  cli_fail(err);
  if (strstr(err->msg, "not found in $PATH") || strstr(err->msg, "cannot execute")
      || strstr(err->msg, "executable file"))
    return strstr(err->msg, "ermission denied")                                ? 126
           : strstr(err->msg, "not found") || strstr(err->msg, "No such file") ? 127
                                                                               : 126;
  return EXIT_ENGINE;
}

/* --replace: a container of the same name goes first (a service's
 * container left over from a crash, say). */
static int
replace(struct create_flags *f, json_object *cfg, struct keel_error *err)
{
  const char *name = ctr_str(cfg, "Name");
  struct ctr old;
  if (!f->replace || !name)
    return 0;
  int r = ctr_find(name, &old, err);
  if (r == -ENOENT)
    {
      keel_error_clear(err);
      return 0;
    }
  if (r >= 0)
    r = ctr_remove(&old, true, true, err);
  ctr_done(&old);
  return r;
}

int
cmd_run(int argc, char **argv)
{
  struct create_flags f;
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *cfg = NULL;
  char id[KEEL_CTR_ID_LEN + 1];
  if (create_parse("run", argc, argv, &f, &cfg, &err) < 0 || replace(&f, cfg, &err) < 0
      || create_record(&f, cfg, id, &err) < 0)
    return cli_exec_fail(&err);
  struct ctr c;
  if (ctr_load(id, &c, &err) < 0)
    return cli_exec_fail(&err);
  int sv[2] = { -1, -1 };
  /* before the start, so no signal slips between it and the relay; with
   * a terminal, ^C reaches the container as a byte instead */
  if (!f.detach && !f.tty)
    proxy_signals(id);
  if (!f.detach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    keel_error_set_errno(&err, errno, "cannot make a socket pair");
  if (err.code || ctr_start(&c, sv[1], &err) < 0)
    {
      ctr_remove(&c, true, true, NULL);
      ctr_done(&c);
      return cli_exec_fail(&err);
    }
  if (f.detach)
    {
      printf("%s\n", id);
      ctr_done(&c);
      return 0;
    }
  close(sv[1]);
  int code = relay(sv[0], f.interactive, f.tty), final = 0;
  close(sv[0]);
  ctr_wait(&c, &final);
  if (code < 0)
    code = final;
  ctr_cleanup(&c);
  if (f.rm)
    ctr_remove(&c, true, true, &err);
  ctr_done(&c);
  return code;
}

int
cmd_create(int argc, char **argv)
{
  struct create_flags f;
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *cfg = NULL;
  char id[KEEL_CTR_ID_LEN + 1];
  if (create_parse("create", argc, argv, &f, &cfg, &err) < 0 || replace(&f, cfg, &err) < 0
      || create_record(&f, cfg, id, &err) < 0)
    return cli_fail(&err);
  printf("%s\n", id);
  return 0;
}

static int
attach_to(struct ctr *c, bool in, struct keel_error *err)
{
  char dir[4096];
  keel_ctr_path(cli_root, c->id, "userdata", dir, sizeof(dir));
  int fd = keel_attach_connect(dir, err);
  if (fd < 0)
    return cli_fail(err);
  json_object *tty = ctr_get(c->cfg, "Config.Tty");
  int code = relay(fd, in, tty && json_object_get_boolean(tty)), final = 0;
  close(fd);
  ctr_wait(c, &final);
  ctr_cleanup(c);
  return code < 0 ? final : code;
}

int
cmd_start(int argc, char **argv)
{
  static const struct option opts[] = { { "attach", no_argument, NULL, 'a' },
                                        { "interactive", no_argument, NULL, 'i' },
                                        { NULL, 0, NULL, 0 } };
  bool attach = false, in = false;
  int c, rc = 0;
  while ((c = getopt_long(argc, argv, "+ai", opts, NULL)) != -1)
    if (c == 'a')
      attach = true;
    else if (c == 'i')
      in = true;
    else
      return cli_usage("start", "usage: keel start [-a] [-i] CONTAINER...");
  if (optind >= argc)
    return cli_usage("start", "requires at least 1 arg(s), only received 0");
  for (int i = optind; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct ctr ct;
      if (ctr_find(argv[i], &ct, &err) < 0)
        {
          rc = cli_fail(&err);
          continue;
        }
      if (strcmp(ct.status, "running") && strcmp(ct.status, "paused"))
        {
          if (!ct.alive)
            ctr_cleanup(&ct);
          int sv[2] = { -1, -1 };
          if (attach && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            keel_error_set_errno(&err, errno, "cannot make a socket pair");
          if (err.code || ctr_start(&ct, sv[1], &err) < 0)
            {
              rc = cli_fail(&err);
              ctr_done(&ct);
              continue;
            }
          if (attach)
            {
              close(sv[1]);
              json_object *tty = ctr_get(ct.cfg, "Config.Tty");
              int code = relay(sv[0], in, tty && json_object_get_boolean(tty)), final = 0;
              close(sv[0]);
              ctr_wait(&ct, &final);
              ctr_cleanup(&ct);
              ctr_done(&ct);
              return code < 0 ? final : code;
            }
        }
      printf("%s\n", argv[i]);
      ctr_done(&ct);
    }
  return rc;
}

int
cmd_attach(int argc, char **argv)
{
  static const struct option opts[]
      = { { "no-stdin", no_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };
  bool in = true;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
    if (c == 'n')
      in = false;
    else
      return cli_usage("attach", "usage: keel attach [--no-stdin] CONTAINER");
  if (optind + 1 != argc)
    return cli_usage("attach", "requires exactly 1 arg(s)");
  struct keel_error err = KEEL_ERROR_INIT;
  struct ctr ct;
  if (ctr_find(argv[optind], &ct, &err) < 0)
    return cli_fail(&err);
  if (!ct.alive)
    {
      ctr_done(&ct);
      return cli_usage("attach", "you can only attach to running containers");
    }
  int r = attach_to(&ct, in, &err);
  ctr_done(&ct);
  return r;
}
