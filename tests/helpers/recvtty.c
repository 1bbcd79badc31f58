/* recvtty: the other end of `keel-runtime --console-socket`.  Listens on a
 * unix socket, receives the pty master as SCM_RIGHTS, optionally writes
 * one line to it, then copies everything the pty says to stdout until the
 * container's side is gone (EOF or EIO).
 *
 * usage: recvtty SOCKET [LINE] */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
recv_fd(int sock)
{
  char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { buf, sizeof(buf) };
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
  if (recvmsg(sock, &msg, 0) < 0)
    return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(fd));
  return fd;
}

int
main(int argc, char **argv)
{
  if (argc < 2 || argc > 3)
    {
      fprintf(stderr, "usage: recvtty SOCKET [LINE]\n");
      return 2;
    }
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(argv[1]) >= sizeof(sa.sun_path))
    {
      fprintf(stderr, "recvtty: socket path too long: '%s'\n", argv[1]);
      return 2;
    }
  strcpy(sa.sun_path, argv[1]);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
    {
      fprintf(stderr, "recvtty: cannot listen on '%s': %s\n", argv[1], strerror(errno));
      return 1;
    }
  int conn = accept(ls, NULL, NULL);
  int master = conn < 0 ? -1 : recv_fd(conn);
  if (master < 0)
    {
      fprintf(stderr, "recvtty: no terminal received: %s\n", strerror(errno));
      return 1;
    }
  close(conn);
  close(ls);
  if (argc == 3)
    {
      size_t n = strlen(argv[2]);
      if (write(master, argv[2], n) != (ssize_t)n || write(master, "\n", 1) != 1)
        {
          fprintf(stderr, "recvtty: cannot write to the terminal: %s\n", strerror(errno));
          return 1;
        }
    }
  char buf[4096];
  for (;;)
    {
      ssize_t n = read(master, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) /* EIO: the last holder of the slave closed it */
        return n == 0 || errno == EIO ? 0 : 1;
      if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0)
        return 1;
    }
}
