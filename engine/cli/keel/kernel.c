/* keel system check-kernel: the kernel options containers need, read from
 * /proc/config.gz or the packaged configuration of the running kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "cli/keel/cli.h"
#include "lib/cleanup.h"

struct kernel_option
{
  const char *name;
  const char *needed_for;
  bool required; /* false: recommended, reported but not a failure */
};

static const struct kernel_option kernel_options[] = {
  { "CONFIG_NAMESPACES", "namespaces", true },
  { "CONFIG_UTS_NS", "namespaces: hostname", true },
  { "CONFIG_IPC_NS", "namespaces: System V IPC", true },
  { "CONFIG_PID_NS", "namespaces: process ids", true },
  { "CONFIG_NET_NS", "namespaces: network", true },
  { "CONFIG_USER_NS", "namespaces: users (rootless, id maps)", true },
  { "CONFIG_TIME_NS", "namespaces: time", false },
  { "CONFIG_CGROUPS", "cgroups", true },
  { "CONFIG_MEMCG", "cgroups: memory (-m)", true },
  { "CONFIG_CGROUP_PIDS", "cgroups: pids (--pids-limit)", true },
  { "CONFIG_CGROUP_SCHED", "cgroups: cpu (--cpus)", true },
  { "CONFIG_CFS_BANDWIDTH", "cgroups: cpu quota (--cpus)", false },
  { "CONFIG_CPUSETS", "cgroups: cpuset", true },
  { "CONFIG_BLK_CGROUP", "cgroups: io", true },
  { "CONFIG_CGROUP_FREEZER", "cgroups: pause (v1)", true },
  { "CONFIG_CGROUP_DEVICE", "cgroups: devices (v1)", false },
  { "CONFIG_CGROUP_BPF", "cgroups: device filter (v2)", true },
  { "CONFIG_BPF_SYSCALL", "cgroups: device filter (v2)", true },
  { "CONFIG_OVERLAY_FS", "overlayfs root filesystems", true },
  { "CONFIG_SECCOMP", "seccomp", true },
  { "CONFIG_SECCOMP_FILTER", "seccomp filters", true },
  { "CONFIG_POSIX_MQUEUE", "/dev/mqueue", true },
  { "CONFIG_KEYS", "session keyrings", true },
  { "CONFIG_VETH", "networking: veth pairs", true },
  { "CONFIG_BRIDGE", "networking: the keel0 bridge", true },
  { "CONFIG_BRIDGE_NETFILTER", "networking: filtering on the bridge", true },
  { "CONFIG_NF_TABLES", "networking: nftables", true },
  { "CONFIG_NF_NAT", "networking: NAT", true },
  { "CONFIG_NFT_NAT", "networking: published ports (dnat)", true },
  { "CONFIG_NFT_MASQ", "networking: outbound NAT (masquerade)", true },
  { "CONFIG_NFT_CT", "networking: connection tracking in nftables", true },
};

/* "y", "m" or NULL for NAME in a configuration text. */
static const char *
option_state(const char *config, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = config; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    {
      if (strncmp(p, name, n) != 0 || p[n] != '=')
        continue;
      if (p[n + 1] == 'y')
        return "y";
      if (p[n + 1] == 'm')
        return "m";
      return NULL;
    }
  return NULL;
}

/* The whole (possibly gzipped) file at PATH; NULL with errno set. */
static char *
read_config(const char *path)
{
  gzFile f = gzopen(path, "rb");
  if (!f)
    return NULL;
  size_t len = 0, cap = 1 << 18;
  char *buf = malloc(cap + 1);
  int n;
  while (buf && (n = gzread(f, buf + len, (unsigned)(cap - len))) > 0)
    {
      len += (size_t)n;
      if (len == cap)
        {
          char *b = realloc(buf, 2 * cap + 1);
          if (!b)
            free(buf);
          buf = b;
          cap *= 2;
        }
    }
  bool failed = buf && n < 0;
  gzclose(f);
  if (failed)
    {
      free(buf);
      errno = EIO;
      return NULL;
    }
  if (buf)
    buf[len] = '\0';
  return buf;
}

/* The running kernel's configuration: /proc/config.gz, else the packaged
 * one in /boot or beside its modules (where a Keel host keeps it). */
static char *
running_config(char *where, size_t size)
{
  struct utsname u;
  uname(&u);
  /* "" is /proc/config.gz; the others are DIR + release + FILE */
  static const char *const places[][2] = { { "/proc/config.gz", "" },
                                           { "/boot/config-", "" },
                                           { "/usr/lib/modules/", "/config" },
                                           { "/lib/modules/", "/config" } };
  for (size_t i = 0; i < ARRAY_SIZE(places); i++)
    {
      snprintf(where, size, "%s%s%s", places[i][0], i ? u.release : "", places[i][1]);
      char *c = read_config(where);
      if (c)
        return c;
    }
  snprintf(where, size, "%s", u.release);
  return NULL;
}

static void
print_option(const struct kernel_option *o, const char *state, bool quiet)
{
  if (!state && quiet && o->required)
    fprintf(stderr, "keel: kernel lacks %s, needed for %s\n", o->name, o->needed_for);
  else if (!state && !quiet)
    printf("%-26s %-8s %s\n", o->name, o->required ? "missing" : "absent", o->needed_for);
  else if (!quiet)
    printf("%-26s %-8s %s\n", o->name, state, o->needed_for);
}

int
cmd_check_kernel(int argc, char **argv)
{
  static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                        { "quiet", no_argument, NULL, 'q' },
                                        { NULL, 0, NULL, 0 } };
  const char *path = NULL;
  bool quiet = false;
  int c;
  while ((c = getopt_long(argc, argv, "+qc:", opts, NULL)) != -1)
    {
      if (c == 'c')
        path = optarg;
      else if (c == 'q')
        quiet = true;
      else
        return cli_usage("system check-kernel",
                         "usage: keel system check-kernel [--config FILE] [--quiet]");
    }
  if (optind != argc)
    return cli_usage("system check-kernel",
                     "usage: keel system check-kernel [--config FILE] [--quiet]");
  char where[512];
  _cleanup_free_ char *config = NULL;
  if (path)
    snprintf(where, sizeof(where), "%s", path), config = read_config(path);
  else
    config = running_config(where, sizeof(where));
  if (!config)
    {
      fprintf(stderr, "keel: no kernel configuration %s %s: %s\n", path ? "at" : "for kernel",
              where, strerror(errno ? errno : ENOENT));
      return 125;
    }
  size_t missing = 0, absent = 0, present = 0;
  if (!quiet)
    printf("%-26s %-8s %s\n", "OPTION", "STATE", "NEEDED FOR");
  for (size_t i = 0; i < ARRAY_SIZE(kernel_options); i++)
    {
      const struct kernel_option *o = &kernel_options[i];
      const char *state = option_state(config, o->name);
      print_option(o, state, quiet);
      if (state)
        present++;
      else if (o->required)
        missing++;
      else
        absent++;
    }
  if (!quiet)
    printf("%s: %zu options present, %zu required missing, %zu recommended absent\n", where,
           present, missing, absent);
  return missing ? 1 : 0;
}
