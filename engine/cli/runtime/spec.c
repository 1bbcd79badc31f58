/* keel-runtime spec: write a default config.json, as `runc spec` does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/runtime/cli.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

static const char default_spec[]
    = "{\"ociVersion\":\"" KEEL_OCI_VERSION "\","
      "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
      "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/"
      "bin\",\"TERM=xterm\"],"
      "\"cwd\":\"/\",\"capabilities\":{"
      "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
      "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
      "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
      "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
      "\"noNewPrivileges\":true},"
      "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
      "\"hostname\":\"keel\","
      "\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
      "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
      "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid="
      "5\"]},"
      "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
      "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
      "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
      "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
      "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
      "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
      "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
      "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
      "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
      "\"/sys/firmware\",\"/proc/scsi\"],"
      "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
      "\"/proc/sysrq-trigger\"]}}";

int
cmd_spec(int argc, char **argv)
{
  static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
                                        { "rootless", no_argument, NULL, 'r' },
                                        { NULL, 0, NULL, 0 } };
  const char *bundle = ".";
  bool rootless = false;
  int c;
  while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1)
    {
      if (c == 'b')
        bundle = optarg;
      else if (c == 'r')
        rootless = true;
      else
        return cli_usage("spec", "usage: keel-runtime spec [--bundle DIR] [--rootless]");
    }
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *s = NULL;
  if (keel_json_parse(default_spec, sizeof(default_spec) - 1, "default spec", &s, &err) < 0)
    return cli_fail(&err);
  if (rootless)
    {
      json_object *lx, *ns, *m;
      json_object_object_get_ex(s, "linux", &lx);
      json_object_object_get_ex(lx, "namespaces", &ns);
      json_object *u = json_object_new_object();
      json_object_object_add(u, "type", json_object_new_string("user"));
      json_object_array_add(ns, u);
      const char *maps[] = { "uidMappings", "gidMappings" };
      for (int i = 0; i < 2; i++)
        {
          m = json_object_new_object();
          json_object_object_add(m, "containerID", json_object_new_int(0));
          json_object_object_add(m, "hostID", json_object_new_int64(i ? getgid() : getuid()));
          json_object_object_add(m, "size", json_object_new_int(1));
          json_object *a = json_object_new_array();
          json_object_array_add(a, m);
          json_object_object_add(lx, maps[i], a);
        }
    }
  char path[4096];
  snprintf(path, sizeof(path), "%s/config.json", bundle);
  if (access(path, F_OK) == 0)
    return cli_usage("spec", "'%s' exists; remove it first", path);
  const char *out
      = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  int r = keel_write_file_atomic(AT_FDCWD, path, out, strlen(out), 0644);
  if (r < 0)
    {
      keel_error_set_errno(&err, r, "cannot write '%s'", path);
      return cli_fail(&err);
    }
  return 0;
}
