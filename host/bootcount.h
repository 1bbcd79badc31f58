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

/* On the running system: /boot is a mount of its own (the partition GRUB
 * and ostree's boot entries live on). */
gboolean host_boot_mounted(HostContext *ctx, GError **error);
void host_bootcount_clear(HostBootCount *bc);
gboolean host_bootcount_read(HostContext *ctx, HostBootCount *bc, GError **error);
/* The ostree= kernel argument of D's boot entry (NULL for a staged one). */
char *host_bootcount_entry(OstreeDeployment *d);
/* The deployment whose boot entry has the ostree= argument ENTRY, or NULL. */
OstreeDeployment *host_bootcount_find(OstreeSysroot *sysroot, const char *entry);
/* Arm counting for D, which must be the default (first) entry, with
 * boot-tries from host.conf (returned in ret_tries unless NULL). */
gboolean host_bootcount_arm(HostContext *ctx, OstreeDeployment *d, guint *ret_tries,
                            GError **error);
gboolean host_bootcount_disarm(HostContext *ctx, GError **error);
struct json_object *host_bootcount_json(HostContext *ctx, OstreeSysroot *sysroot);
void host_bootcount_print(HostContext *ctx, OstreeSysroot *sysroot);

#endif
