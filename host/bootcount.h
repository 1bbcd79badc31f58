/* Boot counting: the armed entry, its tries, in the GRUB environment block
 * on /boot (see bootcount.c and image-build/grub-mkconfig). */
#ifndef KEEL_HOST_BOOTCOUNT_H
#define KEEL_HOST_BOOTCOUNT_H

#include "host.h"

struct json_object;

typedef struct
{
  char *pending; /* the ostree= argument of the armed boot entry, or NULL */
  guint tries;   /* boots of it GRUB has counted */
  guint max_tries;
} HostBootCount;

void host_bootcount_clear(HostBootCount *bc);
gboolean host_bootcount_read(HostContext *ctx, HostBootCount *bc, GError **error);
/* The ostree= kernel argument of D's boot entry (NULL for a staged one). */
char *host_bootcount_entry(OstreeDeployment *d);
/* Arm counting for D, which must be the default (first) entry. */
gboolean host_bootcount_arm(HostContext *ctx, OstreeDeployment *d, guint max_tries, GError **error);
gboolean host_bootcount_disarm(HostContext *ctx, GError **error);
struct json_object *host_bootcount_json(HostContext *ctx, OstreeSysroot *sysroot);
void host_bootcount_print(HostContext *ctx, OstreeSysroot *sysroot);

#endif
