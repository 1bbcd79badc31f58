/* One instruction's arguments: flags, JSON or shell form, key=value pairs,
 * heredoc markers.  Messages here carry no file:line; the caller adds it. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build/buf.h"
#include "build/containerfile.h"
#include "build/instr.h"
#include "lib/cleanup.h"

static const char *const cmd_names[] = {
  [KEEL_CF_FROM] = "FROM",
  [KEEL_CF_RUN] = "RUN",
  [KEEL_CF_COPY] = "COPY",
  [KEEL_CF_ADD] = "ADD",
  [KEEL_CF_ENV] = "ENV",
  [KEEL_CF_ARG] = "ARG",
  [KEEL_CF_WORKDIR] = "WORKDIR",
  [KEEL_CF_USER] = "USER",
  [KEEL_CF_EXPOSE] = "EXPOSE",
  [KEEL_CF_VOLUME] = "VOLUME",
  [KEEL_CF_LABEL] = "LABEL",
  [KEEL_CF_CMD] = "CMD",
  [KEEL_CF_ENTRYPOINT] = "ENTRYPOINT",
  [KEEL_CF_SHELL] = "SHELL",
  [KEEL_CF_STOPSIGNAL] = "STOPSIGNAL",
  [KEEL_CF_HEALTHCHECK] = "HEALTHCHECK",
  [KEEL_CF_ONBUILD] = "ONBUILD",
  [KEEL_CF_MAINTAINER] = "MAINTAINER",
};

#define N_CMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

const char *
keel_cf_cmd_name(enum keel_cf_cmd cmd)
{
  return (size_t)cmd < N_CMDS ? cmd_names[cmd] : "?";
}

int
keel_cf_cmd_lookup(const char *word, size_t len)
{
  for (size_t i = 0; i < N_CMDS; i++)
    if (strlen(cmd_names[i]) == len && strncasecmp(cmd_names[i], word, len) == 0)
      return (int)i;
  return -1;
}

/* Flags each instruction accepts; a trailing '*' allows repeats, a leading
 * '?' marks a boolean that may stand alone. */
static const char *const *
allowed_flags(enum keel_cf_cmd cmd)
{
  static const char *const from[] = { "platform", NULL };
  static const char *const run[] = { "mount*", "network", "security", NULL };
  static const char *const copy[] = { "from", "chown", "chmod", "?link", NULL };
  static const char *const add[] = { "chown", "chmod", "?link", "checksum", NULL };
  static const char *const hc[]
      = { "interval", "timeout", "start-period", "start-interval", "retries", NULL };
  static const char *const none[] = { NULL };
  switch (cmd)
    {
    case KEEL_CF_FROM:
      return from;
    case KEEL_CF_RUN:
      return run;
    case KEEL_CF_COPY:
      return copy;
    case KEEL_CF_ADD:
      return add;
    case KEEL_CF_HEALTHCHECK:
      return hc;
    default:
      return none;
    }
}

/* Split s on unquoted whitespace keeping quotes and escapes as written. */
int
keel_cf_split_raw(const char *s, char esc, char ***ret)
{
  struct keel_strv out = { 0 };
  struct keel_buf cur = { 0 };
  char quote = 0;
  for (; *s; s++)
    {
      if (!quote && isspace((unsigned char)*s))
        {
          if (cur.len && !keel_strv_push(&out, keel_buf_steal(&cur)))
            goto oom;
          continue;
        }
      if (*s == esc && s[1] && quote != '\'')
        {
          if (!keel_buf_add(&cur, s, 2))
            goto oom;
          s++;
          continue;
        }
      if (quote && *s == quote)
        quote = 0;
      else if (!quote && (*s == '\'' || *s == '"'))
        quote = *s;
      if (!keel_buf_addc(&cur, *s))
        goto oom;
    }
  if (cur.len && !keel_strv_push(&out, keel_buf_steal(&cur)))
    goto oom;
  keel_buf_free(&cur);
  *ret = keel_strv_steal(&out);
  return *ret ? 0 : -ENOMEM;
oom:
  keel_buf_free(&cur);
  keel_strv_clear(&out);
  return -ENOMEM;
}

static int
flag_spec(enum keel_cf_cmd cmd, const char *name, size_t len, bool *multi, bool *boolean)
{
  for (const char *const *a = allowed_flags(cmd); *a; a++)
    {
      const char *n = *a;
      *boolean = *n == '?';
      n += *boolean;
      size_t nl = strcspn(n, "*");
      *multi = n[nl] == '*';
      if (nl == len && strncmp(n, name, len) == 0)
        return 0;
    }
  return -ENOENT;
}

static int
add_flag(struct keel_cf_instr *in, const char *word, struct keel_error *err)
{
  const char *name = word + 2, *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  bool multi, boolean;
  if (flag_spec(in->cmd, name, len, &multi, &boolean) < 0)
    return keel_error_set(err, EINVAL, "unknown flag for %s: --%.*s", keel_cf_cmd_name(in->cmd),
                          (int)len, name);
  if (!eq && !boolean)
    return keel_error_set(err, EINVAL, "missing a value for flag --%.*s (use --%.*s=VALUE)",
                          (int)len, name, (int)len, name);
  if (eq && !eq[1])
    return keel_error_set(err, EINVAL, "empty value for flag --%.*s", (int)len, name);
  if (boolean && eq && strcmp(eq + 1, "true") != 0 && strcmp(eq + 1, "false") != 0)
    return keel_error_set(err, EINVAL, "flag --%.*s expects true or false, not '%s'", (int)len,
                          name, eq + 1);
  for (size_t i = 0; i < in->n_flags && !multi; i++)
    if (strlen(in->flags[i].name) == len && strncmp(in->flags[i].name, name, len) == 0)
      return keel_error_set(err, EINVAL, "flag --%.*s given twice", (int)len, name);
  struct keel_cf_flag *f = realloc(in->flags, (in->n_flags + 1) * sizeof(*f));
  if (!f)
    return keel_error_set(err, ENOMEM, "out of memory");
  in->flags = f;
  f[in->n_flags].name = strndup(name, len);
  f[in->n_flags].value = strdup(eq ? eq + 1 : "true");
  if (!f[in->n_flags].name || !f[in->n_flags].value)
    {
      free(f[in->n_flags].name);
      free(f[in->n_flags].value);
      return keel_error_set(err, ENOMEM, "out of memory");
    }
  in->n_flags++;
  return 0;
}

/* Leading "--name[=value]" words become flags; *rest points past them. */
static int
take_flags(struct keel_cf_instr *in, const char *args, const char **rest, struct keel_error *err)
{
  const char *p = args;
  for (;;)
    {
      while (isspace((unsigned char)*p))
        p++;
      if (strncmp(p, "--", 2) != 0 || !p[2] || isspace((unsigned char)p[2]))
        break;
      size_t n = strcspn(p, " \t");
      _cleanup_free_ char *word = strndup(p, n);
      if (!word)
        return keel_error_set(err, ENOMEM, "out of memory");
      int r = add_flag(in, word, err);
      if (r < 0)
        return r;
      p += n;
    }
  *rest = p;
  return 0;
}

static bool
looks_json(const char *s)
{
  if (*s != '[')
    return false;
  s++;
  while (isspace((unsigned char)*s))
    s++;
  return *s == '"' || *s == ']';
}

/* JSON array of strings → argv; anything else is an error. */
static int
parse_json_args(struct keel_cf_instr *in, const char *s, struct keel_error *err)
{
  enum json_tokener_error jerr;
  json_object *o = json_tokener_parse_verbose(s, &jerr);
  if (!o || !json_object_is_type(o, json_type_array))
    {
      if (o)
        json_object_put(o);
      return keel_error_set(err, EINVAL, "%s: malformed JSON arguments %s: %s",
                            keel_cf_cmd_name(in->cmd), s,
                            o ? "not an array" : json_tokener_error_desc(jerr));
    }
  struct keel_strv v = { 0 };
  size_t n = json_object_array_length(o);
  for (size_t i = 0; i < n; i++)
    {
      json_object *e = json_object_array_get_idx(o, i);
      if (!json_object_is_type(e, json_type_string))
        {
          keel_strv_clear(&v);
          json_object_put(o);
          return keel_error_set(err, EINVAL,
                                "%s: malformed JSON arguments %s: element %zu is not a string",
                                keel_cf_cmd_name(in->cmd), s, i);
        }
      if (!keel_strv_pushdup(&v, json_object_get_string(e)))
        {
          keel_strv_clear(&v);
          json_object_put(o);
          return keel_error_set(err, ENOMEM, "out of memory");
        }
    }
  json_object_put(o);
  in->argv = keel_strv_steal(&v);
  in->json = true;
  return in->argv ? 0 : keel_error_set(err, ENOMEM, "out of memory");
}

/* Arguments that may be JSON or shell form; an array that starts like JSON
 * but does not parse is an error rather than a silent shell command. */
static int
json_or_shell(struct keel_cf_instr *in, const char *s, bool allow_empty, struct keel_error *err)
{
  if (looks_json(s))
    {
      int r = parse_json_args(in, s, err);
      if (r < 0)
        return r;
      if (!allow_empty && !in->argv[0])
        return keel_error_set(err, EINVAL, "%s requires at least one argument",
                              keel_cf_cmd_name(in->cmd));
      return 0;
    }
  if (!*s && !allow_empty)
    return keel_error_set(err, EINVAL, "%s requires at least one argument",
                          keel_cf_cmd_name(in->cmd));
  return 0;
}

static int
add_kv(struct keel_cf_instr *in, const char *key, size_t klen, const char *value)
{
  struct keel_cf_kv *kv = realloc(in->kv, (in->n_kv + 1) * sizeof(*kv));
  if (!kv)
    return -ENOMEM;
  in->kv = kv;
  kv[in->n_kv].key = strndup(key, klen);
  kv[in->n_kv].value = value ? strdup(value) : NULL;
  if (!kv[in->n_kv].key || (value && !kv[in->n_kv].value))
    {
      free(kv[in->n_kv].key);
      free(kv[in->n_kv].value);
      return -ENOMEM;
    }
  in->n_kv++;
  return 0;
}

/* ENV and LABEL: "k=v k2=v2" or the legacy "k value with spaces". */
static int
parse_name_values(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  const char *name = keel_cf_cmd_name(in->cmd);
  _cleanup_strv_ char **words = NULL;
  if (keel_cf_split_raw(s, esc, &words) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  if (!words[0])
    return keel_error_set(err, EINVAL, "%s requires at least one argument", name);
  if (!strchr(words[0], '='))
    {
      size_t klen = strlen(words[0]);
      const char *v = s + strspn(s, " \t") + klen;
      v += strspn(v, " \t");
      if (!*v)
        return keel_error_set(err, EINVAL, "%s %s: missing a value (use %s NAME=VALUE)", name,
                              words[0], name);
      return add_kv(in, words[0], klen, v) < 0 ? keel_error_set(err, ENOMEM, "out of memory") : 0;
    }
  for (char **w = words; *w; w++)
    {
      const char *eq = strchr(*w, '=');
      if (!eq)
        return keel_error_set(err, EINVAL, "%s: '%s' is not of the form NAME=VALUE", name, *w);
      if (eq == *w)
        return keel_error_set(err, EINVAL, "%s: empty name in '%s'", name, *w);
      if (add_kv(in, *w, eq - *w, eq + 1) < 0)
        return keel_error_set(err, ENOMEM, "out of memory");
    }
  return 0;
}

static int
parse_arg(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  _cleanup_strv_ char **words = NULL;
  if (keel_cf_split_raw(s, esc, &words) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  if (!words[0])
    return keel_error_set(err, EINVAL, "ARG requires at least one argument");
  for (char **w = words; *w; w++)
    {
      const char *eq = strchr(*w, '=');
      size_t klen = eq ? (size_t)(eq - *w) : strlen(*w);
      if (klen == 0)
        return keel_error_set(err, EINVAL, "ARG: empty name in '%s'", *w);
      for (size_t i = 0; i < klen; i++)
        if (!isalnum((unsigned char)(*w)[i]) && (*w)[i] != '_')
          return keel_error_set(err, EINVAL, "ARG: invalid name '%.*s'", (int)klen, *w);
      if (add_kv(in, *w, klen, eq ? eq + 1 : NULL) < 0)
        return keel_error_set(err, ENOMEM, "out of memory");
    }
  return 0;
}

static bool
valid_stage_name(const char *s)
{
  if (!isalpha((unsigned char)*s))
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
      return false;
  return true;
}

static int
parse_from(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  _cleanup_strv_ char **words = NULL;
  if (keel_cf_split_raw(s, esc, &words) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  size_t n = keel_strv_len(words);
  if (n != 1 && !(n == 3 && strcasecmp(words[1], "AS") == 0))
    return keel_error_set(err, EINVAL, "FROM requires either one argument or IMAGE AS NAME");
  if (n == 3 && !valid_stage_name(words[2]))
    return keel_error_set(err, EINVAL,
                          "invalid stage name '%s': use letters, digits, '-', '_' and '.', "
                          "starting with a letter",
                          words[2]);
  return 0;
}

/* "<<EOF", "<<-EOF", "<<'EOF'", "<<\"EOF\"" (optionally after a fd number). */
static int
heredoc_marker(const char *w, char esc, struct keel_cf_heredoc *ret)
{
  w += strspn(w, "0123456789");
  if (strncmp(w, "<<", 2) != 0)
    return 0;
  w += 2;
  bool strip = *w == '-';
  w += strip;
  if (!*w || strchr(w, '<'))
    return 0;
  struct keel_buf d = { 0 };
  bool quoted = false;
  char q = 0;
  for (; *w; w++)
    {
      if (q && *w == q)
        q = 0;
      else if (!q && (*w == '\'' || *w == '"'))
        q = *w, quoted = true;
      else if (*w == esc && w[1] && q != '\'')
        {
          quoted = true;
          if (!keel_buf_addc(&d, *++w))
            goto oom;
        }
      else if (!keel_buf_addc(&d, *w))
        goto oom;
    }
  if (q || d.len == 0)
    {
      keel_buf_free(&d);
      return -EINVAL;
    }
  ret->delim = keel_buf_steal(&d);
  ret->strip_tabs = strip;
  ret->expand = !quoted;
  return ret->delim ? 1 : -ENOMEM;
oom:
  keel_buf_free(&d);
  return -ENOMEM;
}

static int
find_heredocs(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  _cleanup_strv_ char **words = NULL;
  if (keel_cf_split_raw(s, esc, &words) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  for (char **w = words; *w; w++)
    {
      struct keel_cf_heredoc h = { 0 };
      int r = heredoc_marker(*w, esc, &h);
      if (r == -EINVAL)
        return keel_error_set(err, EINVAL, "%s: bad heredoc delimiter in '%s'",
                              keel_cf_cmd_name(in->cmd), *w);
      if (r < 0)
        return keel_error_set(err, ENOMEM, "out of memory");
      if (r == 0)
        continue;
      struct keel_cf_heredoc *v = realloc(in->heredocs, (in->n_heredocs + 1) * sizeof(*v));
      if (!v)
        {
          free(h.delim);
          return keel_error_set(err, ENOMEM, "out of memory");
        }
      in->heredocs = v;
      v[in->n_heredocs++] = h;
    }
  return 0;
}

static int
parse_run(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  for (size_t i = 0; i < in->n_flags; i++)
    {
      const char *n = in->flags[i].name, *v = in->flags[i].value;
      if (strcmp(n, "mount") == 0)
        {
          struct keel_cf_mount m;
          int r = keel_cf_mount_parse(v, &m, err);
          if (r < 0)
            return keel_error_prefix(err, "RUN --mount=%s", v);
          keel_cf_mount_clear(&m);
        }
      else if (strcmp(n, "network") == 0 && strcmp(v, "default") != 0 && strcmp(v, "none") != 0
               && strcmp(v, "host") != 0)
        return keel_error_set(err, EINVAL, "RUN --network=%s: expected default, none or host", v);
      else if (strcmp(n, "security") == 0 && strcmp(v, "sandbox") != 0)
        return keel_error_set(err, EINVAL,
                              "RUN --security=%s: only sandbox is supported (insecure builds "
                              "are refused)",
                              v);
    }
  if (!looks_json(s))
    {
      int r = find_heredocs(in, s, esc, err);
      if (r < 0)
        return r;
    }
  return json_or_shell(in, s, false, err);
}

static int
parse_copy(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  const char *name = keel_cf_cmd_name(in->cmd);
  if (looks_json(s))
    {
      int r = parse_json_args(in, s, err);
      if (r < 0)
        return r;
      if (keel_strv_len(in->argv) < 2)
        return keel_error_set(err, EINVAL, "%s requires at least two arguments: SOURCE... DEST",
                              name);
      return 0;
    }
  int r = find_heredocs(in, s, esc, err);
  if (r < 0)
    return r;
  _cleanup_strv_ char **words = NULL;
  if (keel_cf_split_raw(s, esc, &words) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  if (keel_strv_len(words) < 2)
    return keel_error_set(err, EINVAL, "%s requires at least two arguments: SOURCE... DEST", name);
  return 0;
}

/* Go time.ParseDuration's grammar: one or more decimal numbers with units
 * ns, us, ms, s, m, h ("1m30s", "1.5s").  Returns nanoseconds. */
int
keel_cf_duration_parse(const char *s, long long *ret)
{
  static const struct
  {
    const char *u;
    double ns;
  } units[]
      = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 } };
  double total = 0;
  if (strcmp(s, "0") == 0)
    return *ret = 0, 0;
  if (!*s)
    return -EINVAL;
  while (*s)
    {
      char *end;
      if (!isdigit((unsigned char)*s) && *s != '.')
        return -EINVAL;
      double v = strtod(s, &end);
      if (end == s)
        return -EINVAL;
      size_t ul = strspn(end, "nusmh");
      size_t i;
      for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].u) == ul && strncmp(end, units[i].u, ul) == 0)
          break;
      if (ul == 0 || i == sizeof(units) / sizeof(units[0]))
        return -EINVAL;
      total += v * units[i].ns;
      s = end + ul;
    }
  if (total > 9.2e18)
    return -ERANGE;
  *ret = (long long)total;
  return 0;
}

static int
check_healthcheck_flags(struct keel_cf_instr *in, struct keel_error *err)
{
  for (size_t i = 0; i < in->n_flags; i++)
    {
      const char *n = in->flags[i].name, *v = in->flags[i].value;
      if (strcmp(n, "retries") == 0)
        {
          char *end;
          long r = strtol(v, &end, 10);
          if (*end || end == v || r < 0)
            return keel_error_set(err, EINVAL, "HEALTHCHECK --retries=%s: not a count", v);
          continue;
        }
      long long ns;
      if (keel_cf_duration_parse(v, &ns) < 0)
        return keel_error_set(err, EINVAL, "HEALTHCHECK --%s=%s: not a duration (like 30s, 1m)", n,
                              v);
      if (ns != 0 && ns < 1000000)
        return keel_error_set(err, EINVAL, "HEALTHCHECK --%s=%s: below the minimum of 1ms", n, v);
    }
  return 0;
}

static int
parse_healthcheck(struct keel_cf_instr *in, const char *s, struct keel_error *err)
{
  size_t n = strcspn(s, " \t");
  if (n == 4 && strncasecmp(s, "NONE", 4) == 0 && !s[n])
    {
      if (in->n_flags)
        return keel_error_set(err, EINVAL, "HEALTHCHECK NONE takes no options");
      in->hc_none = true;
      return 0;
    }
  if (!(n == 3 && strncasecmp(s, "CMD", 3) == 0))
    return keel_error_set(err, EINVAL, "HEALTHCHECK: unknown type '%.*s' (use CMD or NONE)", (int)n,
                          s);
  int r = check_healthcheck_flags(in, err);
  if (r < 0)
    return r;
  s += n;
  s += strspn(s, " \t");
  char *cmd = strdup(s);
  if (!cmd)
    return keel_error_set(err, ENOMEM, "out of memory");
  free(in->args);
  in->args = cmd;
  return json_or_shell(in, in->args, false, err);
}

static int
require_args(struct keel_cf_instr *in, const char *s, struct keel_error *err)
{
  if (!*s)
    return keel_error_set(err, EINVAL, "%s requires an argument", keel_cf_cmd_name(in->cmd));
  return 0;
}

static int
parse_onbuild(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  size_t n = strcspn(s, " \t");
  int c = keel_cf_cmd_lookup(s, n);
  if (!*s)
    return keel_error_set(err, EINVAL, "ONBUILD requires an instruction");
  if (c == KEEL_CF_ONBUILD || c == KEEL_CF_FROM || c == KEEL_CF_MAINTAINER)
    return keel_error_set(err, EINVAL, "ONBUILD %.*s is not allowed", (int)n, s);
  int r = keel_cf_instr_parse(s, esc, &in->onbuild, err);
  if (r < 0)
    return keel_error_prefix(err, "ONBUILD");
  if (in->onbuild->n_heredocs)
    return keel_error_set(err, EINVAL, "ONBUILD: heredocs are not supported in triggers");
  return 0;
}

static int
parse_args(struct keel_cf_instr *in, const char *s, char esc, struct keel_error *err)
{
  switch (in->cmd)
    {
    case KEEL_CF_FROM:
      return parse_from(in, s, esc, err);
    case KEEL_CF_RUN:
      return parse_run(in, s, esc, err);
    case KEEL_CF_COPY:
    case KEEL_CF_ADD:
      return parse_copy(in, s, esc, err);
    case KEEL_CF_ENV:
    case KEEL_CF_LABEL:
      return parse_name_values(in, s, esc, err);
    case KEEL_CF_ARG:
      return parse_arg(in, s, esc, err);
    case KEEL_CF_VOLUME:
      return looks_json(s) ? parse_json_args(in, s, err) : require_args(in, s, err);
    case KEEL_CF_CMD:
    case KEEL_CF_ENTRYPOINT:
      return json_or_shell(in, s, false, err);
    case KEEL_CF_SHELL:
      if (!looks_json(s))
        return keel_error_set(err, EINVAL, "SHELL requires the arguments in JSON form");
      return json_or_shell(in, s, false, err);
    case KEEL_CF_HEALTHCHECK:
      return parse_healthcheck(in, s, err);
    case KEEL_CF_ONBUILD:
      return parse_onbuild(in, s, esc, err);
    default:
      return require_args(in, s, err);
    }
}

void
keel_cf_instr_clear(struct keel_cf_instr *in)
{
  if (!in)
    return;
  free(in->text);
  free(in->args);
  for (size_t i = 0; i < in->n_flags; i++)
    free(in->flags[i].name), free(in->flags[i].value);
  free(in->flags);
  keel_strv_free(in->argv);
  for (size_t i = 0; i < in->n_kv; i++)
    free(in->kv[i].key), free(in->kv[i].value);
  free(in->kv);
  for (size_t i = 0; i < in->n_heredocs; i++)
    free(in->heredocs[i].delim), free(in->heredocs[i].body);
  free(in->heredocs);
  keel_cf_instr_free(in->onbuild);
  memset(in, 0, sizeof(*in));
}

void
keel_cf_instr_free(struct keel_cf_instr *in)
{
  keel_cf_instr_clear(in);
  free(in);
}

int
keel_cf_instr_fill(struct keel_cf_instr *in, const char *text, char esc, struct keel_error *err)
{
  const char *s = text + strspn(text, " \t");
  size_t n = strcspn(s, " \t");
  int c = keel_cf_cmd_lookup(s, n);
  if (c < 0)
    return keel_error_set(err, EINVAL, "unknown instruction: %.*s", (int)n, s);
  in->cmd = c;
  const char *rest = s + n, *args = NULL;
  rest += strspn(rest, " \t");
  int r = take_flags(in, rest, &args, err);
  if (r < 0)
    return r;
  struct keel_buf t = { 0 };
  if (!keel_buf_adds(&t, keel_cf_cmd_name(c)) || (*rest && !keel_buf_printf(&t, " %s", rest)))
    {
      keel_buf_free(&t);
      return keel_error_set(err, ENOMEM, "out of memory");
    }
  in->text = keel_buf_steal(&t);
  in->args = strdup(args);
  if (!in->text || !in->args)
    return keel_error_set(err, ENOMEM, "out of memory");
  return parse_args(in, in->args, esc, err);
}

int
keel_cf_instr_parse(const char *text, char esc, struct keel_cf_instr **ret, struct keel_error *err)
{
  struct keel_cf_instr *in = calloc(1, sizeof(*in));
  if (!in)
    return keel_error_set(err, ENOMEM, "out of memory");
  int r = keel_cf_instr_fill(in, text, esc, err);
  if (r < 0)
    {
      keel_cf_instr_free(in);
      return r;
    }
  *ret = in;
  return 0;
}

const char *
keel_cf_flag_get(const struct keel_cf_instr *in, const char *name)
{
  const char *v = NULL;
  for (size_t i = 0; i < in->n_flags; i++)
    if (strcmp(in->flags[i].name, name) == 0)
      v = in->flags[i].value;
  return v;
}
