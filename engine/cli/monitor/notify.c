/* Readiness for a systemd unit that runs keel (--sdnotify):
 *   conmon     the monitor itself says MAINPID=<its pid> and READY=1 once
 *              the container runs;
 *   container  the container gets a socket of ours as $NOTIFY_SOCKET; we
 *              pass on what it sends (READY=1, STATUS=, WATCHDOG=1, ...)
 *              to the unit's socket, naming ourselves MAINPID with the
 *              first READY=1, for the container's whole life.
 * Either way the monitor, which stays in the unit's cgroup, becomes the
 * unit's main process, and $NOTIFY_SOCKET reaches nothing else we run. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/monitor/monitor.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/notify.h"

#define NOTIFY_MAX 4096

/* Bind the container's socket (before the container starts); take the
 * unit's socket from the environment. */
int
notify_setup(struct monitor *m, struct keel_error *err)
{
  const char *host = getenv("NOTIFY_SOCKET");
  if (host && *host && m->sdnotify && !(m->notify_host = strdup(host)))
    return keel_error_set(err, -ENOMEM, "out of memory");
  unsetenv("NOTIFY_SOCKET");
  if (!m->notify_host || strcmp(m->sdnotify, "container") || !m->notify_path)
    return 0;
  _cleanup_free_ char *copy = strdup(m->notify_path), *copy2 = strdup(m->notify_path);
  if (!copy || !copy2)
    return keel_error_set(err, -ENOMEM, "out of memory");
  const char *dir = dirname(copy), *name = basename(copy2);
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  /* through the directory fd: container paths outgrow sun_path */
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
  m->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (dfd < 0 || m->notify_fd < 0)
    return keel_error_set_errno(err, -errno, "cannot make the notify socket in '%s'", dir);
  unlinkat(dfd, name, 0);
  /* any user of the container may tell readiness, as with systemd's own socket */
  if (bind(m->notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
      || fchmodat(dfd, name, 0666, 0) < 0)
    return keel_error_set_errno(err, -errno, "cannot bind the notify socket '%s'", m->notify_path);
  return 0;
}

static void
send_host(struct monitor *m, const char *msg, size_t len)
{
  int r = keel_notify_send(m->notify_host, msg, len);
  if (r < 0)
    keel_log_warning("cannot notify '%s': %s", m->notify_host, strerror(-r));
}

/* conmon mode: once the container runs. */
void
notify_started(struct monitor *m)
{
  if (!m->notify_host || strcmp(m->sdnotify, "conmon") || m->notify_ready)
    return;
  char msg[64];
  int n = snprintf(msg, sizeof(msg), "MAINPID=%d\nREADY=1\n", (int)getpid());
  send_host(m, msg, (size_t)n);
  m->notify_ready = true;
  monitor_sync(m, "ready\n");
}

static bool
has_ready(const char *msg, size_t len)
{
  for (const char *p = msg; p < msg + len;)
    {
      const char *nl = memchr(p, '\n', (size_t)(msg + len - p));
      size_t l = nl ? (size_t)(nl - p) : (size_t)(msg + len - p);
      if (l == 7 && !memcmp(p, "READY=1", 7))
        return true;
      p += l + 1;
    }
  return false;
}

/* container mode: pass on each datagram waiting on our socket.  MAINPID
 * from the container would name a pid of its namespace: dropped. */
void
notify_read(struct monitor *m)
{
  char buf[NOTIFY_MAX + 64];
  ssize_t n;
  while ((n = recv(m->notify_fd, buf + 64, NOTIFY_MAX, MSG_DONTWAIT)) > 0)
    {
      char *msg = buf + 64;
      size_t len = (size_t)n;
      if (!strncmp(msg, "MAINPID=", 8))
        {
          const char *nl = memchr(msg, '\n', len);
          len = nl ? len - (size_t)(nl + 1 - msg) : 0;
          msg = nl ? (char *)nl + 1 : msg;
        }
      bool ready = has_ready(msg, len) && !m->notify_ready;
      if (ready)
        {
          char pid[32];
          int p = snprintf(pid, sizeof(pid), "MAINPID=%d\n", (int)getpid());
          msg -= p;
          memcpy(msg, pid, (size_t)p);
          len += (size_t)p;
        }
      if (len)
        send_host(m, msg, len);
      if (ready)
        {
          m->notify_ready = true;
          monitor_sync(m, "ready\n");
        }
    }
}
