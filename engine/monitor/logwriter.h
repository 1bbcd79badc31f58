/* The container log as keel-monitor writes it.
 *
 * json-file: one JSON object per line, Docker's json-file format,
 *   {"time":"2024-05-01T10:00:00.123456789Z","stream":"stdout","log":"hello\n"}
 * A record holds one line of output with its "\n", or a piece of a line
 * without one: a line longer than KEEL_LOG_LINE_MAX is cut, and a last
 * line without a newline is written when the stream ends.  Concatenating
 * the "log" fields of one stream in order gives back its exact bytes
 * (invalid UTF-8 becomes U+FFFD).  With max_size set, a write that would
 * take the file past it first renames it to "<path>.1" (replacing the
 * previous one) and starts a new file: at most max_size bytes in each of
 * the two files.
 *
 * journald: the same records, one datagram each in journald's native
 * protocol (MESSAGE without the newline, PRIORITY 6 for stdout and 3 for
 * stderr, CONTAINER_ID, CONTAINER_NAME, SYSLOG_IDENTIFIER,
 * CONTAINER_PARTIAL_MESSAGE=true for pieces).  Written here rather than
 * through sd_journal_sendv(): dlopen()ing libsystemd (and libgcrypt,
 * liblzma, libzstd, liblz4, libcap with it) costs about 1.1 MiB of
 * resident memory, more than a monitor's whole budget, for what is one
 * sendmsg() of a documented format.
 *
 * none: output is read and dropped. */
#ifndef KEEL_MONITOR_LOGWRITER_H
#define KEEL_MONITOR_LOGWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/error.h"

#define KEEL_LOG_LINE_MAX   (16 * 1024)
#define KEEL_JOURNAL_SOCKET "/run/systemd/journal/socket"

enum keel_log_driver
{
  KEEL_LOG_DRIVER_JSON_FILE,
  KEEL_LOG_DRIVER_JOURNALD,
  KEEL_LOG_DRIVER_NONE,
};

enum keel_log_stream
{
  KEEL_LOG_STDOUT,
  KEEL_LOG_STDERR,
};

struct keel_logw_opts
{
  enum keel_log_driver driver;
  const char *path;  /* json-file */
  uint64_t max_size; /* json-file: 0 for no rotation */
  const char *id;    /* journald fields */
  const char *name;
  const char *journal_socket; /* journald: default KEEL_JOURNAL_SOCKET */
};

struct keel_logw_pending
{
  char *buf; /* an unfinished line, allocated while there is one */
  size_t len;
};

struct keel_logw
{
  enum keel_log_driver driver;
  int fd; /* the json-file, or the journal socket */
  char *path;
  uint64_t max_size, size;
  char *id, *name;
  struct keel_logw_pending pending[2];
};

/* Parse "json-file", "k8s-file" (an alias), "journald", "none". */
int keel_log_driver_parse(const char *s, enum keel_log_driver *ret);

int keel_logw_open(struct keel_logw *w, const struct keel_logw_opts *o, struct keel_error *err);
/* Take output of one stream; whole lines are written, the rest waits. */
int keel_logw_write(struct keel_logw *w, enum keel_log_stream stream, const char *data, size_t len,
                    const struct timespec *now);
/* Write what waits for a newline (the stream ended). */
int keel_logw_flush(struct keel_logw *w, const struct timespec *now);
void keel_logw_close(struct keel_logw *w);

/* RFC 3339 with nanoseconds in UTC: "2006-01-02T15:04:05.999999999Z". */
void keel_log_time(char out[40], const struct timespec *ts);

/* Format one json-file record (with its newline) into out; returns the
 * length, or the length needed when it is more than cap. */
size_t keel_log_format(char *out, size_t cap, const struct timespec *ts,
                       enum keel_log_stream stream, const char *data, size_t len);

#endif
