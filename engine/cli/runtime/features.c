/* keel-runtime features: what this runtime implements (runtime-spec features.md). */
#include <stdio.h>
#include <string.h>

#include "cli/runtime/cli.h"
#include "lib/cleanup.h"
#include "lib/json.h"
#include "runtime/spec.h"

static json_object *
strings(const char *const *v)
{
  json_object *a = json_object_new_array();
  for (; *v; v++)
    json_object_array_add(a, json_object_new_string(*v));
  return a;
}

static json_object *
linux_features(void)
{
  static const char *const ns[]
      = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL };
  static const char *const actions[] = { "SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO",
                                         "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
                                         "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                         "SCMP_ACT_NOTIFY",      "SCMP_ACT_TRACE",
                                         "SCMP_ACT_TRAP",        NULL };
  static const char *const ops[]
      = { "SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
          "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
  static const char *const archs[] = { "SCMP_ARCH_X86",   "SCMP_ARCH_X86_64",  "SCMP_ARCH_X32",
                                       "SCMP_ARCH_ARM",   "SCMP_ARCH_AARCH64", "SCMP_ARCH_PPC64LE",
                                       "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64", NULL };
  static const char *const flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                       "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL };
  json_object *lx = json_object_new_object(), *caps = json_object_new_array();
  json_object_object_add(lx, "namespaces", strings(ns));
  for (int c = 0; c <= keel_cap_last(); c++)
    json_object_array_add(caps, json_object_new_string(keel_cap_name(c)));
  json_object_object_add(lx, "capabilities", caps);
  json_object *cg = json_object_new_object();
  json_object_object_add(cg, "v1", json_object_new_boolean(1));
  json_object_object_add(cg, "v2", json_object_new_boolean(1));
  json_object_object_add(cg, "systemd", json_object_new_boolean(1));
  json_object_object_add(cg, "systemdUser", json_object_new_boolean(0));
  json_object_object_add(lx, "cgroup", cg);
  json_object *sc = json_object_new_object();
  json_object_object_add(sc, "enabled", json_object_new_boolean(1));
  json_object_object_add(sc, "actions", strings(actions));
  json_object_object_add(sc, "operators", strings(ops));
  json_object_object_add(sc, "archs", strings(archs));
  json_object_object_add(sc, "knownFlags", strings(flags));
  json_object_object_add(sc, "supportedFlags", strings(flags));
  json_object_object_add(lx, "seccomp", sc);
  json_object *on = json_object_new_object();
  json_object_object_add(on, "enabled", json_object_new_boolean(1));
  json_object_object_add(lx, "apparmor", on);
  json_object_object_add(lx, "selinux", json_object_get(on));
  return lx;
}

int
cmd_features(int argc, char **argv)
{
  static const char *const hooks[]
      = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
          NULL };
  static const char *const mopts[]
      = { "async",   "atime",       "bind",          "defaults",  "dev",         "diratime",
          "dirsync", "exec",        "iversion",      "lazytime",  "loud",        "mand",
          "noatime", "nodev",       "nodiratime",    "noexec",    "noiversion",  "nolazytime",
          "nomand",  "norelatime",  "nostrictatime", "nosuid",    "nosymfollow", "private",
          "rbind",   "relatime",    "remount",       "ro",        "rprivate",    "rro",
          "rshared", "rslave",      "runbindable",   "rw",        "shared",      "silent",
          "slave",   "strictatime", "suid",          "symfollow", "sync",        "unbindable",
          NULL };
  (void)argc;
  (void)argv;
  _cleanup_json_ json_object *f = json_object_new_object();
  json_object_object_add(f, "ociVersionMin", json_object_new_string("1.0.0"));
  json_object_object_add(f, "ociVersionMax", json_object_new_string(KEEL_OCI_VERSION));
  json_object_object_add(f, "hooks", strings(hooks));
  json_object_object_add(f, "mountOptions", strings(mopts));
  json_object_object_add(f, "linux", linux_features());
  json_object *ann = json_object_new_object();
  json_object_object_add(ann, "org.opencontainers.runc.checkpoint.enabled",
                         json_object_new_string("false"));
  json_object_object_add(f, "annotations", ann);
  puts(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  return 0;
}
