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
 * deployment; the last (oldest) one. */
static OstreeDeployment *
prunable(OstreeSysroot *sysroot)
{
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(sysroot);
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  for (guint i = ds->len; i > 0; i--)
    {
      OstreeDeployment *d = ds->pdata[i - 1];
      if ((booted && ostree_deployment_equal(d, booted))
          || (merge && ostree_deployment_equal(d, merge)) || ostree_deployment_is_pinned(d)
          || ostree_deployment_is_staged(d))
        continue;
      return g_object_ref(d);
    }
  return NULL;
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
  guint64 need_root = 0, need_boot = boot_need(boot);
  gboolean exact = FALSE;
  if (!root_need(repo, checksum, bound, &need_root, &exact, error))
    return FALSE;
  need_root += need_root / 10 + SPACE_MARGIN;
  guint removed = 0;
  for (;;)
    {
      guint64 free_root = 0, free_boot = 0;
      if (!free_bytes(ctx->sysroot_path, &free_root, error) || !free_bytes(boot, &free_boot, error))
        return FALSE;
      gboolean root_ok = free_root >= need_root, boot_ok = free_boot >= need_boot;
      if (root_ok && boot_ok)
        return TRUE;
      g_autoptr(OstreeDeployment) victim = prunable(sysroot);
      if (!victim)
        {
          g_autofree char *n = g_format_size(root_ok ? need_boot : need_root);
          g_autofree char *f = g_format_size(root_ok ? free_boot : free_root);
          return host_throw(
              error, "not enough space on %s: the update needs about %s%s, %s is free%s",
              root_ok ? "/boot" : "the root filesystem", n,
              root_ok || exact ? "" : " (bound: min-free-root in host.conf)", f,
              removed ? " after removing old deployments" : " (no old deployment left to remove)");
        }
      if (!remove_deployment(sysroot, victim, error))
        return FALSE;
      removed++;
    }
}
