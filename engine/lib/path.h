/* Resolve paths inside a root directory as if it were "/": absolute symlinks
 * and ".." never leave it.  openat2(RESOLVE_IN_ROOT) does the work where the
 * kernel has it (5.6+); a userspace walker does the same elsewhere and also
 * creates missing components.  This is what keeps a hostile rootfs from
 * redirecting a mount target or a device node onto the host. */
#ifndef KEEL_LIB_PATH_H
#define KEEL_LIB_PATH_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

enum keel_path_create
{
  KEEL_PATH_NO_CREATE = 0,
  KEEL_PATH_CREATE_DIR,  /* missing components, the last included, become directories */
  KEEL_PATH_CREATE_FILE, /* missing parents become directories, the last an empty file */
};

/* Open path (relative or absolute, always taken as inside rootfd) with open
 * flags; O_NOFOLLOW in flags refuses a symlink as the last component.
 * Returns the fd or a negative errno, described in err. */
int keel_path_open_in_root(int rootfd, const char *path, int flags, struct keel_error *err);

/* Like keel_path_open_in_root with O_PATH, creating what is missing. */
int keel_path_create_in_root(int rootfd, const char *path, enum keel_path_create create,
                             mode_t mode, struct keel_error *err);

/* Tests only: pretend openat2 is missing so the walker is exercised. */
extern bool keel_path_force_walker;

/* Lexically clean an absolute path: collapse "//", ".", and ".." (at "/" it
 * stays "/").  Writes into out (size bytes). */
int keel_path_clean(const char *path, char *out, size_t size);

#endif
