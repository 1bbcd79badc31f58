/* The free-space check before a fetch.  What a new commit needs on the root
 * is the unpacked size of its objects the repo lacks, from the commit's
 * "ostree.sizes" metadata (ostree commit --generate-sizes); without it, a
 * configured bound (min-free-root in host.conf).  On /boot it needs room for
 * one more kernel + initramfs, bounded by the largest set there now.  When
 * short, old unpinned deployments that are neither booted nor the merge
 * deployment go first, oldest first. */
#include <errno.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "config.h"
#include "host.h"

/* bytes ostree keeps free beyond what we count (journal, metadata, /etc copy) */
#define SPACE_MARGIN (16ULL << 20)

static gboolean
free_bytes(const char *path, guint64 *ret, GError **error)
{
  struct statvfs st;
  if (statvfs(path, &st) < 0)
    return host_throw(error, "cannot stat the filesystem of '%s': %s", path, g_strerror(errno));
  *ret = (guint64)st.f_bavail * st.f_frsize;
  return TRUE;
}

static guint64
dir_size(int dfd, const char *path)
{
  g_autoptr(GFile) f = g_file_new_for_path(path);
  guint64 size = 0;
  (void)dfd;
  if (!g_file_measure_disk_usage(f, G_FILE_MEASURE_NONE, NULL, NULL, NULL, &size, NULL, NULL, NULL))
    return 0;
  return size;
}

/* The root: the unpacked size of the commit's missing objects. */
static gboolean
root_need(OstreeRepo *repo, const char *checksum, guint64 bound, guint64 *ret, gboolean *exact,
          GError **error)
{
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, checksum, &commit, error))
    return FALSE;
  g_autoptr(GPtrArray) sizes = NULL;
  if (!ostree_commit_get_object_sizes(commit, &sizes, NULL) || !sizes || sizes->len == 0)
    {
      *ret = bound;
      *exact = FALSE;
      return TRUE;
    }
  guint64 need = 0;
  for (guint i = 0; i < sizes->len; i++)
    {
      OstreeCommitSizesEntry *e = sizes->pdata[i];
      gboolean have = FALSE;
      if (!ostree_repo_has_object(repo, e->objtype, e->checksum, &have, NULL, error))
        return FALSE;
      if (!have)
        need += e->unpacked;
    }
  *ret = need;
  *exact = TRUE;
  return TRUE;
}

/* /boot: the largest kernel + initramfs directory ostree holds now, or 64 MiB. */
static guint64
boot_need(const char *boot)
{
  g_autofree char *dir = g_build_filename(boot, "ostree", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  guint64 max = 0;
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    {
      g_autofree char *p = g_build_filename(dir, name, NULL);
      guint64 s = dir_size(-1, p);
      max = MAX(max, s);
    }
  return max ? max + (1ULL << 20) : 64ULL << 20;
}

/* Deployments that may go: not booted, not pinned, not staged, not the merge
 * deployment; oldest (last) first. */
static GPtrArray *
prunable(OstreeSysroot *sysroot)
{
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_object_unref);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(sysroot);
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  for (guint i = ds->len; i > 0; i--)
    {
      OstreeDeployment *d = ds->pdata[i - 1];
      if ((booted && ostree_deployment_equal(d, booted))
          || (merge && ostree_deployment_equal(d, merge)) || ostree_deployment_is_pinned(d)
          || ostree_deployment_is_staged(d))
        continue;
      g_ptr_array_add(out, g_object_ref(d));
    }
  return out;
}

static gboolean
in_list(GPtrArray *list, OstreeDeployment *d)
{
  for (guint i = 0; i < list->len; i++)
    if (ostree_deployment_equal(list->pdata[i], d))
      return TRUE;
  return FALSE;
}

/* Objects reachable from the commits of the deployments in (or, with
 * invert, not in) LIST; with invert, also those of every ref, as the prune
 * after a removal keeps them. */
static GHashTable *
reachable(OstreeSysroot *sysroot, OstreeRepo *repo, GPtrArray *list, gboolean invert,
          GError **error)
{
  g_autoptr(GHashTable) set = ostree_repo_traverse_new_reachable();
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  for (guint i = 0; i < ds->len; i++)
    if (in_list(list, ds->pdata[i]) != invert
        && !ostree_repo_traverse_commit_union(repo, ostree_deployment_get_csum(ds->pdata[i]), 0,
                                              set, NULL, error))
      return NULL;
  g_autoptr(GHashTable) refs = NULL;
  if (invert && ostree_repo_list_refs(repo, NULL, &refs, NULL, NULL))
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init(&it, refs);
      while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_str_has_prefix(k, "ostree/")) /* the deployments' own refs: handled above */
          (void)ostree_repo_traverse_commit_union(repo, v, 0, set, NULL, NULL); /* partial: skip */
    }
  return g_steal_pointer(&set);
}

/* What removing every deployment in VICTIMS would free on the root. */
static gboolean
root_freeable(OstreeSysroot *sysroot, OstreeRepo *repo, GPtrArray *victims, guint64 *ret,
              GError **error)
{
  g_autoptr(GHashTable) gone = reachable(sysroot, repo, victims, FALSE, error);
  g_autoptr(GHashTable) kept = gone ? reachable(sysroot, repo, victims, TRUE, error) : NULL;
  if (!kept)
    return FALSE;
  GHashTableIter it;
  gpointer k;
  *ret = 0;
  g_hash_table_iter_init(&it, gone);
  while (g_hash_table_iter_next(&it, &k, NULL))
    {
      const char *csum;
      OstreeObjectType type;
      guint64 size = 0;
      if (g_hash_table_contains(kept, k))
        continue;
      ostree_object_name_deserialize(k, &csum, &type);
      if (ostree_repo_query_object_storage_size(repo, type, csum, &size, NULL, NULL))
        *ret += size;
    }
  return TRUE;
}

/* What it would free on /boot: kernel directories no kept deployment uses. */
static guint64
boot_freeable(OstreeSysroot *sysroot, const char *boot, GPtrArray *victims)
{
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  guint64 total = 0;
  for (guint i = 0; i < ds->len; i++)
    if (!in_list(victims, ds->pdata[i]))
      g_hash_table_add(seen, (gpointer)ostree_deployment_get_bootcsum(ds->pdata[i]));
  for (guint i = 0; i < victims->len; i++)
    {
      OstreeDeployment *d = victims->pdata[i];
      const char *bcsum = ostree_deployment_get_bootcsum(d);
      if (!bcsum || g_hash_table_contains(seen, bcsum))
        continue;
      g_hash_table_add(seen, (gpointer)bcsum);
      g_autofree char *name = g_strdup_printf("%s-%s", ostree_deployment_get_osname(d), bcsum);
      g_autofree char *p = g_build_filename(boot, "ostree", name, NULL);
      total += dir_size(-1, p);
    }
  return total;
}

static gboolean
remove_deployment(OstreeSysroot *sysroot, OstreeDeployment *victim, GError **error)
{
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < ds->len; i++)
    if (!ostree_deployment_equal(ds->pdata[i], victim))
      g_ptr_array_add(keep, g_object_ref(ds->pdata[i]));
  g_autofree char *id = host_deployment_id(victim);
  printf("removing old deployment %s to make room\n", id);
  if (!host_write_deployments(sysroot, keep, error))
    return FALSE;
  return ostree_sysroot_load(sysroot, NULL, error);
}

typedef struct
{
  const char *root, *boot;
  guint64 need_root, need_boot;
  gboolean exact;
} SpaceNeed;

static gboolean
short_error(const SpaceNeed *n, guint64 free_root, guint64 free_boot, guint64 fr, guint64 fb,
            guint candidates, GError **error)
{
  gboolean root_short = free_root + fr < n->need_root;
  g_autofree char *need = host_format_size(root_short ? n->need_root : n->need_boot);
  g_autofree char *have = host_format_size(root_short ? free_root : free_boot);
  g_autofree char *could = host_format_size(root_short ? fr : fb);
  g_autofree char *extra
      = candidates ? g_strdup_printf("removing the %u old deployment%s would free only %s",
                                     candidates, candidates == 1 ? "" : "s", could)
                   : g_strdup("no old deployment to remove");
  return host_throw(error, "not enough space on %s: the update needs about %s%s, %s is free (%s)",
                    root_short ? "the root filesystem" : "/boot", need,
                    root_short && !n->exact ? " (min-free-root in host.conf)" : "", have, extra);
}

/* Enough room now, or after removing old deployments (each removal is
 * checked first: when all of them would not make room, nothing is removed). */
static gboolean
make_room(OstreeSysroot *sysroot, OstreeRepo *repo, const SpaceNeed *n, GError **error)
{
  guint64 free_root = 0, free_boot = 0;
  if (!free_bytes(n->root, &free_root, error) || !free_bytes(n->boot, &free_boot, error))
    return FALSE;
  if (free_root >= n->need_root && free_boot >= n->need_boot)
    return TRUE;
  g_autoptr(GPtrArray) victims = prunable(sysroot);
  guint64 fr = 0, fb = boot_freeable(sysroot, n->boot, victims);
  if (victims->len && !root_freeable(sysroot, repo, victims, &fr, error))
    return FALSE;
  if (free_root + fr < n->need_root || free_boot + fb < n->need_boot)
    return short_error(n, free_root, free_boot, fr, fb, victims->len, error);
  for (guint i = 0; i < victims->len; i++)
    {
      if (!remove_deployment(sysroot, victims->pdata[i], error))
        return FALSE;
      if (!free_bytes(n->root, &free_root, error) || !free_bytes(n->boot, &free_boot, error))
        return FALSE;
      if (free_root >= n->need_root && free_boot >= n->need_boot)
        return TRUE;
    }
  return short_error(n, free_root, free_boot, 0, 0, 0, error);
}

gboolean
host_ensure_space(HostContext *ctx, OstreeSysroot *sysroot, const char *checksum, GError **error)
{
  HostConfig cfg;
  if (!host_config_load(ctx->conf_path, &cfg, error))
    return FALSE;
  guint64 bound = cfg.min_free_root;
  host_config_clear(&cfg);
  g_autoptr(OstreeRepo) repo = NULL;
  if (!ostree_sysroot_get_repo(sysroot, &repo, NULL, error))
    return FALSE;
  g_autofree char *boot = g_build_filename(ctx->sysroot_path, "boot", NULL);
  SpaceNeed n = { .root = ctx->sysroot_path, .boot = boot, .need_boot = boot_need(boot) };
  if (!root_need(repo, checksum, bound, &n.need_root, &n.exact, error))
    return FALSE;
  n.need_root += n.need_root / 10 + SPACE_MARGIN;
  return make_room(sysroot, repo, &n, error);
}
