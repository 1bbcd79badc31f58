/* Editing the image config of a working container: typed setters over
 * the OCI config's "config" object, history entries, and Dockerfile-style
 * change lines (podman commit --change, buildah config). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/internal.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "lib/path.h"

static json_object *
strv_json(char *const *argv)
{
  json_object *a = json_object_new_array();
  for (size_t i = 0; argv && argv[i]; i++)
    json_object_array_add(a, json_object_new_string(argv[i]));
  return a;
}

static json_object *
conf_of(json_object *image_config)
{
  return working_obj(image_config, "config");
}

static int
set_strv(json_object *conf, const char *key, char *const *argv)
{
  if (!argv)
    json_object_object_del(conf, key);
  else
    json_object_object_add(conf, key, strv_json(argv));
  return 0;
}

static int
set_string(json_object *conf, const char *key, const char *v)
{
  if (!v || !*v)
    json_object_object_del(conf, key);
  else
    json_object_object_add(conf, key, json_object_new_string(v));
  return 0;
}

int
keel_working_set_cmd(struct keel_working *w, char *const *argv, struct keel_error *err)
{
  return set_strv(keel_working_config(w), "Cmd", argv);
}

int
keel_working_set_entrypoint(struct keel_working *w, char *const *argv, struct keel_error *err)
{
  return set_strv(keel_working_config(w), "Entrypoint", argv);
}

int
keel_working_set_shell(struct keel_working *w, char *const *argv, struct keel_error *err)
{
  return set_strv(keel_working_config(w), "Shell", argv);
}

static int
env_set(json_object *conf, const char *key, const char *value, struct keel_error *err)
{
  if (!*key || strchr(key, '='))
    return keel_error_set(err, -EINVAL, "invalid environment variable name '%s'", key);
  json_object *env, *out = json_object_new_array();
  size_t kn = strlen(key);
  bool done = false;
  if (json_object_object_get_ex(conf, "Env", &env) && json_object_is_type(env, json_type_array))
    for (size_t i = 0; i < json_object_array_length(env); i++)
      {
        json_object *e = json_object_array_get_idx(env, i);
        const char *s = json_object_get_string(e);
        if (strncmp(s, key, kn) || s[kn] != '=')
          json_object_array_add(out, json_object_get(e));
        else if (value && !done)
          {
            char *kv = NULL;
            if (asprintf(&kv, "%s=%s", key, value) < 0)
              return keel_error_set(err, -ENOMEM, "out of memory");
            json_object_array_add(out, json_object_new_string(kv));
            free(kv);
            done = true;
          }
      }
  if (value && !done)
    {
      char *kv = NULL;
      if (asprintf(&kv, "%s=%s", key, value) < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
      json_object_array_add(out, json_object_new_string(kv));
      free(kv);
    }
  json_object_object_add(conf, "Env", out);
  return 0;
}

int
keel_working_setenv(struct keel_working *w, const char *key, const char *value,
                    struct keel_error *err)
{
  return env_set(keel_working_config(w), key, value, err);
}

const char *
keel_working_getenv(struct keel_working *w, const char *key)
{
  json_object *env;
  size_t kn = strlen(key);
  if (!json_object_object_get_ex(keel_working_config(w), "Env", &env)
      || !json_object_is_type(env, json_type_array))
    return NULL;
  for (size_t i = 0; i < json_object_array_length(env); i++)
    {
      const char *s = json_object_get_string(json_object_array_get_idx(env, i));
      if (!strncmp(s, key, kn) && s[kn] == '=')
        return s + kn + 1;
    }
  return NULL;
}

/* WORKDIR: relative to the current one, lexically cleaned. */
static int
workdir_set(json_object *conf, const char *dir, struct keel_error *err)
{
  if (!dir || !*dir)
    return set_string(conf, "WorkingDir", NULL);
  char joined[8192], clean[4096];
  const char *cur = working_str(conf, "WorkingDir");
  if (dir[0] == '/')
    snprintf(joined, sizeof(joined), "%s", dir);
  else
    snprintf(joined, sizeof(joined), "%s/%s", cur && *cur ? cur : "", dir);
  if (keel_path_clean(joined, clean, sizeof(clean)) < 0)
    return keel_error_set(err, -ENAMETOOLONG, "working directory too long: '%.100s'", dir);
  return set_string(conf, "WorkingDir", clean);
}

int
keel_working_set_workdir(struct keel_working *w, const char *dir, struct keel_error *err)
{
  return workdir_set(keel_working_config(w), dir, err);
}

int
keel_working_set_user(struct keel_working *w, const char *user, struct keel_error *err)
{
  return set_string(keel_working_config(w), "User", user);
}

static int
label_set(json_object *conf, const char *key, const char *value, struct keel_error *err)
{
  if (!*key)
    return keel_error_set(err, -EINVAL, "a label needs a name");
  json_object *l = working_obj(conf, "Labels");
  if (value)
    json_object_object_add(l, key, json_object_new_string(value));
  else
    json_object_object_del(l, key);
  return 0;
}

int
keel_working_set_label(struct keel_working *w, const char *key, const char *value,
                       struct keel_error *err)
{
  return label_set(keel_working_config(w), key, value, err);
}

static int
port_set(json_object *conf, const char *port, bool remove, struct keel_error *err)
{
  char key[64];
  char *end;
  unsigned long n = strtoul(port, &end, 10);
  const char *proto = *end == '/' ? end + 1 : "tcp";
  if (end == port || n == 0 || n > 65535 || (*end && *end != '/')
      || (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp")))
    return keel_error_set(err, -EINVAL, "invalid port '%s': want PORT[/tcp|udp|sctp]", port);
  snprintf(key, sizeof(key), "%lu/%s", n, proto);
  json_object *p = working_obj(conf, "ExposedPorts");
  if (remove)
    json_object_object_del(p, key);
  else
    json_object_object_add(p, key, json_object_new_object());
  return 0;
}

int
keel_working_add_port(struct keel_working *w, const char *port, bool remove, struct keel_error *err)
{
  return port_set(keel_working_config(w), port, remove, err);
}

static int
volume_set(json_object *conf, const char *path, bool remove, struct keel_error *err)
{
  if (!*path)
    return keel_error_set(err, -EINVAL, "a volume needs a path");
  json_object *v = working_obj(conf, "Volumes");
  if (remove)
    json_object_object_del(v, path);
  else
    json_object_object_add(v, path, json_object_new_object());
  return 0;
}

int
keel_working_add_volume(struct keel_working *w, const char *path, bool remove,
                        struct keel_error *err)
{
  return volume_set(keel_working_config(w), path, remove, err);
}

int
keel_working_set_stop_signal(struct keel_working *w, const char *sig, struct keel_error *err)
{
  return set_string(keel_working_config(w), "StopSignal", sig);
}

static int
healthcheck_set(json_object *conf, const struct keel_healthcheck *hc)
{
  if (!hc || !hc->test)
    {
      json_object_object_del(conf, "Healthcheck");
      return 0;
    }
  json_object *h = json_object_new_object();
  json_object_object_add(h, "Test", strv_json(hc->test));
  if (hc->interval)
    json_object_object_add(h, "Interval", json_object_new_int64(hc->interval));
  if (hc->timeout)
    json_object_object_add(h, "Timeout", json_object_new_int64(hc->timeout));
  if (hc->start_period)
    json_object_object_add(h, "StartPeriod", json_object_new_int64(hc->start_period));
  if (hc->start_interval)
    json_object_object_add(h, "StartInterval", json_object_new_int64(hc->start_interval));
  if (hc->retries)
    json_object_object_add(h, "Retries", json_object_new_int(hc->retries));
  json_object_object_add(conf, "Healthcheck", h);
  return 0;
}

int
keel_working_set_healthcheck(struct keel_working *w, const struct keel_healthcheck *hc,
                             struct keel_error *err)
{
  return healthcheck_set(keel_working_config(w), hc);
}

static int
onbuild_add(json_object *conf, const char *trigger)
{
  json_object *a;
  if (!json_object_object_get_ex(conf, "OnBuild", &a) || !json_object_is_type(a, json_type_array))
    {
      a = json_object_new_array();
      json_object_object_add(conf, "OnBuild", a);
    }
  json_object_array_add(a, json_object_new_string(trigger));
  return 0;
}

int
keel_working_add_onbuild(struct keel_working *w, const char *trigger, struct keel_error *err)
{
  return onbuild_add(keel_working_config(w), trigger);
}

int
keel_working_set_author(struct keel_working *w, const char *author, struct keel_error *err)
{
  return set_string(keel_working_image_config(w), "author", author);
}

int
working_history_add(json_object *image_config, const char *created, const char *created_by,
                    const char *comment, bool empty_layer)
{
  json_object *h, *e = json_object_new_object();
  if (!json_object_object_get_ex(image_config, "history", &h)
      || !json_object_is_type(h, json_type_array))
    {
      h = json_object_new_array();
      json_object_object_add(image_config, "history", h);
    }
  json_object_object_add(e, "created", json_object_new_string(created));
  if (created_by)
    json_object_object_add(e, "created_by", json_object_new_string(created_by));
  const char *author = working_str(image_config, "author");
  if (author)
    json_object_object_add(e, "author", json_object_new_string(author));
  if (comment && *comment)
    json_object_object_add(e, "comment", json_object_new_string(comment));
  if (empty_layer)
    json_object_object_add(e, "empty_layer", json_object_new_boolean(true));
  json_object_array_add(h, e);
  return 0;
}

int
keel_working_add_history(struct keel_working *w, const char *created_by, const char *comment,
                         bool empty_layer, struct keel_error *err)
{
  char now[64];
  working_now(now, sizeof(now), -1);
  return working_history_add(keel_working_image_config(w), now, created_by, comment, empty_layer);
}

/* ---- change lines ---- */

/* Split shell-style words: whitespace separates, quotes group, a
 * backslash escapes the next character. */
static int
split_words(const char *s, char ***ret, struct keel_error *err)
{
  size_t n = 0, len = strlen(s);
  char **v = calloc(len / 2 + 2, sizeof(*v));
  _cleanup_free_ char *cur = malloc(len + 1);
  if (!v || !cur)
    {
      free(v);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  while (*s)
    {
      while (isspace((unsigned char)*s))
        s++;
      if (!*s)
        break;
      size_t k = 0;
      char q = 0;
      for (; *s && (q || !isspace((unsigned char)*s)); s++)
        {
          if (!q && (*s == '"' || *s == '\''))
            q = *s;
          else if (q && *s == q)
            q = 0;
          else if (*s == '\\' && s[1] && q != '\'')
            cur[k++] = *++s;
          else
            cur[k++] = *s;
        }
      if (q)
        {
          keel_strv_free(v);
          return keel_error_set(err, -EINVAL, "unterminated quote");
        }
      cur[k] = '\0';
      v[n++] = strdup(cur);
    }
  *ret = v;
  return (int)n;
}

/* CMD/ENTRYPOINT/SHELL/VOLUME argument: a JSON array of strings, or the
 * shell form (with shell: ["/bin/sh", "-c", text]). */
static int
argv_form(const char *arg, bool shell, char ***ret, struct keel_error *err)
{
  while (isspace((unsigned char)*arg))
    arg++;
  if (*arg == '[')
    {
      _cleanup_json_ json_object *a = json_tokener_parse(arg);
      if (a && json_object_is_type(a, json_type_array))
        {
          size_t n = json_object_array_length(a);
          char **v = calloc(n + 1, sizeof(*v));
          for (size_t i = 0; v && i < n; i++)
            {
              json_object *e = json_object_array_get_idx(a, i);
              if (!json_object_is_type(e, json_type_string))
                {
                  keel_strv_free(v);
                  return keel_error_set(err, -EINVAL, "'%s': not a list of strings", arg);
                }
              v[i] = strdup(json_object_get_string(e));
            }
          *ret = v;
          return v ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
        }
    }
  if (!shell)
    return split_words(arg, ret, err) < 0 ? err->code : 0;
  char **v = calloc(4, sizeof(*v));
  if (!v)
    return keel_error_set(err, -ENOMEM, "out of memory");
  v[0] = strdup("/bin/sh");
  v[1] = strdup("-c");
  v[2] = strdup(arg);
  *ret = v;
  return 0;
}

/* ENV/LABEL: "k=v k2=v2" or the old "k v" form. */
static int
pairs(json_object *conf, const char *arg, bool env, struct keel_error *err)
{
  _cleanup_strv_ char **w = NULL;
  int n = split_words(arg, &w, err);
  if (n < 0)
    return n;
  if (n == 0)
    return keel_error_set(err, -EINVAL, "%s needs at least one argument", env ? "ENV" : "LABEL");
  if (!strchr(w[0], '='))
    {
      /* "ENV key value with spaces": the rest of the line is the value */
      const char *rest = arg + strspn(arg, " \t");
      rest += strcspn(rest, " \t");
      rest += strspn(rest, " \t");
      if (n < 2 && env)
        return keel_error_set(err, -EINVAL, "ENV %s: needs a value", w[0]);
      return env ? env_set(conf, w[0], rest, err) : label_set(conf, w[0], rest, err);
    }
  for (int i = 0; i < n; i++)
    {
      char *eq = strchr(w[i], '=');
      if (!eq)
        return keel_error_set(err, -EINVAL, "'%s': want KEY=VALUE", w[i]);
      *eq = '\0';
      int r = env ? env_set(conf, w[i], eq + 1, err) : label_set(conf, w[i], eq + 1, err);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
each_word(json_object *conf, const char *arg, bool port, struct keel_error *err)
{
  _cleanup_strv_ char **w = NULL;
  int r = port ? (split_words(arg, &w, err) < 0 ? err->code : 0) : argv_form(arg, false, &w, err);
  for (size_t i = 0; r >= 0 && w && w[i]; i++)
    r = port ? port_set(conf, w[i], false, err) : volume_set(conf, w[i], false, err);
  return r;
}

static int
one_string(json_object *conf, const char *key, const char *arg, struct keel_error *err)
{
  _cleanup_strv_ char **w = NULL;
  int n = split_words(arg, &w, err);
  if (n < 0)
    return n;
  if (n != 1)
    return keel_error_set(err, -EINVAL, "%s takes exactly one argument", key);
  return set_string(conf, key, w[0]);
}

/* "1m30s", "500ms", "10s" → nanoseconds; -1 when malformed. */
static int64_t
parse_duration(const char *s)
{
  int64_t total = 0;
  if (!*s)
    return -1;
  while (*s)
    {
      char *end;
      double v = strtod(s, &end);
      if (end == s || v < 0)
        return -1;
      int64_t unit;
      if (!strncmp(end, "ms", 2))
        unit = 1000000, end += 2;
      else if (!strncmp(end, "us", 2))
        unit = 1000, end += 2;
      else if (!strncmp(end, "ns", 2))
        unit = 1, end += 2;
      else if (*end == 's')
        unit = 1000000000, end++;
      else if (*end == 'm')
        unit = 60000000000LL, end++;
      else if (*end == 'h')
        unit = 3600000000000LL, end++;
      else
        return -1;
      total += (int64_t)(v * (double)unit);
      s = end;
    }
  return total;
}

/* HEALTHCHECK NONE | [--interval=D] [--timeout=D] [--start-period=D]
 * [--start-interval=D] [--retries=N] CMD ... */
static int
healthcheck_line(json_object *conf, const char *arg, struct keel_error *err)
{
  struct keel_healthcheck hc = { 0 };
  const char *p = arg;
  while (!strncmp(p, "--", 2))
    {
      size_t n = strcspn(p, " \t");
      char opt[128];
      snprintf(opt, sizeof(opt), "%.*s", (int)(n < 127 ? n : 127), p);
      char *eq = strchr(opt, '=');
      int64_t *dst = NULL;
      if (eq)
        *eq++ = '\0';
      if (!strcmp(opt, "--interval"))
        dst = &hc.interval;
      else if (!strcmp(opt, "--timeout"))
        dst = &hc.timeout;
      else if (!strcmp(opt, "--start-period"))
        dst = &hc.start_period;
      else if (!strcmp(opt, "--start-interval"))
        dst = &hc.start_interval;
      if (!eq || (!dst && strcmp(opt, "--retries")))
        return keel_error_set(err, -EINVAL, "HEALTHCHECK: unknown option '%s'", opt);
      if (dst && (*dst = parse_duration(eq)) < 0)
        return keel_error_set(err, -EINVAL, "HEALTHCHECK %s: bad duration '%s'", opt, eq);
      if (!dst && (hc.retries = atoi(eq)) <= 0)
        return keel_error_set(err, -EINVAL, "HEALTHCHECK --retries: bad number '%s'", eq);
      p += n;
      p += strspn(p, " \t");
    }
  if (!strcasecmp(p, "NONE"))
    {
      char *none[] = { "NONE", NULL };
      hc.test = none;
      return healthcheck_set(conf, &hc);
    }
  if (strncasecmp(p, "CMD", 3) || (p[3] && !isspace((unsigned char)p[3])))
    return keel_error_set(err, -EINVAL, "HEALTHCHECK wants NONE or CMD ...");
  p += 3;
  p += strspn(p, " \t");
  _cleanup_strv_ char **v = NULL;
  int r = argv_form(p, false, &v, err);
  if (r < 0)
    return r;
  size_t n = 0;
  while (v[n])
    n++;
  _cleanup_free_ char **test = calloc(n + 3, sizeof(*test));
  if (!test)
    return keel_error_set(err, -ENOMEM, "out of memory");
  bool json = *p == '[';
  test[0] = json ? "CMD" : "CMD-SHELL";
  if (json)
    memcpy(test + 1, v, n * sizeof(*v));
  else
    test[1] = (char *)p;
  hc.test = test;
  return healthcheck_set(conf, &hc);
}

static int
apply(json_object *ic, const char *instr, const char *arg, struct keel_error *err)
{
  json_object *conf = conf_of(ic);
  _cleanup_strv_ char **v = NULL;
  int r;
  if (!strcasecmp(instr, "CMD") || !strcasecmp(instr, "ENTRYPOINT"))
    {
      if ((r = argv_form(arg, true, &v, err)) < 0)
        return r;
      return set_strv(conf, !strcasecmp(instr, "CMD") ? "Cmd" : "Entrypoint", v);
    }
  if (!strcasecmp(instr, "SHELL"))
    {
      if (*arg != '[' || (r = argv_form(arg, false, &v, err)) < 0 || !v[0])
        return keel_error_set(err, -EINVAL, "SHELL wants a JSON list: '%s'", arg);
      return set_strv(conf, "Shell", v);
    }
  if (!strcasecmp(instr, "ENV") || !strcasecmp(instr, "LABEL"))
    return pairs(conf, arg, !strcasecmp(instr, "ENV"), err);
  if (!strcasecmp(instr, "EXPOSE") || !strcasecmp(instr, "VOLUME"))
    return each_word(conf, arg, !strcasecmp(instr, "EXPOSE"), err);
  if (!strcasecmp(instr, "USER"))
    return one_string(conf, "User", arg, err);
  if (!strcasecmp(instr, "STOPSIGNAL"))
    return one_string(conf, "StopSignal", arg, err);
  if (!strcasecmp(instr, "WORKDIR"))
    return workdir_set(conf, arg, err);
  if (!strcasecmp(instr, "ONBUILD"))
    return *arg ? onbuild_add(conf, arg) : keel_error_set(err, -EINVAL, "ONBUILD needs a trigger");
  if (!strcasecmp(instr, "HEALTHCHECK"))
    return healthcheck_line(conf, arg, err);
  return keel_error_set(err, -EINVAL,
                        "unknown change instruction '%s': want CMD, ENTRYPOINT, ENV, EXPOSE, "
                        "LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR, SHELL or HEALTHCHECK",
                        instr);
}

int
keel_image_config_apply_change(json_object *image_config, const char *line, struct keel_error *err)
{
  while (isspace((unsigned char)*line))
    line++;
  size_t n = strcspn(line, " \t=");
  char instr[32];
  if (n == 0 || n >= sizeof(instr))
    return keel_error_set(err, -EINVAL, "invalid change '%.100s'", line);
  memcpy(instr, line, n);
  instr[n] = '\0';
  const char *arg = line + n;
  /* podman also takes "ENV=FOO=bar" style: the first '=' as a separator */
  if (*arg == '=')
    arg++;
  while (isspace((unsigned char)*arg))
    arg++;
  int r = apply(image_config, instr, arg, err);
  return r < 0 ? keel_error_prefix(err, "change '%.100s'", line) : r;
}

int
keel_working_apply_change(struct keel_working *w, const char *line, struct keel_error *err)
{
  return keel_image_config_apply_change(keel_working_image_config(w), line, err);
}
