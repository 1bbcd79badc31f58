/* keel commit: a working container (buildah commit) or an ordinary one
 * (podman commit: its config as it was created, --change lines on top,
 * paused while its changes are read) into a new image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/working.h"
#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "registry/reference.h"
#include "runtime/container.h"

struct commit_flags
{
  struct keel_commit_opts o;
  const char *changes[64];
  size_t n_changes;
  const char *author;
  bool pause, quiet, rm;
  const char *what;
  char name[600];
  const char *names[2];
};

/* A name for the new image: unqualified ones go to localhost/, as podman
 * and buildah do. */
static int
image_name(const char *in, char *out, size_t size, struct keel_error *err)
{
  struct keel_reference ref, loc;
  int r = keel_reference_parse(in, &ref, err);
  if (r < 0)
    return r;
  if (ref.digest[0])
    return keel_error_set(err, -EINVAL, "cannot commit to a digest reference '%s'", in);
  if (!ref.explicit_domain)
    {
      keel_reference_with_domain(&ref, "localhost", &loc);
      ref = loc;
    }
  keel_reference_store_name(&ref, out, size);
  return 0;
}

static int
commit_parse(int argc, char **argv, struct commit_flags *f, struct keel_error *err)
{
  static const struct option opts[] = {
    { "change", required_argument, NULL, 'c' },
    { "message", required_argument, NULL, 'm' },
    { "author", required_argument, NULL, 'a' },
    { "pause", optional_argument, NULL, 'p' },
    { "quiet", no_argument, NULL, 'q' },
    { "format", required_argument, NULL, 'f' },
    { "rm", no_argument, NULL, 'r' },
    { "timestamp", required_argument, NULL, 't' },
    { "compression-format", required_argument, NULL, 'z' },
    { "omit-history", no_argument, NULL, 'O' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long(argc, argv, "+c:m:a:pqf:", opts, NULL)) != -1)
    {
      char *end;
      if (c == 'c' && f->n_changes < ARRAY_SIZE(f->changes))
        f->changes[f->n_changes++] = optarg;
      else if (c == 'm')
        f->o.comment = optarg;
      else if (c == 'a')
        f->author = optarg;
      else if (c == 'p' && cli_parse_bool(optarg, &f->pause) < 0)
        return keel_error_set(err, -EINVAL, "--pause: want true or false, not '%s'", optarg);
      else if (c == 'q')
        f->quiet = true;
      else if (c == 'r')
        f->rm = true;
      else if (c == 'O')
        f->o.omit_history = true;
      else if (c == 'f' && strcmp(optarg, "oci"))
        return keel_error_set(err, -EINVAL, "--format %s: only oci is written", optarg);
      else if (c == 't' && ((f->o.source_date = strtoll(optarg, &end, 10)) < 0 || *end))
        return keel_error_set(err, -EINVAL, "--timestamp: want seconds since 1970, not '%s'",
                              optarg);
      else if (c == 't')
        f->o.rewrite_timestamps = true;
      else if (c == 'z')
        {
          if (!strcmp(optarg, "gzip"))
            f->o.compression = KEEL_COMPRESSION_GZIP;
          else if (!strcmp(optarg, "zstd"))
            f->o.compression = KEEL_COMPRESSION_ZSTD;
          else
            return keel_error_set(err, -EINVAL, "--compression-format: want gzip or zstd");
        }
      else if (c == '?' || c == ':')
        return keel_error_set(err, -EINVAL,
                              "usage: keel commit [-c CHANGE] [-m MSG] [-a AUTHOR] "
                              "[--pause=false] [-q] [--rm] CONTAINER [IMAGE]");
    }
  if (optind >= argc || optind + 2 < argc)
    return keel_error_set(err, -EINVAL, "requires a container and at most one image name");
  f->what = argv[optind];
  if (optind + 1 < argc && image_name(argv[optind + 1], f->name, sizeof(f->name), err) < 0)
    return err->code;
  f->names[0] = f->name[0] ? f->name : NULL;
  f->o.names = f->names;
  return 0;
}

static int
commit_working(struct keel_store *s, struct keel_working *w, struct commit_flags *f,
               char id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  int r = f->author ? keel_working_set_author(w, f->author, err) : 0;
  for (size_t i = 0; r >= 0 && i < f->n_changes; i++)
    r = keel_working_apply_change(w, f->changes[i], err);
  if (r >= 0)
    r = keel_working_commit(w, &f->o, id, err);
  if (r >= 0 && f->rm)
    {
      r = keel_working_remove(w, err);
      return r;
    }
  keel_working_free(w);
  return r;
}

/* podman's rule: the new image has the container's config. */
static void
container_config(json_object *ic, json_object *rec)
{
  static const char *const keys[]
      = { "Cmd",    "Entrypoint", "Env",          "WorkingDir", "User",
          "Labels", "Volumes",    "ExposedPorts", "StopSignal", "Healthcheck" };
  json_object *conf = NULL, *rc = ctr_get(rec, "Config");
  if (!json_object_object_get_ex(ic, "config", &conf))
    {
      conf = json_object_new_object();
      json_object_object_add(ic, "config", conf);
    }
  for (size_t i = 0; rc && i < ARRAY_SIZE(keys); i++)
    {
      json_object *v;
      if (json_object_object_get_ex(rc, keys[i], &v) && v)
        json_object_object_add(conf, keys[i], json_object_get(v));
    }
}

static int
commit_container(struct keel_store *s, struct commit_flags *f, char id[KEEL_DIGEST_MAX],
                 struct keel_error *err)
{
  struct ctr c;
  int r = ctr_find(f->what, &c, err);
  if (r < 0)
    return r;
  struct keel_image *base = NULL;
  _cleanup_free_ char *buf = NULL;
  size_t len;
  _cleanup_json_ json_object *ic = NULL;
  r = keel_store_image_lookup(s, ctr_str(c.cfg, "Image"), &base, err);
  if (r >= 0
      && (r = keel_store_blob_read(s, base->id, KEEL_CONFIG_MAX_BYTES, &buf, &len, err)) >= 0)
    r = keel_json_parse(buf, len, "image config", &ic, err);
  if (r >= 0)
    {
      container_config(ic, c.cfg);
      if (f->author)
        json_object_object_add(ic, "author", json_object_new_string(f->author));
    }
  for (size_t i = 0; r >= 0 && i < f->n_changes; i++)
    r = keel_image_config_apply_change(ic, f->changes[i], err);
  char upper[4096];
  keel_ctr_path(cli_root, c.id, "upper", upper, sizeof(upper));
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  bool paused = r >= 0 && f->pause && !strcmp(c.status, "running")
                && keel_container_pause(&rt, c.id, true, NULL) == 0;
  if (r >= 0)
    r = keel_build_commit(s, base, access(upper, F_OK) == 0 ? upper : NULL, ic, &f->o, id, err);
  if (paused)
    keel_container_pause(&rt, c.id, false, NULL);
  keel_image_free(base);
  if (r >= 0 && f->rm)
    r = ctr_remove(&c, true, true, err);
  ctr_done(&c);
  return r;
}

int
cmd_commit(int argc, char **argv)
{
  struct commit_flags f = { .o = KEEL_COMMIT_OPTS_INIT, .pause = true };
  struct keel_error err = KEEL_ERROR_INIT;
  if (commit_parse(argc, argv, &f, &err) < 0)
    return cli_usage("commit", "%s", err.msg);
  struct keel_store *s = NULL;
  struct keel_working *w = NULL;
  char id[KEEL_DIGEST_MAX];
  int r = cli_open_store(&s, &err);
  if (r >= 0)
    {
      r = keel_working_open(s, f.what, &w, &err);
      if (r >= 0)
        r = commit_working(s, w, &f, id, &err);
      else if (r == -EMEDIUMTYPE)
        {
          keel_error_clear(&err);
          r = commit_container(s, &f, id, &err);
        }
    }
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  printf("%s\n", keel_digest_hex(id));
  return 0;
}
