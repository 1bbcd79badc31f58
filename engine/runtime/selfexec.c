#include "runtime/selfexec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int
keel_selfexec_is_sealed(void)
{
  _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  int seals = fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

int
keel_selfexec_ensure(char **argv, char **envp, struct keel_error *err)
{
  _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return keel_error_set_errno(err, -errno, "cannot open /proc/self/exe");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS)
    return 0;
  struct statvfs sv;
  if (fstatvfs(self, &sv) == 0 && (sv.f_flag & ST_RDONLY))
    return 0;
  struct stat st;
  if (fstat(self, &st) < 0)
    return keel_error_set_errno(err, -errno, "cannot stat /proc/self/exe");
  _cleanup_close_ int mfd = memfd_create("keel-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return keel_error_set_errno(err, -errno, "cannot create memfd");
  off_t left = st.st_size;
  while (left > 0)
    {
      ssize_t n = sendfile(mfd, self, NULL, (size_t)left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return keel_error_set_errno(err, n < 0 ? -errno : -EIO, "cannot copy the runtime");
      left -= n;
    }
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
    return keel_error_set_errno(err, -errno, "cannot seal the runtime copy");
  syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
  return keel_error_set_errno(err, -errno, "cannot re-execute the runtime");
}
