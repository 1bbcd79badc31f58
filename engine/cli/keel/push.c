/* keel push */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "lib/fs.h"
#include "registry/auth.h"
#include "registry/push.h"
#include "registry/reference.h"

static void
on_event(void *userdata, const struct keel_push_event *ev)
{
  if (*(bool *)userdata)
    return;
  char d[20] = "";
  if (ev->digest)
    snprintf(d, sizeof(d), "%.12s", keel_digest_hex(ev->digest));
  switch (ev->kind)
    {
    case KEEL_PUSH_BLOB_EXISTS:
      fprintf(stderr, "Copying blob %s skipped: already exists\n", d);
      break;
    case KEEL_PUSH_BLOB_MOUNTED:
      fprintf(stderr, "Copying blob %s done (mounted)\n", d);
      break;
    case KEEL_PUSH_BLOB_UPLOADED:
      fprintf(stderr, "Copying blob %s done\n", d);
      break;
    case KEEL_PUSH_BLOB_CHUNKED:
      fprintf(stderr, "Copying blob %s done (chunked)\n", d);
      break;
    case KEEL_PUSH_BLOB_RETRY:
      fprintf(stderr, "Retrying upload: %s\n", ev->message);
      break;
    case KEEL_PUSH_RECOMPRESSING:
      fprintf(stderr, "Compressing blob %s with %s\n", d, ev->message);
      break;
    case KEEL_PUSH_MANIFEST:
      fprintf(stderr, "Writing manifest to image destination\n");
      break;
    }
}

struct push_flags
{
  const char *creds, *digestfile;
  bool quiet, tls_verify;
};

static int
parse_size(const char *s, uint64_t *ret)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s)
    return -EINVAL;
  uint64_t mul = *end == 'k' || *end == 'K'   ? 1ull << 10
                 : *end == 'M' || *end == 'm' ? 1ull << 20
                 : *end == 'G' || *end == 'g' ? 1ull << 30
                                              : 1;
  if (mul > 1)
    end++;
  if (*end)
    return -EINVAL;
  *ret = v ? v * mul : UINT64_MAX; /* 0: never chunk */
  return 0;
}

static int
parse_push(int argc, char **argv, struct push_flags *f, struct keel_push_opts *o)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "compression-format", required_argument, NULL, 'z' },
    { "creds", required_argument, NULL, 'C' },
    { "tls-verify", optional_argument, NULL, 't' },
    { "cert-dir", required_argument, NULL, 'c' },
    { "chunk-size", required_argument, NULL, 'k' },
    { "digestfile", required_argument, NULL, 'd' },
    { "quiet", no_argument, NULL, 'q' },
    { "retry", required_argument, NULL, 'R' },
    { "retry-delay", required_argument, NULL, 'D' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long(argc, argv, "+qf:", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        if (!strcmp(optarg, "oci"))
          o->format = KEEL_PUSH_FORMAT_OCI;
        else if (!strcmp(optarg, "v2s2") || !strcmp(optarg, "docker"))
          o->format = KEEL_PUSH_FORMAT_V2S2;
        else
          return cli_usage("push", "--format expects oci or v2s2");
        break;
      case 'z':
        if (!strcmp(optarg, "gzip"))
          o->compression = KEEL_COMPRESSION_GZIP;
        else if (!strcmp(optarg, "zstd"))
          o->compression = KEEL_COMPRESSION_ZSTD;
        else
          return cli_usage("push", "--compression-format expects gzip or zstd");
        break;
      case 'C':
        f->creds = optarg;
        break;
      case 'c':
        o->registry.cert_dir = optarg;
        break;
      case 'k':
        if (parse_size(optarg, &o->chunk_size) < 0)
          return cli_usage("push", "--chunk-size expects a size (bytes, or with k, M, G)");
        break;
      case 'd':
        f->digestfile = optarg;
        break;
      case 'q':
        f->quiet = true;
        break;
      case 'R':
        o->registry.retries = (unsigned)atoi(optarg);
        break;
      case 'D':
        o->registry.retry_delay_ms = (unsigned)atoi(optarg);
        break;
      case 't':
        if (cli_parse_bool(optarg, &f->tls_verify) < 0)
          return cli_usage("push", "--tls-verify expects true or false");
        break;
      default:
        return cli_usage("push", "usage: keel push [flags] IMAGE [DESTINATION]");
      }
  if (argc - optind < 1 || argc - optind > 2)
    return cli_usage("push", "expects an image and at most one destination");
  return 0;
}

/* The digest the name given was pulled by (an index for a multi-platform
 * image), or NULL when the image was given by id. */
static const char *
name_digest(const struct keel_image *img, const char *what)
{
  ssize_t i = cli_image_name_index(img, what);
  if (i < 0 || !img->digests || !img->digests[i] || !keel_digest_valid(img->digests[i]))
    return NULL;
  return img->digests[i];
}

int
cmd_push(int argc, char **argv)
{
  struct keel_push_opts o = { .registry = KEEL_REGISTRY_OPTS_INIT, .compression = -1 };
  struct push_flags f = { .tls_verify = true };
  if (parse_push(argc, argv, &f, &o) != 0)
    return EXIT_ENGINE;
  const char *what = argv[optind], *dest = argc - optind == 2 ? argv[optind + 1] : what;
  struct keel_error err = KEEL_ERROR_INIT;
  if (cli_registry_creds(f.creds, &o.registry, &err) < 0)
    return cli_fail(&err);
  cli_registry_env(&o.registry);
  struct keel_reference ref;
  if (keel_reference_parse(dest, &ref, &err) < 0)
    return cli_fail(&err);
  char name[600];
  keel_reference_name(&ref, name, sizeof(name));
  o.registry.insecure = !f.tls_verify || cli_registry_insecure(name);
  o.progress = on_event;
  o.progress_userdata = &f.quiet;
  struct keel_store *s = NULL;
  struct keel_image *img = NULL;
  char digest[KEEL_DIGEST_MAX];
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = cli_find_image(s, what, &img, &err);
  if (r == 0)
    o.index = name_digest(img, what);
  if (r == 0)
    r = keel_push(s, img, dest, &o, digest, &err);
  keel_image_free(img);
  keel_store_free(s);
  if (r == 0 && f.digestfile)
    {
      r = keel_write_file_atomic(AT_FDCWD, f.digestfile, digest, strlen(digest), 0644);
      if (r < 0)
        keel_error_set_errno(&err, r, "cannot write '%s'", f.digestfile);
    }
  if (r < 0)
    return cli_fail(&err);
  return 0;
}
