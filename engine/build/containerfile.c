/* The Containerfile lexer: parser directives at the top, comments, line
 * continuations with the escape character, heredoc bodies after their
 * instruction line; stages assembled from FROM lines. */
#include "build/containerfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build/buf.h"
#include "build/instr.h"
#include "lib/cleanup.h"

struct reader
{
  const char *p, *end;
  unsigned lineno; /* of the line last returned */
  const char *path;
  struct keel_error *err;
};

/* Next physical line without its "\n" / "\r\n"; false at the end. */
static bool
next_line(struct reader *rd, const char **line, size_t *len)
{
  if (rd->p >= rd->end)
    return false;
  const char *nl = memchr(rd->p, '\n', rd->end - rd->p);
  const char *e = nl ? nl : rd->end;
  *line = rd->p;
  *len = e - rd->p;
  if (*len && (*line)[*len - 1] == '\r')
    (*len)--;
  rd->p = nl ? nl + 1 : rd->end;
  rd->lineno++;
  return true;
}

static void
unread_line(struct reader *rd, const char *line)
{
  rd->p = line;
  rd->lineno--;
}

static int
fail(struct reader *rd, unsigned line, int code, const char *msg)
{
  return keel_error_set(rd->err, code, "%s:%u: %s", rd->path, line, msg);
}

static bool
blank(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isspace((unsigned char)s[i]))
      return false;
  return true;
}

static bool
comment(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && isspace((unsigned char)s[i]))
    i++;
  return i < n && s[i] == '#';
}

/* "# key=value" at the top of the file; returns 1 when the line was one. */
static int
directive(struct reader *rd, struct keel_containerfile *cf, const char *s, size_t n, bool *seen)
{
  char buf[256];
  if (n >= sizeof(buf) || !comment(s, n))
    return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *p = strchr(buf, '#') + 1;
  p += strspn(p, " \t");
  size_t kl = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
  char *q = p + kl;
  q += strspn(q, " \t");
  if (kl == 0 || *q != '=')
    return 0;
  char *v = q + 1;
  v += strspn(v, " \t");
  size_t vl = strlen(v);
  while (vl && isspace((unsigned char)v[vl - 1]))
    v[--vl] = '\0';
  int which = kl == 6 && strncasecmp(p, "escape", 6) == 0   ? 0
              : kl == 6 && strncasecmp(p, "syntax", 6) == 0 ? 1
              : kl == 5 && strncasecmp(p, "check", 5) == 0  ? 2
                                                            : -1;
  if (which < 0)
    return 0; /* an unknown directive reads as a comment and ends the directives */
  if (seen[which])
    return fail(rd, rd->lineno, EINVAL, "a parser directive may appear only once");
  seen[which] = true;
  if (which == 0)
    {
      if (strcmp(v, "\\") != 0 && strcmp(v, "`") != 0)
        return fail(rd, rd->lineno, EINVAL, "invalid escape directive: use \\ or `");
      cf->escape = *v;
    }
  else if (which == 1 && !(cf->syntax = strdup(v)))
    return fail(rd, rd->lineno, ENOMEM, "out of memory");
  return 1;
}

static int
read_directives(struct reader *rd, struct keel_containerfile *cf)
{
  bool seen[3] = { false, false, false };
  const char *s;
  size_t n;
  while (next_line(rd, &s, &n))
    {
      int r = directive(rd, cf, s, n, seen);
      if (r < 0)
        return r;
      if (r == 0)
        {
          unread_line(rd, s);
          return 0;
        }
    }
  return 0;
}

/* True when the line ends with the escape character (trailing blanks aside);
 * *keep is the length without it. */
static bool
continues(const char *s, size_t n, char esc, size_t *keep)
{
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n && s[n - 1] == esc)
    {
      *keep = n - 1;
      return true;
    }
  return false;
}

/* One logical line starting at the current physical line. */
static int
logical_line(struct reader *rd, const char *s, size_t n, char esc, char **ret)
{
  struct keel_buf b = { 0 };
  size_t keep;
  while (continues(s, n, esc, &keep))
    {
      if (!keel_buf_add(&b, s, keep))
        goto oom;
      /* Comment lines and empty lines inside a continuation are dropped. */
      do
        if (!next_line(rd, &s, &n))
          {
            *ret = keel_buf_steal(&b);
            return *ret ? 0 : -ENOMEM;
          }
      while (comment(s, n) || blank(s, n));
    }
  if (!keel_buf_add(&b, s, n))
    goto oom;
  *ret = keel_buf_steal(&b);
  return *ret ? 0 : -ENOMEM;
oom:
  keel_buf_free(&b);
  return -ENOMEM;
}

static int
read_heredoc(struct reader *rd, unsigned start, struct keel_cf_heredoc *h)
{
  struct keel_buf b = { 0 };
  const char *s;
  size_t n;
  while (next_line(rd, &s, &n))
    {
      if (h->strip_tabs)
        while (n && *s == '\t')
          s++, n--;
      if (n == strlen(h->delim) && memcmp(s, h->delim, n) == 0)
        {
          h->body = keel_buf_steal(&b);
          return h->body ? 0 : fail(rd, start, ENOMEM, "out of memory");
        }
      if (!keel_buf_add(&b, s, n) || !keel_buf_addc(&b, '\n'))
        {
          keel_buf_free(&b);
          return fail(rd, start, ENOMEM, "out of memory");
        }
    }
  keel_buf_free(&b);
  return keel_error_set(rd->err, EINVAL, "%s:%u: heredoc '%s' is not terminated", rd->path, start,
                        h->delim);
}

static int
read_instruction(struct reader *rd, char esc, const char *s, size_t n, struct keel_cf_instr *in)
{
  unsigned start = rd->lineno;
  _cleanup_free_ char *text = NULL;
  if (logical_line(rd, s, n, esc, &text) < 0)
    return fail(rd, start, ENOMEM, "out of memory");
  in->line = start;
  int r = keel_cf_instr_fill(in, text, esc, rd->err);
  if (r < 0)
    return keel_error_prefix(rd->err, "%s:%u", rd->path, start);
  for (size_t i = 0; i < in->n_heredocs; i++)
    {
      r = read_heredoc(rd, start, &in->heredocs[i]);
      if (r < 0)
        return r;
    }
  return 0;
}

static void
stage_clear(struct keel_cf_stage *st)
{
  for (size_t i = 0; i < st->n_instrs; i++)
    keel_cf_instr_clear(&st->instrs[i]);
  free(st->instrs);
  free(st->base);
  free(st->name);
  free(st->platform);
}

void
keel_containerfile_free(struct keel_containerfile *cf)
{
  if (!cf)
    return;
  for (size_t i = 0; i < cf->n_meta; i++)
    keel_cf_instr_clear(&cf->meta[i]);
  free(cf->meta);
  for (size_t i = 0; i < cf->n_stages; i++)
    stage_clear(&cf->stages[i]);
  free(cf->stages);
  free(cf->path);
  free(cf->syntax);
  free(cf);
}

static struct keel_cf_instr *
grow(struct keel_cf_instr **v, size_t *n)
{
  struct keel_cf_instr *nv = realloc(*v, (*n + 1) * sizeof(**v));
  if (!nv)
    return NULL;
  *v = nv;
  memset(&nv[*n], 0, sizeof(**v));
  return &nv[(*n)++];
}

static int
new_stage(struct reader *rd, struct keel_containerfile *cf, struct keel_cf_instr *from)
{
  struct keel_cf_stage *v = realloc(cf->stages, (cf->n_stages + 1) * sizeof(*v));
  if (!v)
    return fail(rd, from->line, ENOMEM, "out of memory");
  cf->stages = v;
  struct keel_cf_stage *st = &v[cf->n_stages++];
  memset(st, 0, sizeof(*st));
  st->index = cf->n_stages - 1;
  st->line = from->line;
  st->instrs = from;
  st->n_instrs = 1;
  _cleanup_strv_ char **words = NULL;
  if (keel_cf_split_raw(from->args, cf->escape, &words) < 0)
    return fail(rd, from->line, ENOMEM, "out of memory");
  const char *platform = keel_cf_flag_get(from, "platform");
  st->base = strdup(words[0]);
  st->platform = platform ? strdup(platform) : NULL;
  if (words[1])
    {
      st->name = strdup(words[2]);
      for (char *p = st->name; p && *p; p++)
        *p = tolower((unsigned char)*p);
      for (size_t i = 0; st->name && i + 1 < cf->n_stages; i++)
        if (cf->stages[i].name && strcmp(cf->stages[i].name, st->name) == 0)
          return keel_error_set(rd->err, EINVAL,
                                "%s:%u: duplicate stage name '%s' (first at line %u)", rd->path,
                                from->line, st->name, cf->stages[i].line);
    }
  if (!st->base || (words[1] && !st->name) || (platform && !st->platform))
    return fail(rd, from->line, ENOMEM, "out of memory");
  return 0;
}

/* Place a parsed instruction: FROM opens a stage, ARG before any FROM is a
 * global (meta) arg, anything else needs a stage. */
static int
place(struct reader *rd, struct keel_containerfile *cf, struct keel_cf_instr *tmp)
{
  if (tmp->cmd == KEEL_CF_FROM)
    {
      struct keel_cf_instr *from = malloc(sizeof(*from));
      if (!from)
        return fail(rd, tmp->line, ENOMEM, "out of memory");
      *from = *tmp;
      memset(tmp, 0, sizeof(*tmp));
      return new_stage(rd, cf, from);
    }
  struct keel_cf_instr *slot;
  if (cf->n_stages == 0)
    {
      if (tmp->cmd != KEEL_CF_ARG)
        return keel_error_set(rd->err, EINVAL,
                              "%s:%u: %s before the first FROM (only ARG may "
                              "come before FROM)",
                              rd->path, tmp->line, keel_cf_cmd_name(tmp->cmd));
      slot = grow(&cf->meta, &cf->n_meta);
    }
  else
    {
      struct keel_cf_stage *st = &cf->stages[cf->n_stages - 1];
      slot = grow(&st->instrs, &st->n_instrs);
    }
  if (!slot)
    return fail(rd, tmp->line, ENOMEM, "out of memory");
  *slot = *tmp;
  memset(tmp, 0, sizeof(*tmp));
  return 0;
}

static int
parse_body(struct reader *rd, struct keel_containerfile *cf)
{
  const char *s;
  size_t n;
  while (next_line(rd, &s, &n))
    {
      if (blank(s, n) || comment(s, n))
        continue;
      struct keel_cf_instr tmp = { 0 };
      int r = read_instruction(rd, cf->escape, s, n, &tmp);
      if (r >= 0)
        r = place(rd, cf, &tmp);
      keel_cf_instr_clear(&tmp);
      if (r < 0)
        return r;
    }
  if (cf->n_stages == 0)
    return keel_error_set(rd->err, EINVAL, "%s:%u: no FROM instruction", rd->path,
                          rd->lineno ? rd->lineno : 1);
  return 0;
}

int
keel_containerfile_parse(const char *path, const char *buf, size_t len,
                         struct keel_containerfile **ret, struct keel_error *err)
{
  struct keel_containerfile *cf = calloc(1, sizeof(*cf));
  if (!cf || !(cf->path = strdup(path)))
    {
      free(cf);
      return keel_error_set(err, ENOMEM, "out of memory");
    }
  cf->escape = '\\';
  struct reader rd = { .p = buf, .end = buf + len, .path = path, .err = err };
  if (memchr(buf, '\0', len))
    {
      keel_containerfile_free(cf);
      return keel_error_set(err, EINVAL, "%s:1: not a text file (contains NUL bytes)", path);
    }
  int r = read_directives(&rd, cf);
  if (r >= 0)
    r = parse_body(&rd, cf);
  if (r < 0)
    {
      keel_containerfile_free(cf);
      return r;
    }
  *ret = cf;
  return 0;
}

int
keel_cf_parse_line(const char *path, unsigned line, char escape, const char *text,
                   struct keel_cf_instr **ret, struct keel_error *err)
{
  int r = keel_cf_instr_parse(text, escape, ret, err);
  if (r < 0)
    return keel_error_prefix(err, "%s:%u", path, line);
  (*ret)->line = line;
  return 0;
}
