#include "monitor/status.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

int
keel_monitor_lock(int dirfd, int *ret_fd, struct keel_error *err)
{
  _cleanup_close_ int fd
      = openat(dirfd, KEEL_MONITOR_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot open " KEEL_MONITOR_LOCK);
  if (flock(fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno == EWOULDBLOCK)
        return keel_error_set(err, -EBUSY, "a monitor already runs for this container");
      return keel_error_set_errno(err, -errno, "cannot lock " KEEL_MONITOR_LOCK);
    }
  *ret_fd = TAKE_FD(fd);
  return 0;
}

int
keel_monitor_status(const char *state_dir, bool *ret_alive, json_object **ret_state,
                    struct keel_error *err)
{
  _cleanup_close_ int dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open '%s'", state_dir);
  *ret_alive = false;
  _cleanup_close_ int fd = openat(dirfd, KEEL_MONITOR_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0)
    {
      if (errno != EWOULDBLOCK)
        return keel_error_set_errno(err, -errno, "cannot probe the monitor lock in '%s'",
                                    state_dir);
      *ret_alive = true;
    }
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(dirfd, KEEL_MONITOR_STATE, 1 << 20, &buf, &len);
  *ret_state = NULL;
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read %s/" KEEL_MONITOR_STATE, state_dir);
  return keel_json_parse(buf, len, KEEL_MONITOR_STATE, ret_state, err);
}
