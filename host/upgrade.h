/* The upgrade steps, shared by `host upgrade` and `host auto-update`. */
#ifndef KEEL_HOST_UPGRADE_H
#define KEEL_HOST_UPGRADE_H

#include "host.h"

typedef struct
{
  char *refspec, *remote, *ref;
  OstreeRepo *repo;
  char *current;    /* the merge deployment's commit */
  char *new_commit; /* the ref's newest commit on the remote */
  gboolean have_update;
  gboolean already_staged;
} HostUpgradePlan;

void host_upgrade_plan_clear(HostUpgradePlan *plan);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HostUpgradePlan, host_upgrade_plan_clear)

gboolean host_upgrade_find(HostContext *ctx, OstreeSysroot *sysroot, HostUpgradePlan *plan,
                           GError **error);
OstreeSysroot *host_upgrade_start(HostContext *ctx, HostUpgradePlan *plan, GError **error);
gboolean host_upgrade_apply(HostContext *ctx, OstreeSysroot *sysroot, HostUpgradePlan *plan,
                            gboolean download_only, GError **error);

#endif
