/* host: Keel's host-management tool over libostree (status, upgrade,
 * rollback, deploy, rebase, kargs, pin, cleanup, auto-update, health).
 * glib world: gboolean + GError **, g_autoptr / g_autofree. */
#ifndef KEEL_HOST_H
#define KEEL_HOST_H

#include <glib.h>
#include <ostree.h>

#include "config.h"

#define HOST_DEFAULT_OSNAME "keel"
#define HOST_STATE_DIR      "/var/lib/keel/host"
#define HOST_CONF_PATH      "/etc/keel/host.conf"
#define HOST_HEALTH_DIR     "/etc/keel/health.d"
/* the GRUB environment block on the /boot filesystem (see bootcount.c) */
#define HOST_GRUBENV_RELPATH "boot/grub/grubenv"

/* exit status of `host upgrade --check` when no update exists (as
 * rpm-ostree's --check, 77: "nothing to do") */
#define HOST_EXIT_NO_UPDATE 77

/* What every verb gets: where the sysroot is and the global flags. */
typedef struct
{
  char *sysroot_path; /* "/" unless --sysroot or $KEEL_SYSROOT */
  char *state_dir;    /* HOST_STATE_DIR, or $KEEL_HOST_STATE_DIR */
  char *conf_path;    /* HOST_CONF_PATH, or $KEEL_HOST_CONF */
  char *health_dir;   /* HOST_HEALTH_DIR, or $KEEL_HEALTH_DIR */
  const char *verb;
  int exit_code; /* set by a verb that wants a non-1, non-0 status */
} HostContext;

typedef gboolean (*HostVerbFn)(HostContext *ctx, int argc, char **argv, GError **error);

/* verbs (one file each) */
gboolean host_verb_status(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_upgrade(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_deploy(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_rebase(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_rollback(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_kargs(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_cleanup(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_pin(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_unpin(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_auto_update(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_health(HostContext *ctx, int argc, char **argv, GError **error);
gboolean host_verb_finalize_hook(HostContext *ctx, int argc, char **argv, GError **error);

/* Parse a verb's options; between MIN and MAX arguments may remain. */
gboolean host_parse_args(const char *summary, GOptionEntry *entries, int *argc, char ***argv,
                         int min, int max, GError **error);

/* sysroot.c: loading, locking, roles of deployments */
gboolean host_require_root(HostContext *ctx, GError **error);
OstreeSysroot *host_sysroot_load(HostContext *ctx, gboolean lock, GError **error);
const char *host_osname(OstreeSysroot *sysroot);
OstreeDeployment *host_merge_deployment(OstreeSysroot *sysroot);
char *host_deployment_refspec(OstreeDeployment *d);
char *host_deployment_override_commit(OstreeDeployment *d);
char *host_deployment_id(OstreeDeployment *d);
gboolean host_commit_info(OstreeRepo *repo, const char *checksum, char **ret_version,
                          guint64 *ret_timestamp, GError **error);
gboolean host_write_deployments(OstreeSysroot *sysroot, GPtrArray *deployments, GError **error);
OstreeDeployment *host_find_deployment(OstreeSysroot *sysroot, const char *which, GError **error);
char *host_format_time(guint64 t);
char *host_format_size(guint64 bytes);

/* deploy.c: put a commit in place as the next boot (staged when booted) */
typedef struct
{
  const char *checksum;
  GKeyFile *origin;    /* NULL: the merge deployment's */
  char **kargs;        /* NULL: the merge deployment's */
  gboolean arm_health; /* boot counting for the new deployment */
} HostDeployOpts;
gboolean host_deploy_commit(HostContext *ctx, OstreeSysroot *sysroot, const HostDeployOpts *opts,
                            OstreeDeployment **ret_new, GError **error);
gboolean host_reboot(HostContext *ctx, GError **error);

/* pull.c */
gboolean host_pull(OstreeRepo *repo, const char *remote, const char *ref, const char *commit,
                   gboolean commit_only, GError **error);
gboolean host_pull_history(OstreeRepo *repo, const char *remote, const char *ref, GError **error);
gboolean host_remote_check(OstreeRepo *repo, const char *remote, GError **error);
gboolean host_resolve_new_commit(OstreeRepo *repo, const char *refspec, char **ret_checksum,
                                 GError **error);

/* space.c */
gboolean host_ensure_space(HostContext *ctx, OstreeSysroot *sysroot, const char *checksum,
                           GError **error);

#endif
