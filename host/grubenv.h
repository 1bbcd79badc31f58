/* GRUB environment block files (grubenv.c), pure: unit-tested. */
#ifndef KEEL_HOST_GRUBENV_H
#define KEEL_HOST_GRUBENV_H

#include <gio/gio.h>

#define HOST_GRUBENV_SIZE 1024

/* variable names GRUB's /loader/grub.cfg reads (image-build/grub-mkconfig) */
#define HOST_GRUBENV_PENDING "keel_pending" /* the ostree= argument of the armed entry */
#define HOST_GRUBENV_TRIES   "keel_tries"   /* boots of that entry so far */
#define HOST_GRUBENV_MAX     "keel_max_tries"

GHashTable *host_grubenv_parse(const char *data, gsize len);
char *host_grubenv_format(GHashTable *vars, GError **error);
/* A missing file reads as no variables. */
GHashTable *host_grubenv_read(const char *path, GError **error);
gboolean host_grubenv_write(const char *path, GHashTable *vars, GError **error);

#endif
