/* A client of keel-monitor for the tests, on the monitor library:
 *
 *   monitor-client attach STATE_DIR [ACTION...]
 *       send:TEXT  stdin bytes      close      end of stdin
 *       resize:R:C terminal size    stop[:T]   stop, SIGKILL after T s
 *       until:STR  read until the output so far holds STR (10 s at most)
 *       exit       read until an EXIT frame    sleep:MS
 *     stdout frames go to stdout, stderr frames to stderr, EXIT and GONE
 *     to stderr as "monitor-client: exit N" / "monitor-client: gone";
 *     closing at the end detaches.  Exit status 1 if an until/exit failed.
 *   monitor-client spawn [ACTION...] -- COMMAND...
 *     run COMMAND (keel-monitor ... --attach-fd 4) with one end of a socket
 *     pair on fd 4, then act as attach does on the other end.
 *   monitor-client status STATE_DIR
 *     "alive" or "gone" (the monitor lock), then state.json.
 *   monitor-client journal-recv SOCKET COUNT
 *     bind a journald-like datagram socket, print COUNT datagrams, each
 *     followed by a line "--". */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/fs.h"
#include "monitor/attach.h"
#include "monitor/status.h"

static struct keel_attach_decoder dec;
static char seen[1 << 20];
static size_t seen_len;
static int exit_seen = -1;

static long long
ms_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read what arrives within wait_ms; -1 at EOF. */
static int
pump(int fd, int wait_ms)
{
  struct pollfd p = { fd, POLLIN, 0 };
  if (poll(&p, 1, wait_ms) <= 0)
    return 0;
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n <= 0)
    return -1;
  for (size_t off = 0; off < (size_t)n;)
    {
      off += keel_attach_feed(&dec, buf + off, (size_t)n - off);
      uint8_t type;
      const uint8_t *pl;
      uint32_t len;
      while (keel_attach_next(&dec, &type, &pl, &len) > 0)
        {
          if (type == KEEL_ATTACH_STDOUT || type == KEEL_ATTACH_STDERR)
            {
              keel_write_all(type == KEEL_ATTACH_STDOUT ? 1 : 2, pl, len);
              if (seen_len + len < sizeof(seen))
                memcpy(seen + seen_len, pl, len), seen_len += len;
            }
          else if (type == KEEL_ATTACH_EXIT)
            {
              exit_seen = atoi((const char *)pl);
              fprintf(stderr, "monitor-client: exit %.*s\n", (int)len, pl);
            }
          else if (type == KEEL_ATTACH_GONE)
            fprintf(stderr, "monitor-client: gone\n");
        }
    }
  return 0;
}

static int
wait_for(int fd, const char *what, int (*done)(const char *), const char *arg)
{
  long long end = ms_now() + 10000;
  while (!done(arg))
    if (ms_now() > end || pump(fd, 100) < 0)
      {
        if (done(arg))
          break;
        fprintf(stderr, "monitor-client: no %s\n", what);
        return 1;
      }
  return 0;
}

static int
has_text(const char *s)
{
  seen[seen_len] = 0;
  return memmem(seen, seen_len, s, strlen(s)) != NULL;
}

static int
has_exit(const char *s)
{
  (void)s;
  return exit_seen >= 0;
}

static int
action(int fd, const char *a)
{
  uint8_t b[4];
  pump(fd, 0);
  if (!strncmp(a, "send:", 5))
    return keel_attach_send(fd, KEEL_ATTACH_STDIN, a + 5, (uint32_t)strlen(a + 5)) < 0;
  if (!strcmp(a, "close"))
    return keel_attach_send(fd, KEEL_ATTACH_STDIN_CLOSE, NULL, 0) < 0;
  if (!strncmp(a, "resize:", 7))
    {
      unsigned r, c;
      if (sscanf(a + 7, "%u:%u", &r, &c) != 2)
        return 2;
      keel_attach_encode_resize(b, r, c);
      return keel_attach_send(fd, KEEL_ATTACH_RESIZE, b, 4) < 0;
    }
  if (!strncmp(a, "stop", 4))
    {
      keel_attach_encode_u32(b, a[4] == ':' ? (uint32_t)atoi(a + 5) : 0);
      return keel_attach_send(fd, KEEL_ATTACH_STOP, b, a[4] == ':' ? 4 : 0) < 0;
    }
  if (!strncmp(a, "until:", 6))
    return wait_for(fd, a, has_text, a + 6);
  if (!strcmp(a, "exit"))
    return wait_for(fd, "exit frame", has_exit, NULL);
  if (!strncmp(a, "sleep:", 6))
    {
      long long end = ms_now() + atoi(a + 6);
      while (ms_now() < end && pump(fd, (int)(end - ms_now())) == 0)
        ;
      return 0;
    }
  fprintf(stderr, "monitor-client: unknown action '%s'\n", a);
  return 2;
}

static int
cmd_attach(int argc, char **argv)
{
  struct keel_error err = KEEL_ERROR_INIT;
  int fd = keel_attach_connect(argv[2], &err);
  if (fd < 0)
    {
      fprintf(stderr, "monitor-client: %s\n", err.msg);
      return 1;
    }
  for (int i = 3; i < argc; i++)
    if (action(fd, argv[i]))
      return 1;
  pump(fd, 100);
  close(fd);
  return 0;
}

static int
cmd_spawn(int argc, char **argv)
{
  int sv[2], dd = 2;
  while (dd < argc && strcmp(argv[dd], "--"))
    dd++;
  if (dd + 1 >= argc || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
    return 2;
  pid_t pid = fork();
  if (pid == 0)
    {
      dup2(sv[1], 4);
      execv(argv[dd + 1], argv + dd + 1);
      _exit(127);
    }
  close(sv[1]);
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status))
    return 1;
  for (int i = 2; i < dd; i++)
    if (action(sv[0], argv[i]))
      return 1;
  pump(sv[0], 100);
  return 0;
}

static int
cmd_status(const char *dir)
{
  struct keel_error err = KEEL_ERROR_INIT;
  bool alive;
  json_object *st = NULL;
  if (keel_monitor_status(dir, &alive, &st, &err) < 0)
    {
      fprintf(stderr, "monitor-client: %s\n", err.msg);
      return 1;
    }
  printf("%s\n%s\n", alive ? "alive" : "gone", st ? json_object_to_json_string(st) : "{}");
  json_object_put(st);
  return 0;
}

static int
cmd_journal(const char *path, int count)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  int size = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    {
      perror("monitor-client: bind");
      return 1;
    }
  static char buf[1 << 20];
  for (int i = 0; i < count; i++)
    {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n < 0)
        return 1;
      keel_write_all(1, buf, (size_t)n);
      keel_write_all(1, "--\n", 3);
    }
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc >= 3 && !strcmp(argv[1], "attach"))
    return cmd_attach(argc, argv);
  if (argc >= 3 && !strcmp(argv[1], "spawn"))
    return cmd_spawn(argc, argv);
  if (argc == 3 && !strcmp(argv[1], "status"))
    return cmd_status(argv[2]);
  if (argc == 4 && !strcmp(argv[1], "journal-recv"))
    return cmd_journal(argv[2], atoi(argv[3]));
  fprintf(stderr, "usage: monitor-client attach|status|journal-recv ...\n");
  return 2;
}
