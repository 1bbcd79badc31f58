/* systemd unit-file syntax: parsing into entries, word splitting, and the
 * quoting that makes a word survive systemd's own splitting. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cleanup.h"
#include "systemd/unitfile.h"

void
keel_unit_free(struct keel_unit *u)
{
  if (!u)
    return;
  for (size_t i = 0; i < u->n; i++)
    {
      free(u->v[i].section);
      free(u->v[i].key);
      free(u->v[i].value);
    }
  free(u->v);
  free(u);
}

static char *
trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

static int
add_entry(struct keel_unit *u, const char *section, const char *key, const char *value,
          unsigned line)
{
  struct keel_unit_entry *v = realloc(u->v, (u->n + 1) * sizeof(*v));
  if (!v)
    return -ENOMEM;
  u->v = v;
  v[u->n] = (struct keel_unit_entry){ strdup(section), strdup(key), strdup(value), line };
  if (!v[u->n].section || !v[u->n].key || !v[u->n].value)
    {
      free(v[u->n].section);
      free(v[u->n].key);
      free(v[u->n].value);
      return -ENOMEM;
    }
  u->n++;
  return 0;
}

/* One logical line (continuations joined) into u. */
static int
parse_line(struct keel_unit *u, char *line, char **section, const char *name, unsigned lineno,
           struct keel_error *err)
{
  char *s = trim(line);
  if (!*s || *s == '#' || *s == ';')
    return 0;
  if (*s == '[')
    {
      size_t n = strlen(s);
      if (s[n - 1] != ']' || n < 3 || strpbrk(s + 1, "[]") != s + n - 1)
        return keel_error_set(err, -EINVAL, "%s:%u: invalid section header '%s'", name, lineno, s);
      free(*section);
      *section = strndup(s + 1, n - 2);
      return *section ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
    }
  char *eq = strchr(s, '=');
  if (!eq)
    return keel_error_set(err, -EINVAL, "%s:%u: expected KEY=VALUE, got '%s'", name, lineno, s);
  if (!*section)
    return keel_error_set(err, -EINVAL, "%s:%u: assignment outside of any section", name, lineno);
  *eq = '\0';
  char *key = trim(s), *value = trim(eq + 1);
  if (!*key || strpbrk(key, " \t"))
    return keel_error_set(err, -EINVAL, "%s:%u: invalid key '%s'", name, lineno, key);
  if (add_entry(u, *section, key, value, lineno) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return 0;
}

int
keel_unit_parse(const char *text, const char *name, struct keel_unit **ret, struct keel_error *err)
{
  struct keel_unit *u = calloc(1, sizeof(*u));
  _cleanup_free_ char *section = NULL, *logical = NULL;
  size_t cap = 0, len = 0;
  unsigned lineno = 0, first = 0;
  int r = u ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
  for (const char *p = text; r >= 0 && p && *p;)
    {
      const char *nl = strchr(p, '\n');
      size_t n = nl ? (size_t)(nl - p) : strlen(p);
      lineno++;
      /* a comment inside a continued line is skipped, as systemd does */
      bool comment = len && (p[strspn(p, " \t")] == '#' || p[strspn(p, " \t")] == ';');
      if (!comment)
        {
          if (len + n + 2 > cap && !(logical = realloc(logical, cap = (len + n + 2) * 2)))
            r = keel_error_set(err, -ENOMEM, "out of memory");
          if (r < 0)
            break;
          if (!len)
            first = lineno;
          memcpy(logical + len, p, n);
          len += n;
          logical[len] = '\0';
          if (len && logical[len - 1] == '\\')
            logical[len - 1] = ' ';
          else
            {
              r = parse_line(u, logical, &section, name, first, err);
              len = 0;
            }
        }
      p = nl ? nl + 1 : NULL;
    }
  if (r >= 0 && len)
    r = parse_line(u, logical, &section, name, first, err);
  if (r < 0)
    {
      keel_unit_free(u);
      return r;
    }
  *ret = u;
  return 0;
}

const char *
keel_unit_get(const struct keel_unit *u, const char *section, const char *key)
{
  const char *v = NULL;
  for (size_t i = 0; i < u->n; i++)
    if (!strcmp(u->v[i].section, section) && !strcmp(u->v[i].key, key))
      v = u->v[i].value;
  return v;
}

int
keel_unit_parse_bool(const char *s, bool *ret)
{
  static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
  static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
  for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
    {
      if (!strcasecmp(s, yes[i]))
        return *ret = true, 0;
      if (!strcasecmp(s, no[i]))
        return *ret = false, 0;
    }
  return -EINVAL;
}

/* One escape after a backslash at *p; the decoded byte, -1 if invalid. */
static int
unescape(const char **p)
{
  static const char from[] = "abfnrtv\\\"' ", to[] = "\a\b\f\n\r\t\v\\\"' ";
  const char *hit = **p ? strchr(from, **p) : NULL;
  if (hit)
    {
      (*p)++;
      return to[hit - from];
    }
  if (**p == 'x' && isxdigit((unsigned char)(*p)[1]) && isxdigit((unsigned char)(*p)[2]))
    {
      char hex[3] = { (*p)[1], (*p)[2], 0 };
      *p += 3;
      return (int)strtol(hex, NULL, 16);
    }
  return -1;
}

static int
push_word(char ***v, size_t *n, char *w)
{
  char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
  if (!nv)
    {
      free(w);
      return -ENOMEM;
    }
  nv[(*n)++] = w;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

/* The word starting at *p into a new string; *p moves past it. */
static int
next_word(const char **p, char **ret, struct keel_error *err, const char *value)
{
  size_t len = strlen(*p);
  _cleanup_free_ char *w = malloc(len + 1);
  size_t n = 0;
  char quote = 0;
  if (!w)
    return keel_error_set(err, -ENOMEM, "out of memory");
  while (**p && (quote || !isspace((unsigned char)**p)))
    {
      char c = *(*p)++;
      if (!quote && (c == '"' || c == '\''))
        quote = c;
      else if (quote && c == quote)
        quote = 0;
      else if (c == '\\')
        {
          int d = unescape(p);
          if (d < 0)
            return keel_error_set(err, -EINVAL, "invalid escape in '%s'", value);
          w[n++] = (char)d;
        }
      else
        w[n++] = c;
    }
  if (quote)
    return keel_error_set(err, -EINVAL, "unterminated quote in '%s'", value);
  w[n] = '\0';
  *ret = TAKE_PTR(w);
  return 0;
}

int
keel_unit_split(const char *value, char ***ret, struct keel_error *err)
{
  _cleanup_strv_ char **v = calloc(1, sizeof(*v));
  size_t n = 0;
  const char *p = value;
  if (!v)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (;;)
    {
      while (isspace((unsigned char)*p))
        p++;
      if (!*p)
        break;
      char *w = NULL;
      int r = next_word(&p, &w, err, value);
      if (r < 0)
        return r;
      if (push_word(&v, &n, w) < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
    }
  *ret = TAKE_PTR(v);
  return 0;
}

int
keel_unit_quote_append(char **line, const char *word, bool keep_specifiers)
{
  size_t old = *line ? strlen(*line) : 0, len = strlen(word);
  /* worst case: every byte escaped as \xNN, plus quotes and a space */
  char *out = realloc(*line, old + len * 4 + 4);
  if (!out)
    return -ENOMEM;
  char *o = out + old;
  bool plain = *word && !strpbrk(word, " \t\n\"'\\;") && strcmp(word, ";");
  if (old)
    *o++ = ' ';
  if (!plain)
    *o++ = '"';
  for (const char *p = word; *p; p++)
    {
      unsigned char c = (unsigned char)*p;
      if (c == '"' || c == '\\')
        *o++ = '\\', *o++ = (char)c;
      else if (c < 0x20 || c == 0x7f)
        o += sprintf(o, "\\x%02x", c);
      else if (c == '$' || (c == '%' && !keep_specifiers))
        *o++ = (char)c, *o++ = (char)c; /* $$ and %% are systemd's literal $ and % */
      else
        *o++ = (char)c;
    }
  if (!plain)
    *o++ = '"';
  *o = '\0';
  *line = out;
  return 0;
}
