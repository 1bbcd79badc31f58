/* keel save, keel load */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "image/archive.h"
#include "lib/cleanup.h"

/* The name to record for what the user typed: the store name it matches,
 * or none when they gave an id. */
static const char *
save_name(const struct keel_image *img, const char *what)
{
  ssize_t i = cli_image_name_index(img, what);
  return i < 0 ? NULL : img->names[i];
}

int
cmd_save(int argc, char **argv)
{
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  const char *out = NULL;
  enum keel_archive_format fmt = KEEL_ARCHIVE_DOCKER;
  int c;
  while ((c = getopt_long(argc, argv, "+o:q", opts, NULL)) != -1)
    switch (c)
      {
      case 'o':
        out = optarg;
        break;
      case 'f':
        if (!strcmp(optarg, "docker-archive"))
          fmt = KEEL_ARCHIVE_DOCKER;
        else if (!strcmp(optarg, "oci-archive"))
          fmt = KEEL_ARCHIVE_OCI;
        else if (!strcmp(optarg, "oci-dir"))
          fmt = KEEL_ARCHIVE_OCI_DIR;
        else
          return cli_usage("save", "--format expects docker-archive, oci-archive or oci-dir");
        break;
      case 'q':
        break;
      default:
        return cli_usage("save", "usage: keel save [-o FILE] [--format F] IMAGE...");
      }
  if (optind >= argc)
    return cli_usage("save", "expects at least one image");
  if (!out)
    return cli_usage("save", "-o FILE is required (an archive is not written to a terminal)");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  size_t n = (size_t)(argc - optind);
  struct keel_image **imgs = calloc(n, sizeof(*imgs));
  struct keel_save_item *items = calloc(n, sizeof(*items));
  int r
      = !imgs || !items ? keel_error_set(&err, -ENOMEM, "out of memory") : cli_open_store(&s, &err);
  for (size_t i = 0; r == 0 && i < n; i++)
    if ((r = cli_find_image(s, argv[optind + (int)i], &imgs[i], &err)) == 0)
      {
        items[i].img = imgs[i];
        items[i].name = save_name(imgs[i], argv[optind + (int)i]);
      }
  if (r == 0)
    r = keel_save(s, items, n, fmt, out, &err);
  for (size_t i = 0; imgs && i < n; i++)
    keel_image_free(imgs[i]);
  free(imgs);
  free(items);
  keel_store_free(s);
  return r < 0 ? cli_fail(&err) : 0;
}

int
cmd_load(int argc, char **argv)
{
  static const struct option opts[] = {
    { "input", required_argument, NULL, 'i' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  const char *in = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+i:q", opts, NULL)) != -1)
    switch (c)
      {
      case 'i':
        in = optarg;
        break;
      case 'q':
        break;
      default:
        return cli_usage("load", "usage: keel load -i FILE|DIR");
      }
  if (optind != argc || !in)
    return cli_usage("load", "expects -i FILE (an archive) or DIR (an OCI layout)");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_load_result res = { 0 };
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = keel_load(s, in, &res, &err);
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  for (size_t i = 0; res.names[i]; i++)
    printf("Loaded image: %s\n", res.names[i]);
  if (!res.names[0])
    for (size_t i = 0; res.ids[i]; i++)
      printf("Loaded image: %s\n", res.ids[i]);
  keel_load_result_free(&res);
  return 0;
}
