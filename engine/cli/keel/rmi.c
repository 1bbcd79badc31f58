/* keel tag, keel rmi */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/json.h"

int
cmd_tag(int argc, char **argv)
{
  if (getopt_long(argc, argv, "+", (struct option[]){ { NULL, 0, NULL, 0 } }, NULL) != -1
      || argc - optind < 2)
    return cli_usage("tag", "usage: keel tag IMAGE NAME...");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_image *img = NULL;
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = cli_find_image(s, argv[optind], &img, &err);
  for (int i = optind + 1; r == 0 && i < argc; i++)
    {
      char name[600];
      if ((r = cli_normalize_name(argv[i], name, sizeof(name), &err)) == 0)
        r = keel_store_tag(s, img->id, name, &err);
    }
  keel_image_free(img);
  keel_store_free(s);
  return r < 0 ? cli_fail(&err) : 0;
}

char **
cli_images_in_use(char ***ret_ctrs)
{
  _cleanup_strv_ char **ids = NULL;
  size_t n = 0, k = 0;
  keel_ctr_list(cli_root, &ids, &n, NULL);
  char **imgs = calloc(n + 1, sizeof(*imgs)), **ctrs = calloc(n + 1, sizeof(*ctrs));
  for (size_t i = 0; imgs && ctrs && i < n; i++)
    {
      _cleanup_json_ json_object *cfg = NULL;
      json_object *v;
      if (keel_ctr_load(cli_root, ids[i], &cfg, NULL) == 0
          && json_object_object_get_ex(cfg, "Image", &v) && *json_object_get_string(v))
        {
          imgs[k] = strdup(json_object_get_string(v));
          ctrs[k++] = strdup(ids[i]);
        }
    }
  if (ret_ctrs)
    *ret_ctrs = ctrs;
  else
    keel_strv_free(ctrs);
  return imgs;
}

/* A container (ordinary or working) whose rootfs stands on image id:
 * removing the image would take its layers away (podman refuses too). */
static int
used_by(const char *id, char ret[KEEL_CTR_ID_LEN + 1])
{
  _cleanup_strv_ char **ctrs = NULL;
  _cleanup_strv_ char **imgs = cli_images_in_use(&ctrs);
  for (size_t i = 0; imgs && ctrs && imgs[i]; i++)
    if (!strcmp(imgs[i], id))
      {
        snprintf(ret, KEEL_CTR_ID_LEN + 1, "%s", ctrs[i]);
        return 1;
      }
  return 0;
}

/* By name: untag (the image goes with its last name).  By id: the image
 * and all its names (--force when it has several). */
static int
remove_one(struct keel_store *s, const char *what, bool force, struct keel_error *err)
{
  struct keel_image *img;
  int r = cli_find_image(s, what, &img, err);
  if (r < 0)
    return r;
  const char *hex = keel_digest_hex(img->id);
  bool by_id = !strncmp(hex, what, strlen(what)) || !strcmp(img->id, what);
  const char *name = NULL;
  char norm[600];
  for (size_t i = 0; !by_id && img->names && img->names[i]; i++)
    if (!strcmp(img->names[i], what)
        || (cli_normalize_name(what, norm, sizeof(norm), NULL) == 0
            && !strcmp(img->names[i], norm)))
      name = img->names[i];
  if (!by_id && !name && img->names && img->names[0] && !img->names[1])
    name = img->names[0]; /* a short name that resolved to the only name */
  char user[KEEL_CTR_ID_LEN + 1];
  bool last = !name || !img->names || !img->names[0] || !img->names[1];
  if (last && !force && used_by(img->id, user))
    {
      r = keel_error_set(err, -EBUSY,
                         "image %.12s is in use by container %.12s: remove the container "
                         "first, or use -f",
                         hex, user);
      keel_image_free(img);
      return r;
    }
  if (name)
    {
      r = keel_store_untag(s, name, err);
      if (r >= 0)
        printf("Untagged: %s\n", name);
      if (r == 1)
        printf("Deleted: %s\n", hex);
    }
  else
    {
      r = keel_store_image_remove(s, img->id, force, err);
      if (r >= 0)
        printf("Deleted: %s\n", hex);
    }
  keel_image_free(img);
  return r < 0 ? r : 0;
}

int
cmd_rmi(int argc, char **argv)
{
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1)
    {
      if (c != 'f')
        return cli_usage("rmi", "usage: keel rmi [-f] IMAGE...");
      force = true;
    }
  if (optind >= argc)
    return cli_usage("rmi", "expects at least one image");
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  if (cli_open_store(&s, &err) < 0)
    return cli_fail(&err);
  int rc = 0;
  for (int i = optind; i < argc; i++)
    if (remove_one(s, argv[i], force, &err) < 0)
      rc = cli_fail(&err);
  /* Layers go once no image uses them; if a pull is in flight the next
   * gc (or prune) collects them. */
  struct keel_gc_stats st;
  if (keel_store_gc(s, false, &st, &err) < 0)
    rc = cli_fail(&err);
  keel_store_free(s);
  return rc;
}
