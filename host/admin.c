/* host rollback, pin, unpin, cleanup: changes to the deployment list that
 * need no new checkout.  ostree 2022.7 has no `admin rollback`; a rollback is
 * a new order written with ostree_sysroot_write_deployments, which switches
 * the bootloader atomically. */
#include <stdio.h>

#include "bootcount.h"
#include "config.h"
#include "host.h"

/* The deployment that booting "the previous one" means: with a staged
 * deployment or a default that is not the booted one, the booted one (undo
 * the pending update, as rpm-ostree does); otherwise the first after the
 * booted (or, not booted, the default) one. */
static OstreeDeployment *
rollback_target(OstreeSysroot *sysroot, GPtrArray *ds, GError **error)
{
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(sysroot);
  const char *osname = host_osname(sysroot);
  guint first = 0;
  while (first < ds->len && ostree_deployment_is_staged(ds->pdata[first]))
    first++;
  if (booted
      && (first > 0 || (first < ds->len && !ostree_deployment_equal(ds->pdata[first], booted))))
    return booted;
  for (guint i = first + 1; i < ds->len; i++)
    if (g_str_equal(ostree_deployment_get_osname(ds->pdata[i]), osname))
      return ds->pdata[i];
  host_throw(error, "no previous deployment to roll back to");
  return NULL;
}

static gboolean
record_user_rollback(HostContext *ctx, OstreeRepo *repo, OstreeDeployment *from,
                     OstreeDeployment *to, GError **error)
{
  g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
  if (!state)
    return FALSE;
  g_autofree char *now = host_now_iso();
  g_autofree char *fv = NULL, *tv = NULL;
  host_commit_info(repo, ostree_deployment_get_csum(from), &fv, NULL, NULL);
  host_commit_info(repo, ostree_deployment_get_csum(to), &tv, NULL, NULL);
  g_key_file_remove_group(state, "rollback", NULL);
  g_key_file_set_string(state, "rollback", "time", now);
  g_key_file_set_string(state, "rollback", "kind", "user");
  g_key_file_set_string(state, "rollback", "reason", "requested with 'host rollback'");
  g_key_file_set_string(state, "rollback", "failed-commit", ostree_deployment_get_csum(from));
  g_key_file_set_string(state, "rollback", "failed-version", fv ? fv : "");
  g_key_file_set_string(state, "rollback", "restored-commit", ostree_deployment_get_csum(to));
  g_key_file_set_string(state, "rollback", "restored-version", tv ? tv : "");
  g_key_file_remove_group(state, "staged", NULL);
  host_state_pause(state, "rollback requested by the user");
  return host_state_save(state, ctx->state_dir, error);
}

gboolean
host_verb_rollback(HostContext *ctx, int argc, char **argv, GError **error)
{
  gboolean reboot = FALSE;
  GOptionEntry entries[] = {
    { "reboot", 'r', 0, G_OPTION_ARG_NONE, &reboot, "reboot into it", NULL },
    { NULL },
  };
  if (!host_parse_args("- boot the previous deployment next", entries, &argc, &argv, 0, 0, error)
      || !host_require_root(ctx, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(OstreeRepo) repo = NULL;
  if (!ostree_sysroot_get_repo(sysroot, &repo, NULL, error))
    return FALSE;
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  OstreeDeployment *target = rollback_target(sysroot, ds, error);
  if (!target)
    return FALSE;
  OstreeDeployment *from = ds->pdata[0]; /* what would have booted next */
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func(g_object_unref);
  g_ptr_array_add(order, g_object_ref(target));
  for (guint i = 0; i < ds->len; i++)
    {
      OstreeDeployment *d = ds->pdata[i];
      if (ostree_deployment_is_staged(d) || ostree_deployment_equal(d, target))
        continue; /* a staged deployment is dropped: the rollback undoes it */
      g_ptr_array_add(order, g_object_ref(d));
    }
  if (!host_write_deployments(sysroot, order, error))
    return FALSE;
  /* boot counting was for the deployment we just left */
  if (!host_bootcount_disarm(ctx, error) || !record_user_rollback(ctx, repo, from, target, error))
    return FALSE;
  g_autofree char *id = host_deployment_id(target);
  printf("rolled back: %s boots next; automatic updates are paused "
         "('host auto-update resume' resumes them)\n",
         id);
  return reboot ? host_reboot(ctx, error) : TRUE;
}

static gboolean
set_pinned(HostContext *ctx, int argc, char **argv, gboolean pin, GError **error)
{
  if (!host_parse_args(pin ? "[INDEX] - keep a deployment" : "[INDEX] - let it go", NULL, &argc,
                       &argv, 0, 1, error)
      || !host_require_root(ctx, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  if (!sysroot)
    return FALSE;
  const char *which = argc > 1 ? argv[1] : NULL;
  if (!which && !ostree_sysroot_get_booted_deployment(sysroot))
    which = "0";
  g_autoptr(OstreeDeployment) d = host_find_deployment(sysroot, which, error);
  if (!d)
    return FALSE;
  if (ostree_deployment_is_staged(d))
    return host_throw(error, "a staged deployment cannot be pinned (it is not written yet)");
  if (!ostree_sysroot_deployment_set_pinned(sysroot, d, pin, error))
    return FALSE;
  g_autofree char *id = host_deployment_id(d);
  printf("%s %s\n", pin ? "pinned" : "unpinned", id);
  return TRUE;
}

gboolean
host_verb_pin(HostContext *ctx, int argc, char **argv, GError **error)
{
  return set_pinned(ctx, argc, argv, TRUE, error);
}

gboolean
host_verb_unpin(HostContext *ctx, int argc, char **argv, GError **error)
{
  return set_pinned(ctx, argc, argv, FALSE, error);
}

/* Keep the booted, the default (next boot), the staged and pinned ones. */
gboolean
host_verb_cleanup(HostContext *ctx, int argc, char **argv, GError **error)
{
  if (!host_parse_args("- remove old deployments and unused objects", NULL, &argc, &argv, 0, 0,
                       error)
      || !host_require_root(ctx, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(sysroot);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_object_unref);
  gboolean have_default = FALSE;
  guint removed = 0;
  for (guint i = 0; i < ds->len; i++)
    {
      OstreeDeployment *d = ds->pdata[i];
      gboolean staged = ostree_deployment_is_staged(d);
      gboolean keep_it = staged || ostree_deployment_is_pinned(d)
                         || (booted && ostree_deployment_equal(d, booted)) || !have_default;
      if (!staged)
        have_default = TRUE;
      if (keep_it)
        g_ptr_array_add(keep, g_object_ref(d));
      else
        {
          g_autofree char *id = host_deployment_id(d);
          printf("removing deployment %s\n", id);
          removed++;
        }
    }
  if (removed && !host_write_deployments(sysroot, keep, error))
    return FALSE;
  if (!ostree_sysroot_cleanup(sysroot, NULL, error))
    {
      g_prefix_error(error, "cannot clean up the sysroot: ");
      return FALSE;
    }
  printf("removed %u deployment%s; unused objects pruned\n", removed, removed == 1 ? "" : "s");
  return TRUE;
}
