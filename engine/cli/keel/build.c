/* keel build [-t NAME]... [-f FILE] [--build-arg K=V]... [--target STAGE]
 *   [--no-cache] [--pull[=always|missing|never]] [--platform P]
 *   [--layers[=BOOL]] [--network MODE] [--label K=V]... [-q] CONTEXT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/buf.h"
#include "build/builder.h"
#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"

struct build_flags
{
  struct keel_strv tags, args, labels;
  const char *pull; /* always, missing, never */
  struct keel_store *store;
};

static int
resolve(void *userdata, const char *ref, const char *platform, char ret_id[KEEL_DIGEST_MAX],
        struct keel_error *err)
{
  struct build_flags *f = userdata;
  struct keel_image *img = NULL;
  int r = -ENOENT;
  if (strcmp(f->pull, "always") != 0)
    r = cli_find_image(f->store, ref, &img, err);
  if (r == -ENOENT && strcmp(f->pull, "never") != 0)
    {
      keel_error_clear(err);
      if ((r = cli_pull_step(ref, platform, STDERR_FILENO, err)) < 0)
        return r;
      r = cli_find_image(f->store, ref, &img, err);
    }
  if (r == -ENOENT)
    return keel_error_set(err, ENOENT, "%s: image not known (--pull=never)", ref);
  if (r < 0)
    return r;
  snprintf(ret_id, KEEL_DIGEST_MAX, "%s", img->id);
  keel_image_free(img);
  return 0;
}

static int
add_tag(struct build_flags *f, const char *name, struct keel_error *err)
{
  char full[1024];
  int r = cli_local_name(name, full, sizeof(full), err);
  if (r < 0)
    return r;
  if (!keel_strv_pushdup(&f->tags, full))
    return keel_error_set(err, ENOMEM, "out of memory");
  return 0;
}

static int
network_mode(const char *s, enum keel_working_network *ret)
{
  if (strcmp(s, "none") == 0)
    *ret = KEEL_WORKING_NET_NONE;
  else if (strcmp(s, "host") == 0)
    *ret = KEEL_WORKING_NET_HOST;
  else if (strcmp(s, "bridge") == 0 || strcmp(s, "private") == 0 || strcmp(s, "default") == 0)
    *ret = KEEL_WORKING_NET_BRIDGE;
  else
    return -EINVAL;
  return 0;
}

enum
{
  O_BUILD_ARG = 0x100,
  O_TARGET,
  O_NO_CACHE,
  O_PULL,
  O_PLATFORM,
  O_LAYERS,
  O_NETWORK,
  O_LABEL,
};

static const struct option build_options[] = {
  { "tag", required_argument, NULL, 't' },
  { "file", required_argument, NULL, 'f' },
  { "build-arg", required_argument, NULL, O_BUILD_ARG },
  { "target", required_argument, NULL, O_TARGET },
  { "no-cache", no_argument, NULL, O_NO_CACHE },
  { "pull", optional_argument, NULL, O_PULL },
  { "platform", required_argument, NULL, O_PLATFORM },
  { "layers", optional_argument, NULL, O_LAYERS },
  { "network", required_argument, NULL, O_NETWORK },
  { "label", required_argument, NULL, O_LABEL },
  { "quiet", no_argument, NULL, 'q' },
  { NULL, 0, NULL, 0 },
};

static int
parse_one(int c, struct build_flags *f, struct keel_build_opts *o, struct keel_error *err)
{
  switch (c)
    {
    case 't':
      return add_tag(f, optarg, err);
    case 'f':
      o->file = optarg;
      return 0;
    case 'q':
      o->out = NULL;
      return 0;
    case O_BUILD_ARG:
    case O_LABEL:
      if (c == O_LABEL && !strchr(optarg, '='))
        return keel_error_set(err, EINVAL, "--label %s: expected KEY=VALUE", optarg);
      if (*optarg == '=' || !*optarg)
        return keel_error_set(err, EINVAL, "--%s %s: empty name",
                              c == O_LABEL ? "label" : "build-arg", optarg);
      return keel_strv_pushdup(c == O_LABEL ? &f->labels : &f->args, optarg)
                 ? 0
                 : keel_error_set(err, ENOMEM, "out of memory");
    case O_TARGET:
      o->target = optarg;
      return 0;
    case O_NO_CACHE:
      o->no_cache = true;
      return 0;
    case O_PULL:
      f->pull = optarg ? optarg : "always";
      if (!strcmp(f->pull, "true"))
        f->pull = "always";
      else if (!strcmp(f->pull, "false"))
        f->pull = "missing";
      if (strcmp(f->pull, "always") && strcmp(f->pull, "missing") && strcmp(f->pull, "never"))
        return keel_error_set(err, EINVAL, "--pull=%s: expected always, missing or never", optarg);
      return 0;
    case O_PLATFORM:
      o->platform = optarg;
      return 0;
    case O_LAYERS:
      if (cli_parse_bool(optarg, &o->layers) < 0)
        return keel_error_set(err, EINVAL, "--layers=%s: expected true or false", optarg);
      return 0;
    case O_NETWORK:
      if (network_mode(optarg, &o->network) < 0)
        return keel_error_set(err, EINVAL, "--network=%s: expected bridge, none or host", optarg);
      return 0;
    default:
      return keel_error_set(err, EINVAL, "unknown flag (see keel build --help)");
    }
}

int
cmd_build(int argc, char **argv)
{
  struct build_flags f = { .pull = "missing" };
  struct keel_build_opts o = KEEL_BUILD_OPTS_INIT;
  o.out = stdout;
  struct keel_error err = KEEL_ERROR_INIT;
  int c, r = 0;
  while (r == 0 && (c = getopt_long(argc, argv, "+t:f:q", build_options, NULL)) != -1)
    r = c == '?' ? keel_error_set(&err, EINVAL, "bad option (see keel --help)")
                 : parse_one(c, &f, &o, &err);
  if (r == 0 && argc - optind != 1)
    r = keel_error_set(&err, EINVAL, "build expects exactly one CONTEXT directory");
  if (r == 0)
    r = cli_open_store(&f.store, &err);
  char id[KEEL_DIGEST_MAX];
  if (r == 0)
    {
      o.context = argv[optind];
      o.tags = f.tags.v;
      o.build_args = f.args.v;
      o.labels = f.labels.v;
      o.runtime_root = ctr_runtime_root();
      o.resolve = resolve;
      o.resolve_userdata = &f;
      r = keel_build(f.store, &o, id, &err);
    }
  keel_store_free(f.store);
  keel_strv_clear(&f.tags);
  keel_strv_clear(&f.args);
  keel_strv_clear(&f.labels);
  if (r < 0)
    {
      fflush(stdout);
      keel_log_error("%s", err.msg);
      return r == -EIO && strstr(err.msg, " exited ") ? 1 : EXIT_ENGINE;
    }
  printf("%s\n", strchr(id, ':') + 1);
  return 0;
}
