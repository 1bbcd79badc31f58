/* Small file helpers: whole reads and writes that retry on EINTR and short
 * counts, and the store rule: temp file + fsync + rename. */
#ifndef KEEL_LIB_FS_H
#define KEEL_LIB_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf to fd. */
int keel_write_all(int fd, const void *buf, size_t len);
/* Read up to len bytes, stopping early only at end of file; returns bytes read. */
ssize_t keel_read_all(int fd, void *buf, size_t len);
/* Read a whole file (NUL-terminated in *ret, length in *ret_len); -EFBIG past max. */
int keel_read_file(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Write a whole file that appears all at once or not at all. */
int keel_write_file_atomic(int dirfd, const char *path, const void *buf, size_t len, mode_t mode);
/* The same without fsync: for live state (under /run) that never needs to
 * outlive a boot, where rename's atomicity is all readers rely on.  An
 * existing file is replaced by exchanging names, which spares ext4's
 * forced block allocation (see fs.c). */
int keel_write_file_replace(int dirfd, const char *path, const void *buf, size_t len, mode_t mode);
/* Write a short string to an existing file (procfs, sysfs, cgroupfs). */
int keel_write_string(int dirfd, const char *path, const char *s);
/* mkdir -p with mode; existing directories are fine. */
int keel_mkdir_p(const char *path, mode_t mode);
/* rm -rf below dirfd/name, never crossing into another mount. */
int keel_rm_rf_at(int dirfd, const char *name);

#endif
