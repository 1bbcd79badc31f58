#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "keel";
static enum keel_log_level max_level = KEEL_LOG_WARNING;
static int log_fd = -1;
static enum keel_log_format log_format = KEEL_LOG_TEXT;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void
keel_log_init(const char *progname)
{
  prog = progname;
}

void
keel_log_set_level(enum keel_log_level level)
{
  max_level = level;
}

int
keel_log_set_file(const char *path, enum keel_log_format format)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  if (log_fd >= 0)
    close(log_fd);
  log_fd = fd;
  log_format = format;
  return 0;
}

/* JSON string escaping for the few characters a message can carry. */
static void
json_escape(char *out, size_t size, const char *in)
{
  size_t o = 0;
  for (; *in && o + 7 < size; in++)
    {
      unsigned char c = (unsigned char)*in;
      if (c == '"' || c == '\\')
        {
          out[o++] = '\\';
          out[o++] = (char)c;
        }
      else if (c < 0x20)
        o += snprintf(out + o, size - o, "\\u%04x", c);
      else
        out[o++] = (char)c;
    }
  out[o] = '\0';
}

static void
write_file_line(enum keel_log_level level, const char *msg)
{
  char line[4096];
  int n;
  if (log_format == KEEL_LOG_JSON)
    {
      char esc[3000], ts[64];
      struct timespec now;
      struct tm tm;
      clock_gettime(CLOCK_REALTIME, &now);
      gmtime_r(&now.tv_sec, &tm);
      size_t t = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf(ts + t, sizeof(ts) - t, ".%09ldZ", now.tv_nsec);
      json_escape(esc, sizeof(esc), msg);
      n = snprintf(line, sizeof(line), "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
                   level_names[level], esc, ts);
    }
  else
    n = snprintf(line, sizeof(line), "%s: %s\n", level_names[level], msg);
  if (n > 0)
    {
      ssize_t w = write(log_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
      (void)w;
    }
}

void
keel_log(enum keel_log_level level, const char *fmt, ...)
{
  if (level > max_level && !(log_fd >= 0 && level <= KEEL_LOG_INFO))
    return;
  int saved = errno;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (log_fd >= 0)
    write_file_line(level, msg);
  if (level <= max_level)
    {
      if (level == KEEL_LOG_ERROR)
        fprintf(stderr, "%s: %s\n", prog, msg);
      else
        fprintf(stderr, "%s: %s: %s\n", prog, level_names[level], msg);
    }
  errno = saved;
}

int
keel_log_keel_error(const struct keel_error *err)
{
  keel_log_error("%s", err->msg[0] ? err->msg : strerror(err->code < 0 ? -err->code : EIO));
  return err->code < 0 ? err->code : -EIO;
}
