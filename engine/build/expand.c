#include "build/expand.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "build/buf.h"
#include "lib/cleanup.h"

/* The lexer walks the input once; `words` collects the split form, `cur` the
 * word being built, `any` whether the current word exists even if empty
 * text was added only through quotes (Docker drops empty words). */
struct lex
{
  const struct keel_expand *x;
  const char *p;
  bool raw;
  struct keel_buf cur;
  struct keel_strv words;
  struct keel_error *err;
};

static int
nomem(struct lex *l)
{
  return keel_error_set(l->err, ENOMEM, "out of memory");
}

static int
end_word(struct lex *l)
{
  if (l->cur.len == 0)
    return 0;
  if (!keel_strv_push(&l->words, keel_buf_steal(&l->cur)))
    return nomem(l);
  return 0;
}

/* Unquoted expansion results split on whitespace, as Docker's lexer does. */
static int
add_split(struct lex *l, const char *s)
{
  for (; *s; s++)
    {
      if (isspace((unsigned char)*s))
        {
          int r = end_word(l);
          if (r < 0)
            return r;
        }
      else if (!keel_buf_addc(&l->cur, *s))
        return nomem(l);
    }
  return 0;
}

static bool
name_start(char c)
{
  return isalpha((unsigned char)c) || c == '_';
}

static bool
name_char(char c)
{
  return isalnum((unsigned char)c) || c == '_';
}

static int expand_until(struct lex *l, char stop, struct keel_buf *out);

static int
apply_modifier(struct lex *l, const char *name, bool colon, char mod, const char *word,
               struct keel_buf *out)
{
  const char *v = l->x->lookup ? l->x->lookup(name, l->x->userdata) : NULL;
  bool set = v != NULL, nonempty = v && *v;
  bool have = colon ? nonempty : set;
  const char *res = NULL;
  switch (mod)
    {
    case '-':
      res = have ? v : word;
      break;
    case '+':
      res = have ? word : "";
      break;
    case '?':
      if (!have)
        return keel_error_set(l->err, EINVAL, "%s: %s", name, *word ? word : "is not set");
      res = v;
      break;
    default:
      return keel_error_set(l->err, EINVAL, "unsupported modifier '%c' in ${%s...}", mod, name);
    }
  if (!keel_buf_adds(out, res))
    return nomem(l);
  return 0;
}

/* After "${": NAME, then "}" or a modifier and a word up to the "}". */
static int
expand_braced(struct lex *l, struct keel_buf *out)
{
  const char *start = l->p;
  while (name_char(*l->p))
    l->p++;
  if (l->p == start)
    return keel_error_set(l->err, EINVAL, "bad substitution: '${%.20s'", start);
  _cleanup_free_ char *name = strndup(start, l->p - start);
  if (!name)
    return nomem(l);
  if (*l->p == '}')
    {
      l->p++;
      const char *v = l->x->lookup ? l->x->lookup(name, l->x->userdata) : NULL;
      return v && !keel_buf_adds(out, v) ? nomem(l) : 0;
    }
  bool colon = *l->p == ':';
  if (colon)
    l->p++;
  char mod = *l->p;
  if (mod != '-' && mod != '+' && mod != '?')
    return keel_error_set(l->err, EINVAL, "bad substitution: unsupported modifier in '${%s'", name);
  l->p++;
  struct keel_buf word = { 0 };
  int r = expand_until(l, '}', &word);
  if (r >= 0)
    r = apply_modifier(l, name, colon, mod, word.s ? word.s : "", out);
  keel_buf_free(&word);
  return r;
}

/* At a '$': append the expansion to out. */
static int
expand_dollar(struct lex *l, struct keel_buf *out)
{
  l->p++;
  if (*l->p == '{')
    {
      l->p++;
      return expand_braced(l, out);
    }
  if (!name_start(*l->p))
    return keel_buf_addc(out, '$') ? 0 : nomem(l);
  const char *start = l->p;
  while (name_char(*l->p))
    l->p++;
  _cleanup_free_ char *name = strndup(start, l->p - start);
  if (!name)
    return nomem(l);
  const char *v = l->x->lookup ? l->x->lookup(name, l->x->userdata) : NULL;
  return v && !keel_buf_adds(out, v) ? nomem(l) : 0;
}

static int
single_quote(struct lex *l, struct keel_buf *out)
{
  const char *end = strchr(++l->p, '\'');
  if (!end)
    return keel_error_set(l->err, EINVAL, "unexpected end of text: missing closing '");
  if (!keel_buf_add(out, l->p, end - l->p))
    return nomem(l);
  l->p = end + 1;
  return 0;
}

static int
double_quote(struct lex *l, struct keel_buf *out)
{
  l->p++;
  char esc = l->x->escape;
  for (;;)
    {
      char c = *l->p;
      if (!c)
        return keel_error_set(l->err, EINVAL, "unexpected end of text: missing closing \"");
      if (c == '"')
        {
          l->p++;
          return 0;
        }
      if (c == '$')
        {
          int r = expand_dollar(l, out);
          if (r < 0)
            return r;
          continue;
        }
      /* Inside double quotes the escape only protects ", $ and itself. */
      if (c == esc && (l->p[1] == '"' || l->p[1] == '$' || l->p[1] == esc))
        c = *++l->p;
      if (!keel_buf_addc(out, c))
        return nomem(l);
      l->p++;
    }
}

/* Expand into out until stop (consumed) or the end when stop is 0.  Quotes
 * inside ${VAR:-"a b"} are honoured. */
static int
expand_until(struct lex *l, char stop, struct keel_buf *out)
{
  char esc = l->x->escape;
  for (;;)
    {
      char c = *l->p;
      if (c == stop && stop)
        {
          l->p++;
          return 0;
        }
      if (!c)
        return stop ? keel_error_set(l->err, EINVAL, "unexpected end of text: missing '%c'", stop)
                    : 0;
      int r = 0;
      if (c == '$')
        r = expand_dollar(l, out);
      else if (c == '\'' && !l->raw)
        r = single_quote(l, out);
      else if (c == '"' && !l->raw)
        r = double_quote(l, out);
      else if (c == esc && l->p[1])
        {
          if (l->raw && !keel_buf_addc(out, c))
            return nomem(l);
          if (!keel_buf_addc(out, l->p[1]))
            return nomem(l);
          l->p += 2;
        }
      else
        {
          if (!(c == esc && !l->raw) && !keel_buf_addc(out, c))
            return nomem(l);
          l->p++;
        }
      if (r < 0)
        return r;
    }
}

int
keel_expand_word(const struct keel_expand *x, const char *in, char **ret, struct keel_error *err)
{
  struct lex l = { .x = x, .p = in, .err = err };
  int r = expand_until(&l, 0, &l.cur);
  if (r < 0)
    {
      keel_buf_free(&l.cur);
      return r;
    }
  *ret = keel_buf_steal(&l.cur);
  return *ret ? 0 : keel_error_set(err, ENOMEM, "out of memory");
}

int
keel_expand_raw(const struct keel_expand *x, const char *in, char **ret, struct keel_error *err)
{
  struct lex l = { .x = x, .p = in, .raw = true, .err = err };
  int r = expand_until(&l, 0, &l.cur);
  if (r < 0)
    {
      keel_buf_free(&l.cur);
      return r;
    }
  *ret = keel_buf_steal(&l.cur);
  return *ret ? 0 : keel_error_set(err, ENOMEM, "out of memory");
}

/* One step of the splitting lexer; returns < 0 on error. */
static int
words_step(struct lex *l)
{
  char c = *l->p, esc = l->x->escape;
  if (isspace((unsigned char)c))
    {
      l->p++;
      return end_word(l);
    }
  if (c == '$')
    {
      struct keel_buf v = { 0 };
      int r = expand_dollar(l, &v);
      if (r >= 0 && v.s)
        r = add_split(l, v.s);
      keel_buf_free(&v);
      return r;
    }
  if (c == '\'')
    return single_quote(l, &l->cur);
  if (c == '"')
    return double_quote(l, &l->cur);
  if (c == esc)
    {
      l->p++;
      if (!*l->p)
        return 0;
      c = *l->p;
    }
  l->p++;
  return keel_buf_addc(&l->cur, c) ? 0 : nomem(l);
}

int
keel_expand_words(const struct keel_expand *x, const char *in, char ***ret, struct keel_error *err)
{
  struct lex l = { .x = x, .p = in, .err = err };
  int r = 0;
  while (r >= 0 && *l.p)
    r = words_step(&l);
  if (r >= 0)
    r = end_word(&l);
  keel_buf_free(&l.cur);
  if (r < 0)
    {
      keel_strv_clear(&l.words);
      return r;
    }
  *ret = keel_strv_steal(&l.words);
  return *ret ? 0 : keel_error_set(err, ENOMEM, "out of memory");
}
