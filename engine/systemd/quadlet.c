/* NAME.container → NAME.service: the [Container] keys become the flags of
 * one `keel run` line; the rest of the file passes through.  Keys and
 * their meaning follow Quadlet (podman-systemd.unit(5)); the service runs
 * the container detached under keel-monitor, which tells systemd its own
 * pid and readiness (--sdnotify), so the monitor is the unit's main
 * process and stays in its cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "systemd/quadlet.h"

#define SEC_CONTAINER "Container"
#define SEC_INSTALL   "Install"

enum kind
{
  K_VALUE,   /* --flag=VALUE, once per assignment */
  K_WORDS,   /* --flag=WORD for each word of the value */
  K_BOOL,    /* --flag when the value is true */
  K_SPECIAL, /* handled in the code */
};

static const struct
{
  const char *key, *flag;
  enum kind kind;
} keys[] = {
  { "Image", NULL, K_SPECIAL },
  { "Exec", NULL, K_SPECIAL },
  { "ContainerName", NULL, K_SPECIAL },
  { "Notify", NULL, K_SPECIAL },
  { "User", NULL, K_SPECIAL },
  { "Group", NULL, K_SPECIAL },
  { "KeelArgs", NULL, K_SPECIAL },
  { "PodmanArgs", NULL, K_SPECIAL },
  { "Environment", "--env", K_WORDS },
  { "EnvironmentFile", "--env-file", K_VALUE },
  { "PublishPort", "--publish", K_VALUE },
  { "Volume", "--volume", K_VALUE },
  { "Mount", "--mount", K_VALUE },
  { "Tmpfs", "--tmpfs", K_VALUE },
  { "Network", "--network", K_VALUE },
  { "HostName", "--hostname", K_VALUE },
  { "Label", "--label", K_WORDS },
  { "WorkingDir", "--workdir", K_VALUE },
  { "Entrypoint", "--entrypoint", K_VALUE },
  { "AddCapability", "--cap-add", K_WORDS },
  { "DropCapability", "--cap-drop", K_WORDS },
  { "ReadOnly", "--read-only", K_BOOL },
  { "NoNewPrivileges", "--security-opt=no-new-privileges", K_BOOL },
  { "SeccompProfile", "--security-opt=seccomp", K_VALUE },
  { "RunInit", "--init", K_BOOL },
  { "DNS", "--dns", K_VALUE },
  { "AddHost", "--add-host", K_VALUE },
  { "HealthCmd", "--health-cmd", K_VALUE },
  { "HealthInterval", "--health-interval", K_VALUE },
  { "HealthTimeout", "--health-timeout", K_VALUE },
  { "HealthRetries", "--health-retries", K_VALUE },
  { "PidsLimit", "--pids-limit", K_VALUE },
  { "Ulimit", "--ulimit", K_VALUE },
  { "StopTimeout", "--stop-timeout", K_VALUE },
  { "StopSignal", "--stop-signal", K_VALUE },
  { "Pull", "--pull", K_VALUE },
};

void
keel_quadlet_done(struct keel_quadlet *q)
{
  free(q->service);
  free(q->text);
  keel_strv_free(q->wanted_by);
  keel_strv_free(q->required_by);
  keel_strv_free(q->upheld_by);
  keel_strv_free(q->alias);
  memset(q, 0, sizeof(*q));
}

static int
fail(struct keel_error *err, const struct keel_quadlet_opts *o, const struct keel_unit_entry *e,
     const char *what)
{
  if (e)
    return keel_error_set(err, -EINVAL, "%s:%u: %s '%s' in group '%s'", o->source, e->line, what,
                          e->key, e->section);
  return keel_error_set(err, -EINVAL, "%s: %s", o->source, what);
}

static int
find_key(const char *key)
{
  for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
    if (!strcmp(keys[i].key, key))
      return (int)i;
  return -1;
}

static int
append(char **line, const char *word, struct keel_error *err)
{
  return keel_unit_quote_append(line, word, true) < 0
             ? keel_error_set(err, -ENOMEM, "out of memory")
             : 0;
}

static int
append_flag(char **line, const char *flag, const char *value, struct keel_error *err)
{
  _cleanup_free_ char *w = NULL;
  if (asprintf(&w, "%s=%s", flag, value) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return append(line, w, err);
}

/* One table-driven key of [Container]. */
static int
plain_key(char **line, int k, const struct keel_unit_entry *e, const struct keel_quadlet_opts *o,
          struct keel_error *err)
{
  bool b;
  _cleanup_strv_ char **words = NULL;
  switch (keys[k].kind)
    {
    case K_VALUE:
      return *e->value ? append_flag(line, keys[k].flag, e->value, err) : 0;
    case K_BOOL:
      if (keel_unit_parse_bool(e->value, &b) < 0)
        return fail(err, o, e, "not a boolean: key");
      return b ? append(line, keys[k].flag, err) : 0;
    case K_WORDS:
      if (keel_unit_split(e->value, &words, err) < 0)
        return keel_error_prefix(err, "%s:%u: %s", o->source, e->line, e->key);
      for (char **w = words; *w; w++)
        if (append_flag(line, keys[k].flag, *w, err) < 0)
          return err->code;
      return 0;
    default:
      return 0;
    }
}

/* The words of KeelArgs= / PodmanArgs= / Exec=, appended as they are. */
static int
append_words(char **line, const struct keel_unit_entry *e, const struct keel_quadlet_opts *o,
             struct keel_error *err)
{
  _cleanup_strv_ char **words = NULL;
  if (keel_unit_split(e->value, &words, err) < 0)
    return keel_error_prefix(err, "%s:%u: %s", o->source, e->line, e->key);
  for (char **w = words; *w; w++)
    if (append(line, *w, err) < 0)
      return err->code;
  return 0;
}

/* The ExecStart line from [Container]; the container's name in ret_name. */
static int
run_line(const struct keel_unit *u, const struct keel_quadlet_opts *o, char **ret_line,
         char **ret_name, struct keel_error *err)
{
  const char *image = keel_unit_get(u, SEC_CONTAINER, "Image");
  const char *name = keel_unit_get(u, SEC_CONTAINER, "ContainerName");
  const char *user = keel_unit_get(u, SEC_CONTAINER, "User");
  const char *group = keel_unit_get(u, SEC_CONTAINER, "Group");
  const char *notify = keel_unit_get(u, SEC_CONTAINER, "Notify");
  bool notify_container = false;
  if (!image || !*image)
    return fail(err, o, NULL, "no Image key in group 'Container'");
  if (notify && keel_unit_parse_bool(notify, &notify_container) < 0)
    return fail(err, o, NULL, "Notify= takes a boolean");
  _cleanup_free_ char *line = NULL, *cname = strdup(name && *name ? name : "systemd-%N");
  _cleanup_free_ char *ug = NULL;
  if (!cname)
    return keel_error_set(err, -ENOMEM, "out of memory");
  if (append(&line, o->keel, err) < 0 || append(&line, "run", err) < 0
      || append_flag(&line, "--name", cname, err) < 0)
    return err->code;
  static const char *const fixed[] = { "--replace", "--rm", "--detach" };
  for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
    if (append(&line, fixed[i], err) < 0)
      return err->code;
  if (append(&line, notify_container ? "--sdnotify=container" : "--sdnotify=conmon", err) < 0)
    return err->code;
  if (user && *user
      && (asprintf(&ug, "%s%s%s", user, group && *group ? ":" : "", group ? group : "") < 0
          || append_flag(&line, "--user", ug, err) < 0))
    return err->code ? err->code : keel_error_set(err, -ENOMEM, "out of memory");
  if (group && *group && !(user && *user))
    return fail(err, o, NULL, "Group= needs User=");
  for (size_t i = 0; i < u->n; i++)
    {
      const struct keel_unit_entry *e = &u->v[i];
      if (strcmp(e->section, SEC_CONTAINER))
        continue;
      int k = find_key(e->key);
      if (k < 0)
        return fail(err, o, e, "unsupported key");
      bool extra = !strcmp(e->key, "KeelArgs") || !strcmp(e->key, "PodmanArgs");
      int r = extra ? append_words(&line, e, o, err) : plain_key(&line, k, e, o, err);
      if (r < 0)
        return r;
    }
  if (append(&line, image, err) < 0)
    return err->code;
  /* the last Exec= wins, as for any single-valued key */
  const struct keel_unit_entry *exec = NULL;
  for (size_t i = 0; i < u->n; i++)
    if (!strcmp(u->v[i].section, SEC_CONTAINER) && !strcmp(u->v[i].key, "Exec"))
      exec = &u->v[i];
  if (exec && append_words(&line, exec, o, err) < 0)
    return err->code;
  *ret_line = TAKE_PTR(line);
  *ret_name = TAKE_PTR(cname);
  return 0;
}

static void
copy_section(FILE *f, const struct keel_unit *u, const char *from, const char *to)
{
  bool header = false;
  for (size_t i = 0; i < u->n; i++)
    if (!strcmp(u->v[i].section, from))
      {
        if (!header && to)
          fprintf(f, "\n[%s]\n", to);
        header = true;
        fprintf(f, "%s=%s\n", u->v[i].key, u->v[i].value);
      }
}

/* Sections other than the ones we write ourselves, in file order. */
static void
copy_other_sections(FILE *f, const struct keel_unit *u)
{
  for (size_t i = 0; i < u->n; i++)
    {
      const char *s = u->v[i].section;
      bool seen = false;
      for (size_t j = 0; j < i && !seen; j++)
        seen = !strcmp(u->v[j].section, s);
      if (!seen && strcmp(s, "Unit") && strcmp(s, "Service") && strcmp(s, SEC_CONTAINER)
          && strcmp(s, SEC_INSTALL))
        copy_section(f, u, s, s);
    }
}

static void
write_service(FILE *f, const struct keel_unit *u, const struct keel_quadlet_opts *o,
              const char *run, const char *name)
{
  _cleanup_free_ char *rm = NULL;
  keel_unit_quote_append(&rm, o->keel, true);
  keel_unit_quote_append(&rm, "rm", true);
  keel_unit_quote_append(&rm, "--force", true);
  keel_unit_quote_append(&rm, "--ignore", true);
  keel_unit_quote_append(&rm, "--volumes", true);
  keel_unit_quote_append(&rm, name, true);
  fprintf(f, "# Automatically generated by keel-systemd-generator from %s\n", o->source);
  fprintf(f,
          "[Unit]\nWants=network-online.target\nAfter=network-online.target\n"
          "SourcePath=%s\n",
          o->source);
  copy_section(f, u, "Unit", NULL);
  copy_section(f, u, SEC_CONTAINER, "X-Container");
  fprintf(f,
          "\n[Service]\n"
          "Environment=KEEL_SYSTEMD_UNIT=%%n\n"
          "KillMode=mixed\n"
          "Delegate=yes\n"
          "Type=notify\n"
          "NotifyAccess=all\n"
          "SyslogIdentifier=%%N\n"
          "ExecStart=%s\n"
          "ExecStop=%s\n"
          "ExecStopPost=-%s\n",
          run, rm ? rm : "", rm ? rm : "");
  copy_section(f, u, "Service", NULL);
  copy_other_sections(f, u);
}

static int
install_key(struct keel_quadlet *q, const struct keel_unit_entry *e,
            const struct keel_quadlet_opts *o, struct keel_error *err)
{
  char ***list = !strcmp(e->key, "WantedBy")     ? &q->wanted_by
                 : !strcmp(e->key, "RequiredBy") ? &q->required_by
                 : !strcmp(e->key, "UpheldBy")   ? &q->upheld_by
                 : !strcmp(e->key, "Alias")      ? &q->alias
                                                 : NULL;
  if (!list)
    return fail(err, o, e, "unsupported key");
  _cleanup_strv_ char **words = NULL;
  if (keel_unit_split(e->value, &words, err) < 0)
    return keel_error_prefix(err, "%s:%u: %s", o->source, e->line, e->key);
  size_t n = 0, m = 0;
  while (*list && (*list)[n])
    n++;
  while (words[m])
    m++;
  char **v = realloc(*list, (n + m + 1) * sizeof(*v));
  if (!v)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < m; i++)
    {
      if (strchr(words[i], '/') || !strchr(words[i], '.'))
        {
          v[n + i] = NULL;
          *list = v;
          return fail(err, o, e, "not a unit name in key");
        }
      v[n + i] = TAKE_PTR(words[i]);
    }
  v[n + m] = NULL;
  *list = v;
  return 0;
}

static int
check_name(const struct keel_quadlet_opts *o, char **ret_service, struct keel_error *err)
{
  const char *n = o->name;
  size_t len = strlen(n), suffix = strlen(".container");
  if (len <= suffix || strcmp(n + len - suffix, ".container"))
    return fail(err, o, NULL, "file name must end in .container");
  if (strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\") != len)
    return fail(err, o, NULL, "not a valid unit name (templates with '@' are not supported)");
  if (asprintf(ret_service, "%.*s.service", (int)(len - suffix), n) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return 0;
}

int
keel_quadlet_container(const struct keel_unit *u, const struct keel_quadlet_opts *o,
                       struct keel_quadlet *ret, struct keel_error *err)
{
  struct keel_quadlet q = { 0 };
  struct keel_quadlet_opts opts = *o;
  if (!opts.keel)
    opts.keel = "/usr/bin/keel";
  _cleanup_free_ char *run = NULL, *name = NULL;
  int r = check_name(&opts, &q.service, err);
  for (size_t i = 0; r >= 0 && i < u->n; i++)
    if (!strcmp(u->v[i].section, SEC_INSTALL))
      r = install_key(&q, &u->v[i], &opts, err);
  if (r >= 0)
    r = run_line(u, &opts, &run, &name, err);
  size_t len;
  FILE *f = r >= 0 ? open_memstream(&q.text, &len) : NULL;
  if (r >= 0 && !f)
    r = keel_error_set(err, -ENOMEM, "out of memory");
  if (f)
    {
      write_service(f, u, &opts, run, name);
      if (fclose(f) != 0)
        r = keel_error_set(err, -ENOMEM, "out of memory");
    }
  if (r < 0)
    {
      keel_quadlet_done(&q);
      return r;
    }
  *ret = q;
  return 0;
}

/* DIR/SUB/NAME -> ../SERVICE (SUB NULL: DIR/NAME -> SERVICE) */
static int
link_unit(const char *dir, const char *sub, const char *name, const char *service,
          struct keel_error *err)
{
  char path[4096], target[1024];
  if (sub)
    {
      snprintf(path, sizeof(path), "%s/%s", dir, sub);
      if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return keel_error_set_errno(err, errno, "cannot create '%s'", path);
    }
  snprintf(path, sizeof(path), "%s/%s%s%s", dir, sub ? sub : "", sub ? "/" : "", name);
  snprintf(target, sizeof(target), "%s%s", sub ? "../" : "", service);
  unlink(path);
  if (symlink(target, path) < 0)
    return keel_error_set_errno(err, errno, "cannot link '%s'", path);
  return 0;
}

static int
link_all(const char *dir, char **units, const char *suffix, const char *service,
         struct keel_error *err)
{
  for (char **t = units; t && *t; t++)
    {
      char sub[1100];
      snprintf(sub, sizeof(sub), "%s%s", *t, suffix);
      if (link_unit(dir, sub, service, service, err) < 0)
        return err->code;
    }
  return 0;
}

int
keel_quadlet_write(const struct keel_quadlet *q, const char *dir, struct keel_error *err)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, q->service);
  int r = keel_write_file_replace(AT_FDCWD, path, q->text, strlen(q->text), 0644);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s'", path);
  if (link_all(dir, q->wanted_by, ".wants", q->service, err) < 0
      || link_all(dir, q->required_by, ".requires", q->service, err) < 0
      || link_all(dir, q->upheld_by, ".upholds", q->service, err) < 0)
    return err->code;
  for (char **a = q->alias; a && *a; a++)
    if (link_unit(dir, NULL, *a, q->service, err) < 0)
      return err->code;
  return 0;
}
