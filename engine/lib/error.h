/* The engine's error type.  Functions return int: >= 0 success, -errno
 * failure.  When a caller passes a struct keel_error, the failing function
 * fills it with one human line through keel_error_set*(), which returns the
 * same negative code, so the number and the message always agree. */
#ifndef KEEL_LIB_ERROR_H
#define KEEL_LIB_ERROR_H

#include <stdarg.h>

struct keel_error
{
  int code; /* negative errno, 0 when unset */
  char msg[1024];
};

#define KEEL_ERROR_INIT                                                                            \
  {                                                                                                \
    0,                                                                                             \
    {                                                                                              \
      0                                                                                            \
    }                                                                                              \
  }

/* Record "fmt..." with code (given as positive or negative errno); returns -|code|. */
int keel_error_set(struct keel_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like keel_error_set, then appends ": <strerror(code)>". */
int keel_error_set_errno(struct keel_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "fmt...: " in front of an existing message; returns err->code. */
int keel_error_prefix(struct keel_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clear a reused error. */
void keel_error_clear(struct keel_error *err);

#endif
