/* sd_notify's datagram (see notify.h for why it is sent by hand). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lib/cleanup.h"
#include "lib/notify.h"

int
keel_notify_send(const char *socket_path, const char *msg, size_t len)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t n = socket_path ? strlen(socket_path) : 0;
  if (!n || n >= sizeof(sa.sun_path) || (socket_path[0] != '/' && socket_path[0] != '@'))
    return -EINVAL;
  memcpy(sa.sun_path, socket_path, n);
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0'; /* abstract: the address is exactly the name's bytes */
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  socklen_t salen
      = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (socket_path[0] == '/' ? 1 : 0));
  if (sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
    return -errno;
  return 0;
}
