/* host upgrade [--check] [--download-only] [--reboot]
 *
 * 1. fetch the commit object of the origin's ref (signature checked);
 * 2. same commit as now: nothing to do (--check exits 77);
 * 3. free-space check, pruning old deployments if that makes room;
 * 4. fetch the rest (progress on a terminal), then stage it. */
#include <stdio.h>

#include "host.h"
#include "upgrade.h"

static void
print_version(const char *what, OstreeRepo *repo, const char *csum)
{
  g_autofree char *version = NULL;
  guint64 ts = 0;
  if (host_commit_info(repo, csum, &version, &ts, NULL))
    {
      g_autofree char *t = host_format_time(ts);
      printf("%s: version %s (%.12s, %s)\n", what, version ? version : "(none)", csum, t);
    }
  else
    printf("%s: %.12s\n", what, csum);
}

/* Fetch the newest commit of the merge deployment's origin (commit only) and
 * say whether it differs from what the host runs or has staged. */
gboolean
host_upgrade_find(HostContext *ctx, OstreeSysroot *sysroot, HostUpgradePlan *plan, GError **error)
{
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  if (!merge)
    return host_throw(error, "no deployment to upgrade from");
  plan->refspec = host_deployment_refspec(merge);
  if (!plan->refspec)
    return host_throw(error, "the deployment %.12s has no origin refspec",
                      ostree_deployment_get_csum(merge));
  if (!ostree_parse_refspec(plan->refspec, &plan->remote, &plan->ref, error))
    return FALSE;
  if (!plan->remote)
    return host_throw(error, "the origin '%s' names no remote (rebase to REMOTE:REF)",
                      plan->refspec);
  if (!ostree_sysroot_get_repo(sysroot, &plan->repo, NULL, error))
    return FALSE;
  if (!host_remote_check(plan->repo, plan->remote, error))
    return FALSE;
  if (!host_pull(plan->repo, plan->remote, plan->ref, NULL, TRUE, error))
    return FALSE;
  if (!host_resolve_new_commit(plan->repo, plan->refspec, &plan->new_commit, error))
    return FALSE;
  plan->current = g_strdup(ostree_deployment_get_csum(merge));
  OstreeDeployment *staged = ostree_sysroot_get_staged_deployment(sysroot);
  g_autofree char *override = host_deployment_override_commit(merge);
  plan->have_update = !g_str_equal(plan->new_commit, plan->current) || override != NULL;
  if (staged && g_str_equal(ostree_deployment_get_csum(staged), plan->new_commit))
    plan->already_staged = TRUE;
  if (plan->have_update && !override
      && !ostree_sysroot_upgrader_check_timestamps(plan->repo, plan->current, plan->new_commit,
                                                   error))
    return FALSE;
  return TRUE;
}

/* Lock and load the sysroot, then find the update. */
OstreeSysroot *
host_upgrade_start(HostContext *ctx, HostUpgradePlan *plan, GError **error)
{
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  if (!sysroot || !host_upgrade_find(ctx, sysroot, plan, error))
    return NULL;
  return g_steal_pointer(&sysroot);
}

void
host_upgrade_plan_clear(HostUpgradePlan *plan)
{
  g_clear_pointer(&plan->refspec, g_free);
  g_clear_pointer(&plan->remote, g_free);
  g_clear_pointer(&plan->ref, g_free);
  g_clear_pointer(&plan->new_commit, g_free);
  g_clear_pointer(&plan->current, g_free);
  g_clear_object(&plan->repo);
}

/* Fetch the whole commit and stage it (or only fetch). */
gboolean
host_upgrade_apply(HostContext *ctx, OstreeSysroot *sysroot, HostUpgradePlan *plan,
                   gboolean download_only, GError **error)
{
  if (!host_ensure_space(ctx, sysroot, plan->new_commit, error))
    return FALSE;
  if (!host_pull(plan->repo, plan->remote, plan->ref, NULL, FALSE, error))
    return FALSE;
  if (download_only)
    {
      print_version("downloaded", plan->repo, plan->new_commit);
      printf("run 'host upgrade' to stage it\n");
      return TRUE;
    }
  /* a deploy of a fixed commit ends with an upgrade: follow the ref again */
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  g_autoptr(GKeyFile) origin = ostree_sysroot_origin_new_from_refspec(sysroot, plan->refspec);
  HostDeployOpts opts = { .checksum = plan->new_commit, .origin = origin, .arm_health = TRUE };
  g_autoptr(OstreeDeployment) d = NULL;
  if (!host_deploy_commit(ctx, sysroot, &opts, &d, error))
    return FALSE;
  print_version(ostree_deployment_is_staged(d) ? "staged" : "deployed", plan->repo,
                plan->new_commit);
  return TRUE;
}

gboolean
host_verb_upgrade(HostContext *ctx, int argc, char **argv, GError **error)
{
  gboolean check = FALSE, download_only = FALSE, reboot = FALSE;
  GOptionEntry entries[] = {
    { "check", 0, 0, G_OPTION_ARG_NONE, &check,
      "only say whether an update exists (exit 0: yes, 77: no)", NULL },
    { "download-only", 0, 0, G_OPTION_ARG_NONE, &download_only, "fetch but do not stage", NULL },
    { "reboot", 'r', 0, G_OPTION_ARG_NONE, &reboot, "reboot into the new deployment", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) oc = g_option_context_new("- fetch and stage the newest commit");
  g_option_context_add_main_entries(oc, entries, NULL);
  if (!g_option_context_parse(oc, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    return host_throw(error, "unexpected argument '%s'", argv[1]);
  if (check + download_only + reboot > 1)
    return host_throw(error, "--check, --download-only and --reboot exclude each other");
  if (!host_require_root(ctx, error))
    return FALSE;
  g_auto(HostUpgradePlan) plan = { 0 };
  g_autoptr(OstreeSysroot) sysroot = host_upgrade_start(ctx, &plan, error);
  if (!sysroot)
    return FALSE;
  if (!plan.have_update || plan.already_staged)
    {
      print_version(plan.already_staged ? "already staged" : "no update; running", plan.repo,
                    plan.new_commit);
      if (check)
        ctx->exit_code = HOST_EXIT_NO_UPDATE;
      return TRUE;
    }
  if (check)
    {
      print_version("update available", plan.repo, plan.new_commit);
      print_version("current", plan.repo, plan.current);
      return TRUE;
    }
  if (!host_upgrade_apply(ctx, sysroot, &plan, download_only, error))
    return FALSE;
  if (reboot)
    return host_reboot(ctx, error);
  return TRUE;
}
