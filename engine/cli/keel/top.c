/* keel top, keel cp: views into a container from the host side (its
 * processes, its mounted rootfs). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "cli/keel/ctr.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/path.h"
#include "runtime/container.h"

extern char **environ;

/* field "Key:" of /proc/PID/status, last word (NSpid: the inner pid) */
static void
status_field(pid_t pid, const char *key, char *buf, size_t size)
{
  char path[64], line[512];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  snprintf(buf, size, "?");
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, key, strlen(key)))
      {
        line[strcspn(line, "\n")] = '\0';
        char *last = strrchr(line, '\t');
        snprintf(buf, size, "%s", last ? last + 1 : line + strlen(key));
        return;
      }
}

static void
cmdline(pid_t pid, char *buf, size_t size)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
  if (fd >= 0)
    close(fd);
  if (n <= 0)
    n = 0;
  buf[n] = '\0';
  for (ssize_t i = 0; i + 1 < n; i++)
    if (!buf[i])
      buf[i] = ' ';
}

int
cmd_top(int argc, char **argv)
{
  if (argc < 2)
    return cli_usage("top", "usage: keel top CONTAINER");
  struct keel_error err = KEEL_ERROR_INIT;
  struct ctr c;
  if (ctr_find(argv[1], &c, &err) < 0)
    return cli_fail(&err);
  struct keel_runtime rt = { .root = ctr_runtime_root() };
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  int r = strcmp(c.status, "running")
              ? keel_error_set(&err, -EINVAL, "top can only be used on running containers")
              : keel_container_pids(&rt, c.id, &pids, &n, &err);
  ctr_done(&c);
  if (r < 0)
    return cli_fail(&err);
  printf("%-10s  %-6s  %-6s  %s\n", "USER", "PID", "PPID", "COMMAND");
  for (size_t i = 0; i < n; i++)
    {
      char uid[32], nspid[32], ppid[32], cmd[1024];
      status_field(pids[i], "Uid:", uid, sizeof(uid));
      status_field(pids[i], "NSpid:", nspid, sizeof(nspid));
      status_field(pids[i], "PPid:", ppid, sizeof(ppid));
      /* the parent as the container sees it: 0 outside the container */
      pid_t pp = (pid_t)atoi(ppid);
      snprintf(ppid, sizeof(ppid), "0");
      for (size_t j = 0; j < n; j++)
        if (pids[j] == pp)
          status_field(pp, "NSpid:", ppid, sizeof(ppid));
      cmdline(pids[i], cmd, sizeof(cmd));
      /* Uid: real effective saved fs; the last is fine for display */
      printf("%-10s  %-6s  %-6s  %s\n", uid, nspid, ppid, cmd);
    }
  return 0;
}

static int
run_cp(const char *from, const char *to, struct keel_error *err)
{
  char *argv[] = { "cp", "-a", "--", (char *)from, (char *)to, NULL };
  pid_t pid;
  int status = 0;
  if (posix_spawnp(&pid, "cp", NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0
      || !WIFEXITED(status) || WEXITSTATUS(status))
    return keel_error_set(err, -EIO, "copying '%s' to '%s' failed", from, to);
  return 0;
}

/* A path inside the container's rootfs, resolved there (symlinks in the
 * image cannot lead outside), as /proc/self/fd/N[/name] for cp.  For a
 * destination that does not exist yet the parent is resolved. */
static int
in_root(const char *rootfs, const char *path, bool dest, int *ret_fd, char *buf, size_t size,
        struct keel_error *err)
{
  _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return keel_error_set_errno(err, errno, "cannot open '%s'", rootfs);
  int fd = keel_path_open_in_root(rfd, path, O_PATH | O_CLOEXEC, NULL);
  const char *name = "";
  char parent[4096];
  if (fd < 0 && dest)
    {
      snprintf(parent, sizeof(parent), "%s", path);
      char *slash = strrchr(parent, '/');
      name = slash ? path + (slash - parent) + 1 : path;
      if (slash)
        *slash = '\0';
      fd = keel_path_open_in_root(rfd, *parent ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC,
                                  NULL);
    }
  if (fd < 0)
    return keel_error_set(err, -ENOENT, "\"%s\" could not be found on container", path);
  fcntl(fd, F_SETFD, 0); /* cp resolves /proc/self/fd/N: its own copy */
  snprintf(buf, size, "/proc/self/fd/%d%s%s", fd, *name ? "/" : "", name);
  *ret_fd = fd;
  return 0;
}

int
cmd_cp(int argc, char **argv)
{
  if (argc != 3)
    return cli_usage("cp", "usage: keel cp CONTAINER:SRC DEST | keel cp SRC CONTAINER:DEST");
  const char *src = argv[1], *dst = argv[2];
  const char *colon_s = src[0] != '/' && src[0] != '.' ? strchr(src, ':') : NULL;
  const char *colon_d = dst[0] != '/' && dst[0] != '.' ? strchr(dst, ':') : NULL;
  if (!colon_s == !colon_d)
    return cli_usage("cp", "one of the two paths must be CONTAINER:PATH");
  const char *spec = colon_s ? src : dst, *colon = colon_s ? colon_s : colon_d;
  char name[256];
  snprintf(name, sizeof(name), "%.*s", (int)(colon - spec), spec);
  struct keel_error err = KEEL_ERROR_INIT;
  struct ctr c;
  if (ctr_find(name, &c, &err) < 0)
    return cli_fail(&err);
  bool was_mounted = keel_ctr_mounted(cli_root, c.id);
  int r = was_mounted ? 0 : ctr_mount_rootfs(&c, &err), fd = -1;
  char rootfs[4096], inner[4200];
  keel_ctr_path(cli_root, c.id, "rootfs", rootfs, sizeof(rootfs));
  if (r >= 0)
    r = in_root(rootfs, colon + 1, !colon_s, &fd, inner, sizeof(inner), &err);
  if (r >= 0)
    r = colon_s ? run_cp(inner, dst, &err) : run_cp(src, inner, &err);
  if (fd >= 0)
    close(fd);
  if (!was_mounted && !c.alive)
    keel_ctr_umount(cli_root, c.id);
  ctr_done(&c);
  return r < 0 ? cli_fail(&err) : 0;
}
