/* Health checks of a boot (checks.c). */
#ifndef KEEL_HOST_CHECKS_H
#define KEEL_HOST_CHECKS_H

#include "config.h"
#include "host.h"

/* Run every enabled check within cfg->health_timeout; on failure *error
 * names the check and why.  NOTES gets one line per check that passed. */
gboolean host_checks_run(const HostConfig *cfg, const char *health_dir, GPtrArray *notes,
                         GError **error);

#endif
