/* Loading and locking the sysroot; what every verb asks of a deployment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "host.h"

gboolean
host_parse_args(const char *summary, GOptionEntry *entries, int *argc, char ***argv, int min,
                int max, GError **error)
{
  g_autoptr(GOptionContext) oc = g_option_context_new(summary);
  if (entries)
    g_option_context_add_main_entries(oc, entries, NULL);
  if (!g_option_context_parse(oc, argc, argv, error))
    return FALSE;
  if (*argc - 1 < min)
    return host_throw(error, "missing argument (usage: host %s)", summary);
  if (*argc - 1 > max)
    return host_throw(error, "unexpected argument '%s'", (*argv)[1 + max]);
  return TRUE;
}

gboolean
host_require_root(HostContext *ctx, GError **error)
{
  if (geteuid() == 0)
    return TRUE;
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "needs root (run 'sudo host %s')",
              ctx->verb);
  return FALSE;
}

/* The sysroot at ctx->sysroot_path, loaded; with lock, holding ostree's
 * sysroot lock (released when the object is freed) so that two upgrades,
 * or an upgrade and ostree itself, never interleave. */
OstreeSysroot *
host_sysroot_load(HostContext *ctx, gboolean lock, GError **error)
{
  g_autoptr(GFile) path = g_file_new_for_path(ctx->sysroot_path);
  g_autoptr(OstreeSysroot) sysroot = ostree_sysroot_new(path);
  g_autofree char *repo = g_build_filename(ctx->sysroot_path, "ostree/repo", NULL);

  if (!g_file_test(repo, G_FILE_TEST_IS_DIR))
    {
      host_throw(error, "'%s' is not an ostree sysroot (no ostree/repo)", ctx->sysroot_path);
      return NULL;
    }
  if (lock)
    {
      gboolean acquired = FALSE;
      if (!ostree_sysroot_try_lock(sysroot, &acquired, NULL))
        {
          host_throw(error, "cannot lock the sysroot '%s'", ctx->sysroot_path);
          return NULL;
        }
      /* as ostree admin does: say so, then wait (an automatic update or
       * a boot's health check holds it only for a while) */
      if (!acquired)
        {
          fprintf(stderr, "host: waiting for another host or ostree operation (sysroot lock)\n");
          if (!ostree_sysroot_lock(sysroot, error))
            {
              g_prefix_error(error, "cannot lock the sysroot '%s': ", ctx->sysroot_path);
              return NULL;
            }
        }
    }
  if (!ostree_sysroot_load(sysroot, NULL, error))
    {
      g_prefix_error(error, "cannot load the sysroot '%s': ", ctx->sysroot_path);
      return NULL;
    }
  return g_steal_pointer(&sysroot);
}

const char *
host_osname(OstreeSysroot *sysroot)
{
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(sysroot);
  if (booted)
    return ostree_deployment_get_osname(booted);
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments(sysroot);
  if (deployments->len > 0)
    return ostree_deployment_get_osname(deployments->pdata[0]);
  return HOST_DEFAULT_OSNAME;
}

/* The deployment whose /etc and origin a new deployment starts from: the
 * booted one, else the default (first) one. */
OstreeDeployment *
host_merge_deployment(OstreeSysroot *sysroot)
{
  return ostree_sysroot_get_merge_deployment(sysroot, host_osname(sysroot));
}

static char *
origin_string(OstreeDeployment *d, const char *key)
{
  GKeyFile *origin = ostree_deployment_get_origin(d);
  if (!origin)
    return NULL;
  return g_key_file_get_string(origin, "origin", key, NULL);
}

char *
host_deployment_refspec(OstreeDeployment *d)
{
  return origin_string(d, "refspec");
}

char *
host_deployment_override_commit(OstreeDeployment *d)
{
  return origin_string(d, "override-commit");
}

/* CHECKSUM.SERIAL: names a deployment directory uniquely. */
char *
host_deployment_id(OstreeDeployment *d)
{
  return g_strdup_printf("%s.%d", ostree_deployment_get_csum(d),
                         ostree_deployment_get_deployserial(d));
}

/* The commit's "version" metadata (NULL when absent) and timestamp. */
gboolean
host_commit_info(OstreeRepo *repo, const char *checksum, char **ret_version, guint64 *ret_timestamp,
                 GError **error)
{
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, checksum, &commit, error))
    return FALSE;
  g_autoptr(GVariant) meta = g_variant_get_child_value(commit, 0);
  g_autoptr(GVariantDict) dict = g_variant_dict_new(meta);
  if (ret_version)
    {
      *ret_version = NULL;
      g_variant_dict_lookup(dict, OSTREE_COMMIT_META_KEY_VERSION, "s", ret_version);
    }
  if (ret_timestamp)
    *ret_timestamp = ostree_commit_get_timestamp(commit);
  return TRUE;
}

gboolean
host_write_deployments(OstreeSysroot *sysroot, GPtrArray *deployments, GError **error)
{
  if (!ostree_sysroot_write_deployments(sysroot, deployments, NULL, error))
    {
      g_prefix_error(error, "cannot write the new deployment list: ");
      return FALSE;
    }
  return TRUE;
}

/* WHICH: a deployment index as `host status` numbers them, "booted", or
 * the start of a commit checksum. */
OstreeDeployment *
host_find_deployment(OstreeSysroot *sysroot, const char *which, GError **error)
{
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments(sysroot);
  if (!which || g_str_equal(which, "booted"))
    {
      OstreeDeployment *b = ostree_sysroot_get_booted_deployment(sysroot);
      if (!b)
        host_throw(error, "no booted deployment here: give a deployment index");
      return b ? g_object_ref(b) : NULL;
    }
  char *end = NULL;
  errno = 0;
  long idx = strtol(which, &end, 10);
  if (*which && end && *end == '\0' && errno == 0)
    {
      if (idx < 0 || (guint)idx >= deployments->len)
        {
          host_throw(error, "no deployment with index %ld (there are %u)", idx, deployments->len);
          return NULL;
        }
      return g_object_ref(deployments->pdata[idx]);
    }
  for (guint i = 0; i < deployments->len; i++)
    if (strlen(which) >= 6
        && g_str_has_prefix(ostree_deployment_get_csum(deployments->pdata[i]), which))
      return g_object_ref(deployments->pdata[i]);
  host_throw(error, "no deployment '%s' (give an index from 'host status' or a commit)", which);
  return NULL;
}

char *
host_format_time(guint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64)t);
  return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
}

/* "512 B", "1.5 KiB", "12.3 MiB": plain ASCII (glib's g_format_size puts a
 * no-break space in), powers of 1024 as df -h and the config use. */
char *
host_format_size(guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
  if (bytes < 1024)
    return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
  double v = (double)bytes / 1024;
  guint u = 0;
  while (v >= 1024 && u + 1 < G_N_ELEMENTS(units))
    {
      v /= 1024;
      u++;
    }
  return g_strdup_printf("%.1f %s", v, units[u]);
}
