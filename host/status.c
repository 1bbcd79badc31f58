/* host status [--json]: the deployments and their roles, the automatic
 * update policy and the last automatic rollback.  The JSON is a stable
 * interface (schema in host/README.md): keys are only ever added. */
#include <json-c/json.h>
#include <stdio.h>

#include "bootcount.h"
#include "config.h"
#include "host.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

static json_object *
jstr(const char *s)
{
  return s ? json_object_new_string(s) : NULL;
}

static void
add_str(json_object *o, const char *key, const char *val)
{
  json_object_object_add(o, key, jstr(val));
}

static void
add_bool(json_object *o, const char *key, gboolean val)
{
  json_object_object_add(o, key, json_object_new_boolean(val));
}

typedef struct
{
  OstreeSysroot *sysroot;
  OstreeRepo *repo;
  OstreeDeployment *booted, *staged, *pending, *rollback;
  GKeyFile *state;
} StatusView;

static json_object *
deployment_json(StatusView *v, OstreeDeployment *d, guint index)
{
  json_object *o = json_object_new_object();
  const char *csum = ostree_deployment_get_csum(d);
  g_autofree char *version = NULL;
  guint64 ts = 0;
  gboolean have = host_commit_info(v->repo, csum, &version, &ts, NULL);
  g_autofree char *refspec = host_deployment_refspec(d);
  g_autofree char *override = host_deployment_override_commit(d);
  g_autofree char *id = host_deployment_id(d);
  OstreeBootconfigParser *bc = ostree_deployment_get_bootconfig(d);
  g_autofree char *failed_key = g_strdup_printf("deployment-%s", id);

  json_object_object_add(o, "index", json_object_new_int((int)index));
  add_str(o, "id", id);
  add_str(o, "osname", ostree_deployment_get_osname(d));
  add_str(o, "checksum", csum);
  json_object_object_add(o, "serial", json_object_new_int(ostree_deployment_get_deployserial(d)));
  add_str(o, "version", version);
  json_object_object_add(o, "timestamp", have ? json_object_new_int64((int64_t)ts) : NULL);
  g_autofree char *tstr = have ? host_format_time(ts) : NULL;
  add_str(o, "time", tstr);
  add_str(o, "origin", refspec);
  add_str(o, "override_commit", override);
  add_bool(o, "booted", v->booted && ostree_deployment_equal(d, v->booted));
  add_bool(o, "staged", ostree_deployment_is_staged(d));
  add_bool(o, "pending", v->pending && ostree_deployment_equal(d, v->pending));
  add_bool(o, "rollback", v->rollback && ostree_deployment_equal(d, v->rollback));
  add_bool(o, "pinned", ostree_deployment_is_pinned(d));
  add_bool(o, "failed", g_key_file_has_key(v->state, "failed-deployments", id, NULL));
  g_autofree char *why = g_key_file_get_string(v->state, "failed-deployments", id, NULL);
  add_str(o, "failed_reason", why);
  add_bool(o, "default", index == 0); /* boots next (a staged one once finalized) */
  const char *opts = bc ? ostree_bootconfig_parser_get(bc, "options") : NULL;
  g_autoptr(OstreeKernelArgs) kargs = opts ? ostree_kernel_args_from_string(opts) : NULL;
  if (kargs)
    ostree_kernel_args_delete_key_entry(kargs, "ostree", NULL);
  g_autofree char *kstr = kargs ? ostree_kernel_args_to_string(kargs) : NULL;
  add_str(o, "kargs", kstr);
  return o;
}

static json_object *
group_json(GKeyFile *state, const char *group, const char *const *keys)
{
  if (!g_key_file_has_group(state, group))
    return NULL;
  json_object *o = json_object_new_object();
  for (guint i = 0; keys[i]; i++)
    {
      g_autofree char *val = g_key_file_get_string(state, group, keys[i], NULL);
      g_autofree char *jkey = g_strdelimit(g_strdup(keys[i]), "-", '_');
      add_str(o, jkey, val);
    }
  return o;
}

static json_object *
auto_update_json(HostContext *ctx, GKeyFile *state)
{
  json_object *o = json_object_new_object();
  HostConfig cfg;
  g_autoptr(GError) error = NULL;
  gboolean ok = host_config_load(ctx->conf_path, &cfg, &error);
  add_str(o, "policy", ok ? host_policy_name(cfg.policy) : NULL);
  add_str(o, "config_error", ok ? NULL : error->message);
  if (ok && cfg.has_window)
    {
      g_autofree char *w
          = g_strdup_printf("%02d:%02d-%02d:%02d", cfg.window_start / 60, cfg.window_start % 60,
                            cfg.window_end / 60, cfg.window_end % 60);
      add_str(o, "window", w);
    }
  else
    add_str(o, "window", NULL);
  add_bool(o, "paused", host_state_paused(state));
  g_autofree char *reason = g_key_file_get_string(state, "auto-update", "paused-reason", NULL);
  g_autofree char *since = g_key_file_get_string(state, "auto-update", "paused-since", NULL);
  add_str(o, "paused_reason", reason);
  add_str(o, "paused_since", since);
  g_autofree char *last = g_key_file_get_string(state, "auto-update", "last-run", NULL);
  g_autofree char *result = g_key_file_get_string(state, "auto-update", "last-result", NULL);
  add_str(o, "last_run", last);
  add_str(o, "last_result", result);
  host_config_clear(&cfg);
  return o;
}

static json_object *
status_json(HostContext *ctx, StatusView *v)
{
  json_object *root = json_object_new_object();
  json_object *arr = json_object_new_array();
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments(v->sysroot);
  for (guint i = 0; i < deployments->len; i++)
    json_object_array_add(arr, deployment_json(v, deployments->pdata[i], i));
  json_object_object_add(root, "deployments", arr);
  add_str(root, "osname", host_osname(v->sysroot));
  add_bool(root, "booted_system", v->booted != NULL);
  json_object_object_add(root, "auto_update", auto_update_json(ctx, v->state));
  static const char *const rb_keys[] = { "time",
                                         "kind",
                                         "reason",
                                         "failed-commit",
                                         "failed-version",
                                         "failed-deployment",
                                         "restored-commit",
                                         "restored-version",
                                         NULL };
  json_object_object_add(root, "last_rollback", group_json(v->state, "rollback", rb_keys));
  static const char *const h_keys[] = { "time", "result", "reason", "deployment", "commit", NULL };
  json_object_object_add(root, "last_health_check", group_json(v->state, "health", h_keys));
  json_object_object_add(root, "boot_counting", host_bootcount_json(ctx, v->sysroot));
  return root;
}

static void
print_deployment(StatusView *v, OstreeDeployment *d, guint index)
{
  g_autoptr(json_object) o = deployment_json(v, d, index);
#define S(k) json_object_get_string(json_object_object_get(o, k))
#define B(k) json_object_get_boolean(json_object_object_get(o, k))
  g_autoptr(GString) roles = g_string_new("");
  const char *names[] = { "booted", "staged", "pending", "rollback", "pinned", "failed" };
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (B(names[i]))
      g_string_append_printf(roles, "%s%s", roles->len ? ", " : "", names[i]);
  printf("%s %u: %s%s%s%s\n", B("booted") ? "●" : " ", index,
         S("origin") ? S("origin") : "(no origin)", roles->len ? " [" : "", roles->str,
         roles->len ? "]" : "");
  printf("      Version: %s%s%s%s\n", S("version") ? S("version") : "(none)", S("time") ? " (" : "",
         S("time") ? S("time") : "", S("time") ? ")" : "");
  printf("       Commit: %s\n", S("checksum"));
  if (S("override_commit"))
    printf("     Deployed: this commit by 'host deploy' (upgrade returns to the newest)\n");
  if (S("failed_reason"))
    printf("       Failed: %s\n", S("failed_reason"));
#undef S
#undef B
}

static void
print_human(HostContext *ctx, StatusView *v)
{
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments(v->sysroot);
  g_autoptr(json_object) au = auto_update_json(ctx, v->state);
  const char *policy = json_object_get_string(json_object_object_get(au, "policy"));
  const char *window = json_object_get_string(json_object_object_get(au, "window"));
  printf("Automatic updates: %s%s%s\n", policy ? policy : "(host.conf is invalid)",
         window ? ", window " : "", window ? window : "");
  if (host_state_paused(v->state))
    {
      g_autofree char *r = g_key_file_get_string(v->state, "auto-update", "paused-reason", NULL);
      g_autofree char *t = g_key_file_get_string(v->state, "auto-update", "paused-since", NULL);
      printf("  PAUSED since %s: %s (resume with 'host auto-update resume')\n", t ? t : "?",
             r ? r : "");
    }
  if (g_key_file_has_group(v->state, "rollback"))
    {
      g_autofree char *t = g_key_file_get_string(v->state, "rollback", "time", NULL);
      g_autofree char *k = g_key_file_get_string(v->state, "rollback", "kind", NULL);
      g_autofree char *r = g_key_file_get_string(v->state, "rollback", "reason", NULL);
      printf("Last rollback (%s, %s): %s\n", k ? k : "?", t ? t : "?", r ? r : "");
    }
  host_bootcount_print(ctx, v->sysroot);
  if (deployments->len == 0)
    printf("No deployments.\n");
  for (guint i = 0; i < deployments->len; i++)
    print_deployment(v, deployments->pdata[i], i);
}

gboolean
host_verb_status(HostContext *ctx, int argc, char **argv, GError **error)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON (schema in host/README.md)", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) oc = g_option_context_new("- show the deployments");
  g_option_context_add_main_entries(oc, entries, NULL);
  if (!g_option_context_parse(oc, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    return host_throw(error, "unexpected argument '%s'", argv[1]);

  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, FALSE, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(OstreeRepo) repo = NULL;
  if (!ostree_sysroot_get_repo(sysroot, &repo, NULL, error))
    return FALSE;
  g_autoptr(GKeyFile) state = host_state_load(ctx->state_dir, error);
  if (!state)
    return FALSE;
  StatusView v = { .sysroot = sysroot, .repo = repo, .state = state };
  v.booted = ostree_sysroot_get_booted_deployment(sysroot);
  v.staged = ostree_sysroot_get_staged_deployment(sysroot);
  g_autoptr(OstreeDeployment) pending = NULL;
  g_autoptr(OstreeDeployment) rollback = NULL;
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  if (v.booted)
    ostree_sysroot_query_deployments_for(sysroot, host_osname(sysroot), &pending, &rollback);
  else if (ds->len > 1)
    rollback = g_object_ref(ds->pdata[1]); /* not booted: index 0 boots, 1 is the fallback */
  v.pending = pending;
  v.rollback = rollback;
  if (json)
    {
      g_autoptr(json_object) root = status_json(ctx, &v);
      printf("%s\n",
             json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                                      | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
  else
    print_human(ctx, &v);
  return TRUE;
}
