/* buildah-style verbs over working containers: from, run-in (buildah's
 * "run": keel run is podman's), copy, config, mount, umount, and the
 * working-container listing (keel containers). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/working.h"
#include "cli/keel/cli.h"
#include "cli/keel/create.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"

/* Open the store and a working container by name or id. */
static int
open_working(const char *what, struct keel_store **s, struct keel_working **w,
             struct keel_error *err)
{
  int r = cli_open_store(s, err);
  return r < 0 ? r : keel_working_open(*s, what, w, err);
}

static int
fail_free(struct keel_error *err, struct keel_working *w, struct keel_store *s)
{
  keel_working_free(w);
  keel_store_free(s);
  return cli_fail(err);
}

int
cmd_from(int argc, char **argv)
{
  static const struct option opts[] = {
    { "name", required_argument, NULL, 'n' },
    { "pull", required_argument, NULL, 'p' },
    { "platform", required_argument, NULL, 'P' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  struct create_flags f = { .pull = "missing" };
  struct keel_working_create_opts co = KEEL_WORKING_CREATE_OPTS_INIT;
  int c;
  while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1)
    switch (c)
      {
      case 'n':
        co.name = optarg;
        break;
      case 'p':
        f.pull = optarg;
        break;
      case 'P':
        f.platform = co.platform = optarg;
        break;
      case 'q':
        break;
      default:
        return cli_usage("from", "usage: keel from [--name NAME] [--pull P] [--platform P] IMAGE");
      }
  if (optind + 1 != argc)
    return cli_usage("from", "requires exactly 1 arg(s): IMAGE or scratch");
  if (strcmp(f.pull, "always") && strcmp(f.pull, "missing") && strcmp(f.pull, "never")
      && strcmp(f.pull, "newer"))
    return cli_usage("from", "--pull: want always, missing or never, not '%s'", f.pull);
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_image *img = NULL;
  struct keel_working *w = NULL;
  f.image = argv[optind];
  int r = cli_open_store(&s, &err);
  if (r >= 0 && strcmp(f.image, "scratch"))
    {
      r = create_find_image(&f, s, &img, &err);
      co.image = r >= 0 ? img->id : NULL;
    }
  else
    co.image = "scratch";
  char ref[600];
  snprintf(ref, sizeof(ref), "%s", img && img->names && img->names[0] ? img->names[0] : f.image);
  co.ref = ref;
  if (r >= 0)
    r = keel_working_create(s, &co, &w, &err);
  keel_image_free(img);
  if (r < 0)
    return fail_free(&err, w, s);
  printf("%s\n", keel_working_name(w));
  keel_working_free(w);
  keel_store_free(s);
  return 0;
}

static int
parse_network(const char *s, enum keel_working_network *ret)
{
  if (!strcmp(s, "none"))
    *ret = KEEL_WORKING_NET_NONE;
  else if (!strcmp(s, "host"))
    *ret = KEEL_WORKING_NET_HOST;
  else if (!strcmp(s, "bridge") || !strcmp(s, "private"))
    *ret = KEEL_WORKING_NET_BRIDGE;
  else
    return -EINVAL;
  return 0;
}

/* --mount type=bind|cache|tmpfs,source=S|id=ID,target=T[,ro] */
static int
parse_mount(const char *spec, char *copy, struct keel_working_mount *m, struct keel_error *err)
{
  /* the fields point into copy (the caller's) */
  memset(m, 0, sizeof(*m));
  m->type = KEEL_WORKING_MOUNT_BIND;
  for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    {
      char *eq = strchr(t, '=');
      const char *v = eq ? eq + 1 : "";
      if (eq)
        *eq = '\0';
      if (!strcmp(t, "type"))
        {
          if (!strcmp(v, "cache"))
            m->type = KEEL_WORKING_MOUNT_CACHE;
          else if (!strcmp(v, "tmpfs"))
            m->type = KEEL_WORKING_MOUNT_TMPFS;
          else if (strcmp(v, "bind"))
            return keel_error_set(err, -EINVAL, "--mount: unknown type '%s'", v);
        }
      else if (!strcmp(t, "source") || !strcmp(t, "src") || !strcmp(t, "id"))
        m->source = v;
      else if (!strcmp(t, "target") || !strcmp(t, "dst") || !strcmp(t, "destination"))
        m->target = v;
      else if (!strcmp(t, "ro") || !strcmp(t, "readonly"))
        m->readonly = true;
      else
        return keel_error_set(err, -EINVAL, "--mount: unknown option '%s'", t);
    }
  if (!m->target)
    return keel_error_set(err, -EINVAL, "--mount %s: no target", spec);
  return 0;
}

struct run_in_flags
{
  struct keel_working_run_opts o;
  char *env[64];
  size_t n_env;
  struct keel_working_mount mounts[16];
  char *specs[16]; /* --mount values the mounts point into */
};

static int
run_in_parse(int argc, char **argv, struct run_in_flags *f, struct keel_error *err)
{
  static const struct option opts[] = {
    { "env", required_argument, NULL, 'e' },      { "workingdir", required_argument, NULL, 'w' },
    { "user", required_argument, NULL, 'u' },     { "network", required_argument, NULL, 'N' },
    { "mount", required_argument, NULL, 'm' },    { "volume", required_argument, NULL, 'v' },
    { "hostname", required_argument, NULL, 'H' }, { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long(argc, argv, "+e:w:u:v:", opts, NULL)) != -1)
    {
      struct keel_working_mount *m = &f->mounts[f->o.n_mounts];
      if ((c == 'm' || c == 'v') && f->o.n_mounts >= ARRAY_SIZE(f->mounts))
        return keel_error_set(err, -E2BIG, "too many mounts");
      if (c == 'e' && f->n_env + 1 < ARRAY_SIZE(f->env))
        f->env[f->n_env++] = optarg;
      else if (c == 'w')
        f->o.workdir = optarg;
      else if (c == 'u')
        f->o.user = optarg;
      else if (c == 'H')
        f->o.hostname = optarg;
      else if (c == 'N' && parse_network(optarg, &f->o.network) < 0)
        return keel_error_set(err, -EINVAL, "--network: want none, host or bridge, not '%s'",
                              optarg);
      else if (c == 'm' && (f->specs[f->o.n_mounts] = strdup(optarg))
               && parse_mount(optarg, f->specs[f->o.n_mounts], m, err) >= 0)
        f->o.n_mounts++;
      else if (c == 'v')
        {
          char *colon = strchr(optarg, ':');
          if (!colon)
            return keel_error_set(err, -EINVAL, "-v %s: want SRC:DST[:ro]", optarg);
          *colon = '\0';
          m->source = optarg;
          m->target = colon + 1;
          if ((colon = strchr(colon + 1, ':')))
            {
              *colon = '\0';
              m->readonly = !strcmp(colon + 1, "ro");
            }
          f->o.n_mounts++;
        }
      else if (c == 'm' || (c != 'e' && c != 'N'))
        return err->code ? err->code
                         : keel_error_set(err, -EINVAL,
                                          "usage: keel run-in [-e K=V] [-w DIR] [-u USER] "
                                          "[--network none|host|bridge] [--mount M] NAME [--] "
                                          "COMMAND...");
    }
  int first = optind;
  /* NAME -- CMD...: the "--" goes */
  if (first + 1 < argc && !strcmp(argv[first + 1], "--"))
    {
      memmove(argv + first + 1, argv + first + 2, (size_t)(argc - first - 2) * sizeof(*argv));
      argv[--argc] = NULL;
    }
  if (first + 2 > argc)
    return keel_error_set(err, -EINVAL, "requires a working container and a command");
  return first;
}

int
cmd_run_in(int argc, char **argv)
{
  struct run_in_flags f = { .o = KEEL_WORKING_RUN_OPTS_INIT };
  struct keel_error err = KEEL_ERROR_INIT;
  int first = run_in_parse(argc, argv, &f, &err);
  if (first < 0)
    {
      for (size_t i = 0; i < ARRAY_SIZE(f.specs); i++)
        free(f.specs[i]);
      return cli_usage("run-in", "%s", err.msg);
    }
  f.o.env = f.env;
  f.o.mounts = f.mounts;
  f.o.stdin_inherit = true;
  f.o.runtime_root = ctr_runtime_root();
  f.o.network_conf = getenv("KEEL_NETWORK_CONF");
  f.o.host_resolv = getenv("KEEL_HOST_RESOLV");
  f.o.argv = argv + first + 1;
  struct keel_store *s = NULL;
  struct keel_working *w = NULL;
  int status = 0;
  int r = open_working(argv[first], &s, &w, &err);
  if (r >= 0)
    r = keel_working_run(w, &f.o, &status, &err);
  for (size_t i = 0; i < ARRAY_SIZE(f.specs); i++)
    free(f.specs[i]);
  keel_working_free(w);
  keel_store_free(s);
  if (r < 0)
    return cli_exec_fail(&err); /* 125, or podman's 126/127 for the command */
  return status;
}

int
cmd_copy(int argc, char **argv)
{
  static const struct option opts[] = {
    { "chown", required_argument, NULL, 'o' },
    { "chmod", required_argument, NULL, 'm' },
    { "from", required_argument, NULL, 'f' },
    { "contextdir", required_argument, NULL, 'C' },
    { "quiet", no_argument, NULL, 'q' },
    { "add", no_argument, NULL, 'a' },
    { NULL, 0, NULL, 0 },
  };
  struct keel_working_copy_opts o = KEEL_WORKING_COPY_OPTS_INIT;
  const char *from = NULL, *context = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1)
    {
      char *end = NULL;
      if (c == 'o')
        o.chown = optarg;
      else if (c == 'm' && (o.mode = (mode_t)strtoul(optarg, &end, 8), *optarg && !*end))
        o.set_mode = o.mode <= 07777;
      else if (c == 'f')
        from = optarg;
      else if (c == 'C')
        context = optarg;
      else if (c == 'a')
        o.extract_archives = true;
      else if (c != 'q' || end)
        return cli_usage("copy", "usage: keel copy [--chown U[:G]] [--chmod MODE] [--from "
                                 "NAME|IMAGE] [--contextdir DIR] NAME SRC... DEST");
    }
  if (optind + 3 > argc)
    return cli_usage("copy", "requires a working container, a source and a destination");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_working *w = NULL, *fw = NULL;
  struct keel_image *img = NULL;
  _cleanup_close_ int ctx = -EBADF;
  int r = open_working(argv[optind], &s, &w, &err);
  if (r >= 0 && from && keel_working_open(s, from, &fw, NULL) == 0)
    o.from = fw;
  else if (r >= 0 && from && (r = cli_find_image(s, from, &img, &err)) >= 0)
    o.from_image = img->id;
  if (r >= 0 && context && (ctx = open(context, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    r = keel_error_set_errno(&err, -errno, "--contextdir '%s'", context);
  o.src_dirfd = ctx;
  o.dest = argv[argc - 1];
  argv[argc - 1] = NULL;
  o.sources = argv + optind + 1;
  if (r >= 0)
    r = keel_working_copy(w, &o, &err);
  keel_image_free(img);
  keel_working_free(fw);
  if (r < 0)
    return fail_free(&err, w, s);
  keel_working_free(w);
  keel_store_free(s);
  return 0;
}

/* "K=V" → key and value (value NULL for "K-": buildah's removal form). */
static int
split_kv(char *kv, const char **value)
{
  char *eq = strchr(kv, '=');
  size_t n = strlen(kv);
  if (eq)
    {
      *eq = '\0';
      *value = eq + 1;
      return 0;
    }
  if (n > 1 && kv[n - 1] == '-')
    {
      kv[n - 1] = '\0';
      *value = NULL;
      return 0;
    }
  return -EINVAL;
}

/* --cmd/--entrypoint: a JSON list, else the shell form (as buildah). */
static int
set_argv_flag(struct keel_working *w, const char *flag, const char *arg, struct keel_error *err)
{
  char line[8192];
  snprintf(line, sizeof(line), "%s %s", flag, arg);
  if (!*arg)
    {
      char *none[] = { NULL };
      return strcmp(flag, "CMD") ? keel_working_set_entrypoint(w, none, err)
                                 : keel_working_set_cmd(w, none, err);
    }
  return keel_working_apply_change(w, line, err);
}

static int
config_one(struct keel_working *w, int c, char *arg, struct keel_error *err)
{
  const char *v = NULL;
  switch (c)
    {
    case 'c':
      return set_argv_flag(w, "CMD", arg, err);
    case 'E':
      return set_argv_flag(w, "ENTRYPOINT", arg, err);
    case 'e':
      if (split_kv(arg, &v) < 0)
        return keel_error_set(err, -EINVAL, "--env %s: want KEY=VALUE or KEY-", arg);
      return keel_working_setenv(w, arg, v, err);
    case 'l':
      if (split_kv(arg, &v) < 0)
        v = "";
      return keel_working_set_label(w, arg, v, err);
    case 'w':
      return keel_working_set_workdir(w, arg, err);
    case 'u':
      return keel_working_set_user(w, arg, err);
    case 'p':
      {
        size_t n = strlen(arg);
        bool rm = n > 1 && arg[n - 1] == '-';
        if (rm)
          arg[n - 1] = '\0';
        return keel_working_add_port(w, arg, rm, err);
      }
    case 'v':
      {
        size_t n = strlen(arg);
        bool rm = n > 1 && arg[n - 1] == '-';
        if (rm)
          arg[n - 1] = '\0';
        return keel_working_add_volume(w, arg, rm, err);
      }
    case 's':
      return keel_working_set_stop_signal(w, arg, err);
    case 'a':
      return keel_working_set_author(w, arg, err);
    case 'o':
      return keel_working_add_onbuild(w, arg, err);
    case 'S':
      {
        char line[8192];
        snprintf(line, sizeof(line), "SHELL %s", arg);
        return keel_working_apply_change(w, line, err);
      }
    case 'h':
      {
        char line[8192];
        snprintf(line, sizeof(line), "HEALTHCHECK %s", arg);
        return keel_working_apply_change(w, line, err);
      }
    case 'C':
      return keel_working_apply_change(w, arg, err);
    default:
      return keel_error_set(err, -EINVAL, "bad option");
    }
}

int
cmd_config(int argc, char **argv)
{
  static const struct option opts[] = {
    { "cmd", required_argument, NULL, 'c' },
    { "entrypoint", required_argument, NULL, 'E' },
    { "env", required_argument, NULL, 'e' },
    { "label", required_argument, NULL, 'l' },
    { "workingdir", required_argument, NULL, 'w' },
    { "user", required_argument, NULL, 'u' },
    { "port", required_argument, NULL, 'p' },
    { "volume", required_argument, NULL, 'v' },
    { "stop-signal", required_argument, NULL, 's' },
    { "author", required_argument, NULL, 'a' },
    { "onbuild", required_argument, NULL, 'o' },
    { "shell", required_argument, NULL, 'S' },
    { "healthcheck", required_argument, NULL, 'h' },
    { "change", required_argument, NULL, 'C' },
    { NULL, 0, NULL, 0 },
  };
  /* options apply in order, after the container is known: collect first */
  int n = 0, c;
  struct
  {
    int c;
    char *arg;
  } todo[128];
  while ((c = getopt_long(argc, argv, "+e:l:u:p:v:a:", opts, NULL)) != -1)
    {
      if (c == '?' || n >= (int)ARRAY_SIZE(todo))
        return cli_usage("config", "usage: keel config [--cmd C] [--entrypoint E] [--env K=V] "
                                   "[--label K=V] [--workingdir D] [--user U] [--port P] "
                                   "[--volume V] [--stop-signal S] [--change LINE] NAME");
      todo[n].c = c;
      todo[n++].arg = optarg;
    }
  if (optind + 1 != argc)
    return cli_usage("config", "requires exactly 1 arg(s): the working container");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_working *w = NULL;
  int r = open_working(argv[optind], &s, &w, &err);
  for (int i = 0; r >= 0 && i < n; i++)
    r = config_one(w, todo[i].c, todo[i].arg, &err);
  if (r >= 0)
    r = keel_working_save(w, &err);
  if (r < 0)
    return fail_free(&err, w, s);
  keel_working_free(w);
  keel_store_free(s);
  return 0;
}

/* mount / umount: each NAME in turn, one line each. */
static int
each_working(const char *verb, int argc, char **argv, bool mount)
{
  if (argc < 2 || argv[1][0] == '-')
    return cli_usage(verb, "usage: keel %s NAME...", verb);
  int rc = 0;
  for (int i = 1; i < argc; i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct keel_store *s = NULL;
      struct keel_working *w = NULL;
      const char *path = NULL;
      int r = open_working(argv[i], &s, &w, &err);
      if (r >= 0)
        r = mount ? keel_working_mount(w, &path, &err) : keel_working_umount(w, &err);
      if (r < 0)
        {
          rc = fail_free(&err, w, s);
          continue;
        }
      if (!mount)
        printf("%s\n", keel_working_id(w));
      else if (argc > 2)
        printf("%s %s\n", argv[i], path);
      else
        printf("%s\n", path);
      keel_working_free(w);
      keel_store_free(s);
    }
  return rc;
}

int
cmd_mount(int argc, char **argv)
{
  return each_working("mount", argc, argv, true);
}

int
cmd_umount(int argc, char **argv)
{
  return each_working("umount", argc, argv, false);
}

/* keel containers: buildah's listing of working containers. */
int
cmd_containers(int argc, char **argv)
{
  static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' },
                                        { "notruncate", no_argument, NULL, 'n' },
                                        { "json", no_argument, NULL, 'j' },
                                        { NULL, 0, NULL, 0 } };
  bool quiet = false, notrunc = false, json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1)
    if (c == 'q')
      quiet = true;
    else if (c == 'n')
      notrunc = true;
    else if (c == 'j')
      json = true;
    else
      return cli_usage("containers", "usage: keel containers [-q] [--notruncate] [--json]");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  _cleanup_strv_ char **ids = NULL;
  size_t n = 0;
  if (cli_open_store(&s, &err) < 0 || keel_working_list(s, &ids, &n, &err) < 0)
    return fail_free(&err, NULL, s);
  _cleanup_json_ json_object *all = json_object_new_array();
  if (!quiet && !json)
    printf("%-12s  %-8s %-12s  %-32s %s\n", "CONTAINER ID", "BUILDER", "IMAGE ID", "IMAGE NAME",
           "CONTAINER NAME");
  for (size_t i = 0; i < n; i++)
    {
      struct keel_working *w = NULL;
      if (keel_working_open(s, ids[i], &w, NULL) < 0)
        continue;
      const char *img = keel_working_image(w);
      const char *hex = strchr(img, ':') ? strchr(img, ':') + 1 : img;
      json_object *o = json_object_new_object();
      json_object_object_add(o, "id", json_object_new_string(ids[i]));
      json_object_object_add(o, "imageid", json_object_new_string(hex));
      json_object_object_add(o, "imagename", json_object_new_string(keel_working_from(w)));
      json_object_object_add(o, "containername", json_object_new_string(keel_working_name(w)));
      json_object_array_add(all, o);
      if (quiet)
        printf("%.*s\n", notrunc ? 64 : 12, ids[i]);
      else if (!json)
        printf("%.*s  %-8s %-12.*s  %-32s %s\n", notrunc ? 64 : 12, ids[i], "*", notrunc ? 64 : 12,
               *hex ? hex : "", keel_working_from(w), keel_working_name(w));
      keel_working_free(w);
    }
  if (json)
    printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY
                                                           | JSON_C_TO_STRING_NOSLASHESCAPE));
  keel_store_free(s);
  return 0;
}
