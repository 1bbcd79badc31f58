/* keel: the container engine's command line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/keel/cli.h"
#include "lib/cleanup.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "registry/config.h"
#include "registry/reference.h"

const char *cli_root = KEEL_STORE_DEFAULT_ROOT;

/* Room is kept for the container verbs. */
static const struct cli_command commands[] = {
  { "pull", cmd_pull, "pull [--platform OS/ARCH[/VARIANT]] [--quiet] [--tls-verify=false] REF" },
  { "push", cmd_push,
    "push [--format oci|v2s2] [--compression-format gzip|zstd] [--creds U:P] [--tls-verify=false] "
    "IMAGE [DEST]" },
  { "save", cmd_save, "save -o FILE [--format docker-archive|oci-archive|oci-dir] IMAGE..." },
  { "load", cmd_load, "load -i FILE|DIR" },
  { "images", cmd_images, "images [-q] [--digests] [--format json]" },
  { "image", cmd_image, "image inspect|ls|prune|rm|tag|pull ..." },
  { "tag", cmd_tag, "tag IMAGE NAME..." },
  { "rmi", cmd_rmi, "rmi [-f] IMAGE..." },
  { "login", cmd_login,
    "login [-u USER] [-p PASS | --password-stdin] [--tls-verify=false] [--cert-dir D] REGISTRY" },
  { "logout", cmd_logout, "logout REGISTRY | --all" },
  { "system", cmd_system, "system check [--repair] | system df | system check-kernel" },
  { "run", cmd_run, "run [OPTIONS] IMAGE [COMMAND [ARG...]]" },
  { "build", cmd_build,
    "build [-t NAME]... [-f FILE] [--build-arg K=V]... [--target STAGE] [--no-cache] "
    "[--pull[=always|missing|never]] [--platform P] [--layers[=BOOL]] [--network MODE] "
    "[--label K=V]... [-q] CONTEXT" },
  { "create", cmd_create, "create [OPTIONS] IMAGE [COMMAND [ARG...]]" },
  { "start", cmd_start, "start [-a] [-i] CONTAINER..." },
  { "attach", cmd_attach, "attach [--no-stdin] CONTAINER" },
  { "ps", cmd_ps, "ps [-a] [-q] [--format F|json] [--filter K=V]" },
  { "logs", cmd_logs, "logs [-f] [-t] [--tail N] [--since T] CONTAINER" },
  { "stop", cmd_stop, "stop [-t SECONDS] CONTAINER..." },
  { "kill", cmd_kill, "kill [-s SIGNAL] CONTAINER..." },
  { "rm", cmd_rm, "rm [-f] [-v] [-i] [-a] CONTAINER..." },
  { "restart", cmd_restart, "restart [-t SECONDS] CONTAINER..." },
  { "wait", cmd_wait, "wait CONTAINER..." },
  { "exec", cmd_exec, "exec [-it] [-d] [-e K=V] [-u USER] [-w DIR] CONTAINER COMMAND..." },
  { "inspect", cmd_inspect, "inspect [--format F] CONTAINER..." },
  { "pause", cmd_pause, "pause CONTAINER..." },
  { "unpause", cmd_unpause, "unpause CONTAINER..." },
  { "rename", cmd_rename, "rename CONTAINER NEW_NAME" },
  { "port", cmd_port, "port CONTAINER" },
  { "top", cmd_top, "top CONTAINER" },
  { "stats", cmd_stats, "stats [-a] [--no-stream] [--no-trunc] [--format F|json] [CONTAINER...]" },
  { "cp", cmd_cp, "cp CONTAINER:SRC DEST | cp SRC CONTAINER:DEST" },
  { "volume", cmd_volume, "volume create|ls|inspect|rm|prune ..." },
  { "network", cmd_network, "network create|ls|inspect|rm ..." },
  { "from", cmd_from, "from [--name NAME] [--pull P] [--platform P] IMAGE|scratch" },
  { "run-in", cmd_run_in,
    "run-in [-e K=V] [-w DIR] [-u USER] [--network none|host|bridge] [--mount M] NAME [--] "
    "CMD..." },
  { "copy", cmd_copy,
    "copy [--chown U[:G]] [--chmod MODE] [--from NAME|IMAGE] [--contextdir D] [--add] NAME SRC... "
    "DEST" },
  { "config", cmd_config,
    "config [--cmd C] [--entrypoint E] [--env K=V] [--label K=V] [--workingdir D] [--user U] "
    "[--port P] [--volume V] [--stop-signal S] [--change LINE] NAME" },
  { "mount", cmd_mount, "mount NAME..." },
  { "umount", cmd_umount, "umount NAME..." },
  { "containers", cmd_containers, "containers [-q] [--notruncate] [--json]" },
  { "commit", cmd_commit,
    "commit [-c CHANGE] [-m MSG] [-a AUTHOR] [--pause=false] [--rm] [--timestamp N] "
    "[--compression-format gzip|zstd] CONTAINER [IMAGE]" },
  { "generate", cmd_generate,
    "generate systemd [--new] [--name] [--files] [--restart-policy P] [-t SECONDS] CONTAINER" },
  { "container", cmd_container, "container ls|prune|rm|inspect|... (the verbs above)" },
};

static void
usage(FILE *f)
{
  fprintf(f, "usage: keel [--root DIR] [--debug] COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    fprintf(f, "  %s\n", commands[i].usage);
}

int
cli_fail(const struct keel_error *err)
{
  keel_log_error("%s", err->msg[0] ? err->msg : strerror(-err->code));
  return EXIT_ENGINE;
}

int
cli_usage(const char *verb, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  keel_log_error("%s: %s", verb, msg);
  return EXIT_ENGINE;
}

int
cli_parse_bool(const char *s, bool *ret)
{
  if (!s || !strcmp(s, "true") || !strcmp(s, "1"))
    *ret = true;
  else if (!strcmp(s, "false") || !strcmp(s, "0"))
    *ret = false;
  else
    return -EINVAL;
  return 0;
}

int
cli_registry_creds(const char *creds, struct keel_registry_opts *o, struct keel_error *err)
{
  /* credentials from auth.json (REGISTRY_AUTH_FILE, ...) unless --creds */
  o->credentials = keel_auth_credentials;
  if (!creds)
    return 0;
  static char user[256];
  const char *colon = strchr(creds, ':');
  size_t n = colon ? (size_t)(colon - creds) : strlen(creds);
  if (n >= sizeof(user))
    return keel_error_set(err, -EINVAL, "--creds: user name too long");
  memcpy(user, creds, n);
  user[n] = '\0';
  o->username = user;
  o->password = colon ? colon + 1 : "";
  return 0;
}

void
cli_registry_env(struct keel_registry_opts *o)
{
  /* certs.d roots (colon-separated) instead of /etc/containers and /etc/docker */
  const char *certs_d = getenv("KEEL_CERTS_D");
  if (certs_d && *certs_d)
    o->certs_d = certs_d;
  /* seconds without a byte before a transfer counts as stalled */
  const char *stall = getenv("KEEL_STALL_TIMEOUT");
  if (stall && atoi(stall) > 0)
    o->stall_timeout_s = (unsigned)atoi(stall);
}

int
cli_open_store(struct keel_store **ret, struct keel_error *err)
{
  return keel_store_open(cli_root, ret, err);
}

/* registries.conf, loaded once; a broken file is reported and ignored
 * (short names then mean Docker Hub), as a missing one is. */
const struct keel_registries_conf *
cli_registries_conf(void)
{
  static struct keel_registries_conf *conf;
  static bool loaded;
  if (!loaded)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      loaded = true;
      if (keel_registries_conf_load(NULL, &conf, &err) < 0)
        keel_log_warning("%s", err.msg);
    }
  return conf;
}

const char *const *
cli_search_registries(void)
{
  static const char *const def[] = { KEEL_DOCKER_HUB, NULL };
  const struct keel_registries_conf *conf = cli_registries_conf();
  const char *const *v = conf ? keel_registries_conf_search(conf) : NULL;
  return v && v[0] ? v : def;
}

bool
cli_registry_insecure(const char *name)
{
  const struct keel_registries_conf *conf = cli_registries_conf();
  struct keel_registry_resolution res;
  if (!conf || keel_registries_conf_resolve(conf, name, &res, NULL) < 0)
    return false;
  bool insecure = res.n_sources && res.sources[res.n_sources - 1].insecure;
  keel_registry_resolution_clear(&res);
  size_t host = strcspn(name, "/");
  char domain[256];
  snprintf(domain, sizeof(domain), "%.*s", (int)host, name);
  return insecure || keel_registries_conf_insecure(conf, domain);
}

int
cli_normalize_name(const char *what, char *buf, size_t size, struct keel_error *err)
{
  struct keel_reference ref;
  int r = keel_reference_parse(what, &ref, err);
  if (r < 0)
    return r;
  keel_reference_store_name(&ref, buf, size);
  return 0;
}

ssize_t
cli_image_name_index(const struct keel_image *img, const char *what)
{
  char want[600];
  if (cli_normalize_name(what, want, sizeof(want), NULL) < 0)
    return -1;
  for (size_t i = 0; img->names && img->names[i]; i++)
    if (!strcmp(img->names[i], want))
      return (ssize_t)i;
  return -1;
}

int
cli_find_image(struct keel_store *s, const char *what, struct keel_image **ret,
               struct keel_error *err)
{
  struct keel_error ignore = KEEL_ERROR_INIT;
  if (keel_store_image_lookup(s, what, ret, &ignore) == 0)
    return 0;
  struct keel_reference ref;
  if (keel_reference_parse(what, &ref, &ignore) == 0)
    {
      char name[600];
      keel_reference_store_name(&ref, name, sizeof(name));
      if (keel_store_image_lookup(s, name, ret, &ignore) == 0)
        return 0;
      const char *const *search = cli_search_registries();
      for (size_t i = 0; !ref.explicit_domain && search[i]; i++)
        {
          struct keel_reference alt;
          keel_reference_with_domain(&ref, search[i], &alt);
          keel_reference_store_name(&alt, name, sizeof(name));
          if (keel_store_image_lookup(s, name, ret, &ignore) == 0)
            return 0;
        }
      /* what keel commit names: localhost/NAME:TAG, as podman finds it */
      if (!ref.explicit_domain)
        {
          struct keel_reference alt;
          keel_reference_with_domain(&ref, "localhost", &alt);
          keel_reference_store_name(&alt, name, sizeof(name));
          if (keel_store_image_lookup(s, name, ret, &ignore) == 0)
            return 0;
        }
    }
  return keel_error_set(err, -ENOENT, "image not known: '%s'", what);
}

void
cli_human_size(uint64_t bytes, char *buf, size_t size)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1000 && u + 1 < ARRAY_SIZE(units))
    {
      v /= 1000;
      u++;
    }
  snprintf(buf, size, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

void
cli_human_ago(const char *rfc3339, char *buf, size_t size)
{
  struct tm tm = { 0 };
  if (!rfc3339 || !*rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm))
    {
      snprintf(buf, size, "unknown");
      return;
    }
  long d = (long)difftime(time(NULL), timegm(&tm));
  static const struct
  {
    long secs;
    const char *unit;
  } steps[] = { { 365L * 86400, "year" }, { 30L * 86400, "month" }, { 7L * 86400, "week" },
                { 86400, "day" },         { 3600, "hour" },         { 60, "minute" } };
  for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
    if (d >= steps[i].secs)
      {
        long n = d / steps[i].secs;
        snprintf(buf, size, "%ld %s%s ago", n, steps[i].unit, n > 1 ? "s" : "");
        return;
      }
  snprintf(buf, size, "%s", d < 0 ? "in the future" : "seconds ago");
}

int
cli_dispatch(const char *group, const struct cli_command *table, size_t n, int argc, char **argv)
{
  if (argc < 2)
    return cli_usage(group, "expects a subcommand");
  for (size_t i = 0; i < n; i++)
    if (!strcmp(argv[1], table[i].name))
      {
        optind = 0;
        return table[i].run(argc - 1, argv + 1);
      }
  return cli_usage(group, "unknown subcommand '%s'", argv[1]);
}

static int
parse_globals(int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "debug", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const char *env = getenv("KEEL_ROOT");
  if (env && *env)
    cli_root = env;
  int c;
  while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        cli_root = optarg;
        break;
      case 'd':
        keel_log_set_level(KEEL_LOG_DEBUG);
        break;
      case 'h':
        usage(stdout);
        exit(0);
      case 'v':
        printf("keel version 0.1.0\n");
        exit(0);
      default:
        usage(stderr);
        exit(EXIT_ENGINE);
      }
  return optind;
}

int
main(int argc, char **argv)
{
  keel_log_init("keel");
  int first = parse_globals(argc, argv);
  if (first >= argc)
    {
      usage(stderr);
      return EXIT_ENGINE;
    }
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
    if (!strcmp(argv[first], commands[i].name))
      {
        optind = 0;
        return commands[i].run(argc - first, argv + first);
      }
  keel_log_error("unknown command '%s'", argv[first]);
  usage(stderr);
  return EXIT_ENGINE;
}

/* A name for a new image (commit, build): unqualified ones go to
 * localhost/, as podman and buildah do. */
int
cli_local_name(const char *in, char *out, size_t size, struct keel_error *err)
{
  struct keel_reference ref, loc;
  int r = keel_reference_parse(in, &ref, err);
  if (r < 0)
    return r;
  if (ref.digest[0])
    return keel_error_set(err, -EINVAL, "cannot name an image by a digest reference '%s'", in);
  if (!ref.explicit_domain)
    {
      keel_reference_with_domain(&ref, "localhost", &loc);
      ref = loc;
    }
  keel_reference_store_name(&ref, out, size);
  return 0;
}
