/* host auto-update [run|pause|resume]: the policy in /etc/keel/host.conf,
 * run by keel-auto-update.timer.
 *   off           nothing
 *   check         fetch the commit object, record whether an update exists
 *   stage         fetch and stage it (it boots at the next reboot)
 *   stage-reboot  stage it, and reboot into it inside window=HH:MM-HH:MM
 *                 (anytime without a window)
 * A rollback the user asked for pauses all of it until `resume`; a commit
 * that failed its health checks is never staged again automatically.
 *
 * host finalize-hook: keel-host-finalize.service's ExecStop, right after
 * ostree-finalize-staged.service wrote the staged deployment at shutdown:
 * arms boot counting for it (bootcount.c). */
#include <stdio.h>

#include "bootcount.h"
#include "config.h"
#include "host.h"
#include "upgrade.h"

static gboolean
record_run(HostContext *ctx, const char *result, GError **error)
{
  g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
  if (!state)
    return FALSE;
  g_autofree char *now = host_now_iso();
  g_key_file_set_string(state, "auto-update", "last-run", now);
  g_key_file_set_string(state, "auto-update", "last-result", result);
  printf("%s\n", result);
  return host_state_save(state, ctx->state_dir, error);
}

static gboolean
in_window(const HostConfig *cfg)
{
  if (!cfg->has_window)
    return TRUE;
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  int minute = g_date_time_get_hour(now) * 60 + g_date_time_get_minute(now);
  return host_window_contains(cfg->window_start, cfg->window_end, minute);
}

static gboolean
maybe_reboot(HostContext *ctx, const HostConfig *cfg, GError **error)
{
  if (cfg->policy != HOST_POLICY_STAGE_REBOOT)
    return TRUE;
  if (!in_window(cfg))
    return record_run(ctx, "staged; the reboot waits for the maintenance window", error);
  if (!record_run(ctx, "staged; rebooting inside the maintenance window", error))
    return FALSE;
  return host_reboot(ctx, error);
}

static gboolean
run_policy(HostContext *ctx, const HostConfig *cfg, GError **error)
{
  g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
  if (!state)
    return FALSE;
  if (cfg->policy == HOST_POLICY_OFF)
    return record_run(ctx, "automatic updates are off (policy=off)", error);
  if (host_state_paused(state))
    return record_run(ctx, "automatic updates are paused ('host auto-update resume')", error);
  g_auto(HostUpgradePlan) plan = { 0 };
  g_autoptr(OstreeSysroot) sysroot = host_upgrade_start(ctx, &plan, error);
  if (!sysroot)
    return FALSE;
  if (plan.already_staged)
    return maybe_reboot(ctx, cfg, error);
  if (!plan.have_update)
    return record_run(ctx, "no update", error);
  g_autofree char *version = NULL;
  host_commit_info(plan.repo, plan.new_commit, &version, NULL, NULL);
  g_autofree char *what
      = g_strdup_printf("version %s (%.12s)", version ? version : "?", plan.new_commit);
  if (host_state_commit_failed(state, plan.new_commit))
    {
      g_autofree char *msg = g_strdup_printf("skipping %s: it failed its health checks", what);
      return record_run(ctx, msg, error);
    }
  if (cfg->policy == HOST_POLICY_CHECK)
    {
      g_autofree char *msg = g_strdup_printf("update available: %s", what);
      return record_run(ctx, msg, error);
    }
  if (!host_upgrade_apply(ctx, sysroot, &plan, FALSE, error))
    return FALSE;
  g_autofree char *msg = g_strdup_printf("staged %s", what);
  if (!record_run(ctx, msg, error))
    return FALSE;
  return maybe_reboot(ctx, cfg, error);
}

gboolean
host_verb_auto_update(HostContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr(GOptionContext) oc = g_option_context_new("[run|pause|resume]");
  if (!g_option_context_parse(oc, &argc, &argv, error))
    return FALSE;
  const char *what = argc > 1 ? argv[1] : "run";
  if (argc > 2)
    return host_throw(error, "unexpected argument '%s'", argv[2]);
  if (!host_require_root(ctx, error))
    return FALSE;
  if (g_str_equal(what, "pause") || g_str_equal(what, "resume"))
    {
      g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
      if (!state)
        return FALSE;
      if (g_str_equal(what, "pause"))
        host_state_pause(state, "paused with 'host auto-update pause'");
      else
        host_state_resume(state);
      if (!host_state_save(state, ctx->state_dir, error))
        return FALSE;
      printf("automatic updates %s\n", g_str_equal(what, "pause") ? "paused" : "resumed");
      return TRUE;
    }
  if (!g_str_equal(what, "run"))
    return host_throw(error, "unknown action '%s' (run, pause or resume)", what);
  HostConfig cfg;
  if (!host_config_load(ctx->conf_path, &cfg, error))
    return FALSE;
  gboolean ok = run_policy(ctx, &cfg, error);
  host_config_clear(&cfg);
  if (!ok)
    {
      g_autofree char *msg = g_strdup_printf("failed: %s", (*error)->message);
      record_run(ctx, msg, NULL);
    }
  return ok;
}

gboolean
host_verb_finalize_hook(HostContext *ctx, int argc, char **argv, GError **error)
{
  if (argc > 1)
    return host_throw(error, "unexpected argument '%s'", argv[1]);
  if (!host_require_root(ctx, error))
    return FALSE;
  g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
  if (!state)
    return FALSE;
  g_autofree char *staged = g_key_file_get_string(state, "staged", "commit", NULL);
  if (!staged || !g_key_file_get_boolean(state, "staged", "arm", NULL))
    return TRUE; /* nothing of ours was staged */
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, FALSE, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment(sysroot);
  OstreeDeployment *first = ds->len ? ds->pdata[0] : NULL;
  if (!first || ostree_deployment_is_staged(first)
      || (booted && ostree_deployment_equal(first, booted))
      || !g_str_equal(ostree_deployment_get_csum(first), staged))
    {
      printf("host finalize-hook: the staged deployment was not written; nothing to arm\n");
      return TRUE;
    }
  guint tries = 0;
  if (!host_bootcount_arm(ctx, first, &tries, error))
    return FALSE;
  g_key_file_set_boolean(state, "staged", "arm", FALSE);
  g_key_file_set_boolean(state, "staged", "armed", TRUE);
  g_autofree char *id = host_deployment_id(first);
  printf("host finalize-hook: boot counting armed for %s (%u tries)\n", id, tries);
  return host_state_save(state, ctx->state_dir, error);
}
