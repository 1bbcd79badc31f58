/* seccomp-agent: a linux.seccomp.listenerPath agent for tests.  Listens on
 * a unix socket, receives the seccomp notify fd with the container process
 * state as payload (written to STATE_FILE), then answers every notified
 * syscall with -ERRNO until the container is gone.  Prints one line
 * "syscall NAME" per notification.
 *
 * usage: seccomp-agent SOCKET STATE_FILE ERRNO */
#include <errno.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
recv_fd(int sock, char *payload, size_t size)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { payload, size - 1 };
  struct msghdr msg
      = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
  ssize_t n = recvmsg(sock, &msg, 0);
  if (n < 0)
    return -1;
  payload[n] = '\0';
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
  if (argc != 4)
    {
      fprintf(stderr, "usage: seccomp-agent SOCKET STATE_FILE ERRNO\n");
      return 2;
    }
  int answer = atoi(argv[3]);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(argv[1]) >= sizeof(sa.sun_path))
    return 2;
  strcpy(sa.sun_path, argv[1]);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
    {
      fprintf(stderr, "seccomp-agent: cannot listen on '%s': %s\n", argv[1], strerror(errno));
      return 1;
    }
  static char payload[65536];
  int conn = accept(ls, NULL, NULL);
  int fd = conn < 0 ? -1 : recv_fd(conn, payload, sizeof(payload));
  if (fd < 0)
    {
      fprintf(stderr, "seccomp-agent: no seccomp fd received: %s\n", strerror(errno));
      return 1;
    }
  FILE *f = fopen(argv[2], "w");
  if (!f || fputs(payload, f) < 0 || fclose(f) != 0)
    return 1;
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  if (seccomp_notify_alloc(&req, &resp) < 0)
    return 1;
  for (;;)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      if (poll(&p, 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return 1;
        }
      if (!(p.revents & POLLIN)) /* POLLHUP: every process of the filter is gone */
        return 0;
      memset(req, 0, sizeof(*req));
      if (seccomp_notify_receive(fd, req) < 0)
        continue; /* the caller died before we read it */
      char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
      printf("syscall %s\n", name ? name : "?");
      fflush(stdout);
      free(name);
      memset(resp, 0, sizeof(*resp));
      resp->id = req->id;
      resp->error = -answer;
      resp->val = 0;
      seccomp_notify_respond(fd, resp);
    }
}
