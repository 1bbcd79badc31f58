#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/path.h"
#include "runtime/seccomp.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int
set_rlimits(const struct keel_process *p, struct keel_error *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const struct keel_rlimit *rl = &p->rlimits[i];
      if (setrlimit(rl->resource, &rl->limit) == 0)
        continue;
      int e = errno;
      struct rlimit cur;
      getrlimit(rl->resource, &cur);
      if (e == EPERM && rl->limit.rlim_max > cur.rlim_max)
        return keel_error_set(err, -EPERM,
                              "cannot set %s to %llu/%llu: raising the hard limit above %llu "
                              "needs CAP_SYS_RESOURCE, which this runtime does not have",
                              rl->name, (unsigned long long)rl->limit.rlim_cur,
                              (unsigned long long)rl->limit.rlim_max,
                              (unsigned long long)cur.rlim_max);
      return keel_error_set_errno(err, -e, "cannot set %s to %llu/%llu", rl->name,
                                  (unsigned long long)rl->limit.rlim_cur,
                                  (unsigned long long)rl->limit.rlim_max);
    }
  return 0;
}

/* Enter process.cwd inside the new root, creating it if missing, and make
 * sure the result really is inside the root: a cwd like /proc/self/fd/N
 * naming a leaked host directory is the CVE-2024-21626 escape. */
static int
set_cwd(const struct keel_process *p, struct keel_error *err)
{
  _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return keel_error_set_errno(err, -errno, "cannot open /");
  _cleanup_close_ int fd = keel_path_create_in_root(root, p->cwd, KEEL_PATH_CREATE_DIR, 0755, err);
  if (fd < 0)
    return keel_error_prefix(err, "process.cwd '%s'", p->cwd);
  if (fchdir(fd) < 0)
    return keel_error_set_errno(err, -errno, "cannot enter working directory '%s'", p->cwd);
  char buf[PATH_MAX];
  if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
    return keel_error_set(err, -EPERM, "working directory '%s' is outside the container", p->cwd);
  return 0;
}

static int
set_lsm_labels(const struct keel_process *p, struct keel_error *err)
{
  if (p->apparmor_profile && *p->apparmor_profile
      && access("/sys/kernel/security/apparmor", F_OK) == 0)
    {
      char buf[512];
      snprintf(buf, sizeof(buf), "exec %s", p->apparmor_profile);
      int r = keel_write_string(AT_FDCWD, "/proc/self/attr/apparmor/exec", buf);
      if (r == -ENOENT)
        r = keel_write_string(AT_FDCWD, "/proc/self/attr/exec", buf);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot apply AppArmor profile '%s'",
                                    p->apparmor_profile);
    }
  if (p->selinux_label && *p->selinux_label && access("/sys/fs/selinux/enforce", F_OK) == 0)
    {
      int r = keel_write_string(AT_FDCWD, "/proc/self/attr/exec", p->selinux_label);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot apply SELinux label '%s'", p->selinux_label);
    }
  return 0;
}

static int
capset_all(const uint64_t caps[KEEL_CAP_SETS])
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++)
    {
      data[i].effective = (uint32_t)(caps[KEEL_CAP_EFFECTIVE] >> (32 * i));
      data[i].permitted = (uint32_t)(caps[KEEL_CAP_PERMITTED] >> (32 * i));
      data[i].inheritable = (uint32_t)(caps[KEEL_CAP_INHERITABLE] >> (32 * i));
    }
  return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int
drop_bounding(uint64_t keep, struct keel_error *err)
{
  int last = keel_cap_last();
  for (int c = 0; c <= last; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return keel_error_set_errno(err, -errno, "cannot drop %s from the bounding set",
                                  keel_cap_name(c));
  return 0;
}

static int
set_ids(const struct keel_process *p, bool userns, struct keel_error *err)
{
  if (setgroups(p->n_additional_gids, p->additional_gids) < 0)
    {
      /* "setgroups deny" in a user namespace: fine when nothing was asked */
      if (!(userns && errno == EPERM && p->n_additional_gids == 0))
        return keel_error_set_errno(err, -errno, "cannot set supplementary groups");
    }
  if (setresgid(p->gid, p->gid, p->gid) < 0)
    return keel_error_set_errno(err, -errno, "cannot set gid %u", (unsigned)p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0)
    return keel_error_set_errno(err, -errno, "cannot set uid %u", (unsigned)p->uid);
  return 0;
}

int
keel_process_apply(const struct keel_process *p, const struct keel_process_opts *opts,
                   struct keel_error *err)
{
  int r;
  if (p->has_oom_score_adj)
    {
      char buf[16];
      snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
      if ((r = keel_write_string(AT_FDCWD, "/proc/self/oom_score_adj", buf)) < 0)
        return keel_error_set_errno(err, r, "cannot set oomScoreAdj %d", p->oom_score_adj);
    }
  if ((r = set_rlimits(p, err)) < 0 || (r = set_cwd(p, err)) < 0
      || (r = set_lsm_labels(p, err)) < 0)
    return r;
  if (p->has_caps && (r = drop_bounding(p->caps[KEEL_CAP_BOUNDING], err)) < 0)
    return r;
  if (!p->no_new_privileges && opts->seccomp
      && (r = keel_seccomp_load(opts->seccomp, opts->ret_notify_fd, err)) < 0)
    return r;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return keel_error_set_errno(err, -errno, "cannot keep capabilities");
  if ((r = set_ids(p, opts->userns, err)) < 0)
    return r;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return keel_error_set_errno(err, -errno, "cannot reset keep-capabilities");
  if (p->has_caps)
    {
      if ((r = capset_all(p->caps)) < 0)
        return keel_error_set_errno(err, r, "cannot set capabilities");
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return keel_error_set_errno(err, -errno, "cannot clear ambient capabilities");
      /* The kernel only raises an ambient capability that is both
       * permitted and inheritable; like runc, the rest are left out. */
      uint64_t ambient
          = p->caps[KEEL_CAP_AMBIENT] & p->caps[KEEL_CAP_PERMITTED] & p->caps[KEEL_CAP_INHERITABLE];
      for (int c = 0; c <= keel_cap_last(); c++)
        if ((ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
          return keel_error_set_errno(err, -errno, "cannot raise ambient %s", keel_cap_name(c));
    }
  if (p->has_umask)
    umask(p->umask);
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return keel_error_set_errno(err, -errno, "cannot set no_new_privs");
  return 0;
}

int
keel_process_late_seccomp(const struct keel_process *p, const struct keel_process_opts *opts,
                          struct keel_error *err)
{
  if (!p->no_new_privileges || !opts->seccomp)
    return 0;
  return keel_seccomp_load(opts->seccomp, opts->ret_notify_fd, err);
}

static const char *
env_path(const struct keel_process *p)
{
  for (char **e = p->env; e && *e; e++)
    if (!strncmp(*e, "PATH=", 5))
      return *e + 5;
  return DEFAULT_PATH;
}

int
keel_process_find_exec(const struct keel_process *p, char **ret, struct keel_error *err)
{
  const char *name = p->args[0];
  struct stat st;
  if (strchr(name, '/'))
    {
      if (stat(name, &st) < 0)
        return keel_error_set_errno(err, -errno, "cannot execute '%s'", name);
      if (S_ISDIR(st.st_mode))
        return keel_error_set(err, -EACCES, "cannot execute '%s': is a directory", name);
      *ret = strdup(name);
      return *ret ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
    }
  const char *path = env_path(p);
  while (*path)
    {
      const char *end = strchrnul(path, ':');
      char cand[PATH_MAX];
      int n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - path), end == path ? "." : path,
                       name);
      if (end == path)
        n = snprintf(cand, sizeof(cand), "./%s", name);
      if (n > 0 && (size_t)n < sizeof(cand) && stat(cand, &st) == 0 && S_ISREG(st.st_mode)
          && access(cand, X_OK) == 0)
        {
          *ret = strdup(cand);
          return *ret ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
        }
      path = *end ? end + 1 : end;
    }
  return keel_error_set(err, -ENOENT, "executable file '%s' not found in $PATH", name);
}

int
keel_process_cloexec_from(int from)
{
  if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  /* kernels before 5.11: walk /proc/self/fd */
  _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -errno;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      int fd = atoi(de->d_name);
      if (fd >= from && fd != dirfd(d))
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  return 0;
}
