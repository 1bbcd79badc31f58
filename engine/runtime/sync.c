#include "runtime/sync.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SYNC_MAX (256 * 1024)

struct header
{
  int type;
  int code;
};

int
keel_sync_pair(int *ret_parent, int *ret_child, struct keel_error *err)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return keel_error_set_errno(err, -errno, "cannot create sync socket");
  *ret_parent = sv[0];
  *ret_child = sv[1];
  return 0;
}

int
keel_sync_send(int fd, enum keel_sync_type type, int code, const char *payload)
{
  size_t plen = payload ? strlen(payload) : 0;
  struct header h = { (int)type, code };
  struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, plen } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = plen ? 2 : 1 };
  if (plen > SYNC_MAX - sizeof(h))
    return -EMSGSIZE;
  ssize_t n;
  do
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

int
keel_sync_recv(int fd, enum keel_sync_type *ret_type, int *ret_code, char **ret_payload)
{
  char *buf = malloc(SYNC_MAX + 1);
  if (!buf)
    return -ENOMEM;
  ssize_t n;
  bool reset = false;
  /* A side that dies with our message unread leaves ECONNRESET pending on
   * this socket; the kernel reports it (once) before the messages that
   * side queued before dying, and its last one is the error we want. */
  for (;;)
    {
      n = recv(fd, buf, SYNC_MAX, 0);
      if (n >= 0 || (errno != EINTR && (errno != ECONNRESET || reset)))
        break;
      reset |= errno == ECONNRESET;
    }
  if (n < 0 || (size_t)n < sizeof(struct header))
    {
      int e = n < 0 ? -errno : -EPIPE;
      free(buf);
      return e;
    }
  struct header h;
  memcpy(&h, buf, sizeof(h));
  *ret_type = (enum keel_sync_type)h.type;
  *ret_code = h.code;
  if (ret_payload)
    {
      size_t plen = (size_t)n - sizeof(h);
      memmove(buf, buf + sizeof(h), plen);
      buf[plen] = '\0';
      *ret_payload = plen ? buf : NULL;
      if (!plen)
        free(buf);
    }
  else
    free(buf);
  return 0;
}

int
keel_sync_expect(int fd, enum keel_sync_type want, char **ret_payload, struct keel_error *err)
{
  enum keel_sync_type type;
  int code;
  char *payload = NULL;
  int r = keel_sync_recv(fd, &type, &code, &payload);
  if (r < 0)
    return keel_error_set(err, -EPIPE, "the other side of container setup went away");
  if (type == KEEL_SYNC_ERROR)
    {
      r = keel_error_set(err, code ? code : -EIO, "%s",
                         payload ? payload : "container setup failed");
      free(payload);
      return r;
    }
  if (type != want)
    {
      free(payload);
      return keel_error_set(err, -EPROTO, "unexpected message %d during container setup", type);
    }
  if (ret_payload)
    *ret_payload = payload;
  else
    free(payload);
  return 0;
}
