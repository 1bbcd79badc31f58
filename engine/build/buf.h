/* A growable string and a growable string vector, the two containers the
 * Containerfile front end builds everything from.  Allocation failure is
 * reported by a false return (the caller maps it to -ENOMEM). */
#ifndef KEEL_BUILD_BUF_H
#define KEEL_BUILD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct keel_buf
{
  char *s; /* NUL-terminated once anything was added; may be NULL while empty */
  size_t len, cap;
};

bool keel_buf_add(struct keel_buf *b, const char *s, size_t n);
bool keel_buf_addc(struct keel_buf *b, char c);
bool keel_buf_adds(struct keel_buf *b, const char *s);
bool keel_buf_printf(struct keel_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the string to the caller (never NULL on success: "" when empty). */
char *keel_buf_steal(struct keel_buf *b);
void keel_buf_free(struct keel_buf *b);

struct keel_strv
{
  char **v; /* NULL-terminated when n > 0 */
  size_t n, cap;
};

/* Takes ownership of s (freed on failure). */
bool keel_strv_push(struct keel_strv *sv, char *s);
bool keel_strv_pushdup(struct keel_strv *sv, const char *s);
/* Hand the NULL-terminated vector to the caller (an empty vector when n == 0). */
char **keel_strv_steal(struct keel_strv *sv);
void keel_strv_clear(struct keel_strv *sv);
size_t keel_strv_len(char *const *v);
char **keel_strv_dup(char *const *v);

#endif
