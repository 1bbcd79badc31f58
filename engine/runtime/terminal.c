#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "lib/cleanup.h"

int
keel_fd_send(int sock, int fd, const char *name)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof(cbuf));
  struct iovec iov = { (void *)name, strlen(name) + 1 };
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

int
keel_fd_recv(int sock, int *ret_fd)
{
  char cbuf[CMSG_SPACE(sizeof(int))], name[256];
  struct iovec iov = { name, sizeof(name) };
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
    return -EBADMSG;
  memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
  return 0;
}

int
keel_unix_connect(const char *path, struct keel_error *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof(sa.sun_path))
    return keel_error_set(err, -ENAMETOOLONG, "socket path too long: '%s'", path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    {
      int e = errno;
      close(fd);
      return keel_error_set_errno(err, -e, "cannot connect to '%s'", path);
    }
  return fd;
}

int
keel_console_channel(const char *console_socket, int *ret_master, struct keel_error *err)
{
  int sv[2];
  if (console_socket)
    {
      int fd = keel_unix_connect(console_socket, err);
      return fd < 0 ? keel_error_prefix(err, "--console-socket") : fd;
    }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return keel_error_set_errno(err, -errno, "cannot create console socket");
  *ret_master = sv[0];
  return sv[1];
}

int
keel_terminal_setup(int console_sock, unsigned short height, unsigned short width,
                    struct keel_error *err)
{
  _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return keel_error_set_errno(err, -errno, "cannot open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return keel_error_set_errno(err, -errno, "cannot unlock the pty");
  /* TIOCGPTPEER opens the slave through the master's own devpts, never a
   * path an image could have replaced. */
  _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return keel_error_set_errno(err, -errno, "cannot open the pty slave");
  if (height && width)
    {
      struct winsize ws = { .ws_row = height, .ws_col = width };
      if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
        return keel_error_set_errno(err, -errno, "cannot set the console size");
    }
  /* /dev/console inside the container is the pty, as the runtime spec says */
  char slave_path[64];
  snprintf(slave_path, sizeof(slave_path), "/proc/self/fd/%d", slave);
  struct stat st;
  if (stat("/dev", &st) == 0)
    {
      int f = open("/dev/console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (f >= 0)
        {
          close(f);
          mount(slave_path, "/dev/console", NULL, MS_BIND, NULL);
        }
    }
  int r = keel_fd_send(console_sock, master, "console");
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot send the terminal to the console socket");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return keel_error_set_errno(err, -errno, "cannot make the pty the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      return keel_error_set_errno(err, -errno, "cannot attach the pty to stdio");
  return 0;
}
