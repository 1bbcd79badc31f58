/* keel images, keel image inspect, keel image (subcommands) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "lib/cleanup.h"
#include "lib/json.h"

/* "docker.io/library/busybox:latest" → repository and tag; a digest-only
 * name has tag "<none>". */
static void
split_name(const char *name, char *repo, size_t rsize, char *tag, size_t tsize)
{
  const char *at = strchr(name, '@');
  const char *slash = strrchr(name, '/');
  const char *colon = strrchr(slash ? slash : name, ':');
  if (at && (!colon || colon > at))
    colon = NULL;
  size_t rl = colon ? (size_t)(colon - name) : at ? (size_t)(at - name) : strlen(name);
  snprintf(repo, rsize, "%.*s", (int)rl, name);
  snprintf(tag, tsize, "%s", colon ? colon + 1 : "<none>");
}

static json_object *
image_json(const struct keel_image *img)
{
  json_object *o = json_object_new_object();
  json_object *names = json_object_new_array(), *digests = json_object_new_array();
  for (size_t i = 0; img->names && img->names[i]; i++)
    {
      json_object_array_add(names, json_object_new_string(img->names[i]));
      if (img->digests[i][0])
        {
          char repo[600], tag[200], rd[700];
          split_name(img->names[i], repo, sizeof(repo), tag, sizeof(tag));
          snprintf(rd, sizeof(rd), "%s@%s", repo, img->digests[i]);
          json_object_array_add(digests, json_object_new_string(rd));
        }
    }
  json_object_object_add(o, "Id", json_object_new_string(keel_digest_hex(img->id)));
  json_object_object_add(o, "Names", names);
  json_object_object_add(o, "RepoDigests", digests);
  json_object_object_add(o, "Digest",
                         json_object_new_string(img->names && img->names[0] && img->digests[0][0]
                                                    ? img->digests[0]
                                                    : img->manifest));
  json_object_object_add(o, "Created", json_object_new_string(img->created));
  json_object_object_add(o, "Size", json_object_new_uint64(img->size));
  json_object_object_add(o, "Platform", json_object_new_string(img->platform));
  return o;
}

static int
print_table(struct keel_image **v, size_t n, bool quiet, bool digests)
{
  if (quiet)
    {
      for (size_t i = 0; i < n; i++)
        printf("%.12s\n", keel_digest_hex(v[i]->id));
      return 0;
    }
  printf("%-40s %-12s %s%-14s %-16s %s\n", "REPOSITORY", "TAG",
         digests ? "DIGEST                                                                   " : "",
         "IMAGE ID", "CREATED", "SIZE");
  for (size_t i = 0; i < n; i++)
    {
      char size[32], ago[64];
      cli_human_size(v[i]->size, size, sizeof(size));
      cli_human_ago(v[i]->created, ago, sizeof(ago));
      size_t k = 0;
      do
        {
          char repo[600] = "<none>", tag[200] = "<none>", dig[80] = "";
          const char *name = v[i]->names ? v[i]->names[k] : NULL;
          if (name)
            split_name(name, repo, sizeof(repo), tag, sizeof(tag));
          if (digests)
            snprintf(dig, sizeof(dig), "%-72s ",
                     name && v[i]->digests[k][0] ? v[i]->digests[k] : v[i]->manifest);
          printf("%-40s %-12s %s%-14.12s %-16s %s\n", repo, tag, dig, keel_digest_hex(v[i]->id),
                 ago, size);
        }
      while (v[i]->names && v[i]->names[k] && v[i]->names[++k]);
    }
  return 0;
}

int
cmd_images(int argc, char **argv)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "digests", no_argument, NULL, 'd' },
    { "format", required_argument, NULL, 'f' },
    { "all", no_argument, NULL, 'a' },
    { NULL, 0, NULL, 0 },
  };
  bool quiet = false, digests = false, json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+qa", opts, NULL)) != -1)
    {
      if (c == 'q')
        quiet = true;
      else if (c == 'd')
        digests = true;
      else if (c == 'f' && !strcmp(optarg, "json"))
        json = true;
      else if (c != 'a')
        return cli_usage("images", "usage: keel images [-q] [--digests] [--format json]");
    }
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_image **v = NULL;
  size_t n = 0;
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = keel_store_image_list(s, &v, &n, &err);
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  if (json)
    {
      _cleanup_json_ json_object *arr = json_object_new_array();
      for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, image_json(v[i]));
      printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY
                                                             | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
  else
    print_table(v, n, quiet, digests);
  keel_image_list_free(v, n);
  return 0;
}

/* inspect: the list entry plus the image config, the layers and where
 * they are unpacked (GraphDriver, as podman and docker show it). */
static json_object *
inspect_one(struct keel_store *s, const struct keel_image *img, struct keel_error *err)
{
  json_object *o = image_json(img);
  json_object_object_add(o, "ManifestDigest", json_object_new_string(img->manifest));
  _cleanup_free_ char *cfg = NULL;
  size_t len;
  json_object *config = NULL;
  if (keel_store_blob_read(s, img->id, KEEL_CONFIG_MAX_BYTES, &cfg, &len, err) == 0)
    keel_json_parse(cfg, len, "config", &config, NULL);
  json_object *v;
  static const char *const keys[][2] = { { "architecture", "Architecture" },
                                         { "os", "Os" },
                                         { "variant", "Variant" },
                                         { "config", "Config" },
                                         { "author", "Author" } };
  for (size_t i = 0; config && i < ARRAY_SIZE(keys); i++)
    if (json_object_object_get_ex(config, keys[i][0], &v))
      json_object_object_add(o, keys[i][1], json_object_get(v));
  json_object *layers = json_object_new_array(), *dirs = json_object_new_array();
  char lower[16384] = "";
  size_t lo = 0;
  for (size_t i = 0; i < img->n_layers; i++)
    {
      json_object_array_add(layers, json_object_new_string(img->layers[i].diff_id));
      _cleanup_free_ char *path = NULL;
      keel_store_layer_path(s, img->layers[i].chain_id, &path);
      json_object_array_add(dirs, json_object_new_string(path ? path : ""));
      /* overlayfs lists the top layer first */
      char tmp[sizeof(lower)];
      snprintf(tmp, sizeof(tmp), "%s%s%s", path ? path : "", lo ? ":" : "", lower);
      lo = strlen(strcpy(lower, tmp));
    }
  json_object *rootfs = json_object_new_object();
  json_object_object_add(rootfs, "Type", json_object_new_string("layers"));
  json_object_object_add(rootfs, "Layers", layers);
  json_object_object_add(o, "RootFS", rootfs);
  json_object *gd = json_object_new_object(), *data = json_object_new_object();
  json_object_object_add(data, "LowerDir", json_object_new_string(lower));
  json_object_object_add(data, "LayerDirs", dirs);
  json_object_object_add(gd, "Name", json_object_new_string("overlay"));
  json_object_object_add(gd, "Data", data);
  json_object_object_add(o, "GraphDriver", gd);
  if (config)
    json_object_put(config);
  return o;
}

int
cmd_image_inspect(int argc, char **argv)
{
  static const struct option opts[]
      = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
    if (c != 'f')
      return cli_usage("image inspect", "usage: keel image inspect IMAGE...");
  if (optind >= argc)
    return cli_usage("image inspect", "expects at least one image");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  if (cli_open_store(&s, &err) < 0)
    return cli_fail(&err);
  _cleanup_json_ json_object *arr = json_object_new_array();
  int rc = 0;
  for (int i = optind; i < argc; i++)
    {
      struct keel_image *img;
      if (cli_find_image(s, argv[i], &img, &err) < 0)
        {
          rc = cli_fail(&err);
          continue;
        }
      json_object_array_add(arr, inspect_one(s, img, &err));
      keel_image_free(img);
    }
  keel_store_free(s);
  printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY
                                                         | JSON_C_TO_STRING_NOSLASHESCAPE));
  return rc;
}

int
cmd_image(int argc, char **argv)
{
  static const struct cli_command sub[] = {
    { "inspect", cmd_image_inspect, "image inspect IMAGE..." },
    { "ls", cmd_images, "image ls" },
    { "list", cmd_images, "image list" },
    { "prune", cmd_image_prune, "image prune [-a]" },
    { "rm", cmd_rmi, "image rm [-f] IMAGE..." },
    { "tag", cmd_tag, "image tag IMAGE NAME..." },
    { "pull", cmd_pull, "image pull REF" },
  };
  return cli_dispatch("image", sub, ARRAY_SIZE(sub), argc, argv);
}
