/* cgroup v2 device control: the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup (kernel docs, cgroup-v2 "Device
 * controller").  We generate that program from the same rules v1 gets.
 *
 * Semantics: the last rule that matches a device decides, per access bit.
 * The rules are walked from the last to the first; r3 holds the access
 * bits still undecided.  An allow rule that matches clears its bits (all
 * clear: allow); a deny rule that matches any undecided bit denies.  What
 * no rule decides is denied.  This equals "last match wins" for every
 * request, including a request for "rw" where "r" and "w" were granted by
 * different rules. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "lib/cleanup.h"
#include "runtime/cgroup-internal.h"

/* Registers after the prologue: r2 device type, r3 undecided access bits,
 * r4 major, r5 minor; r1 is scratch. */
enum
{
  R0,
  R1,
  R2,
  R3,
  R4,
  R5
};

struct prog
{
  struct bpf_insn *insn;
  size_t n, cap;
};

static int
emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->n == p->cap)
    {
      size_t cap = p->cap ? p->cap * 2 : 64;
      struct bpf_insn *ni = realloc(p->insn, cap * sizeof(*ni));
      if (!ni)
        return -ENOMEM;
      p->insn = ni;
      p->cap = cap;
    }
  p->insn[p->n++]
      = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
  return 0;
}

static int
emit_return(struct prog *p, int v)
{
  int r = emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, v);
  return r < 0 ? r : emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int
emit_prologue(struct prog *p)
{
  int r;
  if ((r = emit(p, BPF_LDX | BPF_W | BPF_MEM, R2, R1,
                offsetof(struct bpf_cgroup_dev_ctx, access_type), 0))
          < 0
      || (r = emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0)) < 0
      || (r = emit(p, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16)) < 0
      || (r = emit(p, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff)) < 0
      || (r = emit(p, BPF_LDX | BPF_W | BPF_MEM, R4, R1, offsetof(struct bpf_cgroup_dev_ctx, major),
                   0))
             < 0
      || (r = emit(p, BPF_LDX | BPF_W | BPF_MEM, R5, R1, offsetof(struct bpf_cgroup_dev_ctx, minor),
                   0))
             < 0)
    return r;
  return 0;
}

/* One rule; jumps that skip to the next rule are patched once the block's
 * length is known.  *final is set when the rule decides every request. */
static int
emit_rule(struct prog *p, const struct cg_dev_rule *rule, bool *final)
{
  size_t skips[4], ns = 0, start = p->n;
  int r = 0;
  bool any_dev = rule->type == 'a' && rule->major < 0 && rule->minor < 0;
  if (any_dev && rule->access == 7)
    {
      *final = true;
      return emit_return(p, rule->allow ? 1 : 0);
    }
  if (rule->type != 'a')
    {
      int t = rule->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
      skips[ns++] = p->n;
      r = emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R2, 0, 0, t);
    }
  if (r == 0 && rule->major >= 0)
    {
      skips[ns++] = p->n;
      r = emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R4, 0, 0, (int32_t)(uint32_t)rule->major);
    }
  if (r == 0 && rule->minor >= 0)
    {
      skips[ns++] = p->n;
      r = emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R5, 0, 0, (int32_t)(uint32_t)rule->minor);
    }
  if (r == 0 && rule->allow)
    {
      r = emit(p, BPF_ALU | BPF_AND | BPF_K, R3, 0, 0, (int32_t)~rule->access);
      skips[ns++] = p->n;
      r = r ?: emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R3, 0, 0, 0);
      r = r ?: emit_return(p, 1);
    }
  else if (r == 0)
    {
      r = emit(p, BPF_ALU | BPF_MOV | BPF_X, R1, R3, 0, 0);
      r = r ?: emit(p, BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, (int32_t)rule->access);
      skips[ns++] = p->n;
      r = r ?: emit(p, BPF_JMP32 | BPF_JEQ | BPF_K, R1, 0, 0, 0);
      r = r ?: emit_return(p, 0);
    }
  if (r < 0)
    return r;
  if (p->n - start > INT16_MAX)
    return -E2BIG;
  for (size_t i = 0; i < ns; i++)
    p->insn[skips[i]].off = (int16_t)(p->n - (skips[i] + 1));
  return 0;
}

int
cg_bpf_build(const struct cg_dev_rule *rules, size_t n, struct bpf_insn **ret, size_t *ret_n)
{
  struct prog p = { 0 };
  bool final = false;
  int r = emit_prologue(&p);
  for (size_t i = n; r == 0 && i > 0 && !final; i--)
    r = emit_rule(&p, &rules[i - 1], &final);
  if (r == 0 && !final)
    r = emit_return(&p, 0);
  if (r < 0)
    {
      free(p.insn);
      return r;
    }
  *ret = p.insn;
  *ret_n = p.n;
  return 0;
}

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
  long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
  return r < 0 ? -errno : (int)r;
}

static int
load(const struct bpf_insn *insn, size_t n, struct keel_error *err)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insn;
  a.insn_cnt = (uint32_t)n;
  a.license = (uint64_t)(uintptr_t) "GPL";
  int fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return fd;
  if (fd != -EINVAL && fd != -EACCES)
    return keel_error_set_errno(err, fd, "cannot load the eBPF device filter");
  /* Only a refused program is worth the verifier's log. */
  char log[1024] = "";
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = sizeof(log);
  a.log_level = 1;
  int r = sys_bpf(BPF_PROG_LOAD, &a);
  if (r >= 0)
    return r;
  log[sizeof(log) - 1] = '\0';
  return keel_error_set_errno(err, r, "the kernel refused the eBPF device filter (%s)",
                              log[0] ? log : "no verifier log");
}

static int
prog_id(int fd, uint32_t *ret)
{
  struct bpf_prog_info info;
  union bpf_attr a;
  memset(&info, 0, sizeof(info));
  memset(&a, 0, sizeof(a));
  a.info.bpf_fd = (uint32_t)fd;
  a.info.info_len = sizeof(info);
  a.info.info = (uint64_t)(uintptr_t)&info;
  int r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
  if (r < 0)
    return r;
  *ret = info.id;
  return 0;
}

/* Detach the program we attached earlier (keel-runtime update).  Another
 * process attached it, so its fd comes from its id.  Gone is fine. */
static int
detach_id(int cgfd, uint32_t id)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_id = id;
  _cleanup_close_ int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0)
    return fd == -ENOENT ? 0 : fd;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  int r = sys_bpf(BPF_PROG_DETACH, &a);
  return r == -ENOENT ? 0 : r;
}

int
cg_bpf_apply(const char *dir, const struct cg_dev_rule *rules, size_t n, uint32_t old_id,
             uint32_t *ret_id, struct keel_error *err)
{
  _cleanup_free_ struct bpf_insn *insn = NULL;
  size_t ninsn;
  int r = cg_bpf_build(rules, n, &insn, &ninsn);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot build the eBPF device filter");
  _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return keel_error_set_errno(err, -errno, "cannot open cgroup '%s'", dir);
  _cleanup_close_ int fd = load(insn, ninsn, err);
  if (fd < 0)
    return fd;
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  /* MULTI: programs of the parents (systemd's, an outer runtime's) keep
   * running too, and every one must allow. */
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if ((r = sys_bpf(BPF_PROG_ATTACH, &a)) < 0)
    return keel_error_set_errno(err, r, "cannot attach the eBPF device filter to '%s'", dir);
  if ((r = prog_id(fd, ret_id)) < 0)
    return keel_error_set_errno(err, r, "cannot read the eBPF device filter's id");
  /* The new filter is in place before the old one goes: in between, both
   * must allow, so the window is never wider than either policy. */
  if (old_id && old_id != *ret_id && (r = detach_id(cgfd, old_id)) < 0)
    return keel_error_set_errno(err, r, "cannot detach the previous eBPF device filter %u", old_id);
  return 0;
}
