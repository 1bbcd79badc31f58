#include "lib/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A caller that forgot the code still gets a failure, never a success. */
static int
negative(int code)
{
  if (code == 0)
    return -EIO;
  return code < 0 ? code : -code;
}

static int
vset(struct keel_error *err, int code, int with_errno, const char *fmt, va_list ap)
{
  code = negative(code);
  if (!err)
    return code;
  err->code = code;
  int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  if (n < 0)
    n = 0;
  if (with_errno && (size_t)n < sizeof(err->msg))
    snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(-code));
  return code;
}

int
keel_error_set(struct keel_error *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = vset(err, code, 0, fmt, ap);
  va_end(ap);
  return r;
}

int
keel_error_set_errno(struct keel_error *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = vset(err, code, 1, fmt, ap);
  va_end(ap);
  return r;
}

int
keel_error_prefix(struct keel_error *err, const char *fmt, ...)
{
  if (!err)
    return -EIO;
  char prefix[512], old[sizeof(err->msg)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof(prefix), fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof(old));
  snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
  return negative(err->code);
}

void
keel_error_clear(struct keel_error *err)
{
  if (err)
    {
      err->code = 0;
      err->msg[0] = '\0';
    }
}
