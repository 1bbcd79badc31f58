/* registries.conf: a TOML-subset parser and the lookups the registry
 * client needs.  See config.h for the format and the rules. */
#include "registry/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

#define CONF_MAX (4 << 20) /* a registries.conf larger than this is not one */

enum pull_from
{
  PULL_ALL,
  PULL_DIGEST_ONLY,
  PULL_TAG_ONLY,
};

struct mirror
{
  char *location;
  bool insecure;
  enum pull_from pull_from;
  unsigned line;
};

struct registry
{
  char *prefix;
  char *location;
  bool insecure, blocked, digest_only;
  struct mirror *mirrors;
  size_t n_mirrors;
  unsigned line;
};

struct keel_registries_conf
{
  char **search;
  char **notes;
  struct registry *regs;
  size_t n_regs;
};

enum table
{
  T_ROOT,
  T_REGISTRY,
  T_MIRROR,
  T_IGNORED,
};

struct parser
{
  const char *p, *end, *file;
  unsigned line;
  enum table table;
  char seen[64][64]; /* keys of the current table, to refuse duplicates */
  size_t n_seen;
  struct keel_registries_conf *c;
  struct keel_error *err;
};

enum vtype
{
  V_STRING,
  V_BOOL,
  V_ARRAY,
};

struct value
{
  enum vtype type;
  char *s;
  bool b;
  char **arr;
  unsigned line;
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *ps, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return keel_error_set(ps->err, -EINVAL, "%s:%u: %s", ps->file, ps->line, msg);
}

static int
strv_push(char ***v, char *s)
{
  size_t n = 0;
  while (*v && (*v)[n])
    n++;
  char **nv = realloc(*v, (n + 2) * sizeof(char *));
  if (!nv)
    {
      free(s);
      return -ENOMEM;
    }
  nv[n] = s;
  nv[n + 1] = NULL;
  *v = nv;
  return 0;
}

static void
value_clear(struct value *v)
{
  free(v->s);
  keel_strv_free(v->arr);
  v->s = NULL;
  v->arr = NULL;
}

static void
skip_blank(struct parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
    ps->p++;
}

/* Blanks, newlines and comments: what may sit between array elements. */
static void
skip_space(struct parser *ps)
{
  for (;;)
    {
      skip_blank(ps);
      if (ps->p < ps->end && *ps->p == '#')
        while (ps->p < ps->end && *ps->p != '\n')
          ps->p++;
      if (ps->p < ps->end && *ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
        ps->p++;
      if (ps->p < ps->end && *ps->p == '\n')
        {
          ps->p++;
          ps->line++;
          continue;
        }
      return;
    }
}

/* After a statement: blanks, an optional comment, then a newline or EOF. */
static int
expect_eol(struct parser *ps)
{
  skip_blank(ps);
  if (ps->p < ps->end && *ps->p == '#')
    while (ps->p < ps->end && *ps->p != '\n')
      ps->p++;
  if (ps->p < ps->end && *ps->p == '\r')
    ps->p++;
  if (ps->p >= ps->end)
    return 0;
  if (*ps->p != '\n')
    return perr(ps, "unexpected '%c' after the value; expected the end of the line", *ps->p);
  ps->p++;
  ps->line++;
  return 0;
}

static void
put_utf8(char **o, unsigned long cp)
{
  char *q = *o;
  if (cp < 0x80)
    *q++ = (char)cp;
  else if (cp < 0x800)
    *q++ = (char)(0xc0 | cp >> 6), *q++ = (char)(0x80 | (cp & 0x3f));
  else if (cp < 0x10000)
    *q++ = (char)(0xe0 | cp >> 12), *q++ = (char)(0x80 | (cp >> 6 & 0x3f)),
    *q++ = (char)(0x80 | (cp & 0x3f));
  else
    *q++ = (char)(0xf0 | cp >> 18), *q++ = (char)(0x80 | (cp >> 12 & 0x3f)),
    *q++ = (char)(0x80 | (cp >> 6 & 0x3f)), *q++ = (char)(0x80 | (cp & 0x3f));
  *o = q;
}

/* One escape after a backslash in a basic string; advances ps->p. */
static int
parse_escape(struct parser *ps, char **o)
{
  static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
  char c = *ps->p++;
  const char *k = c ? strchr(from, c) : NULL;
  if (k)
    {
      *(*o)++ = to[k - from];
      return 0;
    }
  if (c != 'u' && c != 'U')
    return perr(ps, "invalid escape '\\%c' in a string", c);
  int digits = c == 'u' ? 4 : 8;
  unsigned long cp = 0;
  for (int i = 0; i < digits; i++, ps->p++)
    {
      char h = ps->p < ps->end ? *ps->p : 0;
      int d = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (d < 0)
        return perr(ps, "invalid \\%c escape: %d hex digits expected", c, digits);
      cp = cp << 4 | (unsigned long)d;
    }
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return perr(ps, "invalid unicode escape U+%lX", cp);
  put_utf8(o, cp);
  return 0;
}

/* A "basic" or 'literal' string on one line; ps->p at the quote. */
static int
parse_string(struct parser *ps, char **ret)
{
  char q = *ps->p++;
  if (ps->end - ps->p >= 2 && ps->p[0] == q && ps->p[1] == q)
    return perr(ps, "multi-line strings are not supported");
  _cleanup_free_ char *buf = malloc((size_t)(ps->end - ps->p) * 2 + 1);
  char *o = buf;
  if (!buf)
    return -ENOMEM;
  for (;;)
    {
      if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r')
        return perr(ps, "unterminated string");
      char c = *ps->p++;
      if (c == q)
        break;
      if ((unsigned char)c < 0x20 && c != '\t')
        return perr(ps, "control character 0x%02x in a string", (unsigned char)c);
      if (c == '\\' && q == '"')
        {
          int r = parse_escape(ps, &o);
          if (r < 0)
            return r;
          continue;
        }
      *o++ = c;
    }
  *o = '\0';
  *ret = TAKE_PTR(buf);
  return 0;
}

static int parse_value(struct parser *ps, struct value *v);

/* [ "a", "b", ] over any number of lines; ps->p at '['. */
static int
parse_array(struct parser *ps, struct value *v)
{
  v->type = V_ARRAY;
  v->arr = calloc(1, sizeof(char *));
  if (!v->arr)
    return -ENOMEM;
  ps->p++;
  for (;;)
    {
      skip_space(ps);
      if (ps->p >= ps->end)
        return perr(ps, "unterminated array (opened at line %u)", v->line);
      if (*ps->p == ']')
        {
          ps->p++;
          return 0;
        }
      struct value e = { .line = ps->line };
      int r = parse_value(ps, &e);
      if (r < 0)
        return r;
      if (e.type != V_STRING)
        {
          value_clear(&e);
          return perr(ps, "arrays may hold only strings");
        }
      if ((r = strv_push(&v->arr, TAKE_PTR(e.s))) < 0)
        return r;
      skip_space(ps);
      if (ps->p < ps->end && *ps->p == ',')
        ps->p++;
      else if (ps->p < ps->end && *ps->p != ']')
        return perr(ps, "expected ',' or ']' in an array, found '%c'", *ps->p);
    }
}

static int
parse_value(struct parser *ps, struct value *v)
{
  v->line = ps->line;
  if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '#')
    return perr(ps, "missing value after '='");
  char c = *ps->p;
  if (c == '"' || c == '\'')
    {
      v->type = V_STRING;
      return parse_string(ps, &v->s);
    }
  if (c == '[')
    return parse_array(ps, v);
  if (c == '{')
    return perr(ps, "inline tables are not supported");
  for (int b = 0; b < 2; b++)
    {
      const char *w = b ? "true" : "false";
      size_t l = strlen(w);
      if ((size_t)(ps->end - ps->p) >= l && !memcmp(ps->p, w, l)
          && (ps->p + l == ps->end || strchr(" \t\r\n#,]", ps->p[l])))
        {
          v->type = V_BOOL;
          v->b = b;
          ps->p += l;
          return 0;
        }
    }
  size_t n = strcspn(ps->p, " \t\r\n#,]");
  return perr(ps, "unsupported value '%.*s' (strings, booleans and arrays of strings only)",
              (int)(n > 40 ? 40 : n), ps->p);
}

/* A bare or quoted key; dotted keys are refused. */
static int
parse_key(struct parser *ps, char *buf, size_t size)
{
  if (*ps->p == '"' || *ps->p == '\'')
    {
      _cleanup_free_ char *s = NULL;
      int r = parse_string(ps, &s);
      if (r < 0)
        return r;
      snprintf(buf, size, "%s", s);
    }
  else
    {
      size_t n = 0;
      while (ps->p + n < ps->end
             && (strchr("-_", ps->p[n]) || (ps->p[n] >= 'a' && ps->p[n] <= 'z')
                 || (ps->p[n] >= 'A' && ps->p[n] <= 'Z') || (ps->p[n] >= '0' && ps->p[n] <= '9')))
        n++;
      if (n == 0)
        return perr(ps, "expected a key, found '%c'", *ps->p);
      if (n >= size)
        return perr(ps, "key too long");
      memcpy(buf, ps->p, n);
      buf[n] = '\0';
      ps->p += n;
    }
  skip_blank(ps);
  if (ps->p < ps->end && *ps->p == '.')
    return perr(ps, "dotted keys are not supported ('%s.')", buf);
  return 0;
}

static bool
key_seen(struct parser *ps, const char *key)
{
  for (size_t i = 0; i < ps->n_seen; i++)
    if (!strcmp(ps->seen[i], key))
      return true;
  if (ps->n_seen < ARRAY_SIZE(ps->seen))
    snprintf(ps->seen[ps->n_seen++], sizeof(ps->seen[0]), "%s", key);
  return false;
}

static int
note(struct parser *ps, const char *what)
{
  char *s;
  if (asprintf(&s, "%s:%u: %s is not supported, ignored", ps->file, ps->line, what) < 0)
    return -ENOMEM;
  return strv_push(&ps->c->notes, s);
}

static int
want_type(struct parser *ps, const char *key, const struct value *v, enum vtype t)
{
  static const char *names[] = { "a string", "a boolean", "an array of strings" };
  if (v->type != t)
    return perr(ps, "'%s' must be %s", key, names[t]);
  return 0;
}

/* Take a string value into *dst (refusing a scheme: locations are
 * host[:port][/path]). */
static int
take_location(struct parser *ps, const char *key, struct value *v, char **dst)
{
  int r = want_type(ps, key, v, V_STRING);
  if (r < 0)
    return r;
  if (strstr(v->s, "://"))
    return perr(ps, "'%s' must not include a scheme: '%s'", key, v->s);
  free(*dst);
  *dst = TAKE_PTR(v->s);
  return 0;
}

static int
set_root_key(struct parser *ps, const char *key, struct value *v)
{
  int r;
  if (!strcmp(key, "unqualified-search-registries"))
    {
      if ((r = want_type(ps, key, v, V_ARRAY)) < 0)
        return r;
      for (char **s = v->arr; *s; s++)
        if (!**s || strchr(*s, '/'))
          return perr(ps, "search registry '%s' must be a registry host, without a path", *s);
      keel_strv_free(ps->c->search);
      ps->c->search = TAKE_PTR(v->arr);
      return 0;
    }
  if (!strcmp(key, "short-name-mode"))
    {
      if ((r = want_type(ps, key, v, V_STRING)) < 0)
        return r;
      if (strcmp(v->s, "enforcing") && strcmp(v->s, "permissive") && strcmp(v->s, "disabled"))
        return perr(ps, "short-name-mode must be enforcing, permissive or disabled, not '%s'",
                    v->s);
      return note(ps, "short-name-mode (Keel resolves short names through the search list)");
    }
  if (!strcmp(key, "credential-helpers") || !strcmp(key, "additional-layer-store-auth-helper"))
    return note(ps, key);
  return perr(ps, "unknown key '%s'", key);
}

static int
set_registry_key(struct parser *ps, const char *key, struct value *v)
{
  struct registry *g = &ps->c->regs[ps->c->n_regs - 1];
  int r;
  if (!strcmp(key, "prefix"))
    return take_location(ps, key, v, &g->prefix);
  if (!strcmp(key, "location"))
    return take_location(ps, key, v, &g->location);
  bool *b = !strcmp(key, "insecure")                ? &g->insecure
            : !strcmp(key, "blocked")               ? &g->blocked
            : !strcmp(key, "mirror-by-digest-only") ? &g->digest_only
                                                    : NULL;
  if (!b)
    return perr(ps, "unknown key '%s' in [[registry]]", key);
  if ((r = want_type(ps, key, v, V_BOOL)) < 0)
    return r;
  *b = v->b;
  return 0;
}

static int
set_mirror_key(struct parser *ps, const char *key, struct value *v)
{
  struct registry *g = &ps->c->regs[ps->c->n_regs - 1];
  struct mirror *m = &g->mirrors[g->n_mirrors - 1];
  int r;
  if (!strcmp(key, "location"))
    return take_location(ps, key, v, &m->location);
  if (!strcmp(key, "insecure"))
    {
      if ((r = want_type(ps, key, v, V_BOOL)) < 0)
        return r;
      m->insecure = v->b;
      return 0;
    }
  if (!strcmp(key, "pull-from-mirror"))
    {
      if ((r = want_type(ps, key, v, V_STRING)) < 0)
        return r;
      if (!strcmp(v->s, "all"))
        m->pull_from = PULL_ALL;
      else if (!strcmp(v->s, "digest-only"))
        m->pull_from = PULL_DIGEST_ONLY;
      else if (!strcmp(v->s, "tag-only"))
        m->pull_from = PULL_TAG_ONLY;
      else
        return perr(ps, "pull-from-mirror must be all, digest-only or tag-only, not '%s'", v->s);
      return 0;
    }
  return perr(ps, "unknown key '%s' in [[registry.mirror]]", key);
}

/* key = value, applied to the current table. */
static int
parse_assignment(struct parser *ps)
{
  char key[64];
  int r = parse_key(ps, key, sizeof(key));
  if (r < 0)
    return r;
  if (ps->p >= ps->end || *ps->p != '=')
    return perr(ps, "expected '=' after key '%s'", key);
  ps->p++;
  skip_blank(ps);
  unsigned line = ps->line;
  struct value v = { 0 };
  if ((r = parse_value(ps, &v)) < 0)
    {
      value_clear(&v);
      return r;
    }
  if ((r = expect_eol(ps)) < 0)
    {
      value_clear(&v);
      return r;
    }
  unsigned after = ps->line;
  ps->line = line; /* messages about the key name its line */
  if (key_seen(ps, key))
    r = perr(ps, "duplicate key '%s'", key);
  else if (ps->table == T_ROOT)
    r = set_root_key(ps, key, &v);
  else if (ps->table == T_REGISTRY)
    r = set_registry_key(ps, key, &v);
  else if (ps->table == T_MIRROR)
    r = set_mirror_key(ps, key, &v);
  ps->line = after;
  value_clear(&v);
  return r;
}

static int
add_registry(struct parser *ps)
{
  struct keel_registries_conf *c = ps->c;
  struct registry *n = realloc(c->regs, (c->n_regs + 1) * sizeof(*n));
  if (!n)
    return -ENOMEM;
  c->regs = n;
  c->regs[c->n_regs++] = (struct registry){ .line = ps->line };
  return 0;
}

static int
add_mirror(struct parser *ps)
{
  if (ps->c->n_regs == 0)
    return perr(ps, "[[registry.mirror]] must follow a [[registry]]");
  struct registry *g = &ps->c->regs[ps->c->n_regs - 1];
  struct mirror *n = realloc(g->mirrors, (g->n_mirrors + 1) * sizeof(*n));
  if (!n)
    return -ENOMEM;
  g->mirrors = n;
  g->mirrors[g->n_mirrors++] = (struct mirror){ .line = ps->line };
  return 0;
}

/* A finished [[registry]]: a location or a prefix is required; each
 * defaults to the other.  Mirrors need a location. */
static int
check_registry(struct parser *ps, struct registry *g)
{
  unsigned line = ps->line;
  ps->line = g->line;
  int r = 0;
  if (!g->prefix && !g->location)
    r = perr(ps, "[[registry]] needs a location or a prefix");
  else if (g->prefix && !strncmp(g->prefix, "*.", 2)
           && (strchr(g->prefix, '/') || (g->location && *g->location)))
    r = perr(ps, "wildcard prefix '%s' takes neither a path nor a location", g->prefix);
  else if (!g->prefix && !(g->prefix = strdup(g->location)))
    r = -ENOMEM;
  else if (!g->location && !(g->location = strdup(strncmp(g->prefix, "*.", 2) ? g->prefix : "")))
    r = -ENOMEM;
  for (size_t i = 0; r == 0 && i < g->n_mirrors; i++)
    if (!g->mirrors[i].location || !*g->mirrors[i].location)
      {
        ps->line = g->mirrors[i].line;
        r = perr(ps, "[[registry.mirror]] needs a location");
      }
  for (size_t i = 0; r == 0 && &ps->c->regs[i] != g; i++)
    if (!strcmp(ps->c->regs[i].prefix, g->prefix))
      r = perr(ps, "prefix '%s' is already defined at line %u", g->prefix, ps->c->regs[i].line);
  ps->line = line;
  return r;
}

/* [name] or [[name]]: close the current table, open the next. */
static int
parse_header(struct parser *ps)
{
  bool array = ps->end - ps->p >= 2 && ps->p[1] == '[';
  ps->p += array ? 2 : 1;
  skip_blank(ps);
  size_t n = strspn(ps->p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
  char name[64];
  if (n == 0 || n >= sizeof(name))
    return perr(ps, "invalid table name");
  snprintf(name, sizeof(name), "%.*s", (int)n, ps->p);
  ps->p += n;
  skip_blank(ps);
  if (ps->end - ps->p < (array ? 2 : 1) || ps->p[0] != ']' || (array && ps->p[1] != ']'))
    return perr(ps, "expected '%s' to close table %s%s", array ? "]]" : "]", array ? "[[" : "[",
                name);
  ps->p += array ? 2 : 1;
  int r = 0;
  if (ps->c->n_regs > 0 && (ps->table == T_REGISTRY || ps->table == T_MIRROR)
      && !(array && !strcmp(name, "registry.mirror")))
    r = check_registry(ps, &ps->c->regs[ps->c->n_regs - 1]);
  if (r < 0)
    return r;
  ps->n_seen = 0;
  if (array && !strcmp(name, "registry"))
    ps->table = T_REGISTRY, r = add_registry(ps);
  else if (array && !strcmp(name, "registry.mirror"))
    ps->table = T_MIRROR, r = add_mirror(ps);
  else if (!strncmp(name, "registries.", 11) || !strcmp(name, "registries"))
    return perr(ps,
                "[%s] is the version 1 format, which Keel does not read; use [[registry]] tables",
                name);
  else if (!array && !strcmp(name, "aliases"))
    ps->table = T_IGNORED, r = note(ps, "[aliases] (short-name aliases)");
  else
    return perr(ps, "unknown table %s%s%s", array ? "[[" : "[", name, array ? "]]" : "]");
  return r < 0 ? r : expect_eol(ps);
}

int
keel_registries_conf_parse(const char *text, size_t len, const char *filename,
                           struct keel_registries_conf **ret, struct keel_error *err)
{
  struct keel_registries_conf *c = calloc(1, sizeof(*c));
  if (!c)
    return keel_error_set(err, -ENOMEM, "out of memory");
  struct parser ps
      = { .p = text, .end = text + len, .file = filename, .line = 1, .c = c, .err = err };
  int r = memchr(text, '\0', len) ? perr(&ps, "NUL byte in the file") : 0;
  while (r >= 0)
    {
      skip_space(&ps);
      if (ps.p >= ps.end)
        break;
      r = *ps.p == '[' ? parse_header(&ps) : parse_assignment(&ps);
    }
  if (r >= 0 && c->n_regs > 0 && (ps.table == T_REGISTRY || ps.table == T_MIRROR))
    r = check_registry(&ps, &c->regs[c->n_regs - 1]);
  if (r < 0)
    {
      keel_registries_conf_free(c);
      return r == -ENOMEM ? keel_error_set(err, r, "out of memory") : r;
    }
  *ret = c;
  return 0;
}

void
keel_registries_conf_free(struct keel_registries_conf *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->n_regs; i++)
    {
      for (size_t j = 0; j < c->regs[i].n_mirrors; j++)
        free(c->regs[i].mirrors[j].location);
      free(c->regs[i].mirrors);
      free(c->regs[i].prefix);
      free(c->regs[i].location);
    }
  free(c->regs);
  keel_strv_free(c->search);
  keel_strv_free(c->notes);
  free(c);
}

const char *const *
keel_registries_conf_search(const struct keel_registries_conf *c)
{
  static const char *const none[] = { NULL };
  return c && c->search ? (const char *const *)c->search : none;
}

const char *const *
keel_registries_conf_notes(const struct keel_registries_conf *c)
{
  static const char *const none[] = { NULL };
  return c && c->notes ? (const char *const *)c->notes : none;
}

int
keel_registries_conf_default_path(char **ret, struct keel_error *err)
{
  const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
  char *p = NULL;
  if (env && *env)
    p = strdup(env);
  else if (geteuid() != 0)
    {
      const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
      if (xdg && *xdg     ? asprintf(&p, "%s/containers/registries.conf", xdg) < 0
          : home && *home ? asprintf(&p, "%s/.config/containers/registries.conf", home) < 0
                          : false)
        p = NULL;
      if (p && access(p, F_OK) < 0)
        {
          free(p);
          p = NULL;
        }
    }
  if (!p)
    p = strdup(KEEL_REGISTRIES_CONF_SYSTEM);
  if (!p)
    return keel_error_set(err, -ENOMEM, "out of memory");
  *ret = p;
  return 0;
}

int
keel_registries_conf_load(const char *path, struct keel_registries_conf **ret,
                          struct keel_error *err)
{
  _cleanup_free_ char *def = NULL, *text = NULL;
  size_t len;
  int r;
  if (!path)
    {
      if ((r = keel_registries_conf_default_path(&def, err)) < 0)
        return r;
      path = def;
    }
  r = keel_read_file(AT_FDCWD, path, CONF_MAX, &text, &len);
  if (r == -ENOENT && def && !getenv("CONTAINERS_REGISTRIES_CONF"))
    return keel_registries_conf_parse("", 0, path, ret, err);
  if (r == -EFBIG)
    return keel_error_set(err, r, "%s: larger than %d bytes", path, CONF_MAX);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s'", path);
  return keel_registries_conf_parse(text, len, path, ret, err);
}

/* How well prefix matches ref: -1 for no match, else a score (longer is
 * better); *cut is how much of ref the prefix stands for.  A prefix ends
 * at a path-component boundary; ':' counts as one only after a path (a tag,
 * not a port: "example.com" must not match "example.com:5000/x"). */
static int
match_prefix(const char *prefix, const char *ref, size_t *cut)
{
  size_t n = strlen(prefix);
  if (!strncmp(prefix, "*.", 2))
    {
      size_t host = strcspn(ref, "/"), h = strcspn(ref, ":/"), s = n - 1;
      if (h <= s || strncmp(ref + h - s, prefix + 1, s) != 0)
        return -1;
      *cut = host;
      return (int)n;
    }
  if (strncmp(ref, prefix, n) != 0)
    return -1;
  char next = ref[n];
  if (next && next != '/' && next != '@' && !(next == ':' && strchr(prefix, '/')))
    return -1;
  *cut = n;
  return (int)n;
}

static int
add_source(struct keel_registry_resolution *res, const char *location, const char *rest,
           bool insecure, bool mirror)
{
  struct keel_registry_source *n = realloc(res->sources, (res->n_sources + 1) * sizeof(*n));
  if (!n)
    return -ENOMEM;
  res->sources = n;
  char *name;
  if (asprintf(&name, "%s%s", location, rest) < 0)
    return -ENOMEM;
  res->sources[res->n_sources++] = (struct keel_registry_source){ name, insecure, mirror };
  return 0;
}

static const struct registry *
best_match(const struct keel_registries_conf *c, const char *ref, size_t *cut)
{
  const struct registry *best = NULL;
  int best_score = -1;
  for (size_t i = 0; c && i < c->n_regs; i++)
    {
      size_t k = 0;
      int s = match_prefix(c->regs[i].prefix, ref, &k);
      if (s > best_score)
        best = &c->regs[i], best_score = s, *cut = k;
    }
  return best;
}

int
keel_registries_conf_resolve(const struct keel_registries_conf *c, const char *reference,
                             struct keel_registry_resolution *ret, struct keel_error *err)
{
  struct keel_registry_resolution res = { 0 };
  size_t cut = 0;
  const struct registry *g = best_match(c, reference, &cut);
  bool by_digest = strchr(reference, '@') != NULL;
  int r = 0;
  if (!g)
    r = add_source(&res, reference, "", false, false);
  else
    {
      res.prefix = g->prefix;
      res.blocked = g->blocked;
      const char *rest = reference + cut;
      for (size_t i = 0; r == 0 && i < g->n_mirrors; i++)
        {
          const struct mirror *m = &g->mirrors[i];
          if ((g->digest_only || m->pull_from == PULL_DIGEST_ONLY) && !by_digest)
            continue;
          if (m->pull_from == PULL_TAG_ONLY && by_digest)
            continue;
          r = add_source(&res, m->location, rest, m->insecure, true);
        }
      if (r == 0)
        r = *g->location ? add_source(&res, g->location, rest, g->insecure, false)
                         : add_source(&res, reference, "", g->insecure, false);
    }
  if (r < 0)
    {
      keel_registry_resolution_clear(&res);
      return keel_error_set(err, r, "out of memory");
    }
  *ret = res;
  return 0;
}

void
keel_registry_resolution_clear(struct keel_registry_resolution *r)
{
  for (size_t i = 0; i < r->n_sources; i++)
    free(r->sources[i].name);
  free(r->sources);
  *r = (struct keel_registry_resolution){ 0 };
}

bool
keel_registries_conf_insecure(const struct keel_registries_conf *c, const char *registry)
{
  size_t cut;
  const struct registry *g = best_match(c, registry, &cut);
  if (g && g->insecure && cut == strlen(registry))
    return true;
  for (size_t i = 0; c && i < c->n_regs; i++)
    for (size_t j = 0; j < c->regs[i].n_mirrors; j++)
      {
        const struct mirror *m = &c->regs[i].mirrors[j];
        size_t h = strcspn(m->location, "/");
        if (m->insecure && strlen(registry) == h && !strncmp(m->location, registry, h))
          return true;
      }
  return false;
}
