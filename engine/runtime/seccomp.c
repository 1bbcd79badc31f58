/* linux.seccomp of the OCI runtime spec.
 *
 * The profile is parsed into a small model, compiled to classic BPF with
 * libseccomp, and installed with seccomp(2) directly rather than through
 * seccomp_load(), for three reasons:
 *
 *  - the compiled program can be cached: building a ~400-syscall filter
 *    costs milliseconds, reading it back costs microseconds;
 *  - every flag the runtime spec lists maps onto a kernel flag, including
 *    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV that libseccomp 2.5 cannot set;
 *  - libseccomp would set no_new_privs on load; whether the container gets
 *    it is process.noNewPrivileges' business, not the filter's.
 *
 * keel_seccomp_validate() runs in the runtime before the container exists:
 * it checks the profile, then compiles it (or reads it from the cache) and
 * keeps the program in memory.  keel_seccomp_load() runs in the container's
 * init, after pivot_root, where the cache directory can no longer be trusted
 * (the rootfs may hold anything at that path): it only ever uses the
 * in-memory program, inherited across clone/fork, or compiles afresh. */
#include "runtime/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define CTX               "linux.seccomp"
#define DEFAULT_CACHE_DIR "/run/keel-runtime/seccomp-cache"
#define MAX_ARCHES        32
/* The kernel clamps SECCOMP_RET_ERRNO data to MAX_ERRNO; refuse rather
 * than silently return a different errno than the one asked for. */
#define MAX_ERRNO_RET 4095
#define MAX_TRACE_RET 65535

enum ret_kind
{
  RET_NONE,
  RET_ERRNO,
  RET_TRACE,
};

static const struct
{
  const char *name;
  uint32_t action;
  enum ret_kind ret;
} actions[] = {
  { "SCMP_ACT_KILL", SCMP_ACT_KILL, RET_NONE },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, RET_NONE },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, RET_NONE },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, RET_NONE },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), RET_ERRNO },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), RET_TRACE },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, RET_NONE },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, RET_NONE },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, RET_NONE },
};

static const struct
{
  const char *name;
  enum scmp_compare op;
} ops[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE },
  { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct
{
  const char *name;
  unsigned int flag;
} filter_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* One syscalls[] entry.  Names point into the JSON document. */
struct rule
{
  uint32_t action;
  size_t nnames;
  const char **names;
  size_t nargs;
  struct scmp_arg_cmp *args;
  /* Two conditions on one argument: libseccomp refuses them in one rule,
   * so, as runc and crun do, each condition becomes a rule of its own. */
  bool split;
};

struct profile
{
  uint32_t default_action;
  size_t narches;
  uint32_t arches[MAX_ARCHES];
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* as given */
  bool notify;        /* some rule uses SCMP_ACT_NOTIFY */
  const char *listener_path;
  size_t nrules;
  struct rule *rules;
};

/* A compiled program and the canonical model it was compiled from. */
struct program
{
  uint64_t hash;
  char *model;
  size_t model_len;
  struct sock_filter *insns;
  size_t ninsns;
};

/* What keel_seccomp_validate() compiled, for keel_seccomp_load() in the
 * same process or a clone of it. */
static struct program prepared;

static void
profile_done(struct profile *p)
{
  for (size_t i = 0; i < p->nrules; i++)
    {
      free(p->rules[i].names);
      free(p->rules[i].args);
    }
  free(p->rules);
}

static void
program_done(struct program *p)
{
  free(p->model);
  free(p->insns);
  *p = (struct program){ 0 };
}

static int
required(int r, struct keel_error *err, const char *ctx, const char *key)
{
  if (r == 0)
    return keel_error_set(err, -EINVAL, "%s.%s: required", ctx, key);
  return r;
}

/* action (string) and its errno field (errnoRet / defaultErrnoRet) of obj. */
static int
parse_action(json_object *obj, const char *ctx, const char *akey, const char *ekey, uint32_t *ret,
             struct keel_error *err)
{
  const char *name = NULL;
  int r = required(keel_json_get_string(obj, akey, ctx, &name, err), err, ctx, akey);
  if (r < 0)
    return r;
  size_t i;
  for (i = 0; i < ARRAY_SIZE(actions); i++)
    if (strcmp(actions[i].name, name) == 0)
      break;
  if (i == ARRAY_SIZE(actions))
    return keel_error_set(err, -EINVAL, "%s.%s: unknown action '%s'", ctx, akey, name);

  int64_t eret = EPERM;
  int64_t max = actions[i].ret == RET_TRACE ? MAX_TRACE_RET : MAX_ERRNO_RET;
  r = keel_json_get_int(obj, ekey, ctx, 0, max, &eret, err);
  if (r < 0)
    return r;
  if (r > 0 && actions[i].ret == RET_NONE)
    return keel_error_set(err, -EINVAL, "%s.%s: %s takes no errno", ctx, ekey, name);
  *ret = actions[i].ret == RET_NONE ? actions[i].action : actions[i].action | (uint32_t)eret;
  return 0;
}

static int
parse_arch(const char *name, uint32_t *ret)
{
  static const char prefix[] = "SCMP_ARCH_";
  char lower[32];
  size_t n = strlen(name);
  if (n <= sizeof(prefix) - 1 || n - (sizeof(prefix) - 1) >= sizeof(lower)
      || strncmp(name, prefix, sizeof(prefix) - 1) != 0)
    return -EINVAL;
  /* libseccomp names architectures in lower case without the prefix. */
  for (size_t i = sizeof(prefix) - 1; i <= n; i++)
    lower[i - (sizeof(prefix) - 1)]
        = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
  uint32_t token = seccomp_arch_resolve_name(lower);
  if (token == 0)
    return -EINVAL;
  *ret = token;
  return 0;
}

static int
parse_arches(json_object *seccomp, struct profile *p, struct keel_error *err)
{
  _cleanup_strv_ char **names = NULL;
  int r = keel_json_get_strv(seccomp, "architectures", CTX, &names, err);
  if (r <= 0)
    return r;
  for (size_t i = 0; names[i]; i++)
    {
      uint32_t token;
      if (parse_arch(names[i], &token) < 0)
        return keel_error_set(err, -EINVAL, CTX ".architectures[%zu]: unknown architecture '%s'", i,
                              names[i]);
      bool dup = false;
      for (size_t j = 0; j < p->narches; j++)
        dup |= p->arches[j] == token;
      /* libseccomp knows fewer than MAX_ARCHES, so after de-duplication this
       * cannot overflow; the check keeps it that way if it ever grows. */
      if (!dup && p->narches == MAX_ARCHES)
        return keel_error_set(err, -E2BIG, CTX ".architectures: too many architectures");
      if (!dup)
        p->arches[p->narches++] = token;
    }
  return 0;
}

static int
parse_flags(json_object *seccomp, struct profile *p, struct keel_error *err)
{
  _cleanup_strv_ char **names = NULL;
  int r = keel_json_get_strv(seccomp, "flags", CTX, &names, err);
  if (r <= 0)
    return r;
  for (size_t i = 0; names[i]; i++)
    {
      size_t k;
      for (k = 0; k < ARRAY_SIZE(filter_flags); k++)
        if (strcmp(filter_flags[k].name, names[i]) == 0)
          break;
      if (k == ARRAY_SIZE(filter_flags))
        return keel_error_set(err, -EINVAL, CTX ".flags[%zu]: unknown flag '%s'", i, names[i]);
      p->flags |= filter_flags[k].flag;
    }
  return 0;
}

static int
parse_arg(json_object *arg, const char *ctx, struct scmp_arg_cmp *ret, struct keel_error *err)
{
  if (!json_object_is_type(arg, json_type_object))
    return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
  int64_t index;
  int r = keel_json_get_int(arg, "index", ctx, 0, 5, &index, err);
  if (r == -ERANGE)
    return keel_error_set(err, -EINVAL, "%s.index: syscalls have arguments 0 to 5 only", ctx);
  if ((r = required(r, err, ctx, "index")) < 0)
    return r;
  uint64_t value, value_two = 0;
  if ((r = required(keel_json_get_uint64(arg, "value", ctx, &value, err), err, ctx, "value")) < 0)
    return r;
  if ((r = keel_json_get_uint64(arg, "valueTwo", ctx, &value_two, err)) < 0)
    return r;
  const char *op = NULL;
  if ((r = required(keel_json_get_string(arg, "op", ctx, &op, err), err, ctx, "op")) < 0)
    return r;
  size_t k;
  for (k = 0; k < ARRAY_SIZE(ops); k++)
    if (strcmp(ops[k].name, op) == 0)
      break;
  if (k == ARRAY_SIZE(ops))
    return keel_error_set(err, -EINVAL, "%s.op: unknown operator '%s'", ctx, op);
  /* For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the datum,
   * which is the order libseccomp takes them in. */
  *ret = (struct scmp_arg_cmp){
    .arg = (unsigned int)index, .op = ops[k].op, .datum_a = value, .datum_b = value_two
  };
  return 0;
}

static int
parse_args(json_object *entry, const char *ctx, struct rule *rule, struct keel_error *err)
{
  json_object *arr;
  int r = keel_json_get_array(entry, "args", ctx, &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  if (n == 0)
    return 0;
  rule->args = calloc(n, sizeof(*rule->args));
  if (!rule->args)
    return keel_error_set(err, -ENOMEM, "out of memory");
  unsigned int seen = 0;
  for (size_t i = 0; i < n; i++)
    {
      char actx[96];
      snprintf(actx, sizeof(actx), "%s.args[%zu]", ctx, i);
      r = parse_arg(json_object_array_get_idx(arr, i), actx, &rule->args[i], err);
      if (r < 0)
        return r;
      unsigned int bit = 1u << rule->args[i].arg;
      rule->split |= (seen & bit) != 0;
      seen |= bit;
    }
  rule->nargs = n;
  return 0;
}

static int
parse_names(json_object *entry, const char *ctx, struct rule *rule, struct keel_error *err)
{
  json_object *arr;
  int r = required(keel_json_get_array(entry, "names", ctx, &arr, err), err, ctx, "names");
  if (r < 0)
    return r;
  size_t n = json_object_array_length(arr);
  if (n == 0)
    return keel_error_set(err, -EINVAL, "%s.names: must name at least one syscall", ctx);
  rule->names = calloc(n, sizeof(*rule->names));
  if (!rule->names)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *v = json_object_array_get_idx(arr, i);
      if (!json_object_is_type(v, json_type_string))
        return keel_error_set(err, -EINVAL, "%s.names[%zu]: expected a string", ctx, i);
      rule->names[i] = json_object_get_string(v);
    }
  rule->nnames = n;
  return 0;
}

static int
parse_rules(json_object *seccomp, struct profile *p, struct keel_error *err)
{
  json_object *arr;
  int r = keel_json_get_array(seccomp, "syscalls", CTX, &arr, err);
  if (r <= 0)
    return r;
  size_t n = json_object_array_length(arr);
  p->rules = calloc(n ? n : 1, sizeof(*p->rules));
  if (!p->rules)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      json_object *entry = json_object_array_get_idx(arr, i);
      struct rule *rule = &p->rules[p->nrules++];
      char ctx[64];
      snprintf(ctx, sizeof(ctx), CTX ".syscalls[%zu]", i);
      if (!json_object_is_type(entry, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
      if ((r = parse_names(entry, ctx, rule, err)) < 0)
        return r;
      if ((r = parse_action(entry, ctx, "action", "errnoRet", &rule->action, err)) < 0)
        return r;
      if ((r = parse_args(entry, ctx, rule, err)) < 0)
        return r;
      p->notify |= rule->action == SCMP_ACT_NOTIFY;
    }
  return 0;
}

static int
parse_listener(json_object *seccomp, struct profile *p, struct keel_error *err)
{
  const char *metadata = NULL;
  int r = keel_json_get_string(seccomp, "listenerPath", CTX, &p->listener_path, err);
  if (r < 0 || (r = keel_json_get_string(seccomp, "listenerMetadata", CTX, &metadata, err)) < 0)
    return r;
  if (p->listener_path && !*p->listener_path)
    p->listener_path = NULL;
  if (p->listener_path && strlen(p->listener_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
    return keel_error_set(err, -ENAMETOOLONG, CTX ".listenerPath: '%s' is too long for a socket",
                          p->listener_path);
  if (metadata && *metadata && !p->listener_path)
    return keel_error_set(err, -EINVAL, CTX ".listenerMetadata: set without listenerPath");
  /* A notifying filter with nobody listening blocks the container; a
   * listener with nothing to hear is almost certainly a broken profile. */
  if (p->notify && !p->listener_path)
    return keel_error_set(err, -EINVAL,
                          CTX ".listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
  if (!p->notify && p->listener_path)
    return keel_error_set(err, -EINVAL, CTX ".listenerPath: set but no rule uses SCMP_ACT_NOTIFY");
  return 0;
}

/* Everything but syscall name resolution, which compile() does. */
static int
parse_profile(json_object *seccomp, struct profile *p, struct keel_error *err)
{
  int r;
  *p = (struct profile){ 0 };
  if (!json_object_is_type(seccomp, json_type_object))
    return keel_error_set(err, -EINVAL, CTX ": expected an object");
  if ((r = parse_action(seccomp, CTX, "defaultAction", "defaultErrnoRet", &p->default_action, err))
      < 0)
    return r;
  /* Every syscall the runtime makes between load and execve would wait
   * for an agent that has not been told about the filter yet. */
  if (p->default_action == SCMP_ACT_NOTIFY)
    return keel_error_set(err, -EINVAL,
                          CTX ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  if ((r = parse_arches(seccomp, p, err)) < 0 || (r = parse_flags(seccomp, p, err)) < 0
      || (r = parse_rules(seccomp, p, err)) < 0 || (r = parse_listener(seccomp, p, err)) < 0)
    return r;
  return 0;
}

/* ---- canonical model: what the BPF program depends on, and nothing else ---- */

struct buf
{
  char *p;
  size_t len, cap;
  bool oom;
};

static void
put(struct buf *b, const void *data, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap * 2 : 4096;
      while (cap < b->len + n)
        cap *= 2;
      char *np = realloc(b->p, cap);
      if (!np)
        {
          b->oom = true;
          return;
        }
      b->p = np;
      b->cap = cap;
    }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void
put_u64(struct buf *b, uint64_t v)
{
  put(b, &v, sizeof(v));
}

/* The model covers the default action, the architectures, every rule, the
 * libseccomp version and the native architecture.  Flags, listenerPath and
 * listenerMetadata do not change the program and are left out, so that a
 * per-container metadata string does not defeat the cache. */
static int
encode_model(const struct profile *p, char **ret, size_t *ret_len)
{
  static const char magic[] = "keel-seccomp-model-1";
  struct buf b = { 0 };
  const struct scmp_version *v = seccomp_version();
  put(&b, magic, sizeof(magic));
  put_u64(&b, ((uint64_t)v->major << 32) | (v->minor << 16) | v->micro);
  put_u64(&b, seccomp_arch_native());
  put_u64(&b, p->default_action);
  put_u64(&b, p->narches);
  for (size_t i = 0; i < p->narches; i++)
    put_u64(&b, p->arches[i]);
  put_u64(&b, p->nrules);
  for (size_t i = 0; i < p->nrules; i++)
    {
      const struct rule *r = &p->rules[i];
      put_u64(&b, r->action);
      put_u64(&b, r->nargs);
      for (size_t j = 0; j < r->nargs; j++)
        {
          put_u64(&b, ((uint64_t)r->args[j].arg << 32) | r->args[j].op);
          put_u64(&b, r->args[j].datum_a);
          put_u64(&b, r->args[j].datum_b);
        }
      put_u64(&b, r->nnames);
      for (size_t j = 0; j < r->nnames; j++)
        put(&b, r->names[j], strlen(r->names[j]) + 1);
    }
  if (b.oom)
    {
      free(b.p);
      return -ENOMEM;
    }
  *ret = b.p;
  *ret_len = b.len;
  return 0;
}

/* A 64-bit multiply-xorshift hash over 8-byte words (FNV-1a's
 * byte-at-a-time chain cost ~25 us per cached load).  Not a cryptographic
 * hash, and it need not be: it only names the cache file, whose content
 * carries the whole model and is compared byte for byte before use, so a
 * collision is a cache miss, never a wrong filter.  Linking libcrypto for
 * sha256 instead cost ~0.9 ms per exec of the runtime on the development
 * machine. */
static uint64_t
hash64(const void *data, size_t n, uint64_t h)
{
  const unsigned char *s = data;
  for (; n >= 8; s += 8, n -= 8)
    {
      uint64_t w;
      memcpy(&w, s, 8);
      h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
      h ^= h >> 29;
    }
  for (; n > 0; s++, n--)
    {
      h = (h ^ *s) * 0x100000001b3ULL;
      h ^= h >> 29;
    }
  return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

/* ---- compilation through libseccomp ---- */

static void
seccomp_releasep(scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release(*ctx);
}

static int
add_rule(scmp_filter_ctx ctx, const struct profile *p, size_t i, struct keel_error *err)
{
  const struct rule *rule = &p->rules[i];
  for (size_t j = 0; j < rule->nnames; j++)
    {
      /* libseccomp gives every syscall it knows a number on every
       * architecture (a negative pseudo number where the syscall does not
       * exist), so a name it cannot resolve natively is unknown everywhere.
       * Such a name is refused: runc and crun skip it silently, which turns
       * a typo into the default action without a word.  The default
       * profile of containers-common in Debian 12 resolves completely. */
      int nr = seccomp_syscall_resolve_name(rule->names[j]);
      if (nr == __NR_SCMP_ERROR)
        return keel_error_set(err, -EINVAL, CTX ".syscalls[%zu].names[%zu]: unknown syscall '%s'",
                              i, j, rule->names[j]);
      /* libseccomp refuses a rule that repeats the default action; it
       * would change nothing anyway. */
      if (rule->action == p->default_action)
        continue;
      int r = 0;
      if (!rule->split)
        r = seccomp_rule_add_array(ctx, rule->action, nr, (unsigned int)rule->nargs, rule->args);
      for (size_t k = 0; rule->split && r == 0 && k < rule->nargs; k++)
        r = seccomp_rule_add_array(ctx, rule->action, nr, 1, &rule->args[k]);
      if (r < 0)
        return keel_error_set_errno(err, r, CTX ".syscalls[%zu]: cannot add a rule for '%s'", i,
                                    rule->names[j]);
    }
  return 0;
}

static int
export_bpf(scmp_filter_ctx ctx, struct program *prog, struct keel_error *err)
{
  _cleanup_close_ int fd = memfd_create("keel-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create a memfd for the seccomp filter");
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0)
    return keel_error_set_errno(err, r, CTX ": cannot generate the BPF program");
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0)
    return keel_error_set_errno(err, -errno, CTX ": cannot read the BPF program");
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return keel_error_set(err, -EIO, CTX ": libseccomp produced a %lld-byte program",
                          (long long)size);
  size_t n = (size_t)size / sizeof(struct sock_filter);
  /* The kernel refuses longer programs; say so here, before anything runs. */
  if (n > BPF_MAXINSNS)
    return keel_error_set(err, -E2BIG,
                          CTX ": filter compiles to %zu BPF instructions, the kernel takes %d", n,
                          BPF_MAXINSNS);
  prog->insns = malloc((size_t)size);
  if (!prog->insns)
    return keel_error_set(err, -ENOMEM, "out of memory");
  if (pread(fd, prog->insns, (size_t)size, 0) != size)
    return keel_error_set_errno(err, -EIO, CTX ": cannot read the BPF program");
  prog->ninsns = n;
  return 0;
}

static int
compile(const struct profile *p, bool tree, struct program *prog, struct keel_error *err)
{
  _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(p->default_action);
  if (!ctx)
    return keel_error_set(err, -EINVAL,
                          CTX ".defaultAction: not supported by libseccomp or the "
                              "kernel");
  int r;
  /* A binary tree of syscall numbers rather than a linear chain takes
   * longer to build (29 ms instead of 18 ms for the podman default
   * profile) but the kernel installs it 2.5x faster (0.65 ms instead of
   * 1.7 ms: at attach time it emulates the filter for every syscall number
   * to fill its action cache), and every filtered syscall runs O(log n) of
   * it.  Worth it when the program is cached, not when built per start. */
  if (tree)
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; i < p->narches; i++)
    if (seccomp_arch_exist(ctx, p->arches[i]) == -EEXIST
        && (r = seccomp_arch_add(ctx, p->arches[i])) < 0)
      return keel_error_set_errno(err, r, CTX ".architectures: cannot add architecture 0x%x",
                                  p->arches[i]);
  for (size_t i = 0; i < p->nrules; i++)
    if ((r = add_rule(ctx, p, i, err)) < 0)
      return r;
  return export_bpf(ctx, prog, err);
}

/* ---- the compiled-program cache ----
 *
 * One file per model: a header, the model, the instructions.  The cache
 * directory and its files must belong to us and be writable by nobody
 * else; anything odd is a miss, never an error: the cache only saves time. */

struct cache_header
{
  char magic[8];
  uint64_t check; /* hash64 over model and instructions: catches torn files */
  uint32_t model_len;
  uint32_t ninsns;
};

static const char cache_magic[8] = "KEELBPF1";

static bool
trusted(const struct stat *st)
{
  return st->st_uid == geteuid() && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* $KEEL_SECCOMP_CACHE_DIR (empty: no cache), else /run/keel-runtime/seccomp-cache
 * for root, else $XDG_RUNTIME_DIR/keel-runtime/seccomp-cache. */
static int
cache_dir_open(void)
{
  char path[PATH_MAX];
  const char *env = secure_getenv("KEEL_SECCOMP_CACHE_DIR");
  const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
  int n;
  if (env)
    n = snprintf(path, sizeof(path), "%s", env);
  else if (geteuid() == 0)
    n = snprintf(path, sizeof(path), "%s", DEFAULT_CACHE_DIR);
  else if (xdg && *xdg == '/')
    n = snprintf(path, sizeof(path), "%s/keel-runtime/seccomp-cache", xdg);
  else
    return -ENOENT;
  if (n <= 0 || (size_t)n >= sizeof(path))
    return -ENOENT;

  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && keel_mkdir_p(path, 0700) == 0)
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) < 0 || !trusted(&st))
    {
      close(fd);
      return -EPERM;
    }
  return fd;
}

static uint64_t
program_check(const struct program *prog)
{
  uint64_t h = hash64(prog->model, prog->model_len, HASH_SEED);
  return hash64(prog->insns, prog->ninsns * sizeof(struct sock_filter), h);
}

/* 1 and prog->insns filled on a hit whose model equals prog->model, else 0. */
static int
cache_read(int dirfd, const char *name, struct program *prog)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !trusted(&st))
    return 0;
  size_t head = sizeof(struct cache_header) + prog->model_len;
  size_t size = (size_t)st.st_size;
  if (size <= head || size - head > BPF_MAXINSNS * sizeof(struct sock_filter)
      || (size - head) % sizeof(struct sock_filter) != 0)
    return 0;
  _cleanup_free_ char *data = malloc(size);
  if (!data || keel_read_all(fd, data, size) != (ssize_t)size)
    return 0;
  struct cache_header h;
  memcpy(&h, data, sizeof(h));
  size_t ninsns = (size - head) / sizeof(struct sock_filter);
  if (memcmp(h.magic, cache_magic, sizeof(h.magic)) != 0 || h.model_len != prog->model_len
      || h.ninsns != ninsns || memcmp(data + sizeof(h), prog->model, prog->model_len) != 0)
    return 0;
  prog->insns = malloc(size - head);
  if (!prog->insns)
    return 0;
  memcpy(prog->insns, data + head, size - head);
  prog->ninsns = ninsns;
  if (program_check(prog) != h.check)
    {
      free(prog->insns);
      prog->insns = NULL;
      prog->ninsns = 0;
      return 0;
    }
  return 1;
}

static int
cache_write(int dirfd, const char *name, const struct program *prog)
{
  struct cache_header h = { .check = program_check(prog),
                            .model_len = (uint32_t)prog->model_len,
                            .ninsns = (uint32_t)prog->ninsns };
  memcpy(h.magic, cache_magic, sizeof(h.magic));
  struct buf b = { 0 };
  put(&b, &h, sizeof(h));
  put(&b, prog->model, prog->model_len);
  put(&b, prog->insns, prog->ninsns * sizeof(struct sock_filter));
  int r = b.oom ? -ENOMEM : keel_write_file_replace(dirfd, name, b.p, b.len, 0600);
  free(b.p);
  return r;
}

static bool
program_matches(const struct program *a, const struct program *b)
{
  return a->insns && a->hash == b->hash && a->model_len == b->model_len
         && memcmp(a->model, b->model, b->model_len) == 0;
}

static int
model_of(const struct profile *p, struct program *prog, struct keel_error *err)
{
  if (encode_model(p, &prog->model, &prog->model_len) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  prog->hash = hash64(prog->model, prog->model_len, HASH_SEED);
  return 0;
}

/* Make `prepared` hold the program for p: from memory, the cache, or libseccomp. */
static int
prepare(const struct profile *p, struct keel_error *err)
{
  _cleanup_(program_done) struct program prog = { 0 };
  int r = model_of(p, &prog, err);
  if (r < 0)
    return r;
  if (program_matches(&prepared, &prog))
    return 0;
  _cleanup_close_ int dirfd = cache_dir_open();
  char name[32];
  snprintf(name, sizeof(name), "%016" PRIx64 ".bpf", prog.hash);
  if (dirfd < 0 || cache_read(dirfd, name, &prog) == 0)
    {
      if ((r = compile(p, dirfd >= 0, &prog, err)) < 0)
        return r;
      if (dirfd >= 0)
        (void)cache_write(dirfd, name, &prog);
    }
  program_done(&prepared);
  prepared = prog;
  prog = (struct program){ 0 };
  return 0;
}

/* ---- installing the program ---- */

static unsigned int
kernel_flags(const struct profile *p)
{
  unsigned int f = p->flags;
  if (p->notify)
    {
      f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
      /* The kernel takes TSYNC with NEW_LISTENER only in this form. */
      if (f & SECCOMP_FILTER_FLAG_TSYNC)
        f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
  else
    /* Meaningless without a listener, and refused by the kernel. */
    f &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  return f;
}

/* Ask the kernel whether it takes these flags: with a NULL program,
 * seccomp(2) fails with EFAULT only once the flags have passed. */
static int
check_flags(const struct profile *p, struct keel_error *err)
{
  unsigned int f = kernel_flags(p);
  if (f == 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f, NULL) == 0 || errno == EFAULT)
    return 0;
  if (errno == ENOSYS)
    return keel_error_set(err, -ENOSYS, CTX ".flags: the kernel lacks seccomp(2)");
  return keel_error_set_errno(err, -errno, CTX ".flags: not supported by this kernel");
}

static int
install(const struct program *prog, unsigned int flags, int *ret_fd, struct keel_error *err)
{
  struct sock_fprog fprog = { .len = (unsigned short)prog->ninsns, .filter = prog->insns };
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (r < 0 && errno == ENOSYS && flags == 0)
    r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
  if (r < 0 && errno == EACCES)
    return keel_error_set_errno(err, -EACCES,
                                "cannot load the seccomp filter without "
                                "no_new_privs or CAP_SYS_ADMIN");
  if (r < 0)
    return keel_error_set_errno(err, -errno, "cannot load the seccomp filter");
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
    *ret_fd = (int)r;
  else if (r > 0)
    /* TSYNC names the thread it could not synchronise. */
    return keel_error_set(err, -EAGAIN, "cannot load the seccomp filter: thread %ld did not sync",
                          r);
  return 0;
}

/* ---- public ---- */

int
keel_seccomp_validate(json_object *seccomp, struct keel_error *err)
{
  _cleanup_(profile_done) struct profile p = { 0 };
  if (!seccomp)
    return 0;
  int r = parse_profile(seccomp, &p, err);
  if (r < 0 || (r = check_flags(&p, err)) < 0)
    return r;
  return prepare(&p, err);
}

int
keel_seccomp_load(json_object *seccomp, int *ret_notify_fd, struct keel_error *err)
{
  _cleanup_(profile_done) struct profile p = { 0 };
  _cleanup_(program_done) struct program fresh = { 0 };
  *ret_notify_fd = -1;
  if (!seccomp)
    return 0;
  int r = parse_profile(seccomp, &p, err);
  if (r < 0 || (r = model_of(&p, &fresh, err)) < 0)
    return r;
  const struct program *prog = &prepared;
  /* Without a prepared program, compile here and leave the cache alone:
   * after pivot_root its path lies inside the container's rootfs. */
  if (!program_matches(&prepared, &fresh))
    {
      if ((r = compile(&p, false, &fresh, err)) < 0)
        return r;
      prog = &fresh;
    }
  return install(prog, kernel_flags(&p), ret_notify_fd, err);
}

int
keel_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                           struct keel_error *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(listener_path) >= sizeof(sa.sun_path))
    return keel_error_set(err, -ENAMETOOLONG, "seccomp listener '%s': path too long",
                          listener_path);
  strcpy(sa.sun_path, listener_path);
  _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return keel_error_set_errno(err, -errno, "cannot create a socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return keel_error_set_errno(err, -errno, "cannot connect to seccomp listener '%s'",
                                listener_path);

  size_t len = strlen(state_json);
  union
  {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control = { 0 };
  struct iovec iov = { .iov_base = (void *)state_json, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = control.buf,
                        .msg_controllen = sizeof(control.buf) };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));

  ssize_t n;
  do
    n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return keel_error_set_errno(err, -errno, "cannot send to seccomp listener '%s'", listener_path);
  /* The fd went with the first bytes; the spec allows the rest to follow
   * in further messages without it. */
  for (size_t off = (size_t)n; off < len; off += (size_t)n)
    {
      n = send(fd, state_json + off, len - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        n = 0;
      else if (n < 0)
        return keel_error_set_errno(err, -errno, "cannot send to seccomp listener '%s'",
                                    listener_path);
    }
  return 0;
}
