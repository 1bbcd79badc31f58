/* sdnotify: both ends of sd_notify for tests, linked statically so that
 * it also runs inside busybox containers.
 *
 *   sdnotify listen PATH COUNT TIMEOUT   systemd's side: bind a datagram
 *       socket at PATH, print each of the first COUNT datagrams followed
 *       by a line "--", exit 0; exit 1 when TIMEOUT seconds pass first
 *   sdnotify send MESSAGE                a service's side: send MESSAGE
 *       ("\n" written as a backslash-n turns into a newline) to
 *       $NOTIFY_SOCKET */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
listen_on(const char *path, int want, int timeout)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    {
      perror("sdnotify: bind");
      return 2;
    }
  time_t deadline = time(NULL) + timeout;
  for (int got = 0; got < want;)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      int left = (int)(deadline - time(NULL));
      if (left <= 0 || poll(&p, 1, left * 1000) <= 0)
        {
          fprintf(stderr, "sdnotify: %d of %d messages before the timeout\n", got, want);
          return 1;
        }
      char buf[4097];
      ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
      if (n < 0)
        continue;
      buf[n] = '\0';
      printf("%s%s--\n", buf, n && buf[n - 1] == '\n' ? "" : "\n");
      fflush(stdout);
      got++;
    }
  return 0;
}

static int
send_to_env(const char *msg)
{
  const char *path = getenv("NOTIFY_SOCKET");
  char buf[4096];
  size_t n = 0;
  if (!path || path[0] != '/')
    {
      fprintf(stderr, "sdnotify: no NOTIFY_SOCKET\n");
      return 1;
    }
  for (const char *p = msg; *p && n < sizeof(buf); p++)
    if (p[0] == '\\' && p[1] == 'n')
      buf[n++] = '\n', p++;
    else
      buf[n++] = *p;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto(fd, buf, n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    {
      perror("sdnotify: send");
      return 1;
    }
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc == 5 && !strcmp(argv[1], "listen"))
    return listen_on(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (argc == 3 && !strcmp(argv[1], "send"))
    return send_to_env(argv[2]);
  fprintf(stderr, "usage: sdnotify listen PATH COUNT TIMEOUT | sdnotify send MESSAGE\n");
  return 2;
}
