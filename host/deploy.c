/* Putting a commit in place as the next boot.  On a booted host the new
 * deployment is staged (ostree_sysroot_stage_tree): ostree-finalize-staged.service
 * writes it at shutdown, after merging /etc then, so edits made after
 * staging are kept.  On a sysroot that is not booted (an image being
 * prepared, the tests) it is deployed and written at once. */
#include <stdio.h>

#include "bootcount.h"
#include "config.h"
#include "host.h"

static gboolean
record_staged(HostContext *ctx, OstreeDeployment *d, gboolean arm, GError **error)
{
  g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
  if (!state)
    return FALSE;
  g_key_file_remove_group(state, "staged", NULL);
  g_key_file_set_string(state, "staged", "commit", ostree_deployment_get_csum(d));
  g_key_file_set_boolean(state, "staged", "arm", arm);
  return host_state_save(state, ctx->state_dir, error);
}

static gboolean
deploy_now(HostContext *ctx, OstreeSysroot *sysroot, const HostDeployOpts *opts,
           OstreeDeployment *merge, OstreeDeployment **ret_new, GError **error)
{
  const char *osname = host_osname(sysroot);
  g_autoptr(OstreeDeployment) d = NULL;
  if (!ostree_sysroot_deploy_tree(sysroot, osname, opts->checksum, opts->origin, merge, opts->kargs,
                                  &d, NULL, error))
    return FALSE;
  if (!ostree_sysroot_simple_write_deployment(sysroot, osname, d, merge,
                                              OSTREE_SYSROOT_SIMPLE_WRITE_DEPLOYMENT_FLAGS_NONE,
                                              NULL, error))
    return FALSE;
  if (!ostree_sysroot_load(sysroot, NULL, error))
    return FALSE;
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  OstreeDeployment *written = ds->len ? ds->pdata[0] : NULL;
  if (!written || !ostree_deployment_equal(written, d))
    return host_throw(error, "the new deployment is not the default after writing it");
  if (opts->arm_health && !host_bootcount_arm(ctx, written, NULL, error))
    return FALSE;
  *ret_new = g_object_ref(written);
  return TRUE;
}

static gboolean start_finalize_units(GError **error);

gboolean
host_deploy_commit(HostContext *ctx, OstreeSysroot *sysroot, const HostDeployOpts *opts,
                   OstreeDeployment **ret_new, GError **error)
{
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  g_autoptr(GKeyFile) origin = NULL;
  HostDeployOpts o = *opts;
  if (!o.origin)
    {
      if (!merge || !ostree_deployment_get_origin(merge))
        return host_throw(error, "no deployment with an origin to start from");
      origin = ostree_deployment_get_origin(merge);
      o.origin = origin = g_key_file_ref(origin);
    }
  if (!ostree_sysroot_get_booted_deployment(sysroot))
    return deploy_now(ctx, sysroot, &o, merge, ret_new, error);

  g_autoptr(OstreeDeployment) d = NULL;
  if (!host_boot_mounted(ctx, error) || !start_finalize_units(error))
    return FALSE;
  if (!ostree_sysroot_stage_tree(sysroot, host_osname(sysroot), o.checksum, o.origin, merge,
                                 o.kargs, &d, NULL, error))
    {
      g_prefix_error(error, "cannot stage %.12s: ", o.checksum);
      return FALSE;
    }
  /* keel-host-finalize.service arms boot counting once the deployment is
   * written at shutdown; it checks this record so it arms only ours */
  if (!record_staged(ctx, d, o.arm_health, error))
    return FALSE;
  *ret_new = g_steal_pointer(&d);
  return TRUE;
}

static gboolean
start_unit(const char *unit, const char *mode, GError **error)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, error);
  if (!bus)
    {
      g_prefix_error(error, "cannot reach systemd to start %s: ", unit);
      return FALSE;
    }
  g_autoptr(GVariant) r = g_dbus_connection_call_sync(
      bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
      "org.freedesktop.systemd1.Manager", "StartUnit", g_variant_new("(ss)", unit, mode), NULL,
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  if (!r)
    {
      g_prefix_error(error, "cannot start %s: ", unit);
      return FALSE;
    }
  return TRUE;
}

/* A staged deployment is written by ostree-finalize-staged.service when it
 * stops at shutdown; it must be running before anything is staged (as
 * rpm-ostree does), and keel-host-finalize.service, stopped right after it,
 * arms boot counting. */
static gboolean
start_finalize_units(GError **error)
{
  return start_unit("ostree-finalize-staged.service", "replace", error)
         && start_unit("keel-host-finalize.service", "replace", error);
}

/* Ask systemd for a clean reboot (the staged deployment is finalized on the
 * way down). */
gboolean
host_reboot(HostContext *ctx, GError **error)
{
  if (!g_str_equal(ctx->sysroot_path, "/"))
    return host_throw(error, "--reboot only applies to the running system (not --sysroot)");
  printf("rebooting\n");
  fflush(stdout);
  return start_unit("reboot.target", "replace-irreversibly", error);
}
