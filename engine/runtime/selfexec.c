#include "runtime/selfexec.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* The bytes execve needs: up to the end of the last segment.  Debug info
 * and section headers follow it and are never mapped, so the sealed copy
 * leaves them out (they are most of a -g binary). */
static off_t
mapped_size(int fd, off_t file_size)
{
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG)
      || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
    return file_size;
  off_t end = (off_t)(eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr));
  for (unsigned i = 0; i < eh.e_phnum; i++)
    {
      Elf64_Phdr ph;
      if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
        return file_size;
      if ((off_t)(ph.p_offset + ph.p_filesz) > end)
        end = (off_t)(ph.p_offset + ph.p_filesz);
    }
  return end > 0 && end <= file_size ? end : file_size;
}

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
  off_t left = mapped_size(self, st.st_size);
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
