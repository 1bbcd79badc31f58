#include "build/ignore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "build/buf.h"
#include "lib/cleanup.h"
#include "lib/digest.h"
#include "lib/fs.h"
#include "lib/path.h"

struct rule
{
  char *pattern;
  bool exception;
};

struct keel_ignore
{
  struct rule *rules;
  size_t n;
  bool exceptions;
  char digest[KEEL_DIGEST_MAX];
};

/* A bracket expression at p ('[' already consumed); *end past ']'.
 * Returns 1 match, 0 no match, -EINVAL malformed. */
static int
match_class(const char *p, char c, const char **end)
{
  bool neg = *p == '^';
  p += neg;
  bool matched = false, first = true;
  while (first || *p != ']')
    {
      first = false;
      if (!*p)
        return -EINVAL;
      char lo = *p++;
      if (lo == '\\' && !(lo = *p++))
        return -EINVAL;
      char hi = lo;
      if (*p == '-' && p[1] != ']')
        {
          p++;
          hi = *p++;
          if (hi == '\\' && !(hi = *p++))
            return -EINVAL;
          if (!hi)
            return -EINVAL;
        }
      if (lo <= c && c <= hi)
        matched = true;
    }
  *end = p + 1;
  return matched != neg;
}

/* Checks the rest of a pattern for syntax errors (Go reports bad patterns
 * even when an earlier part already failed to match). */
static int
check_syntax(const char *p)
{
  for (; *p; p++)
    {
      if (*p == '\\' && !*++p)
        return -EINVAL;
      if (*p == '[')
        {
          const char *end;
          if (match_class(p + 1, 'a', &end) < 0)
            return -EINVAL;
          p = end - 1;
        }
    }
  return 0;
}

static int
match_here(const char *p, const char *s)
{
  for (;;)
    {
      if (!*p)
        return *s == '\0';
      if (p[0] == '*' && p[1] == '*')
        {
          while (*p == '*')
            p++;
          /* "**" then "/": zero or more whole directories. */
          if (*p == '/')
            {
              int r = match_here(p + 1, s);
              for (const char *q = s; r == 0 && *q; q++)
                if (*q == '/')
                  r = match_here(p + 1, q + 1);
              return r;
            }
          for (const char *q = s;; q++)
            {
              int r = match_here(p, q);
              if (r != 0 || !*q)
                return r;
            }
        }
      if (*p == '*')
        {
          p++;
          for (const char *q = s;; q++)
            {
              int r = match_here(p, q);
              if (r != 0 || !*q || *q == '/')
                return r;
            }
        }
      if (!*s)
        return check_syntax(p) < 0 ? -EINVAL : 0;
      if (*p == '?')
        {
          if (*s == '/')
            return check_syntax(p) < 0 ? -EINVAL : 0;
          p++, s++;
          continue;
        }
      if (*p == '[')
        {
          const char *end;
          int r = *s == '/' ? 0 : match_class(p + 1, *s, &end);
          if (*s == '/' && check_syntax(p) < 0)
            return -EINVAL;
          if (r <= 0)
            return r < 0 ? r : (check_syntax(p) < 0 ? -EINVAL : 0);
          p = end, s++;
          continue;
        }
      if (*p == '\\' && !*++p)
        return -EINVAL;
      if (*p != *s)
        return check_syntax(p) < 0 ? -EINVAL : 0;
      p++, s++;
    }
}

int
keel_ignore_match(const char *pattern, const char *path)
{
  return match_here(pattern, path);
}

static int
add_rule(struct keel_ignore *ig, const char *line, const char *name, unsigned lineno,
         struct keel_error *err)
{
  bool exception = *line == '!';
  if (exception)
    line++;
  while (*line == ' ' || *line == '\t')
    line++;
  if (!*line)
    return 0;
  /* Clean as an absolute path so "a/../b" and "/a" read as "b" and "a". */
  char abs[4096], clean[4096];
  if ((size_t)snprintf(abs, sizeof(abs), "/%s", line) >= sizeof(abs)
      || keel_path_clean(abs, clean, sizeof(clean)) < 0)
    return keel_error_set(err, EINVAL, "%s:%u: pattern too long", name, lineno);
  const char *p = clean;
  while (*p == '/')
    p++;
  if (!*p)
    p = ".";
  if (check_syntax(p) < 0)
    return keel_error_set(err, EINVAL, "%s:%u: bad pattern '%s'", name, lineno, line);
  struct rule *v = realloc(ig->rules, (ig->n + 1) * sizeof(*v));
  if (!v)
    return keel_error_set(err, ENOMEM, "out of memory");
  ig->rules = v;
  v[ig->n].pattern = strdup(p);
  v[ig->n].exception = exception;
  if (!v[ig->n].pattern)
    return keel_error_set(err, ENOMEM, "out of memory");
  ig->n++;
  ig->exceptions |= exception;
  return 0;
}

int
keel_ignore_parse(const char *name, const char *text, struct keel_ignore **ret,
                  struct keel_error *err)
{
  struct keel_ignore *ig = calloc(1, sizeof(*ig));
  if (!ig)
    return keel_error_set(err, ENOMEM, "out of memory");
  unsigned lineno = 0;
  int r = 0;
  for (const char *p = text; r >= 0 && *p;)
    {
      size_t n = strcspn(p, "\n");
      _cleanup_free_ char *line = strndup(p, n);
      p += n + (p[n] == '\n');
      lineno++;
      if (!line)
        r = keel_error_set(err, ENOMEM, "out of memory");
      else
        {
          /* Surrounding whitespace goes; '#' lines are comments. */
          char *s = line + strspn(line, " \t\r");
          size_t l = strlen(s);
          while (l && strchr(" \t\r", s[l - 1]))
            s[--l] = '\0';
          if (*s && *s != '#')
            r = add_rule(ig, s, name, lineno, err);
        }
    }
  if (r >= 0)
    r = keel_digest_buffer(text, strlen(text), ig->digest);
  if (r < 0)
    {
      keel_ignore_free(ig);
      return r;
    }
  *ret = ig;
  return 0;
}

int
keel_ignore_load(int context_fd, const char *context_path, struct keel_ignore **ret,
                 const char **ret_name, struct keel_error *err)
{
  static const char *const names[] = { ".containerignore", ".dockerignore" };
  for (size_t i = 0; i < 2; i++)
    {
      _cleanup_free_ char *text = NULL;
      size_t len;
      int r = keel_read_file(context_fd, names[i], 1 << 20, &text, &len);
      if (r == -ENOENT)
        continue;
      if (r < 0)
        return keel_error_set_errno(err, r, "%s/%s: cannot read", context_path, names[i]);
      if (ret_name)
        *ret_name = names[i];
      return keel_ignore_parse(names[i], text, ret, err);
    }
  if (ret_name)
    *ret_name = NULL;
  return keel_ignore_parse("(none)", "", ret, err);
}

void
keel_ignore_free(struct keel_ignore *ig)
{
  if (!ig)
    return;
  for (size_t i = 0; i < ig->n; i++)
    free(ig->rules[i].pattern);
  free(ig->rules);
  free(ig);
}

/* The pattern matches path or one of its parent directories. */
static bool
rule_matches(const struct rule *rl, const char *path)
{
  if (match_here(rl->pattern, path) == 1)
    return true;
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof(buf))
    return false;
  memcpy(buf, path, n + 1);
  for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/'))
    {
      *slash = '\0';
      bool m = match_here(rl->pattern, buf) == 1;
      *slash = '/';
      if (m)
        return true;
    }
  return false;
}

bool
keel_ignore_excluded(const struct keel_ignore *ig, const char *path)
{
  bool excluded = false;
  for (size_t i = 0; ig && i < ig->n; i++)
    if (rule_matches(&ig->rules[i], path))
      excluded = !ig->rules[i].exception;
  return excluded;
}

bool
keel_ignore_has_exceptions(const struct keel_ignore *ig)
{
  return ig && ig->exceptions;
}

const char *
keel_ignore_digest(const struct keel_ignore *ig)
{
  return ig->digest;
}
