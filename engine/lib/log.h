/* Logging for main-level code only: library code never logs, it fills a
 * struct keel_error.  Messages go to stderr and, when a log file is set
 * (runc's --log), to that file as text or as runc-style JSON lines. */
#ifndef KEEL_LIB_LOG_H
#define KEEL_LIB_LOG_H

#include "lib/error.h"

enum keel_log_level
{
  KEEL_LOG_ERROR,
  KEEL_LOG_WARNING,
  KEEL_LOG_INFO,
  KEEL_LOG_DEBUG,
};

enum keel_log_format
{
  KEEL_LOG_TEXT,
  KEEL_LOG_JSON,
};

/* Program name used as the message prefix on stderr. */
void keel_log_init(const char *progname);
void keel_log_set_level(enum keel_log_level level);
/* Direct messages to path (appended) in the given format; stderr keeps errors. */
int keel_log_set_file(const char *path, enum keel_log_format format);
void keel_log(enum keel_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define keel_log_error(...)   keel_log(KEEL_LOG_ERROR, __VA_ARGS__)
#define keel_log_warning(...) keel_log(KEEL_LOG_WARNING, __VA_ARGS__)
#define keel_log_info(...)    keel_log(KEEL_LOG_INFO, __VA_ARGS__)
#define keel_log_debug(...)   keel_log(KEEL_LOG_DEBUG, __VA_ARGS__)

/* Log err's message at error level and return its (negative) code. */
int keel_log_keel_error(const struct keel_error *err);

#endif
