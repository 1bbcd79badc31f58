/* Keel's default seccomp profile (engine/container/seccomp-default.json,
 * generated from seccomp-syscalls.txt) resolved for a container: the same
 * rules as the profile podman 4.3 writes for its default capabilities
 * (tests/fixtures/seccomp-podman-default.json), capability- and
 * architecture-conditional entries, and a representative set of calls
 * allowed or denied by the loaded filter. */
#include "test.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "runtime/seccomp.h"

#define FIXTURE "tests/fixtures/seccomp-podman-default.json"

static const char *const default_caps[]
    = { "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
        "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",   "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT" };

static json_object *
caps_with(const char *extra)
{
  json_object *a = json_object_new_array();
  for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
    json_object_array_add(a, json_object_new_string(default_caps[i]));
  if (extra)
    json_object_array_add(a, json_object_new_string(extra));
  return a;
}

static json_object *
resolved(const char *extra_cap, const char *machine)
{
  const char *text = keel_ctr_seccomp_default();
  _cleanup_json_ json_object *p = NULL, *caps = caps_with(extra_cap);
  json_object *out = NULL;
  if (keel_json_parse(text, strlen(text), "profile", &p, NULL) < 0
      || keel_ctr_seccomp_resolve(p, caps, machine, &out, NULL) < 0)
    return NULL;
  return out;
}

static int
cmp_lines(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every rule as one line "name action errno args", sorted, duplicates
 * dropped: two profiles with the same lines filter alike. */
static char *
rules(json_object *prof)
{
  json_object *sc = NULL;
  json_object_object_get_ex(prof, "syscalls", &sc);
  size_t n = 0, cap = 1024, len = 0;
  char **v = calloc(cap, sizeof(*v)), *out = NULL;
  for (size_t i = 0; v && sc && i < json_object_array_length(sc); i++)
    {
      json_object *e = json_object_array_get_idx(sc, i), *names = NULL, *x;
      json_object_object_get_ex(e, "names", &names);
      const char *act = json_object_object_get_ex(e, "action", &x) ? json_object_get_string(x) : "";
      int errno_ret = json_object_object_get_ex(e, "errnoRet", &x) ? json_object_get_int(x) : -1;
      const char *args = json_object_object_get_ex(e, "args", &x)
                             ? json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN)
                             : "-";
      for (size_t j = 0; j < json_object_array_length(names) && n + 1 < cap; j++)
        {
          char line[1024];
          snprintf(line, sizeof(line), "%s %s %d %s",
                   json_object_get_string(json_object_array_get_idx(names, j)), act, errno_ret,
                   args);
          v[n++] = strdup(line);
        }
    }
  qsort(v, n, sizeof(*v), cmp_lines);
  FILE *f = open_memstream(&out, &len);
  fputc('\n', f);
  for (size_t i = 0; i < n; i++)
    if (!i || strcmp(v[i], v[i - 1]))
      fprintf(f, "%s\n", v[i]);
  fclose(f);
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
  return out;
}

TEST(default_caps_match_podman)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  _cleanup_json_ json_object *ref = NULL, *mine = resolved(NULL, "x86_64");
  ASSERT_OK(keel_read_file(AT_FDCWD, FIXTURE, 1 << 20, &buf, &len));
  ASSERT_OK(keel_json_parse(buf, len, FIXTURE, &ref, NULL));
  ASSERT_TRUE(mine != NULL);
  _cleanup_free_ char *a = rules(mine), *b = rules(ref);
  ASSERT_STREQ(a, b);
  json_object *arch = NULL, *def = NULL;
  ASSERT_TRUE(json_object_object_get_ex(mine, "architectures", &arch));
  ASSERT_STREQ(json_object_to_json_string_ext(arch, JSON_C_TO_STRING_PLAIN),
               "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
  ASSERT_TRUE(json_object_object_get_ex(mine, "defaultErrnoRet", &def));
  ASSERT_EQ(json_object_get_int(def), 38);
  ASSERT_FALSE(json_object_object_get_ex(mine, "archMap", NULL));
}

TEST(capabilities_unlock_calls)
{
  _cleanup_json_ json_object *plain = resolved(NULL, "x86_64"),
                             *mod = resolved("CAP_SYS_MODULE", "x86_64"),
                             *audit = resolved("CAP_AUDIT_WRITE", "x86_64");
  _cleanup_free_ char *p = rules(plain), *m = rules(mod), *a = rules(audit);
  ASSERT_CONTAINS(p, "\ninit_module SCMP_ACT_ERRNO 1 -\n");
  ASSERT_FALSE(strstr(p, "init_module SCMP_ACT_ALLOW"));
  ASSERT_CONTAINS(m, "\ninit_module SCMP_ACT_ALLOW -1 -\n");
  ASSERT_FALSE(strstr(m, "init_module SCMP_ACT_ERRNO"));
  ASSERT_CONTAINS(p, "socket SCMP_ACT_ERRNO 22 ");
  ASSERT_CONTAINS(a, "\nsocket SCMP_ACT_ALLOW -1 -\n");
  ASSERT_FALSE(strstr(a, "socket SCMP_ACT_ERRNO"));
}

TEST(architectures)
{
  _cleanup_json_ json_object *arm = resolved(NULL, "aarch64");
  _cleanup_free_ char *r = rules(arm);
  json_object *arch = NULL;
  ASSERT_TRUE(json_object_object_get_ex(arm, "architectures", &arch));
  ASSERT_STREQ(json_object_to_json_string_ext(arch, JSON_C_TO_STRING_PLAIN),
               "[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"]");
  ASSERT_CONTAINS(r, "\nset_tls SCMP_ACT_ALLOW");
  ASSERT_FALSE(strstr(r, "arch_prctl"));
}

/* errno of a call that fails, 0 if it succeeds */
#define ERRNO_OF(call) ((call) < 0 ? errno : 0)

static void
child_checks(json_object *prof)
{
  struct rlimit nocore = { 0, 0 };
  setrlimit(RLIMIT_CORE, &nocore);
  CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  struct keel_error err = KEEL_ERROR_INIT;
  int fd = -1;
  CHILD_CHECK(keel_seccomp_load(prof, &fd, &err) == 0);
  CHILD_CHECK(getpid() > 0);
  CHILD_CHECK(ERRNO_OF(syscall(SYS_kexec_load, 0, 0, 0, 0)) == EPERM);  /* never */
  CHILD_CHECK(ERRNO_OF(syscall(SYS_add_key, 0, 0, 0, 0, 0)) == ENOSYS); /* not listed */
  CHILD_CHECK(ERRNO_OF(syscall(SYS_init_module, 0, 0, 0)) == EPERM);    /* no CAP_SYS_MODULE */
  CHILD_CHECK(ERRNO_OF(syscall(SYS_open_by_handle_at, -1, 0, 0)) == EPERM);
  CHILD_CHECK(ERRNO_OF(syscall(SYS_chroot, "/nonexistent")) == ENOENT); /* CAP_SYS_CHROOT */
  CHILD_CHECK(ERRNO_OF(syscall(SYS_personality, 0xffffffffUL)) == 0);   /* the query */
  CHILD_CHECK(ERRNO_OF(syscall(SYS_personality, 0x0400000UL)) == ENOSYS);
  CHILD_CHECK(ERRNO_OF(socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)) == EINVAL);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  CHILD_CHECK(s >= 0);
  _exit(0);
}

TEST(filter_allows_and_denies)
{
  _cleanup_json_ json_object *prof = resolved(NULL, NULL);
  ASSERT_TRUE(prof != NULL);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    child_checks(prof);
  int status = 0;
  ASSERT_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
}

TEST_MAIN
