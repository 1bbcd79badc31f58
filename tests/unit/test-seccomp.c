/* runtime/seccomp: validation of linux.seccomp, and filters loaded into
 * forked children (no_new_privs set there, so no root is needed).
 *
 * tests/fixtures/seccomp-podman-default.json is the linux.seccomp podman 4.3
 * writes for a default container, generated from the containers-common
 * profile (/usr/share/containers/seccomp.json, Debian 12):
 *   podman create --name x IMAGE true && podman --runtime runc init x
 *   jq .linux.seccomp <userdata>/config.json */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "runtime/seccomp.h"

#define FIXTURE "tests/fixtures/seccomp-podman-default.json"

/* JSON written with single quotes, to keep the tables readable. */
static json_object *
parse_sq(const char *sq)
{
  _cleanup_free_ char *s = strdup(sq);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  json_object *o = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_json_parse(s, strlen(s), "snippet", &o, &err) < 0)
    {
      printf("# cannot parse test snippet: %s\n", err.msg);
      return NULL;
    }
  return o;
}

static char *
make_tmpdir(void)
{
  char tmpl[] = "/tmp/keel-test-seccomp.XXXXXX";
  return mkdtemp(tmpl) ? strdup(tmpl) : NULL;
}

/* Each test gets a cache directory of its own. */
static char *
fresh_cache(void)
{
  char *dir = make_tmpdir();
  if (dir)
    setenv("KEEL_SECCOMP_CACHE_DIR", dir, 1);
  return dir;
}

static void
remove_dir(char *dir)
{
  if (dir)
    keel_rm_rf_at(AT_FDCWD, dir);
  free(dir);
}

/* In a child: no_new_privs (seccomp without CAP_SYS_ADMIN), no core dumps
 * from SIGSYS, then the profile loaded. */
static void
child_load(const char *profile_sq, int *ret_fd)
{
  struct rlimit nocore = { 0, 0 };
  setrlimit(RLIMIT_CORE, &nocore);
  CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  json_object *o = parse_sq(profile_sq);
  CHILD_CHECK(o);
  struct keel_error err = KEEL_ERROR_INIT;
  int fd = -1;
  int r = keel_seccomp_load(o, &fd, &err);
  json_object_put(o);
  if (r < 0)
    dprintf(1, "# child: %s\n", err.msg);
  CHILD_CHECK(r == 0);
  if (ret_fd)
    *ret_fd = fd;
  else
    CHILD_CHECK(fd == -1);
}

static int
wait_child(pid_t pid)
{
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

/* ---- validation ---- */

static const struct
{
  const char *json;
  const char *msg;
} invalid[] = {
  { "[]", "linux.seccomp: expected an object" },
  { "{}", "linux.seccomp.defaultAction: required" },
  { "{'defaultAction': 1}", "linux.seccomp.defaultAction: expected a string" },
  { "{'defaultAction': 'SCMP_ACT_FOO'}",
    "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_FOO'" },
  { "{'defaultAction': 'SCMP_ACT_NOTIFY'}", "SCMP_ACT_NOTIFY cannot be the default action" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}",
    "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno" },
  { "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': -1}",
    "linux.seccomp.defaultErrnoRet: value out of range [0, 4095]" },
  { "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 4096}",
    "linux.seccomp.defaultErrnoRet: value out of range [0, 4095]" },
  { "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': '1'}",
    "linux.seccomp.defaultErrnoRet: expected an integer" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': 'x'}",
    "linux.seccomp.architectures: expected an array" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': [1]}",
    "linux.seccomp.architectures: expected an array of strings" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_FOO']}",
    "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_FOO'" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['x86_64']}",
    "linux.seccomp.architectures[0]: unknown architecture 'x86_64'" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_FOO']}",
    "linux.seccomp.flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_FOO'" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': 3}", "linux.seccomp.flags: expected an array" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': {}}",
    "linux.seccomp.syscalls: expected an array" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [1]}",
    "linux.seccomp.syscalls[0]: expected an object" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'action': 'SCMP_ACT_ERRNO'}]}",
    "linux.seccomp.syscalls[0].names: required" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [], 'action': 'SCMP_ACT_ERRNO'}]}",
    "linux.seccomp.syscalls[0].names: must name at least one syscall" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [7], 'action': 'SCMP_ACT_ERRNO'}]}",
    "linux.seccomp.syscalls[0].names[0]: expected a string" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir']}]}",
    "linux.seccomp.syscalls[0].action: required" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO'}, {'names': ['rmdir'], 'action': 'SCMP_ACT_FOO'}]}",
    "linux.seccomp.syscalls[1].action: unknown action 'SCMP_ACT_FOO'" },
  { "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ALLOW', 'errnoRet': 1}]}",
    "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW takes no errno" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'errnoRet': 70000}]}",
    "linux.seccomp.syscalls[0].errnoRet: value out of range [0, 4095]" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_TRACE', 'errnoRet': 70000}]}",
    "linux.seccomp.syscalls[0].errnoRet: value out of range [0, 65535]" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'errnoRet': 1.5}]}",
    "linux.seccomp.syscalls[0].errnoRet: expected an integer" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir', 'no_such_call'], "
    "'action': 'SCMP_ACT_ERRNO'}]}",
    "linux.seccomp.syscalls[0].names[1]: unknown syscall 'no_such_call'" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': 'x'}]}",
    "linux.seccomp.syscalls[0].args: expected an array" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [1]}]}",
    "linux.seccomp.syscalls[0].args[0]: expected an object" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}",
    "linux.seccomp.syscalls[0].args[0].index: required" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}",
    "linux.seccomp.syscalls[0].args[0].index: syscalls have arguments 0 to 5 only" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': -1, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}",
    "linux.seccomp.syscalls[0].args[0].index: syscalls have arguments 0 to 5 only" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]}",
    "linux.seccomp.syscalls[0].args[0].value: required" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': -1, 'op': 'SCMP_CMP_EQ'}]}]}",
    "linux.seccomp.syscalls[0].args[0].value: expected a non-negative integer" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'valueTwo': 'x', 'op': "
    "'SCMP_CMP_EQ'}]}]}",
    "linux.seccomp.syscalls[0].args[0].valueTwo: expected an integer" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1}]}]}",
    "linux.seccomp.syscalls[0].args[0].op: required" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_FOO'}]}]}",
    "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_FOO'" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getppid'], 'action': "
    "'SCMP_ACT_NOTIFY'}]}",
    "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/run/agent.sock'}",
    "linux.seccomp.listenerPath: set but no rule uses SCMP_ACT_NOTIFY" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerMetadata': 'x'}",
    "linux.seccomp.listenerMetadata: set without listenerPath" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': 1}",
    "linux.seccomp.listenerPath: expected a string" },
  { "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getppid'], 'action': "
    "'SCMP_ACT_NOTIFY'}], 'listenerPath': "
    "'/run/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaa.sock'}",
    "linux.seccomp.listenerPath: '/run/aaaa" },
};

TEST(validate_refuses_invalid_snippets)
{
  char *dir = fresh_cache();
  for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
    {
      _cleanup_json_ json_object *o = parse_sq(invalid[i].json);
      ASSERT_TRUE(o);
      struct keel_error err = KEEL_ERROR_INIT;
      int r = keel_seccomp_validate(o, &err);
      if (r >= 0 || !strstr(err.msg, invalid[i].msg))
        {
          remove_dir(dir);
          FAIL_AT("snippet %zu: %s\n#   got %d \"%s\"\n#   want \"%s\"", i, invalid[i].json, r,
                  err.msg, invalid[i].msg);
        }
      ASSERT_EQ(r, err.code);
      /* one line, no trailing full stop */
      ASSERT_FALSE(strchr(err.msg, '\n'));
    }
  remove_dir(dir);
}

TEST(validate_accepts_spec_profiles)
{
  char *dir = fresh_cache();
  static const char *const good[] = {
    "{'defaultAction': 'SCMP_ACT_ALLOW'}",
    "{'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, 'architectures': "
    "['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86'], 'flags': "
    "['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC', "
    "'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], 'syscalls': [{'names': ['getpid', 'socketcall'], "
    "'action': 'SCMP_ACT_ALLOW', 'errnoRet': null}]}",
    /* a rule repeating the default action is dropped, not refused */
    "{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['mkdir'], 'action': "
    "'SCMP_ACT_ERRNO'}]}",
    /* every action and operator */
    "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
    "{'names': ['acct'], 'action': 'SCMP_ACT_KILL'},"
    "{'names': ['bpf'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
    "{'names': ['kcmp'], 'action': 'SCMP_ACT_KILL_THREAD'},"
    "{'names': ['iopl'], 'action': 'SCMP_ACT_TRAP'},"
    "{'names': ['ioperm'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 1234},"
    "{'names': ['vhangup'], 'action': 'SCMP_ACT_LOG'},"
    "{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'},"
    "{'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'args': ["
    "{'index': 0, 'value': 1, 'op': 'SCMP_CMP_NE'}, {'index': 1, 'value': 1, 'op': 'SCMP_CMP_LT'},"
    "{'index': 2, 'value': 1, 'op': 'SCMP_CMP_LE'}, {'index': 3, 'value': 1, 'op': 'SCMP_CMP_EQ'},"
    "{'index': 4, 'value': 1, 'op': 'SCMP_CMP_GE'}, {'index': 5, 'value': 1, 'op': "
    "'SCMP_CMP_GT'}]},"
    "{'names': ['umask'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 18, "
    "'valueTwo': 2, 'op': 'SCMP_CMP_MASKED_EQ'}]}],"
    "'listenerPath': '/run/agent.sock', 'listenerMetadata': 'x'}",
  };
  for (size_t i = 0; i < ARRAY_SIZE(good); i++)
    {
      _cleanup_json_ json_object *o = parse_sq(good[i]);
      ASSERT_TRUE(o);
      struct keel_error err = KEEL_ERROR_INIT;
      int r = keel_seccomp_validate(o, &err);
      if (r < 0)
        {
          remove_dir(dir);
          FAIL_AT("profile %zu refused: %s", i, err.msg);
        }
    }
  _cleanup_json_ json_object *def = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(keel_json_parse_file(FIXTURE, &def, &err));
  ASSERT_OK(keel_seccomp_validate(def, &err));
  ASSERT_OK(keel_seccomp_validate(NULL, &err));
  int fd = 7;
  ASSERT_OK(keel_seccomp_load(NULL, &fd, &err));
  ASSERT_EQ(fd, -1);
  remove_dir(dir);
}

/* ---- behaviour, in forked children ---- */

/* Fork; the child runs fn and exits 0 when all its checks held. */
static int
run_child(void (*fn)(void *), void *arg)
{
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      fn(arg);
      _exit(0);
    }
  return wait_child(pid);
}

#define ASSERT_EXITED_OK(status)                                                                   \
  do                                                                                               \
    {                                                                                              \
      int _s = (status);                                                                           \
      if (!WIFEXITED(_s) || WEXITSTATUS(_s) != 0)                                                  \
        FAIL_AT("child status 0x%x (signal %d)", _s, WIFSIGNALED(_s) ? WTERMSIG(_s) : 0);          \
    }                                                                                              \
  while (0)

static void
child_errno(void *dir)
{
  char path[256];
  snprintf(path, sizeof(path), "%s/made", (const char *)dir);
  child_load("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', "
             "'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'], 'syscalls': ["
             "{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO'},"
             "{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38},"
             "{'names': ['getpid'], 'action': 'SCMP_ACT_ALLOW'}]}",
             NULL);
  errno = 0;
  CHILD_CHECK(mkdir(path, 0700) < 0 && errno == EPERM);
  char buf[256];
  CHILD_CHECK(syscall(SYS_getcwd, buf, sizeof(buf)) < 0 && errno == ENOSYS);
  CHILD_CHECK(syscall(SYS_getpid) == getpid());
  CHILD_CHECK(access(path, F_OK) < 0 && errno == ENOENT);
}

TEST(load_errno_rules)
{
  char *dir = fresh_cache();
  int status = run_child(child_errno, dir);
  remove_dir(dir);
  ASSERT_EXITED_OK(status);
}

static void
child_args(void *unused)
{
  child_load("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
             "{'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'args': "
             "[{'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_NE'}]},"
             "{'names': ['getpriority'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 22, 'args': "
             "[{'index': 0, 'value': 15, 'valueTwo': 2, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
             "{'names': ['setpriority'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13, 'args': "
             "[{'index': 2, 'value': 10, 'op': 'SCMP_CMP_GT'}]}]}",
             NULL);
  /* 0xffffffff only queries the personality: allowed */
  CHILD_CHECK(personality(0xffffffff) >= 0);
  errno = 0;
  CHILD_CHECK(personality(PER_LINUX) < 0 && errno == EPERM);
  errno = 0;
  CHILD_CHECK(getpriority(PRIO_PROCESS, 0) != -1 || errno == 0);
  errno = 0;
  CHILD_CHECK(getpriority(PRIO_USER, 0) == -1 && errno == EINVAL);
  CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 5) == 0);
  CHILD_CHECK(setpriority(PRIO_PROCESS, 0, 11) < 0 && errno == EACCES);
}

TEST(load_argument_conditions)
{
  char *dir = fresh_cache();
  int status = run_child(child_args, NULL);
  remove_dir(dir);
  ASSERT_EXITED_OK(status);
}

/* Two conditions on argument 0 are two rules: either one matches. */
static void
child_same_index(void *unused)
{
  child_load("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
             "{'names': ['getpriority'], 'action': 'SCMP_ACT_ERRNO', 'args': ["
             "{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQ'},"
             "{'index': 0, 'value': 2, 'op': 'SCMP_CMP_EQ'}]}]}",
             NULL);
  errno = 0;
  CHILD_CHECK(getpriority(PRIO_PGRP, 0) == -1 && errno == EPERM);
  errno = 0;
  CHILD_CHECK(getpriority(PRIO_USER, 0) == -1 && errno == EPERM);
  errno = 0;
  CHILD_CHECK(getpriority(PRIO_PROCESS, 0) != -1 || errno == 0);
}

TEST(load_same_index_args_become_separate_rules)
{
  char *dir = fresh_cache();
  int status = run_child(child_same_index, NULL);
  remove_dir(dir);
  ASSERT_EXITED_OK(status);
}

static void
child_calls_getppid(void *profile)
{
  child_load(profile, NULL);
  syscall(SYS_getppid);
}

static int
status_after_getppid(const char *action)
{
  char profile[256];
  snprintf(profile, sizeof(profile),
           "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getppid'], "
           "'action': '%s'}]}",
           action);
  return run_child(child_calls_getppid, profile);
}

TEST(load_kill_and_trap_deliver_sigsys)
{
  char *dir = fresh_cache();
  static const char *const deadly[]
      = { "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP" };
  for (size_t i = 0; i < ARRAY_SIZE(deadly); i++)
    {
      int status = status_after_getppid(deadly[i]);
      if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
        {
          remove_dir(dir);
          FAIL_AT("%s: child status 0x%x, wanted death by SIGSYS", deadly[i], status);
        }
    }
  /* LOG lets the call through; so does the default action */
  ASSERT_EXITED_OK(status_after_getppid("SCMP_ACT_LOG"));
  ASSERT_EXITED_OK(status_after_getppid("SCMP_ACT_ALLOW"));
  remove_dir(dir);
}

static void
child_trace(void *unused)
{
  child_load("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getppid'], "
             "'action': 'SCMP_ACT_TRACE', 'errnoRet': 7}]}",
             NULL);
  /* with no tracer attached the kernel fails the call with ENOSYS */
  errno = 0;
  CHILD_CHECK(syscall(SYS_getppid) == -1 && errno == ENOSYS);
}

TEST(load_trace_without_tracer_fails_call)
{
  char *dir = fresh_cache();
  int status = run_child(child_trace, NULL);
  remove_dir(dir);
  ASSERT_EXITED_OK(status);
}

static void
child_default_profile(void *unused)
{
  _cleanup_free_ char *buf = NULL;
  CHILD_CHECK(keel_read_file(AT_FDCWD, FIXTURE, 1 << 20, &buf, NULL) == 0);
  child_load(buf, NULL);
  CHILD_CHECK(syscall(SYS_getpid) == getpid());
  errno = 0;
  CHILD_CHECK(syscall(SYS_acct, NULL) == -1 && errno == EPERM);
  /* not in the profile: the default action, ERRNO(ENOSYS) */
  errno = 0;
  CHILD_CHECK(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0) == -1 && errno == ENOSYS);
  /* socket(AF_NETLINK, *, NETLINK_AUDIT) is refused with EINVAL */
  errno = 0;
  CHILD_CHECK(socket(AF_NETLINK, SOCK_RAW, 9) == -1 && errno == EINVAL);
}

TEST(load_podman_default_profile)
{
  char *dir = fresh_cache();
  int status = run_child(child_default_profile, NULL);
  remove_dir(dir);
  ASSERT_EXITED_OK(status);
}

/* ---- SCMP_ACT_NOTIFY and the listener socket ---- */

struct notify_ctx
{
  char sock[128];
  char profile[512];
};

static void
child_notify(void *arg)
{
  struct notify_ctx *c = arg;
  int fd = -1;
  child_load(c->profile, &fd);
  CHILD_CHECK(fd >= 0);
  char state[256];
  snprintf(state, sizeof(state),
           "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"meta\","
           "\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"t\",\"status\":\"creating\"}}",
           (int)getpid());
  struct keel_error err = KEEL_ERROR_INIT;
  CHILD_CHECK(keel_seccomp_send_listener(c->sock, fd, state, &err) == 0);
  close(fd);
  /* blocks until the agent answers, which it does with 4242 */
  CHILD_CHECK(syscall(SYS_getppid) == 4242);
}

/* The agent's side: take the fd and the state from one connection. */
static int
receive_listener(int lfd, char *state, size_t size)
{
  _cleanup_close_ int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -errno;
  union
  {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = state, .iov_len = size - 1 };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf) };
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0)
    return -EIO;
  state[n] = '\0';
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
    return -EBADMSG;
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
  return fd;
}

static int
answer_one(int notify_fd)
{
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  int r = seccomp_notify_alloc(&req, &resp);
  if (r < 0)
    return r;
  r = seccomp_notify_receive(notify_fd, req);
  if (r == 0 && req->data.nr != SYS_getppid)
    r = -EBADMSG;
  if (r == 0)
    {
      resp->id = req->id;
      resp->val = 4242;
      resp->error = 0;
      resp->flags = 0;
      r = seccomp_notify_respond(notify_fd, resp);
    }
  seccomp_notify_free(req, resp);
  return r;
}

TEST(load_notify_sends_fd_to_listener)
{
  char *dir = fresh_cache();
  ASSERT_TRUE(dir);
  struct notify_ctx c;
  snprintf(c.sock, sizeof(c.sock), "%s/agent.sock", dir);
  snprintf(c.profile, sizeof(c.profile),
           "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '%s', 'listenerMetadata': 'meta', "
           "'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_TSYNC'], "
           "'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}",
           c.sock);
  _cleanup_close_ int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  strcpy(sa.sun_path, c.sock);
  ASSERT_OK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)));
  ASSERT_OK(listen(lfd, 1));
  /* a child that dies before connecting must not hang the test */
  struct timeval tv = { .tv_sec = 20 };
  ASSERT_OK(setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));

  fflush(stdout);
  pid_t pid = fork();
  ASSERT_TRUE(pid >= 0);
  if (pid == 0)
    {
      child_notify(&c);
      _exit(0);
    }
  char state[1024];
  _cleanup_close_ int nfd = receive_listener(lfd, state, sizeof(state));
  int answered = nfd >= 0 ? answer_one(nfd) : nfd;
  /* closing our copy makes a still-waiting child fail with ENOSYS */
  nfd = -1;
  int status = wait_child(pid);
  remove_dir(dir);
  ASSERT_OK(answered);
  ASSERT_CONTAINS(state, "\"fds\":[\"seccompFd\"]");
  ASSERT_CONTAINS(state, "\"metadata\":\"meta\"");
  ASSERT_EXITED_OK(status);
}

TEST(send_listener_reports_unreachable_socket)
{
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_EQ(keel_seccomp_send_listener("/nonexistent/agent.sock", 0, "{}", &err), -ENOENT);
  ASSERT_STREQ(err.msg, "cannot connect to seccomp listener '/nonexistent/agent.sock': No such "
                        "file or directory");
}

/* ---- the compiled-program cache ---- */

#define CACHED_PROFILE                                                                             \
  "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['mkdir', 'mkdirat'], "              \
  "'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13}]}"

/* validate (through the cache) and load, as the runtime does, then check
 * the filter works. */
static void
child_cached(void *dir)
{
  char path[256];
  snprintf(path, sizeof(path), "%s/made", (const char *)dir);
  _cleanup_json_ json_object *o = parse_sq(CACHED_PROFILE);
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_seccomp_validate(o, &err) < 0)
    dprintf(1, "# child: %s\n", err.msg);
  CHILD_CHECK(err.code == 0);
  child_load(CACHED_PROFILE, NULL);
  errno = 0;
  CHILD_CHECK(mkdir(path, 0700) < 0 && errno == EACCES);
}

/* The one cache file in dir: its inode, or 0 when there is not exactly one. */
static ino_t
cache_file(const char *dir, char *ret_path, size_t size)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  struct dirent *de;
  int n = 0;
  ino_t ino = 0;
  while (d && (de = readdir(d)))
    {
      size_t len = strlen(de->d_name);
      if (len < 4 || strcmp(de->d_name + len - 4, ".bpf") != 0)
        continue;
      n++;
      snprintf(ret_path, size, "%s/%s", dir, de->d_name);
      struct stat st;
      ino = stat(ret_path, &st) == 0 ? st.st_ino : 0;
    }
  return n == 1 ? ino : 0;
}

TEST(cache_written_then_hit)
{
  char *dir = fresh_cache();
  char path[512];
  ASSERT_TRUE(dir);
  ASSERT_EQ(cache_file(dir, path, sizeof(path)), 0);
  int s1 = run_child(child_cached, dir);
  ino_t first = cache_file(dir, path, sizeof(path));
  struct stat st;
  int statted = stat(path, &st);
  /* a hit leaves the file alone; a miss would rename a new one in */
  int s2 = run_child(child_cached, dir);
  ino_t second = cache_file(dir, path, sizeof(path));
  remove_dir(dir);
  ASSERT_EXITED_OK(s1);
  ASSERT_NE(first, 0);
  ASSERT_OK(statted);
  ASSERT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EXITED_OK(s2);
  ASSERT_EQ(second, first);
}

TEST(cache_ignores_damaged_or_untrusted_files)
{
  char *dir = fresh_cache();
  char path[512];
  ASSERT_TRUE(dir);
  int s1 = run_child(child_cached, dir);
  ino_t first = cache_file(dir, path, sizeof(path));

  /* one flipped instruction byte: the check fails, it is compiled anew */
  _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
  struct stat st;
  unsigned char byte = 0;
  bool flipped = fd >= 0 && fstat(fd, &st) == 0 && pread(fd, &byte, 1, st.st_size - 4) == 1;
  byte ^= 0x55;
  flipped = flipped && pwrite(fd, &byte, 1, st.st_size - 4) == 1;
  int s2 = run_child(child_cached, dir);
  ino_t second = cache_file(dir, path, sizeof(path));

  /* a file others may write is not trusted either */
  bool chmodded = chmod(path, 0620) == 0;
  int s3 = run_child(child_cached, dir);
  ino_t third = cache_file(dir, path, sizeof(path));
  int mode = stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;

  /* nor is a directory others may write: no hit, no write, still works */
  bool opened = chmod(dir, 0777) == 0;
  int s4 = run_child(child_cached, dir);
  ino_t fourth = cache_file(dir, path, sizeof(path));
  remove_dir(dir);

  ASSERT_EXITED_OK(s1);
  ASSERT_NE(first, 0);
  ASSERT_TRUE(flipped);
  ASSERT_EXITED_OK(s2);
  ASSERT_NE(second, 0);
  ASSERT_NE(second, first);
  ASSERT_TRUE(chmodded);
  ASSERT_EXITED_OK(s3);
  ASSERT_NE(third, second);
  ASSERT_EQ(mode, 0600);
  ASSERT_TRUE(opened);
  ASSERT_EXITED_OK(s4);
  ASSERT_EQ(fourth, third);
}

TEST(cache_key_follows_the_filter_not_the_listener)
{
  char *dir = fresh_cache();
  ASSERT_TRUE(dir);
  static const char *const profiles[] = {
    "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/a', 'listenerMetadata': 'one',"
    "'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}",
    "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/b', 'listenerMetadata': 'two',"
    "'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
    "'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]}",
  };
  struct keel_error err = KEEL_ERROR_INIT;
  int r = 0;
  char path[512];
  for (size_t i = 0; i < ARRAY_SIZE(profiles) && r == 0; i++)
    {
      _cleanup_json_ json_object *o = parse_sq(profiles[i]);
      r = keel_seccomp_validate(o, &err);
    }
  ino_t one = cache_file(dir, path, sizeof(path));
  remove_dir(dir);
  ASSERT_OK(r);
  ASSERT_NE(one, 0);
}

/* ---- speed: the podman default profile, cold and cached ---- */

struct timing
{
  const char *profile;
  int pipe;
};

static int64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
child_timed(void *arg)
{
  struct timing *t = arg;
  CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  _cleanup_json_ json_object *o = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  CHILD_CHECK(keel_json_parse(t->profile, strlen(t->profile), "profile", &o, &err) == 0);
  int fd;
  int64_t t0 = now_ns();
  CHILD_CHECK(keel_seccomp_validate(o, &err) == 0);
  int64_t t1 = now_ns();
  CHILD_CHECK(keel_seccomp_load(o, &fd, &err) == 0);
  int64_t t2 = now_ns();
  int64_t d[2] = { t1 - t0, t2 - t1 };
  CHILD_CHECK(write(t->pipe, d, sizeof(d)) == sizeof(d));
}

static int
cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

#define RUNS 15

/* Median validate and load times over RUNS fresh children; cold removes
 * the cache before each run. */
static int
time_runs(struct timing *t, const char *dir, bool cold, int64_t ret[2])
{
  int64_t v[RUNS], l[RUNS];
  for (int i = 0; i < RUNS; i++)
    {
      char path[512];
      if (cold && cache_file(dir, path, sizeof(path)) != 0)
        unlink(path);
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
      t->pipe = fds[1];
      int status = run_child(child_timed, t);
      int64_t d[2] = { 0, 0 };
      ssize_t n = read(fds[0], d, sizeof(d));
      close(fds[0]);
      close(fds[1]);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != sizeof(d))
        return -EIO;
      v[i] = d[0];
      l[i] = d[1];
    }
  qsort(v, RUNS, sizeof(v[0]), cmp_i64);
  qsort(l, RUNS, sizeof(l[0]), cmp_i64);
  ret[0] = v[RUNS / 2];
  ret[1] = l[RUNS / 2];
  return 0;
}

TEST(speed_default_profile_cold_vs_cached)
{
  char *dir = fresh_cache();
  ASSERT_TRUE(dir);
  _cleanup_free_ char *buf = NULL;
  ASSERT_OK(keel_read_file(AT_FDCWD, FIXTURE, 1 << 20, &buf, NULL));
  struct timing t = { .profile = buf };
  int64_t cold[2], cached[2], none[2];
  int r1 = time_runs(&t, dir, true, cold);
  int r2 = time_runs(&t, dir, false, cached);
  setenv("KEEL_SECCOMP_CACHE_DIR", "", 1);
  int r3 = time_runs(&t, dir, false, none);
  remove_dir(dir);
  ASSERT_OK(r1);
  ASSERT_OK(r2);
  ASSERT_OK(r3);
  printf("# podman default profile, median of %d, validate + load:\n", RUNS);
  printf("#   cold (compile, write cache): %6.0f + %4.0f us\n", cold[0] / 1e3, cold[1] / 1e3);
  printf("#   cached:                      %6.0f + %4.0f us\n", cached[0] / 1e3, cached[1] / 1e3);
  printf("#   no cache dir (compile):      %6.0f + %4.0f us\n", none[0] / 1e3, none[1] / 1e3);
  /* a hit skips libseccomp entirely; anything close to a compile means
   * the cache is not being used */
  ASSERT_TRUE(cached[0] * 2 < none[0]);
}

TEST_MAIN
