#include "build/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

static bool
reserve(struct keel_buf *b, size_t extra)
{
  if (b->len + extra + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s)
    return false;
  b->s = s;
  b->cap = cap;
  return true;
}

bool
keel_buf_add(struct keel_buf *b, const char *s, size_t n)
{
  if (!reserve(b, n))
    return false;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
  return true;
}

bool
keel_buf_addc(struct keel_buf *b, char c)
{
  return keel_buf_add(b, &c, 1);
}

bool
keel_buf_adds(struct keel_buf *b, const char *s)
{
  return keel_buf_add(b, s, strlen(s));
}

bool
keel_buf_printf(struct keel_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  _cleanup_free_ char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return false;
  return keel_buf_add(b, s, (size_t)n);
}

char *
keel_buf_steal(struct keel_buf *b)
{
  char *s = b->s ? b->s : strdup("");
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

void
keel_buf_free(struct keel_buf *b)
{
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

bool
keel_strv_push(struct keel_strv *sv, char *s)
{
  if (!s)
    return false;
  if (sv->n + 2 > sv->cap)
    {
      size_t cap = sv->cap ? sv->cap * 2 : 8;
      char **v = realloc(sv->v, cap * sizeof(char *));
      if (!v)
        {
          free(s);
          return false;
        }
      sv->v = v;
      sv->cap = cap;
    }
  sv->v[sv->n++] = s;
  sv->v[sv->n] = NULL;
  return true;
}

bool
keel_strv_pushdup(struct keel_strv *sv, const char *s)
{
  return keel_strv_push(sv, strdup(s));
}

char **
keel_strv_steal(struct keel_strv *sv)
{
  char **v = sv->v ? sv->v : calloc(1, sizeof(char *));
  sv->v = NULL;
  sv->n = sv->cap = 0;
  return v;
}

void
keel_strv_clear(struct keel_strv *sv)
{
  keel_strv_free(sv->v);
  sv->v = NULL;
  sv->n = sv->cap = 0;
}

size_t
keel_strv_len(char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

char **
keel_strv_dup(char *const *v)
{
  struct keel_strv out = { 0 };
  for (size_t i = 0; v && v[i]; i++)
    if (!keel_strv_pushdup(&out, v[i]))
      {
        keel_strv_clear(&out);
        return NULL;
      }
  return keel_strv_steal(&out);
}
