#include "monitor/logwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

static const char *const stream_names[] = { "stdout", "stderr" };

int
keel_log_driver_parse(const char *s, enum keel_log_driver *ret)
{
  if (!strcmp(s, "json-file") || !strcmp(s, "k8s-file"))
    *ret = KEEL_LOG_DRIVER_JSON_FILE;
  else if (!strcmp(s, "journald"))
    *ret = KEEL_LOG_DRIVER_JOURNALD;
  else if (!strcmp(s, "none"))
    *ret = KEEL_LOG_DRIVER_NONE;
  else
    return -EINVAL;
  return 0;
}

void
keel_log_time(char out[40], const struct timespec *ts)
{
  struct tm tm;
  time_t t = ts->tv_sec;
  gmtime_r(&t, &tm);
  snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)ts->tv_nsec);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
  unsigned char c = p[0];
  size_t len;
  unsigned min;
  unsigned cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++)
    {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (p[i] & 0x3f);
    }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* Append a JSON string body (no quotes) for data to out at *o. */
static void
json_escape(char *out, size_t cap, size_t *o, const char *data, size_t len)
{
  const unsigned char *p = (const unsigned char *)data;
  for (size_t i = 0; i < len;)
    {
      char tmp[8];
      const char *s = tmp;
      size_t sl;
      unsigned char c = p[i];
      size_t seq = utf8_seq(p + i, len - i);
      if (c == '"' || c == '\\')
        tmp[0] = '\\', tmp[1] = (char)c, sl = 2;
      else if (c == '\n')
        s = "\\n", sl = 2;
      else if (c == '\r')
        s = "\\r", sl = 2;
      else if (c == '\t')
        s = "\\t", sl = 2;
      else if (c < 0x20 || c == 0x7f)
        sl = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
      else if (seq == 0)
        s = "\xef\xbf\xbd", sl = 3, seq = 1; /* U+FFFD for a bad byte */
      else
        s = data + i, sl = seq;
      if (*o + sl <= cap)
        memcpy(out + *o, s, sl);
      *o += sl;
      i += seq ? seq : 1;
    }
}

static void
put(char *out, size_t cap, size_t *o, const char *s)
{
  size_t n = strlen(s);
  if (*o + n <= cap)
    memcpy(out + *o, s, n);
  *o += n;
}

size_t
keel_log_format(char *out, size_t cap, const struct timespec *ts, enum keel_log_stream stream,
                const char *data, size_t len)
{
  char t[40];
  size_t o = 0;
  keel_log_time(t, ts);
  put(out, cap, &o, "{\"time\":\"");
  put(out, cap, &o, t);
  put(out, cap, &o, "\",\"stream\":\"");
  put(out, cap, &o, stream_names[stream]);
  put(out, cap, &o, "\",\"log\":\"");
  json_escape(out, cap, &o, data, len);
  put(out, cap, &o, "\"}\n");
  return o;
}

static int
open_log(struct keel_logw *w)
{
  w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
  if (w->fd < 0)
    return -errno;
  struct stat st;
  w->size = fstat(w->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
  return 0;
}

/* Keep one rotated file: <path>.1 replaced by the current file. */
static int
rotate(struct keel_logw *w)
{
  char old[4096];
  snprintf(old, sizeof(old), "%s.1", w->path);
  if (rename(w->path, old) < 0)
    return -errno;
  close(w->fd);
  return open_log(w);
}

static int
write_record_file(struct keel_logw *w, enum keel_log_stream stream, const char *data, size_t len,
                  const struct timespec *now)
{
  char small[4096];
  _cleanup_free_ char *big = NULL;
  char *out = small;
  size_t n = keel_log_format(small, sizeof(small), now, stream, data, len);
  if (n > sizeof(small))
    {
      if (!(out = big = malloc(n)))
        return -ENOMEM;
      keel_log_format(out, n, now, stream, data, len);
    }
  if (w->max_size && w->size > 0 && w->size + n > w->max_size)
    {
      int r = rotate(w);
      if (r < 0)
        return r;
    }
  int r = keel_write_all(w->fd, out, n);
  if (r < 0)
    return r;
  w->size += n;
  return 0;
}

/* Append one journal field in the native protocol: KEY=VALUE\n, or for
 * a value that may hold a newline KEY\n, its length as 64-bit little
 * endian, the value and \n. */
static size_t
journal_field(char *out, const char *key, const char *val, size_t len)
{
  size_t k = strlen(key), o = 0;
  memcpy(out, key, k), o += k;
  if (!memchr(val, '\n', len))
    {
      out[o++] = '=';
      memcpy(out + o, val, len), o += len;
    }
  else
    {
      out[o++] = '\n';
      for (int i = 0; i < 8; i++)
        out[o++] = (char)(((uint64_t)len >> (8 * i)) & 0xff);
      memcpy(out + o, val, len), o += len;
    }
  out[o++] = '\n';
  return o;
}

/* One record as one datagram to journald. */
static int
write_record_journal(struct keel_logw *w, enum keel_log_stream stream, const char *data, size_t len)
{
  bool partial = len == 0 || data[len - 1] != '\n';
  size_t mlen = partial ? len : len - 1;
  const char *name = w->name ? w->name : w->id;
  _cleanup_free_ char *buf = malloc(mlen + strlen(w->id) + strlen(name) + 256);
  if (!buf)
    return -ENOMEM;
  size_t o = journal_field(buf, "MESSAGE", data, mlen);
  o += journal_field(buf + o, "PRIORITY", stream == KEEL_LOG_STDOUT ? "6" : "3", 1);
  o += journal_field(buf + o, "CONTAINER_ID", w->id, strlen(w->id));
  o += journal_field(buf + o, "CONTAINER_NAME", name, strlen(name));
  o += journal_field(buf + o, "SYSLOG_IDENTIFIER", name, strlen(name));
  if (partial)
    o += journal_field(buf + o, "CONTAINER_PARTIAL_MESSAGE", "true", 4);
  if (send(w->fd, buf, o, MSG_NOSIGNAL) < 0)
    return -errno;
  return 0;
}

static int
emit(struct keel_logw *w, enum keel_log_stream stream, const char *data, size_t len,
     const struct timespec *now)
{
  switch (w->driver)
    {
    case KEEL_LOG_DRIVER_JSON_FILE:
      return write_record_file(w, stream, data, len, now);
    case KEEL_LOG_DRIVER_JOURNALD:
      return write_record_journal(w, stream, data, len);
    default:
      return 0;
    }
}

int
keel_logw_write(struct keel_logw *w, enum keel_log_stream stream, const char *data, size_t len,
                const struct timespec *now)
{
  struct keel_logw_pending *p = &w->pending[stream];
  if (w->driver == KEEL_LOG_DRIVER_NONE)
    return 0;
  while (len > 0)
    {
      const char *nl = memchr(data, '\n', len);
      size_t take = nl ? (size_t)(nl - data) + 1 : len;
      bool complete = nl != NULL;
      if (p->len + take >= KEEL_LOG_LINE_MAX)
        {
          /* a line too long for one record is cut into pieces */
          complete = true;
          take = KEEL_LOG_LINE_MAX - p->len;
        }
      int r = 0;
      if (complete && p->len == 0)
        r = emit(w, stream, data, take, now);
      else
        {
          if (!p->buf && !(p->buf = malloc(KEEL_LOG_LINE_MAX)))
            return -ENOMEM;
          memcpy(p->buf + p->len, data, take);
          p->len += take;
          if (complete)
            {
              r = emit(w, stream, p->buf, p->len, now);
              free(p->buf);
              p->buf = NULL;
              p->len = 0;
            }
        }
      if (r < 0)
        return r;
      data += take;
      len -= take;
    }
  return 0;
}

int
keel_logw_flush(struct keel_logw *w, const struct timespec *now)
{
  int ret = 0;
  for (int s = 0; s < 2; s++)
    {
      struct keel_logw_pending *p = &w->pending[s];
      if (p->len)
        {
          int r = emit(w, (enum keel_log_stream)s, p->buf, p->len, now);
          if (r < 0)
            ret = r;
        }
      free(p->buf);
      p->buf = NULL;
      p->len = 0;
    }
  return ret;
}

static int
journal_open(struct keel_logw *w, const char *path, struct keel_error *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (!w->id)
    return keel_error_set(err, -EINVAL, "log driver journald needs the container id");
  if (strlen(path) >= sizeof(sa.sun_path))
    return keel_error_set(err, -ENAMETOOLONG, "journal socket path too long: '%s'", path);
  strcpy(sa.sun_path, path);
  w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (w->fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create a socket for journald");
  if (connect(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return keel_error_set_errno(err, -errno, "log driver journald: cannot reach '%s'", path);
  /* the kernel's default datagram size is too small for a 16 KiB line */
  int size = 8 * 1024 * 1024;
  setsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  return 0;
}

int
keel_logw_open(struct keel_logw *w, const struct keel_logw_opts *o, struct keel_error *err)
{
  *w = (struct keel_logw){ .driver = o->driver, .fd = -EBADF, .max_size = o->max_size };
  if ((o->id && !(w->id = strdup(o->id))) || (o->name && !(w->name = strdup(o->name))))
    return keel_error_set(err, -ENOMEM, "out of memory");
  if (o->driver == KEEL_LOG_DRIVER_JOURNALD)
    return journal_open(w, o->journal_socket ? o->journal_socket : KEEL_JOURNAL_SOCKET, err);
  if (o->driver != KEEL_LOG_DRIVER_JSON_FILE)
    return 0;
  if (!o->path)
    return keel_error_set(err, -EINVAL, "log driver json-file needs a log path");
  if (!(w->path = strdup(o->path)))
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = open_log(w);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot open log file '%s'", o->path);
  return 0;
}

void
keel_logw_close(struct keel_logw *w)
{
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -EBADF;
  for (int s = 0; s < 2; s++)
    {
      free(w->pending[s].buf);
      w->pending[s] = (struct keel_logw_pending){ 0 };
    }
  free(w->path);
  free(w->id);
  free(w->name);
  w->path = w->id = w->name = NULL;
}
