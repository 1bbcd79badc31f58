/* Bytes in and out of the monitor: container output to the log and to
 * attached clients, client frames to stdin, the terminal or the stopper;
 * one poll() loop over all of it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cli/monitor/monitor.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"

#define MAX_CLIENTS      64
#define CLIENT_MAX_QUEUE (1024 * 1024)
#define STDIN_MAX_QUEUE  (64 * 1024)

int
io_redirect(struct monitor *m, int in, int out, int err)
{
  int src[3] = { in, out, err };
  for (int i = 0; i < 3; i++)
    if (dup2(src[i] >= 0 ? src[i] : m->devnull, i) < 0)
      return -errno;
  return 0;
}

int
io_listen(struct monitor *m, struct keel_error *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  /* through the directory fd: a state directory may be longer than sun_path */
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", m->dirfd, KEEL_ATTACH_SOCKET);
  m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create the attach socket");
  /* we hold the lock: a socket file left here belongs to a dead monitor */
  unlinkat(m->dirfd, KEEL_ATTACH_SOCKET, 0);
  if (bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
      || fchmodat(m->dirfd, KEEL_ATTACH_SOCKET, 0600, 0) < 0 || listen(m->listen_fd, 16) < 0)
    return keel_error_set_errno(err, -errno, "cannot listen on %s/%s", m->state_dir,
                                KEEL_ATTACH_SOCKET);
  return 0;
}

void
io_add_client(struct monitor *m, int fd)
{
  unsigned n = 0;
  for (struct client *c = m->clients; c; c = c->next)
    n++;
  struct client *c = n < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
  if (!c)
    {
      close(fd);
      return;
    }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  c->fd = fd;
  c->next = m->clients;
  m->clients = c;
}

static void
drop_client(struct monitor *m, struct client *c)
{
  for (struct client **pp = &m->clients; *pp; pp = &(*pp)->next)
    if (*pp == c)
      {
        *pp = c->next;
        break;
      }
  close(c->fd);
  free(c->dec);
  free(c->out);
  free(c);
}

/* Send what the client can take now; 0, or -1 when it is gone. */
static int
client_flush(struct client *c)
{
  while (c->out_len > 0)
    {
      ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
      memmove(c->out, c->out + n, c->out_len - (size_t)n);
      c->out_len -= (size_t)n;
    }
  free(c->out);
  c->out = NULL;
  return 0;
}

static int
client_queue(struct client *c, const void *data, size_t len)
{
  if (c->out_len + len > CLIENT_MAX_QUEUE)
    return -1; /* too slow: better gone than stalling the container */
  char *p = realloc(c->out, c->out_len + len);
  if (!p)
    return -1;
  memcpy(p + c->out_len, data, len);
  c->out = p;
  c->out_len += len;
  return 0;
}

void
io_broadcast(struct monitor *m, enum keel_attach_type type, const void *data, size_t len)
{
  uint8_t hdr[KEEL_ATTACH_HEADER];
  keel_attach_header(hdr, type, (uint32_t)len);
  for (struct client *c = m->clients, *next; c; c = next)
    {
      next = c->next;
      if (!c->dead
          && (client_queue(c, hdr, sizeof(hdr)) < 0 || (len && client_queue(c, data, len) < 0)
              || client_flush(c) < 0))
        c->dead = true;
    }
}

static int
stdin_target(struct monitor *m)
{
  if (!m->want_stdin)
    return -EBADF;
  return m->terminal ? m->out_fd : m->in_fd;
}

/* Write queued stdin; closes it once asked to and everything is out. */
static void
stdin_flush(struct monitor *m)
{
  int fd = stdin_target(m);
  while (fd >= 0 && m->in_len > 0)
    {
      ssize_t n = write(fd, m->in_buf, m->in_len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          m->in_len = 0; /* the reader is gone */
          break;
        }
      memmove(m->in_buf, m->in_buf + n, m->in_len - (size_t)n);
      m->in_len -= (size_t)n;
    }
  if (m->in_len == 0 && m->in_close && fd >= 0)
    {
      m->in_close = false;
      if (m->terminal)
        {
          char eof = 4; /* ^D: end of input for the terminal's reader */
          if (write(fd, &eof, 1) < 0)
            keel_log_debug("cannot send ^D: %s", strerror(errno));
        }
      else
        {
          close(m->in_fd);
          m->in_fd = -EBADF;
        }
    }
}

static void
stdin_queue(struct monitor *m, const uint8_t *p, size_t len)
{
  if (stdin_target(m) < 0)
    return;
  char *b = realloc(m->in_buf, m->in_len + len);
  if (!b)
    return;
  memcpy(b + m->in_len, p, len);
  m->in_buf = b;
  m->in_len += len;
  stdin_flush(m);
}

static void
handle_frame(struct monitor *m, uint8_t type, const uint8_t *p, uint32_t len)
{
  unsigned rows, cols;
  switch (type)
    {
    case KEEL_ATTACH_STDIN:
      stdin_queue(m, p, len);
      break;
    case KEEL_ATTACH_STDIN_CLOSE:
      m->in_close = true;
      stdin_flush(m);
      break;
    case KEEL_ATTACH_RESIZE:
      if (m->terminal && m->out_fd >= 0 && keel_attach_decode_resize(p, len, &rows, &cols) == 0)
        {
          struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
          ioctl(m->out_fd, TIOCSWINSZ, &ws);
        }
      break;
    case KEEL_ATTACH_STOP:
      monitor_stop(m, len == 4 ? (int64_t)keel_attach_decode_u32(p) * 1000 : m->stop_timeout_ms);
      break;
    default:
      break; /* output frames from a client mean nothing */
    }
}

/* Read a client's frames; -1 when it left or spoke nonsense. */
static int
client_read(struct monitor *m, struct client *c)
{
  char buf[4096];
  ssize_t n = read(c->fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0)
    return -1;
  if (!c->dec && !(c->dec = calloc(1, sizeof(*c->dec))))
    return -1;
  for (size_t off = 0; off < (size_t)n;)
    {
      off += keel_attach_feed(c->dec, buf + off, (size_t)n - off);
      uint8_t type;
      const uint8_t *p;
      uint32_t len;
      int r;
      while ((r = keel_attach_next(c->dec, &type, &p, &len)) > 0)
        handle_frame(m, type, p, len);
      if (r < 0)
        return -1;
    }
  return 0;
}

/* One read of container output; -1 at its end. */
static int
output_read(struct monitor *m, int fd, enum keel_log_stream stream)
{
  char buf[16384];
  struct timespec now;
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && errno == EINTR)
    return 0;
  if (n < 0 && errno == EAGAIN)
    return 1;
  if (n <= 0)
    return -1; /* EOF, or EIO from a terminal whose every slave is closed */
  clock_gettime(CLOCK_REALTIME, &now);
  int r = keel_logw_write(&m->log, stream, buf, (size_t)n, &now);
  if (r < 0)
    keel_log_error("cannot write the log: %s", strerror(-r));
  io_broadcast(m, stream == KEEL_LOG_STDOUT ? KEEL_ATTACH_STDOUT : KEEL_ATTACH_STDERR, buf,
               (size_t)n);
  return 0;
}

static void
close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -EBADF;
}

void
io_drain(struct monitor *m)
{
  struct timespec now;
  while (m->out_fd >= 0 && output_read(m, m->out_fd, KEEL_LOG_STDOUT) == 0)
    ;
  while (m->err_fd >= 0 && output_read(m, m->err_fd, KEEL_LOG_STDERR) == 0)
    ;
  clock_gettime(CLOCK_REALTIME, &now);
  keel_logw_flush(&m->log, &now);
  close_fd(&m->out_fd);
  close_fd(&m->err_fd);
  close_fd(&m->in_fd);
  free(m->in_buf);
  m->in_buf = NULL;
  m->in_len = 0;
  m->in_close = false;
}

static void
handle_signals(struct monitor *m)
{
  unsigned char sigs[64];
  ssize_t n;
  bool chld = false, term = false;
  while ((n = read(m->sig_pipe[0], sigs, sizeof(sigs))) > 0)
    for (ssize_t i = 0; i < n; i++)
      {
        if (sigs[i] == SIGCHLD)
          chld = true;
        else if (sigs[i] == SIGTERM || sigs[i] == SIGINT)
          term = true;
      }
  if (term)
    monitor_stop(m, m->stop_timeout_ms);
  if (chld)
    monitor_reap(m);
}

static void
accept_clients(struct monitor *m)
{
  int fd;
  while ((fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
    io_add_client(m, fd);
}

enum
{
  P_SIG,
  P_LISTEN,
  P_OUT,
  P_ERR,
  P_IN,
  P_HEALTH,
  P_NOTIFY,
  P_CLIENTS,
};

static int
poll_timeout(struct monitor *m)
{
  int64_t t = monitor_next_timer(m);
  if (!t)
    return -1;
  int64_t d = t - now_ms();
  return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

/* Build the poll set; clients follow the fixed slots in list order. */
static nfds_t
poll_set(struct monitor *m, struct pollfd *p)
{
  int in = stdin_target(m);
  p[P_SIG] = (struct pollfd){ m->sig_pipe[0], POLLIN, 0 };
  p[P_LISTEN] = (struct pollfd){ m->listen_fd, POLLIN, 0 };
  p[P_OUT] = (struct pollfd){ m->out_fd, POLLIN, 0 };
  p[P_ERR] = (struct pollfd){ m->err_fd, POLLIN, 0 };
  p[P_IN] = (struct pollfd){ m->in_len > 0 && !m->terminal ? in : -1, POLLOUT, 0 };
  if (m->terminal && m->in_len > 0)
    p[P_OUT].events |= POLLOUT;
  p[P_HEALTH] = (struct pollfd){ m->health.out_fd, POLLIN, 0 };
  p[P_NOTIFY] = (struct pollfd){ m->notify_fd, POLLIN, 0 };
  nfds_t n = P_CLIENTS;
  for (struct client *c = m->clients; c; c = c->next)
    if (!c->dead)
      /* while stdin is backed up, clients wait: that is the back-pressure */
      p[n++] = (struct pollfd){
        c->fd, (m->in_len < STDIN_MAX_QUEUE ? POLLIN : 0) | (c->out_len ? POLLOUT : 0), 0
      };
  return n;
}

static void
poll_clients(struct monitor *m, struct pollfd *p, nfds_t n)
{
  /* clients may come and go while we walk: match by fd */
  for (nfds_t i = P_CLIENTS; i < n; i++)
    {
      if (!p[i].revents)
        continue;
      struct client *c = m->clients;
      while (c && c->fd != p[i].fd)
        c = c->next;
      if (!c || c->dead)
        continue;
      if (((p[i].revents & POLLOUT) && client_flush(c) < 0)
          || ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && client_read(m, c) < 0))
        c->dead = true;
    }
  for (struct client *c = m->clients, *next; c; c = next)
    {
      next = c->next;
      if (c->dead)
        drop_client(m, c);
    }
}

int
io_loop(struct monitor *m)
{
  struct pollfd p[P_CLIENTS + MAX_CLIENTS];
  while (!m->done)
    {
      nfds_t n = poll_set(m, p);
      if (poll(p, n, poll_timeout(m)) < 0 && errno != EINTR)
        return -errno;
      if (p[P_SIG].revents)
        handle_signals(m);
      if (m->done)
        break;
      if ((p[P_OUT].revents & POLLOUT) || (p[P_IN].revents & (POLLOUT | POLLERR)))
        stdin_flush(m);
      if (p[P_OUT].revents & (POLLIN | POLLHUP | POLLERR) && m->out_fd == p[P_OUT].fd
          && output_read(m, m->out_fd, KEEL_LOG_STDOUT) < 0)
        close_fd(&m->out_fd);
      if (p[P_ERR].revents & (POLLIN | POLLHUP | POLLERR) && m->err_fd == p[P_ERR].fd
          && output_read(m, m->err_fd, KEEL_LOG_STDERR) < 0)
        close_fd(&m->err_fd);
      if (p[P_HEALTH].revents)
        health_read(m);
      if (p[P_NOTIFY].revents)
        notify_read(m);
      if (p[P_LISTEN].revents & POLLIN)
        accept_clients(m);
      poll_clients(m, p, n);
      monitor_timers(m, now_ms());
    }
  io_close_all(m);
  return 0;
}

/* The end: clients get what is queued for them (a second at most), the
 * socket goes, and with --rm the whole state directory. */
void
io_close_all(struct monitor *m)
{
  int64_t deadline = now_ms() + 1000;
  while (m->clients)
    {
      struct client *c = m->clients;
      if (c->out_len && client_flush(c) == 0 && c->out_len && now_ms() < deadline)
        {
          struct pollfd p = { c->fd, POLLOUT, 0 };
          poll(&p, 1, 50);
          continue;
        }
      drop_client(m, c);
    }
  if (m->listen_fd >= 0)
    {
      unlinkat(m->dirfd, KEEL_ATTACH_SOCKET, 0);
      close_fd(&m->listen_fd);
    }
  keel_logw_close(&m->log);
  if (m->rm)
    keel_rm_rf_at(AT_FDCWD, m->state_dir);
}
