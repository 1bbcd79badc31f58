/* host health: run at every boot by keel-health.service.
 *
 * - Booted the armed (new) deployment: run the checks; pass → disarm boot
 *   counting, the deployment is good; fail → record why and, with
 *   --reboot-on-failure, reboot so GRUB counts another try (and after
 *   boot-tries of them boots the previous deployment).
 * - Armed, but booted another deployment: GRUB fell back.  Make the booted
 *   deployment the default again (write_deployments, so the failed one is
 *   not retried), disarm, record the automatic rollback and why in the state
 *   file, and remember the commit so automatic updates skip it.
 * - Not armed: run the checks and record the result. */
#include <stdarg.h>
#include <stdio.h>

#include "bootcount.h"
#include "checks.h"
#include "config.h"
#include "host.h"

/* One line on the console through the kernel log (as keel-boot-marker
 * does), for whoever watches the serial port, e.g. the VM tests. */
static void console_marker(HostContext *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
console_marker(HostContext *ctx, const char *fmt, ...)
{
  if (!g_str_equal(ctx->sysroot_path, "/"))
    return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  FILE *f = fopen("/dev/kmsg", "we");
  if (!f)
    return;
  fprintf(f, "<5>KEEL-HEALTH: %s\n", msg);
  fclose(f);
}

static void
record_check(GKeyFile *state, OstreeDeployment *d, gboolean passed, const char *reason)
{
  g_autofree char *now = host_now_iso();
  g_autofree char *id = host_deployment_id(d);
  g_key_file_remove_group(state, "health", NULL);
  g_key_file_set_string(state, "health", "time", now);
  g_key_file_set_string(state, "health", "result", passed ? "passed" : "failed");
  g_key_file_set_string(state, "health", "reason", reason);
  g_key_file_set_string(state, "health", "deployment", id);
  g_key_file_set_string(state, "health", "commit", ostree_deployment_get_csum(d));
  if (passed)
    g_key_file_remove_key(state, "failed-deployments", id, NULL);
  else
    g_key_file_set_string(state, "failed-deployments", id, reason);
}

/* GRUB booted BOOTED although FAILED was armed: keep BOOTED as the default. */
static gboolean
automatic_rollback(HostContext *ctx, GKeyFile *state, OstreeDeployment *booted,
                   OstreeDeployment *failed, guint tries, GError **error)
{
  /* the checks run without the sysroot lock (an upgrade started at boot
   * must not wait for them); this write takes it, on a fresh load */
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  g_autoptr(OstreeRepo) repo = NULL;
  if (!sysroot || !ostree_sysroot_get_repo(sysroot, &repo, NULL, error))
    return FALSE;
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < ds->len; i++)
    if (ostree_deployment_equal(ds->pdata[i], booted))
      g_ptr_array_add(order, g_object_ref(ds->pdata[i]));
  if (order->len != 1)
    return host_throw(error, "the booted deployment is no longer in the sysroot");
  for (guint i = 0; i < ds->len; i++)
    if (!ostree_deployment_equal(ds->pdata[i], booted)
        && !ostree_deployment_is_staged(ds->pdata[i]))
      g_ptr_array_add(order, g_object_ref(ds->pdata[i]));
  if (!host_write_deployments(sysroot, order, error))
    return FALSE;
  g_autofree char *id = host_deployment_id(failed);
  g_autofree char *last = g_key_file_get_string(state, "failed-deployments", id, NULL);
  g_autofree char *fv = NULL, *bv = NULL;
  host_commit_info(repo, ostree_deployment_get_csum(failed), &fv, NULL, NULL);
  host_commit_info(repo, ostree_deployment_get_csum(booted), &bv, NULL, NULL);
  g_autofree char *reason = g_strdup_printf(
      "version %s failed its health checks in %u boot%s: %s", fv ? fv : "?", tries,
      tries == 1 ? "" : "s", last ? last : "it never reached them (hang, crash or power loss)");
  if (!last)
    g_key_file_set_string(state, "failed-deployments", id, reason);
  g_autofree char *now = host_now_iso();
  g_key_file_remove_group(state, "rollback", NULL);
  g_key_file_set_string(state, "rollback", "time", now);
  g_key_file_set_string(state, "rollback", "kind", "automatic");
  g_key_file_set_string(state, "rollback", "reason", reason);
  g_key_file_set_string(state, "rollback", "failed-deployment", id);
  g_key_file_set_string(state, "rollback", "failed-commit", ostree_deployment_get_csum(failed));
  g_key_file_set_string(state, "rollback", "failed-version", fv ? fv : "");
  g_key_file_set_string(state, "rollback", "restored-commit", ostree_deployment_get_csum(booted));
  g_key_file_set_string(state, "rollback", "restored-version", bv ? bv : "");
  host_state_add_failed_commit(state, ostree_deployment_get_csum(failed));
  printf("automatic rollback: %s\n", reason);
  console_marker(ctx, "automatic rollback: %s", reason);
  return TRUE;
}

/* Which deployment runs: ostree's booted one; on a sysroot that is not the
 * running system, --assume-booted INDEX stands in (the tests use it). */
static OstreeDeployment *
booted_deployment(OstreeSysroot *sysroot, const char *assume, GError **error)
{
  if (assume)
    return host_find_deployment(sysroot, assume, error);
  OstreeDeployment *b = ostree_sysroot_get_booted_deployment(sysroot);
  if (!b)
    host_throw(error, "not booted into a deployment of this sysroot");
  return b ? g_object_ref(b) : NULL;
}

static gboolean
run_and_record(HostContext *ctx, HostConfig *cfg, GKeyFile *state, OstreeDeployment *booted,
               gboolean armed, GError **error)
{
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) failure = NULL;
  gboolean passed = host_checks_run(cfg, ctx->health_dir, notes, &failure);
  for (guint i = 0; i < notes->len; i++)
    printf("ok: %s\n", (char *)notes->pdata[i]);
  record_check(state, booted, passed, passed ? "all checks passed" : failure->message);
  console_marker(ctx, "%s%s", passed ? "passed" : "failed: ", passed ? "" : failure->message);
  if (passed && armed && !host_bootcount_disarm(ctx, error))
    return FALSE;
  if (passed)
    g_key_file_remove_group(state, "staged", NULL);
  if (!host_state_save(state, ctx->state_dir, error))
    return FALSE;
  if (!passed)
    {
      g_propagate_error(error, g_steal_pointer(&failure));
      return FALSE;
    }
  printf("this boot is healthy%s\n", armed ? "; the new deployment is now trusted" : "");
  return TRUE;
}

gboolean
host_verb_health(HostContext *ctx, int argc, char **argv, GError **error)
{
  gboolean reboot = FALSE;
  g_autofree char *assume = NULL;
  GOptionEntry entries[] = {
    { "reboot-on-failure", 0, 0, G_OPTION_ARG_NONE, &reboot,
      "reboot when a new deployment fails (GRUB counts the try)", NULL },
    { "assume-booted", 0, 0, G_OPTION_ARG_STRING, &assume,
      "with --sysroot: treat deployment INDEX as the booted one", "INDEX" },
    { NULL },
  };
  g_autoptr(GOptionContext) oc = g_option_context_new("- check this boot");
  g_option_context_add_main_entries(oc, entries, NULL);
  if (!g_option_context_parse(oc, &argc, &argv, error))
    return FALSE;
  if (assume && g_str_equal(ctx->sysroot_path, "/"))
    return host_throw(error, "--assume-booted needs --sysroot");
  if (!host_require_root(ctx, error))
    return FALSE;
  HostConfig cfg;
  if (!host_config_load(ctx->conf_path, &cfg, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, FALSE, error);
  g_autoptr(GKeyFile) state = sysroot ? host_state_load(ctx->state_dir, error) : NULL;
  g_autoptr(OstreeDeployment) booted = state ? booted_deployment(sysroot, assume, error) : NULL;
  HostBootCount bc = { 0 };
  gboolean ok = booted && host_bootcount_read(ctx, &bc, error);
  g_autoptr(OstreeDeployment) armed = ok ? host_bootcount_find(sysroot, bc.pending) : NULL;
  gboolean testing_new = armed && ostree_deployment_equal(armed, booted);
  if (ok && armed && !testing_new)
    ok = automatic_rollback(ctx, state, booted, armed, bc.tries, error)
         && host_bootcount_disarm(ctx, error);
  else if (ok && bc.pending && !armed)
    ok = host_bootcount_disarm(ctx, error); /* its deployment is gone */
  if (ok)
    ok = run_and_record(ctx, &cfg, state, booted, testing_new, error);
  if (!ok && testing_new && reboot && *error)
    {
      fprintf(stderr, "host health: %s\n", (*error)->message);
      g_clear_error(error);
      printf("the new deployment failed boot %u of %u; rebooting\n", bc.tries, bc.max_tries);
      ok = host_reboot(ctx, error);
      ctx->exit_code = 1;
    }
  host_bootcount_clear(&bc);
  host_config_clear(&cfg);
  return ok;
}
