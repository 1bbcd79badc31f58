/* Boot counting for a new deployment.
 *
 * `host` arms it by writing, into the GRUB environment block
 * /boot/grub/grubenv (GRUB path /grub/grubenv on the keel-boot partition):
 *   keel_pending=<the ostree= argument of the new default boot entry>
 *   keel_tries=0
 *   keel_max_tries=N   (boot-tries in host.conf)
 * GRUB's /loader/grub.cfg (image-build/grub-mkconfig) names its first entry's
 * ostree= argument; when it equals keel_pending, GRUB counts the boot
 * (keel_tries + 1, saved with save_env before booting) and, once keel_tries
 * has reached keel_max_tries, boots entry 1 (the previous deployment)
 * instead.  `host health` disarms it after the checks pass.  A staged
 * deployment only gets its boot entry at shutdown, so `host finalize-hook`
 * (keel-host-finalize.service, stopped right after
 * ostree-finalize-staged.service) arms it then. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bootcount.h"
#include "config.h"
#include "grubenv.h"

static char *
grubenv_path(HostContext *ctx)
{
  return g_build_filename(ctx->sysroot_path, HOST_GRUBENV_RELPATH, NULL);
}

/* On the running system the block must land on the /boot partition GRUB
 * reads, never in the root filesystem's empty /boot (a /boot mounted
 * "nofail" may be late or missing). */
gboolean
host_boot_mounted(HostContext *ctx, GError **error)
{
  struct stat root, boot;
  if (!g_str_equal(ctx->sysroot_path, "/"))
    return TRUE;
  if (stat("/", &root) < 0 || stat("/boot", &boot) < 0 || root.st_dev == boot.st_dev)
    return host_throw(error, "/boot is not mounted");
  return TRUE;
}

void
host_bootcount_clear(HostBootCount *bc)
{
  g_clear_pointer(&bc->pending, g_free);
}

gboolean
host_bootcount_read(HostContext *ctx, HostBootCount *bc, GError **error)
{
  g_autofree char *path = grubenv_path(ctx);
  memset(bc, 0, sizeof(*bc));
  if (!host_boot_mounted(ctx, error))
    return FALSE;
  g_autoptr(GHashTable) vars = host_grubenv_read(path, error);
  if (!vars)
    return FALSE;
  const char *p = g_hash_table_lookup(vars, HOST_GRUBENV_PENDING);
  const char *t = g_hash_table_lookup(vars, HOST_GRUBENV_TRIES);
  const char *m = g_hash_table_lookup(vars, HOST_GRUBENV_MAX);
  bc->pending = p && *p ? g_strdup(p) : NULL;
  bc->tries = t ? (guint)strtoul(t, NULL, 10) : 0;
  bc->max_tries = m ? (guint)strtoul(m, NULL, 10) : 0;
  return TRUE;
}

char *
host_bootcount_entry(OstreeDeployment *d)
{
  OstreeBootconfigParser *bc = ostree_deployment_get_bootconfig(d);
  const char *opts = bc ? ostree_bootconfig_parser_get(bc, "options") : NULL;
  if (!opts)
    return NULL;
  g_auto(GStrv) args = g_strsplit(opts, " ", -1);
  for (guint i = 0; args[i]; i++)
    if (g_str_has_prefix(args[i], "ostree="))
      return g_strdup(args[i] + strlen("ostree="));
  return NULL;
}

gboolean
host_bootcount_arm(HostContext *ctx, OstreeDeployment *d, guint *ret_tries, GError **error)
{
  HostConfig cfg;
  if (!host_config_load(ctx->conf_path, &cfg, error))
    return FALSE;
  guint max_tries = cfg.boot_tries;
  host_config_clear(&cfg);
  if (ret_tries)
    *ret_tries = max_tries;
  g_autofree char *entry = host_bootcount_entry(d);
  if (!host_boot_mounted(ctx, error))
    return FALSE;
  if (!entry)
    return host_throw(error, "the new deployment has no boot entry to count");
  g_autofree char *path = grubenv_path(ctx);
  g_autoptr(GHashTable) vars = host_grubenv_read(path, error);
  if (!vars)
    return FALSE;
  g_hash_table_replace(vars, g_strdup(HOST_GRUBENV_PENDING), g_strdup(entry));
  g_hash_table_replace(vars, g_strdup(HOST_GRUBENV_TRIES), g_strdup("0"));
  g_hash_table_replace(vars, g_strdup(HOST_GRUBENV_MAX), g_strdup_printf("%u", max_tries));
  return host_grubenv_write(path, vars, error);
}

/* Leaves an empty pending value rather than no file: GRUB's save_env needs
 * the block to exist. */
gboolean
host_bootcount_disarm(HostContext *ctx, GError **error)
{
  g_autofree char *path = grubenv_path(ctx);
  if (!host_boot_mounted(ctx, error))
    return FALSE;
  g_autoptr(GHashTable) vars = host_grubenv_read(path, error);
  if (!vars)
    return FALSE;
  g_hash_table_replace(vars, g_strdup(HOST_GRUBENV_PENDING), g_strdup(""));
  g_hash_table_replace(vars, g_strdup(HOST_GRUBENV_TRIES), g_strdup("0"));
  return host_grubenv_write(path, vars, error);
}

OstreeDeployment *
host_bootcount_find(OstreeSysroot *sysroot, const char *entry)
{
  g_autoptr(GPtrArray) ds = ostree_sysroot_get_deployments(sysroot);
  for (guint i = 0; entry && i < ds->len; i++)
    {
      g_autofree char *e = host_bootcount_entry(ds->pdata[i]);
      if (e && g_str_equal(e, entry))
        return g_object_ref(ds->pdata[i]);
    }
  return NULL;
}

struct json_object *
host_bootcount_json(HostContext *ctx, OstreeSysroot *sysroot)
{
  HostBootCount bc;
  if (!host_bootcount_read(ctx, &bc, NULL))
    return NULL;
  json_object *o = json_object_new_object();
  json_object_object_add(o, "armed", json_object_new_boolean(bc.pending != NULL));
  g_autoptr(OstreeDeployment) d = host_bootcount_find(sysroot, bc.pending);
  g_autofree char *id = d ? host_deployment_id(d) : NULL;
  json_object_object_add(o, "deployment", id ? json_object_new_string(id) : NULL);
  json_object_object_add(o, "entry", bc.pending ? json_object_new_string(bc.pending) : NULL);
  json_object_object_add(o, "tries", json_object_new_int((int)bc.tries));
  json_object_object_add(o, "max_tries", json_object_new_int((int)bc.max_tries));
  host_bootcount_clear(&bc);
  return o;
}

void
host_bootcount_print(HostContext *ctx, OstreeSysroot *sysroot)
{
  HostBootCount bc;
  if (!host_bootcount_read(ctx, &bc, NULL) || !bc.pending)
    return;
  g_autoptr(OstreeDeployment) d = host_bootcount_find(sysroot, bc.pending);
  g_autofree char *id = d ? host_deployment_id(d) : g_strdup(bc.pending);
  printf("Health check pending for %s: boot %u of at most %u before falling back\n", id, bc.tries,
         bc.max_tries);
  host_bootcount_clear(&bc);
}
