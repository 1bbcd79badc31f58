/* host deploy VERSION|COMMIT, host rebase REMOTE:REF, host kargs: each makes
 * a new deployment (staged on a booted host), like rpm-ostree. */
#include <stdio.h>
#include <string.h>

#include "host.h"

static gboolean
is_checksum(const char *s)
{
  return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Walk the ref's history (commit objects only) for a commit whose version
 * metadata is VERSION. */
static char *
find_version(OstreeRepo *repo, const char *head, const char *version, GError **error)
{
  g_autofree char *csum = g_strdup(head);
  while (csum)
    {
      g_autofree char *v = NULL;
      g_autoptr(GVariant) commit = NULL;
      if (!ostree_repo_load_variant_if_exists(repo, OSTREE_OBJECT_TYPE_COMMIT, csum, &commit,
                                              error))
        return NULL;
      if (!commit)
        break;
      if (host_commit_info(repo, csum, &v, NULL, NULL) && v && g_str_equal(v, version))
        return g_steal_pointer(&csum);
      g_free(csum);
      csum = ostree_commit_get_parent(commit);
    }
  host_throw(error, "no version '%s' in the history of the origin", version);
  return NULL;
}

/* Fetch TARGET (a commit of REMOTE:REF, or NULL: its newest), check space,
 * deploy it with ORIGIN and KARGS. */
static gboolean
fetch_and_deploy(HostContext *ctx, OstreeSysroot *sysroot, const char *refspec, const char *target,
                 GKeyFile *origin, char **kargs, GError **error)
{
  g_autofree char *remote = NULL, *ref = NULL, *csum = NULL;
  g_autoptr(OstreeRepo) repo = NULL;
  if (!ostree_parse_refspec(refspec, &remote, &ref, error))
    return FALSE;
  if (!remote)
    return host_throw(error, "'%s' names no remote (want REMOTE:REF)", refspec);
  if (!ostree_sysroot_get_repo(sysroot, &repo, NULL, error)
      || !host_remote_check(repo, remote, error))
    return FALSE;
  if (!host_pull(repo, remote, ref, target, TRUE, error))
    return FALSE;
  if (target)
    csum = g_strdup(target);
  else if (!host_resolve_new_commit(repo, refspec, &csum, error))
    return FALSE;
  if (!host_ensure_space(ctx, sysroot, csum, error)
      || !host_pull(repo, remote, ref, target, FALSE, error))
    return FALSE;
  HostDeployOpts opts = { .checksum = csum, .origin = origin, .kargs = kargs, .arm_health = TRUE };
  g_autoptr(OstreeDeployment) d = NULL;
  if (!host_deploy_commit(ctx, sysroot, &opts, &d, error))
    return FALSE;
  g_autofree char *version = NULL;
  host_commit_info(repo, csum, &version, NULL, NULL);
  printf("%s %s (version %s, %.12s)\n", ostree_deployment_is_staged(d) ? "staged" : "deployed",
         refspec, version ? version : "(none)", csum);
  return TRUE;
}

/* A VERSION is found in the history fetched with depth -1, commit objects
 * only; a full COMMIT checksum is fetched as is. */
static gboolean
resolve_target(OstreeSysroot *sysroot, const char *refspec, const char *what, char **ret,
               GError **error)
{
  if (is_checksum(what))
    {
      *ret = g_strdup(what);
      return TRUE;
    }
  g_autofree char *remote = NULL, *ref = NULL, *head = NULL;
  g_autoptr(OstreeRepo) repo = NULL;
  if (!ostree_parse_refspec(refspec, &remote, &ref, error)
      || !ostree_sysroot_get_repo(sysroot, &repo, NULL, error))
    return FALSE;
  if (!remote)
    return host_throw(error, "the origin '%s' names no remote", refspec);
  if (!host_remote_check(repo, remote, error) || !host_pull_history(repo, remote, ref, error)
      || !host_resolve_new_commit(repo, refspec, &head, error))
    return FALSE;
  *ret = find_version(repo, head, what, error);
  return *ret != NULL;
}

gboolean
host_verb_deploy(HostContext *ctx, int argc, char **argv, GError **error)
{
  if (!host_parse_args("deploy VERSION|COMMIT", NULL, &argc, &argv, 1, 1, error)
      || !host_require_root(ctx, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  g_autofree char *refspec = merge ? host_deployment_refspec(merge) : NULL;
  if (!refspec)
    return host_throw(error, "no deployment with an origin to deploy from");
  g_autofree char *csum = NULL;
  if (!resolve_target(sysroot, refspec, argv[1], &csum, error))
    return FALSE;
  g_autoptr(GKeyFile) origin = ostree_sysroot_origin_new_from_refspec(sysroot, refspec);
  g_key_file_set_string(origin, "origin", "override-commit", csum);
  return fetch_and_deploy(ctx, sysroot, refspec, csum, origin, NULL, error);
}

gboolean
host_verb_rebase(HostContext *ctx, int argc, char **argv, GError **error)
{
  if (!host_parse_args("rebase REMOTE:REF", NULL, &argc, &argv, 1, 1, error)
      || !host_require_root(ctx, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, TRUE, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(GKeyFile) origin = ostree_sysroot_origin_new_from_refspec(sysroot, argv[1]);
  return fetch_and_deploy(ctx, sysroot, argv[1], NULL, origin, NULL, error);
}

static gboolean
edit_kargs(OstreeKernelArgs *kargs, char **append, char **del, char **replace, GError **error)
{
  for (char **p = del; p && *p; p++)
    if (!ostree_kernel_args_delete(kargs, *p, error))
      {
        g_prefix_error(error, "--delete %s: ", *p);
        return FALSE;
      }
  for (char **p = replace; p && *p; p++)
    {
      if (!strchr(*p, '='))
        return host_throw(error, "--replace %s: want KEY=VALUE or KEY=OLD=NEW", *p);
      if (!ostree_kernel_args_new_replace(kargs, *p, error))
        {
          g_prefix_error(error, "--replace %s: ", *p);
          return FALSE;
        }
    }
  for (char **p = append; p && *p; p++)
    ostree_kernel_args_append(kargs, *p);
  return TRUE;
}

gboolean
host_verb_kargs(HostContext *ctx, int argc, char **argv, GError **error)
{
  g_auto(GStrv) append = NULL, del = NULL, replace = NULL;
  GOptionEntry entries[] = {
    { "append", 0, 0, G_OPTION_ARG_STRING_ARRAY, &append, "add KEY[=VALUE]", "KARG" },
    { "delete", 0, 0, G_OPTION_ARG_STRING_ARRAY, &del, "remove KEY[=VALUE]", "KARG" },
    { "replace", 0, 0, G_OPTION_ARG_STRING_ARRAY, &replace, "KEY=VALUE or KEY=OLD=NEW", "KARG" },
    { NULL },
  };
  if (!host_parse_args("kargs [--append K=V] [--delete K] [--replace K=V]", entries, &argc, &argv,
                       0, 0, error))
    return FALSE;
  gboolean change = append || del || replace;
  if (change && !host_require_root(ctx, error))
    return FALSE;
  g_autoptr(OstreeSysroot) sysroot = host_sysroot_load(ctx, change, error);
  if (!sysroot)
    return FALSE;
  g_autoptr(OstreeDeployment) merge = host_merge_deployment(sysroot);
  OstreeBootconfigParser *bc = merge ? ostree_deployment_get_bootconfig(merge) : NULL;
  const char *opts = bc ? ostree_bootconfig_parser_get(bc, "options") : NULL;
  if (!merge)
    return host_throw(error, "no deployment");
  g_autoptr(OstreeKernelArgs) kargs = ostree_kernel_args_from_string(opts ? opts : "");
  if (!change)
    {
      ostree_kernel_args_delete_key_entry(kargs, "ostree", NULL);
      g_autofree char *s = ostree_kernel_args_to_string(kargs);
      printf("%s\n", s);
      return TRUE;
    }
  if (!edit_kargs(kargs, append, del, replace, error))
    return FALSE;
  g_autofree char *before = g_strdup(opts ? opts : "");
  g_autofree char *after = ostree_kernel_args_to_string(kargs);
  if (g_str_equal(before, after))
    return host_throw(error, "the kernel arguments would not change");
  g_auto(GStrv) argvk = ostree_kernel_args_to_strv(kargs);
  HostDeployOpts o
      = { .checksum = ostree_deployment_get_csum(merge), .kargs = argvk, .arm_health = TRUE };
  g_autoptr(OstreeDeployment) d = NULL;
  if (!host_deploy_commit(ctx, sysroot, &o, &d, error))
    return FALSE;
  ostree_kernel_args_delete_key_entry(kargs, "ostree", NULL);
  g_autofree char *shown = ostree_kernel_args_to_string(kargs);
  printf("%s a new deployment with kernel arguments: %s\n",
         ostree_deployment_is_staged(d) ? "staged" : "deployed", shown);
  return TRUE;
}
