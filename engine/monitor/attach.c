#include "monitor/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

void
keel_attach_encode_u32(uint8_t out[4], uint32_t v)
{
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

uint32_t
keel_attach_decode_u32(const uint8_t p[4])
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
keel_attach_header(uint8_t hdr[KEEL_ATTACH_HEADER], enum keel_attach_type type, uint32_t len)
{
  hdr[0] = (uint8_t)type;
  hdr[1] = hdr[2] = hdr[3] = 0;
  keel_attach_encode_u32(hdr + 4, len);
}

static bool
known_type(uint8_t t)
{
  return (t >= KEEL_ATTACH_STDOUT && t <= KEEL_ATTACH_GONE)
         || (t >= KEEL_ATTACH_STDIN && t <= KEEL_ATTACH_STOP);
}

static void
drop_taken(struct keel_attach_decoder *d)
{
  if (d->taken)
    {
      memmove(d->buf, d->buf + d->taken, d->len - d->taken);
      d->len -= d->taken;
      d->taken = 0;
    }
}

size_t
keel_attach_feed(struct keel_attach_decoder *d, const void *data, size_t n)
{
  drop_taken(d);
  size_t room = sizeof(d->buf) - d->len;
  if (n > room)
    n = room;
  memcpy(d->buf + d->len, data, n);
  d->len += n;
  return n;
}

int
keel_attach_next(struct keel_attach_decoder *d, uint8_t *type, const uint8_t **payload,
                 uint32_t *len)
{
  drop_taken(d);
  if (d->len < KEEL_ATTACH_HEADER)
    return 0;
  if (!known_type(d->buf[0]) || d->buf[1] || d->buf[2] || d->buf[3])
    return -EPROTO;
  uint32_t n = keel_attach_decode_u32(d->buf + 4);
  if (n > KEEL_ATTACH_MAX_PAYLOAD)
    return -EPROTO;
  if (d->len < KEEL_ATTACH_HEADER + (size_t)n)
    return 0;
  *type = d->buf[0];
  *payload = d->buf + KEEL_ATTACH_HEADER;
  *len = n;
  d->taken = KEEL_ATTACH_HEADER + (size_t)n;
  return 1;
}

int
keel_attach_send(int fd, enum keel_attach_type type, const void *payload, uint32_t len)
{
  uint8_t hdr[KEEL_ATTACH_HEADER];
  if (len > KEEL_ATTACH_MAX_PAYLOAD)
    return -EMSGSIZE;
  keel_attach_header(hdr, type, len);
  int r = keel_write_all(fd, hdr, sizeof(hdr));
  if (r == 0 && len)
    r = keel_write_all(fd, payload, len);
  return r;
}

void
keel_attach_encode_resize(uint8_t out[4], unsigned rows, unsigned cols)
{
  out[0] = (uint8_t)(rows >> 8);
  out[1] = (uint8_t)rows;
  out[2] = (uint8_t)(cols >> 8);
  out[3] = (uint8_t)cols;
}

int
keel_attach_decode_resize(const uint8_t *p, uint32_t len, unsigned *rows, unsigned *cols)
{
  if (len != 4)
    return -EPROTO;
  *rows = (unsigned)p[0] << 8 | p[1];
  *cols = (unsigned)p[2] << 8 | p[3];
  return 0;
}

int
keel_attach_connect(const char *state_dir, struct keel_error *err)
{
  _cleanup_close_ int dirfd = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open state directory '%s'", state_dir);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create a socket");
  /* sun_path holds 108 bytes; a state directory may be longer */
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, KEEL_ATTACH_SOCKET);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return keel_error_set_errno(err, -errno, "cannot connect to the monitor in '%s'", state_dir);
  return TAKE_FD(fd);
}
