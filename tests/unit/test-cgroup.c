/* runtime/cgroup: conversions, paths, the resource plan and its refusals,
 * the eBPF device filter (run through a small interpreter here, and in the
 * kernel when root), and real cgroups on this host when root. */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "runtime/cgroup-internal.h"
#include "runtime/cgroup-sdbus.h"
#include "runtime/cgroup.h"

static json_object *
parse(const char *s)
{
  json_object *o = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_json_parse(s, strlen(s), "test", &o, &err) < 0)
    {
      printf("# bad test JSON: %s\n", err.msg);
      return NULL;
    }
  return o;
}

/* ---- pure conversions ---- */

TEST(shares_to_weight)
{
  static const struct
  {
    uint64_t in, out;
  } t[] = { { 0, 0 }, { 2, 1 }, { 1024, 39 }, { 262144, 10000 }, { 512, 20 }, { 1, 1 } };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    ASSERT_EQ(cg_shares_to_weight(t[i].in), t[i].out);
}

TEST(blkio_weight_to_io_weight)
{
  static const struct
  {
    uint64_t in, out;
  } t[] = { { 0, 0 }, { 10, 1 }, { 500, 4950 }, { 1000, 10000 }, { 100, 910 } };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    ASSERT_EQ(cg_blkio_weight_to_io_weight(t[i].in), t[i].out);
}

TEST(swap_v2)
{
  static const struct
  {
    int64_t limit;
    bool has_limit;
    int64_t swap, out;
    int ret;
  } t[] = {
    { 100, true, 0, 0, 0 },     /* unset */
    { 100, true, -1, -1, 0 },   /* unlimited */
    { 100, true, 300, 200, 0 }, /* memory+swap 300 = 200 of swap */
    { 100, true, 100, 0, 0 },   /* no swap at all */
    { 100, true, 50, 0, -EINVAL }, { 0, false, 300, 0, -EINVAL }, { -1, true, 300, 0, -EINVAL },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      int64_t out = 12345;
      struct keel_error err = KEEL_ERROR_INIT;
      ASSERT_EQ(cg_swap_v2(t[i].limit, t[i].has_limit, t[i].swap, &out, &err), t[i].ret);
      if (t[i].ret == 0)
        ASSERT_EQ(out, t[i].out);
      else
        ASSERT_CONTAINS(err.msg, "linux.resources.memory.swap");
    }
}

/* ---- paths ---- */

TEST(join_path)
{
  static const struct
  {
    const char *self, *path, *out;
  } t[] = {
    { "/user.slice/x", "/keel/c1", "/keel/c1" },
    { "/user.slice/x", "c1", "/user.slice/x/c1" },
    { "/", "a/b", "/a/b" },
    { "/a", "../../../../etc", "/etc" },
    { "/a", "b/../../..", "/" },
    { "/a", "//b//c/", "/b/c" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      char out[256];
      ASSERT_OK(cg_join_path(t[i].self, t[i].path, out, sizeof(out)));
      ASSERT_STREQ(out, t[i].out);
    }
}

TEST(expand_slice)
{
  static const struct
  {
    const char *in, *out;
  } t[] = {
    { "system.slice", "/system.slice" },
    { "machine-keel.slice", "/machine.slice/machine-keel.slice" },
    { "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice" },
    { "-.slice", "" },
    { "-a.slice", NULL },
    { "a-.slice", NULL },
    { "a--b.slice", NULL },
    { "a/b.slice", NULL },
    { "system", NULL },
    { ".slice", NULL },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      char out[256];
      int r = cg_systemd_expand_slice(t[i].in, out, sizeof(out));
      if (t[i].out)
        {
          ASSERT_OK(r);
          ASSERT_STREQ(out, t[i].out);
        }
      else
        ASSERT_EQ(r, -EINVAL);
    }
}

TEST(systemd_path)
{
  static const struct
  {
    const char *in, *slice, *unit, *msg;
  } t[] = {
    { "system.slice:keel:abc", "/system.slice", "keel-abc.scope", NULL },
    { "machine-x.slice:crio:1", "/machine.slice/machine-x.slice", "crio-1.scope", NULL },
    { ":keel:abc", "/system.slice", "keel-abc.scope", NULL },
    { "system.slice::abc", "/system.slice", "abc.scope", NULL },
    { "/keel/abc", NULL, NULL, "expected \"slice:prefix:name\"" },
    { "a:b", NULL, NULL, "expected \"slice:prefix:name\"" },
    { "a.slice:b:c:d", NULL, NULL, "expected \"slice:prefix:name\"" },
    { "system:keel:abc", NULL, NULL, "'system' is not a slice name" },
    { "a--b.slice:keel:abc", NULL, NULL, "is not a slice name" },
    { "system.slice:keel:", NULL, NULL, "the name part is empty" },
    { "system.slice:ke/el:x", NULL, NULL, "may only hold" },
    { "system.slice:keel:a b", NULL, NULL, "may only hold" },
    { "system.slice:keel:sub.slice", NULL, NULL, "a slice as the container's unit" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      char slice[256], unit[256];
      struct keel_error err = KEEL_ERROR_INIT;
      int r = cg_systemd_parse_path(t[i].in, slice, sizeof(slice), unit, sizeof(unit), &err);
      if (!t[i].msg)
        {
          ASSERT_OK(r);
          ASSERT_STREQ(slice, t[i].slice);
          ASSERT_STREQ(unit, t[i].unit);
        }
      else
        {
          ASSERT_TRUE(r < 0);
          ASSERT_CONTAINS(err.msg, t[i].msg);
          ASSERT_CONTAINS(err.msg, t[i].in);
        }
    }
}

TEST(parse_proc_self_cgroup)
{
  struct cg_host h = { .mode = KEEL_CGROUP_HYBRID };
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(
      cg_host_parse_self(&h, "9:name=systemd:/\n4:memory:/a/b\n2:cpu,cpuacct:/\n0::/u\n", &err));
  ASSERT_EQ(h.n, 3);
  ASSERT_STREQ(h.h[0].mnt, "/sys/fs/cgroup/systemd");
  ASSERT_STREQ(h.h[1].name, "memory");
  ASSERT_STREQ(h.h[1].self, "/a/b");
  ASSERT_STREQ(h.h[2].mnt, "/sys/fs/cgroup/cpu,cpuacct");
  ASSERT_STREQ(h.unified_self, "/u");
  ASSERT_TRUE(cg_list_has(h.h[2].name, "cpuacct", ','));
  ASSERT_FALSE(cg_list_has(h.h[2].name, "cpuset", ','));
  cg_host_clear(&h);
  h.mode = KEEL_CGROUP_V2;
  ASSERT_OK(cg_host_parse_self(&h, "0::/init.scope\n", &err));
  ASSERT_EQ(h.n, 0);
  ASSERT_STREQ(h.unified_self, "/init.scope");
  cg_host_clear(&h);
  ASSERT_EQ(cg_host_parse_self(&h, "garbage\n", &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "malformed line 'garbage'");
  cg_host_clear(&h);
}

/* ---- the plan ---- */

static const struct cg_plan_opts V1 = { .flavor = CG_FLAVOR_V1 };
static const struct cg_plan_opts V2 = { .flavor = CG_FLAVOR_V2, .unified_ok = true };

static const char *
find(const struct cg_plan *p, const char *file)
{
  for (size_t i = 0; i < p->n; i++)
    if (!strcmp(p->w[i].file, file))
      return p->w[i].value;
  return NULL;
}

static ssize_t
index_of(const struct cg_plan *p, const char *file, const char *value)
{
  for (size_t i = 0; i < p->n; i++)
    if (!strcmp(p->w[i].file, file) && (!value || !strcmp(p->w[i].value, value)))
      return (ssize_t)i;
  return -1;
}

static const char *full_resources
    = "{\"memory\":{\"limit\":67108864,\"reservation\":33554432,\"swap\":134217728,"
      "\"swappiness\":10,\"disableOOMKiller\":true,\"kernel\":1048576},"
      "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0\",\"mems\":\"0\","
      "\"realtimeRuntime\":0,\"idle\":1},"
      "\"pids\":{\"limit\":-1},"
      "\"blockIO\":{\"weight\":500,\"leafWeight\":300,"
      "\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":200}],"
      "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
      "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":0}]},"
      "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
      "\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3}},"
      "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
      "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":200,\"access\":\"rw\"},"
      "{\"allow\":true,\"type\":\"a\",\"major\":7,\"access\":\"r\"}]}";

TEST(plan_v2)
{
  _cleanup_json_ json_object *res = parse(full_resources);
  struct cg_plan p;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_TRUE(res);
  ASSERT_OK(cg_plan_build(res, &V2, &p, &err));
  ASSERT_STREQ(find(&p, "memory.max"), "67108864");
  ASSERT_STREQ(find(&p, "memory.low"), "33554432");
  ASSERT_STREQ(find(&p, "memory.swap.max"), "67108864");
  ASSERT_TRUE(!find(&p, "memory.swappiness") && !find(&p, "memory.oom_control"));
  ASSERT_STREQ(find(&p, "cpu.weight"), "39");
  ASSERT_STREQ(find(&p, "cpu.max"), "50000 100000");
  ASSERT_STREQ(find(&p, "cpuset.cpus"), "0");
  ASSERT_STREQ(find(&p, "cpu.idle"), "1");
  ASSERT_STREQ(find(&p, "pids.max"), "max");
  ssize_t w = index_of(&p, "io.bfq.weight", "500");
  ASSERT_TRUE(w >= 0);
  ASSERT_STREQ(p.w[w].alt_file, "io.weight");
  ASSERT_STREQ(p.w[w].alt_value, "default 4950");
  w = index_of(&p, "io.bfq.weight", "8:0 200");
  ASSERT_TRUE(w >= 0);
  ASSERT_STREQ(p.w[w].alt_value, "8:0 1920");
  ASSERT_TRUE(index_of(&p, "io.max", "8:0 rbps=1048576") >= 0);
  ASSERT_TRUE(index_of(&p, "io.max", "8:16 wiops=max") >= 0);
  ASSERT_STREQ(find(&p, "hugetlb.2MB.max"), "4194304");
  ASSERT_STREQ(find(&p, "rdma.max"), "mlx5_1 hca_handle=3");
  ASSERT_FALSE(find(&p, "devices.allow"));
  /* three rules from the config, then the defaults */
  ASSERT_TRUE(p.devices);
  ASSERT_TRUE(p.n_dev > 3);
  ASSERT_EQ(p.dev[1].major, 10);
  ASSERT_EQ(p.dev[1].access, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
  ASSERT_EQ(p.dev[2].type, 'a');
  ASSERT_EQ(p.dev[2].minor, -1);
  cg_plan_free(&p);
}

TEST(plan_v1)
{
  _cleanup_json_ json_object *res = parse(full_resources);
  struct cg_plan p;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_TRUE(res);
  ASSERT_OK(cg_plan_build(res, &V1, &p, &err));
  ASSERT_STREQ(find(&p, "memory.limit_in_bytes"), "67108864");
  ASSERT_STREQ(find(&p, "memory.soft_limit_in_bytes"), "33554432");
  ASSERT_STREQ(find(&p, "memory.memsw.limit_in_bytes"), "134217728");
  ASSERT_STREQ(find(&p, "memory.swappiness"), "10");
  ASSERT_STREQ(find(&p, "memory.oom_control"), "1");
  ASSERT_FALSE(find(&p, "memory.kmem.limit_in_bytes"));
  ASSERT_TRUE(p.memory_swap_v1);
  ASSERT_STREQ(find(&p, "cpu.shares"), "1024");
  ASSERT_TRUE(index_of(&p, "cpu.cfs_period_us", "100000")
              < index_of(&p, "cpu.cfs_quota_us", "50000"));
  ASSERT_FALSE(find(&p, "cpu.rt_runtime_us")); /* 0: unset */
  ASSERT_STREQ(find(&p, "pids.max"), "max");
  ssize_t w = index_of(&p, "blkio.weight", "500");
  ASSERT_TRUE(w >= 0);
  ASSERT_STREQ(p.w[w].alt_file, "blkio.bfq.weight");
  ASSERT_STREQ(find(&p, "blkio.leaf_weight"), "300");
  ASSERT_STREQ(find(&p, "blkio.weight_device"), "8:0 200");
  ASSERT_STREQ(find(&p, "blkio.throttle.read_bps_device"), "8:0 1048576");
  ASSERT_STREQ(find(&p, "blkio.throttle.write_iops_device"), "8:16 0");
  ASSERT_STREQ(find(&p, "hugetlb.2MB.limit_in_bytes"), "4194304");
  /* deny everything first, then the rules in order; "a 7:*" is split
   * because v1 reads type a as every device */
  ssize_t deny = index_of(&p, "devices.deny", "a");
  ASSERT_TRUE(deny >= 0);
  ASSERT_TRUE(index_of(&p, "devices.deny", "a *:* rwm") > deny);
  ssize_t tun = index_of(&p, "devices.allow", "c 10:200 rw");
  ASSERT_TRUE(tun > index_of(&p, "devices.deny", "a *:* rwm"));
  ASSERT_TRUE(index_of(&p, "devices.allow", "c 7:* r") > tun);
  ASSERT_TRUE(index_of(&p, "devices.allow", "b 7:* r") > tun);
  ASSERT_TRUE(index_of(&p, "devices.allow", "c 1:3 rwm") > tun);
  ASSERT_TRUE(index_of(&p, "devices.allow", "c 136:* rwm") > tun);
  cg_plan_free(&p);
}

TEST(plan_hybrid_hugetlb_and_update)
{
  struct cg_plan_opts o
      = { .flavor = CG_FLAVOR_V1, .hugetlb_unified = true, .unified_ok = true, .update = true };
  _cleanup_json_ json_object *res
      = parse("{\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":0}],"
              "\"unified\":{\"hugetlb.1GB.rsvd.max\":\"0\"},\"pids\":{\"limit\":0}}");
  struct cg_plan p;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(cg_plan_build(res, &o, &p, &err));
  ssize_t i = index_of(&p, "hugetlb.1GB.max", "0");
  ASSERT_TRUE(i >= 0);
  ASSERT_STREQ(p.w[i].ctrl, ""); /* the unified mount */
  ASSERT_TRUE(index_of(&p, "hugetlb.1GB.rsvd.max", "0") >= 0);
  ASSERT_FALSE(find(&p, "pids.max")); /* 0: unset */
  ASSERT_FALSE(p.devices);            /* update without devices */
  cg_plan_free(&p);
  /* create without resources still gets the default-deny device policy */
  ASSERT_OK(cg_plan_build(NULL, &V1, &p, &err));
  ASSERT_TRUE(p.devices);
  ASSERT_STREQ(p.w[0].file, "devices.deny");
  ASSERT_STREQ(p.w[0].value, "a");
  cg_plan_free(&p);
}

TEST(plan_refuses_bad_resources)
{
  static const struct
  {
    bool v2;
    const char *json, *msg;
  } t[] = {
    { 0, "[]", "linux.resources: expected an object" },
    { 0, "{\"memory\":[]}", "linux.resources.memory: expected an object" },
    { 0, "{\"memory\":{\"limit\":\"1g\"}}", "linux.resources.memory.limit: expected an integer" },
    { 0, "{\"memory\":{\"limit\":-2}}", "linux.resources.memory.limit: value out of range [-1," },
    { 0, "{\"memory\":{\"limit\":1.5}}", "memory.limit: expected an integer" },
    { 0, "{\"memory\":{\"limit\":100,\"swap\":50}}", "swap: 50 is below memory.limit 100" },
    { 1, "{\"memory\":{\"limit\":100,\"swap\":50}}", "swap: 50 is below memory.limit 100" },
    { 1, "{\"memory\":{\"swap\":100}}", "a swap limit needs a memory limit" },
    { 0, "{\"memory\":{\"swappiness\":101}}", "memory.swappiness: value out of range [0, 100]" },
    { 0, "{\"memory\":{\"disableOOMKiller\":1}}", "disableOOMKiller: expected a boolean" },
    { 0, "{\"cpu\":{\"shares\":1}}", "cpu.shares: value out of range [2, 262144]" },
    { 1, "{\"cpu\":{\"shares\":262145}}", "cpu.shares: value out of range [0, 262144]" },
    { 0, "{\"cpu\":{\"quota\":500}}", "cpu.quota: 500 is below the kernel minimum 1000" },
    { 0, "{\"cpu\":{\"quota\":-7}}", "cpu.quota: value out of range [-1," },
    { 0, "{\"cpu\":{\"period\":2000000}}", "cpu.period: value out of range [0, 1000000]" },
    { 0, "{\"cpu\":{\"period\":10}}", "cpu.period: 10 is out of range [1000, 1000000]" },
    { 0, "{\"cpu\":{\"cpus\":\"0-a\"}}", "cpu.cpus: '0-a' is not a CPU list" },
    { 0, "{\"cpu\":{\"cpus\":\"3-1\"}}", "cpu.cpus: '3-1' is not a CPU list" },
    { 0, "{\"cpu\":{\"mems\":\",\"}}", "cpu.mems: ',' is not a node list" },
    { 0, "{\"cpu\":{\"idle\":2}}", "cpu.idle: value out of range [0, 1]" },
    { 1, "{\"cpu\":{\"realtimeRuntime\":1000}}", "realtimePeriod need cgroup v1" },
    { 0, "{\"pids\":{\"limit\":-5}}", "linux.resources.pids.limit: value out of range [-1," },
    { 0, "{\"pids\":{\"limit\":\"max\"}}", "pids.limit: expected an integer" },
    { 0, "{\"blockIO\":{\"weight\":5}}", "blockIO.weight: value out of range [10, 1000]" },
    { 1, "{\"blockIO\":{\"weight\":1001}}", "blockIO.weight: value out of range [0, 1000]" },
    { 0, "{\"blockIO\":{\"leafWeight\":9}}", "blockIO.leafWeight: value out of range [10, 1000]" },
    { 0, "{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"weight\":100}]}}",
      "blockIO.weightDevice[0].minor: required" },
    { 0, "{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":1}]}}",
      "weightDevice[0].weight: value out of range [10, 1000]" },
    { 1, "{\"blockIO\":{\"weightDevice\":[7]}}", "blockIO.weightDevice[0]: expected an object" },
    { 0, "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
      "throttleReadBpsDevice[0].rate: required" },
    { 1, "{\"blockIO\":{\"throttleWriteBpsDevice\":[{\"major\":-1,\"minor\":0,\"rate\":1}]}}",
      "throttleWriteBpsDevice[0].major: value out of range [0, 4294967295]" },
    { 0, "{\"hugepageLimits\":[{\"pageSize\":\"2XB\",\"limit\":1}]}",
      "hugepageLimits[0].pageSize: '2XB' is not a size" },
    { 0, "{\"hugepageLimits\":[{\"pageSize\":\"../2MB\",\"limit\":1}]}", "is not a size" },
    { 1, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}", "hugepageLimits[0].limit: required" },
    { 1, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":-1}]}",
      "hugepageLimits[0].limit: expected a non-negative integer" },
    { 0, "{\"devices\":{}}", "linux.resources.devices: expected an array" },
    { 0, "{\"devices\":[{\"type\":\"c\"}]}", "devices[0].allow: required" },
    { 0, "{\"devices\":[{\"allow\":true},{\"allow\":true,\"type\":\"x\"}]}",
      "devices[1].type: 'x' is not one of a, b, c" },
    { 1, "{\"devices\":[{\"allow\":true,\"type\":\"cc\"}]}", "devices[0].type: 'cc'" },
    { 0, "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
      "devices[0].access: 'rwx' is not a non-empty subset of \"rwm\"" },
    { 1, "{\"devices\":[{\"allow\":true,\"access\":\"\"}]}", "devices[0].access: ''" },
    { 0, "{\"devices\":[{\"allow\":true,\"major\":\"1\"}]}",
      "devices[0].major: expected an integer" },
    { 1, "{\"devices\":[{\"allow\":true,\"minor\":-2}]}", "devices[0].minor: value out of range" },
    { 1, "{\"unified\":{\"../memory.max\":\"1\"}}", "'../memory.max' is not a cgroup file name" },
    { 1, "{\"unified\":{\"a/memory.max\":\"1\"}}", "'a/memory.max' is not a cgroup file name" },
    { 1, "{\"unified\":{\"memory\":\"1\"}}", "'memory' is not a cgroup file name" },
    { 1, "{\"unified\":{\"memory.high\":1}}", "unified.memory.high: expected a string" },
    { 0, "{\"unified\":{\"memory.high\":\"1\"}}", "unified: needs cgroup v2" },
    { 1, "{\"network\":{\"classID\":1}}", "network: net_cls and net_prio exist only in cgroup v1" },
    { 0, "{\"network\":{\"priorities\":[{\"name\":\"a b\",\"priority\":1}]}}",
      "priorities[0].name: expected an interface name" },
    { 0, "{\"rdma\":{\"mlx\":{\"hcaHandles\":-1}}}", "rdma.mlx.hcaHandles: value out of range" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      _cleanup_json_ json_object *res = parse(t[i].json);
      struct cg_plan p;
      struct keel_error err = KEEL_ERROR_INIT;
      ASSERT_TRUE(res);
      int r = cg_plan_build(res, t[i].v2 ? &V2 : &V1, &p, &err);
      if (r >= 0)
        {
          cg_plan_free(&p);
          FAIL_AT("case %zu (%s) accepted", i, t[i].json);
        }
      if (!strstr(err.msg, t[i].msg))
        FAIL_AT("case %zu (%s): \"%s\" lacks \"%s\"", i, t[i].json, err.msg, t[i].msg);
      ASSERT_EQ(r, err.code);
    }
}

/* ---- the eBPF device filter, run by a small interpreter ---- */

static int
run_bpf(const struct bpf_insn *p, size_t n, char type, unsigned acc, uint32_t maj, uint32_t min)
{
  uint64_t r[11] = { 0 };
  uint32_t ctx[3]
      = { (acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), maj, min };
  for (size_t pc = 0; pc < n; pc++)
    {
      const struct bpf_insn *i = &p[pc];
      unsigned cls = BPF_CLASS(i->code), op = BPF_OP(i->code);
      uint64_t v = BPF_SRC(i->code) == BPF_X ? r[i->src_reg] : (uint64_t)(int64_t)i->imm;
      uint64_t *d = &r[i->dst_reg];
      switch (cls)
        {
        case BPF_LDX:
          if (i->src_reg != 1 || i->off % 4 || i->off > 8)
            return -2;
          *d = ctx[i->off / 4];
          break;
        case BPF_ALU:
        case BPF_ALU64:
          if (op == BPF_MOV)
            *d = v;
          else if (op == BPF_AND)
            *d &= v;
          else if (op == BPF_RSH)
            *d = cls == BPF_ALU ? (uint32_t)*d >> v : *d >> v;
          else
            return -2;
          if (cls == BPF_ALU)
            *d = (uint32_t)*d;
          break;
        case BPF_JMP32:
          if ((op == BPF_JNE && (uint32_t)*d != (uint32_t)v)
              || (op == BPF_JEQ && (uint32_t)*d == (uint32_t)v))
            pc += i->off;
          else if (op != BPF_JNE && op != BPF_JEQ)
            return -2;
          break;
        case BPF_JMP:
          if (op != BPF_EXIT)
            return -2;
          return (int)r[0];
        default:
          return -2;
        }
    }
  return -3; /* fell off the end: the verifier would refuse */
}

#define R   BPF_DEVCG_ACC_READ
#define W   BPF_DEVCG_ACC_WRITE
#define M   BPF_DEVCG_ACC_MKNOD
#define RWM (R | W | M)

TEST(bpf_last_match_wins)
{
  static const struct cg_dev_rule deny_all = { false, 'a', -1, -1, RWM };
  static const struct cg_dev_rule allow_c_all = { true, 'c', -1, -1, RWM };
  static const struct cg_dev_rule deny_null_w = { false, 'c', 1, 3, W };
  static const struct cg_dev_rule allow_null_r = { true, 'c', 1, 3, R };
  static const struct cg_dev_rule allow_null_w = { true, 'c', 1, 3, W };
  static const struct cg_dev_rule allow_a_7 = { true, 'a', 7, -1, R };
  static const struct cg_dev_rule allow_all = { true, 'a', -1, -1, RWM };
  static const struct cg_dev_rule allow_big = { true, 'c', 4000, 1048575, RWM };
  static const struct
  {
    struct cg_dev_rule rules[4];
    size_t n;
    char type;
    unsigned acc;
    uint32_t maj, min;
    int want;
  } t[] = {
    { { { 0 } }, 0, 'c', R, 1, 3, 0 }, /* no rules: default deny */
    { { deny_all, allow_null_r }, 2, 'c', R, 1, 3, 1 },
    { { deny_all, allow_null_r }, 2, 'c', W, 1, 3, 0 },
    { { deny_all, allow_null_r }, 2, 'c', R | W, 1, 3, 0 },
    { { deny_all, allow_null_r }, 2, 'b', R, 1, 3, 0 },
    { { deny_all, allow_null_r }, 2, 'c', R, 1, 4, 0 },
    { { allow_c_all, deny_null_w }, 2, 'c', R, 1, 3, 1 },
    { { allow_c_all, deny_null_w }, 2, 'c', W, 1, 3, 0 },
    { { allow_c_all, deny_null_w }, 2, 'c', R | W, 1, 3, 0 },
    { { allow_c_all, deny_null_w }, 2, 'c', R | W, 1, 5, 1 },
    { { allow_c_all, deny_null_w }, 2, 'b', R, 8, 0, 0 },
    /* r and w granted by two rules: rw is granted */
    { { allow_null_r, allow_null_w }, 2, 'c', R | W, 1, 3, 1 },
    { { allow_null_r, allow_null_w }, 2, 'c', R | W | M, 1, 3, 0 },
    /* a later deny-all wins over everything before it */
    { { allow_null_r, deny_all }, 2, 'c', R, 1, 3, 0 },
    { { deny_all, allow_all }, 2, 'b', RWM, 8, 1, 1 },
    /* type a with a major matches both kinds */
    { { allow_a_7 }, 1, 'b', R, 7, 0, 1 },
    { { allow_a_7 }, 1, 'c', R, 7, 9, 1 },
    { { allow_a_7 }, 1, 'c', R, 8, 9, 0 },
    { { allow_a_7 }, 1, 'c', W, 7, 9, 0 },
    { { allow_big }, 1, 'c', R, 4000, 1048575, 1 },
    { { allow_big }, 1, 'c', R, 4000, 1048574, 0 },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      _cleanup_free_ struct bpf_insn *insn = NULL;
      size_t n = 0;
      ASSERT_OK(cg_bpf_build(t[i].rules, t[i].n, &insn, &n));
      int got = run_bpf(insn, n, t[i].type, t[i].acc, t[i].maj, t[i].min);
      if (got != t[i].want)
        FAIL_AT("case %zu: got %d, want %d", i, got, t[i].want);
    }
}

/* ---- real cgroups (root only; CI runs as root) ---- */

#define REQUIRE_ROOT()                                                                             \
  do                                                                                               \
    if (geteuid() != 0)                                                                            \
      {                                                                                            \
        printf("# skip: needs root\n");                                                            \
        return;                                                                                    \
      }                                                                                            \
  while (0)

static char test_root[64];

/* Remove /keel-test-PID from every hierarchy, whatever a test left. */
static void
cleanup_root(void)
{
  const struct cg_host *host;
  if (!test_root[0] || cg_host_get(&host, NULL) < 0)
    return;
  char dir[PATH_MAX];
  if (host->mode != KEEL_CGROUP_V1)
    {
      snprintf(dir, sizeof(dir), "%s%s", host->mode == KEEL_CGROUP_V2 ? CG_ROOT : CG_UNIFIED,
               test_root);
      cg_remove_tree(dir, true, NULL, NULL);
    }
  for (size_t i = 0; i < host->n; i++)
    {
      snprintf(dir, sizeof(dir), "%s%s", host->h[i].mnt, test_root);
      cg_remove_tree(dir, false, NULL, NULL);
    }
}

static void
set_root(void)
{
  if (!test_root[0])
    {
      snprintf(test_root, sizeof(test_root), "/keel-test-%d", (int)getpid());
      atexit(cleanup_root);
    }
}

static void
opts_for(struct keel_cgroup_opts *o, const char *id, json_object *res)
{
  static char path[128];
  set_root();
  snprintf(path, sizeof(path), "%s/%s", test_root, id);
  memset(o, 0, sizeof(*o));
  o->id = id;
  o->path = path;
  o->resources = res;
}

/* A child that waits for a byte on fd, then runs what (0: sleep; 1: try
 * to fork, exit 0 when refused; 2: count in *counter forever; 3: open
 * /dev/null and /dev/kmsg, exit with what worked). */
static pid_t
spawn(int what, int *ret_wfd, volatile uint64_t *counter)
{
  int p[2];
  if (pipe(p) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0)
    {
      char c;
      close(p[1]);
      if (read(p[0], &c, 1) != 1)
        _exit(3);
      if (what == 3)
        {
          int a = open("/dev/null", O_RDWR), b = open("/dev/kmsg", O_RDONLY);
          _exit((a >= 0 ? 1 : 0) | (b >= 0 ? 2 : 0) | (b < 0 && errno == EPERM ? 4 : 0));
        }
      if (what == 1)
        {
          pid_t k = fork();
          if (k == 0)
            _exit(0);
          _exit(k < 0 && errno == EAGAIN ? 0 : 1);
        }
      for (;;)
        if (what == 2)
          (*counter)++;
        else
          pause();
    }
  close(p[0]);
  *ret_wfd = p[1];
  return pid;
}

static int
read_cg(json_object *st, const char *ctrl, const char *file, char *buf, size_t size)
{
  const char *dir = keel_cgroup_path(st, ctrl);
  if (!dir)
    dir = keel_cgroup_path(st, NULL);
  if (!dir)
    return -ENOENT;
  _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *s = NULL;
  int r = fd < 0 ? -errno : keel_read_file(fd, file, 1 << 16, &s, NULL);
  if (r < 0)
    return r;
  snprintf(buf, size, "%s", s);
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

static bool
v2_host(void)
{
  enum keel_cgroup_mode m = KEEL_CGROUP_V1;
  keel_cgroup_detect(&m, NULL);
  return m == KEEL_CGROUP_V2;
}

TEST(detect_matches_mounts)
{
  enum keel_cgroup_mode m;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(keel_cgroup_detect(&m, &err));
  bool unified = access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0;
  bool root_v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  ASSERT_EQ(m, root_v2 ? KEEL_CGROUP_V2 : unified ? KEEL_CGROUP_HYBRID : KEEL_CGROUP_V1);
}

TEST(enter_limits_update_freeze_destroy)
{
  REQUIRE_ROOT();
  bool v2 = v2_host();
  _cleanup_json_ json_object *res
      = parse("{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":10},"
              "\"cpu\":{\"quota\":20000,\"period\":100000}}");
  struct keel_cgroup_opts o;
  opts_for(&o, "c1", res);
  struct keel_error err = KEEL_ERROR_INIT;
  volatile uint64_t *counter
      = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(counter != MAP_FAILED);
  int wfd;
  pid_t pid = spawn(2, &wfd, counter);
  ASSERT_TRUE(pid > 0);
  _cleanup_json_ json_object *st = NULL;
  int r = keel_cgroup_enter(&o, pid, &st, &err);
  if (r < 0)
    {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      FAIL_AT("enter: %s", err.msg);
    }
  ASSERT_EQ(write(wfd, "x", 1), 1);
  close(wfd);
  char buf[256];
  ASSERT_OK(read_cg(st, "memory", v2 ? "memory.max" : "memory.limit_in_bytes", buf, sizeof(buf)));
  ASSERT_STREQ(buf, "67108864");
  ASSERT_OK(read_cg(st, "pids", "pids.max", buf, sizeof(buf)));
  ASSERT_STREQ(buf, "10");
  ASSERT_OK(read_cg(st, "cpu", v2 ? "cpu.max" : "cpu.cfs_quota_us", buf, sizeof(buf)));
  ASSERT_STREQ(buf, v2 ? "20000 100000" : "20000");

  /* pids() lists the child */
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  ASSERT_OK(keel_cgroup_pids(st, &pids, &n, &err));
  ASSERT_EQ(n, 1);
  ASSERT_EQ(pids[0], pid);

  /* freeze: the counter stops; thaw: it moves again */
  bool frozen = true;
  ASSERT_OK(keel_cgroup_is_frozen(st, &frozen, &err));
  ASSERT_FALSE(frozen);
  ASSERT_OK(keel_cgroup_freeze(st, true, &err));
  ASSERT_OK(keel_cgroup_is_frozen(st, &frozen, &err));
  ASSERT_TRUE(frozen);
  uint64_t c0 = *counter;
  usleep(50000);
  ASSERT_EQ(*counter, c0);
  ASSERT_OK(keel_cgroup_freeze(st, false, &err));
  ASSERT_OK(keel_cgroup_is_frozen(st, &frozen, &err));
  ASSERT_FALSE(frozen);
  for (int i = 0; i < 200 && *counter == c0; i++)
    usleep(1000);
  ASSERT_NE(*counter, c0);

  /* update changes the values */
  _cleanup_json_ json_object *upd
      = parse("{\"memory\":{\"limit\":134217728},\"pids\":{\"limit\":-1}}");
  ASSERT_OK(keel_cgroup_update(st, upd, &err));
  ASSERT_OK(read_cg(st, "memory", v2 ? "memory.max" : "memory.limit_in_bytes", buf, sizeof(buf)));
  ASSERT_STREQ(buf, "134217728");
  ASSERT_OK(read_cg(st, "pids", "pids.max", buf, sizeof(buf)));
  ASSERT_STREQ(buf, "max");

  /* destroy: freeze first, so the kill has to thaw; then every dir is gone */
  ASSERT_OK(keel_cgroup_freeze(st, true, &err));
  char dirs[CG_MAX_HIER + 1][PATH_MAX];
  size_t nd = 0;
  json_object_object_foreach(json_object_object_get(st, "paths"), k, v)
  {
    (void)k;
    snprintf(dirs[nd++], PATH_MAX, "%s", json_object_get_string(v));
  }
  if (keel_cgroup_path(st, NULL))
    snprintf(dirs[nd++], PATH_MAX, "%s", keel_cgroup_path(st, NULL));
  ASSERT_OK(keel_cgroup_destroy(st, &err));
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (size_t i = 0; i < nd; i++)
    if (access(dirs[i], F_OK) == 0)
      FAIL_AT("'%s' survived destroy", dirs[i]);
  ASSERT_OK(keel_cgroup_destroy(st, &err)); /* idempotent */
  munmap((void *)counter, 4096);
}

TEST(pids_limit_is_enforced)
{
  REQUIRE_ROOT();
  _cleanup_json_ json_object *res = parse("{\"pids\":{\"limit\":1}}");
  struct keel_cgroup_opts o;
  opts_for(&o, "c2", res);
  struct keel_error err = KEEL_ERROR_INIT;
  int wfd;
  pid_t pid = spawn(1, &wfd, NULL);
  _cleanup_json_ json_object *st = NULL;
  int r = keel_cgroup_enter(&o, pid, &st, &err);
  ASSERT_EQ(write(wfd, "x", 1), 1);
  close(wfd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (r < 0)
    FAIL_AT("enter: %s", err.msg);
  ASSERT_OK(keel_cgroup_destroy(st, &err));
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0); /* the fork was refused */
}

TEST(nested_cgroups_are_removed)
{
  REQUIRE_ROOT();
  struct keel_cgroup_opts o;
  opts_for(&o, "c3", NULL);
  struct keel_error err = KEEL_ERROR_INIT;
  int wfd;
  pid_t pid = spawn(0, &wfd, NULL);
  _cleanup_json_ json_object *st = NULL;
  int r = keel_cgroup_enter(&o, pid, &st, &err);
  ASSERT_EQ(write(wfd, "x", 1), 1);
  close(wfd);
  if (r < 0)
    {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      FAIL_AT("enter: %s", err.msg);
    }
  /* the container made a child cgroup and moved itself there */
  const char *dir = keel_cgroup_path(st, v2_host() ? NULL : "pids");
  char sub[PATH_MAX];
  snprintf(sub, sizeof(sub), "%s/inner/deeper", dir);
  ASSERT_OK(keel_mkdir_p(sub, 0755));
  ASSERT_OK(cg_enter_pid(sub, pid, &err));
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  ASSERT_OK(keel_cgroup_pids(st, &pids, &n, &err));
  ASSERT_EQ(n, 1);
  ASSERT_OK(keel_cgroup_destroy(st, &err));
  waitpid(pid, NULL, 0);
  ASSERT_TRUE(access(dir, F_OK) < 0);
}

TEST(v1_devices_allow_list)
{
  REQUIRE_ROOT();
  if (v2_host())
    {
      printf("# skip: cgroup v2 host (the eBPF test covers devices)\n");
      return;
    }
  _cleanup_json_ json_object *res
      = parse("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
              "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":200,\"access\":\"rw\"}]}");
  struct keel_cgroup_opts o;
  opts_for(&o, "c4", res);
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *st = NULL;
  if (keel_cgroup_enter(&o, 0, &st, &err) < 0)
    FAIL_AT("enter: %s", err.msg);
  const char *dir = keel_cgroup_path(st, "devices");
  _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY);
  _cleanup_free_ char *list = NULL;
  ASSERT_OK(keel_read_file(fd, "devices.list", 1 << 16, &list, NULL));
  ASSERT_CONTAINS(list, "c 10:200 rw\n");
  ASSERT_CONTAINS(list, "c 1:3 rwm\n");
  ASSERT_CONTAINS(list, "c 136:* rwm\n");
  ASSERT_CONTAINS(list, "b *:* m\n");
  ASSERT_FALSE(strstr(list, "a *:* rwm"));
  ASSERT_OK(keel_cgroup_destroy(st, &err));
}

static int
attached_progs(const char *dir, uint32_t *ids, uint32_t *n)
{
  _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY);
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.query.target_fd = (uint32_t)fd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = *n;
  if (syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)) < 0)
    return -errno;
  *n = a.query.prog_cnt;
  return 0;
}

/* The generated program in the kernel: the verifier takes it, /dev/null
 * opens, /dev/kmsg for reading is refused; an update replaces it. */
TEST(ebpf_filter_in_kernel)
{
  REQUIRE_ROOT();
  const struct cg_host *host;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(cg_host_get(&host, &err));
  if (host->mode == KEEL_CGROUP_V1)
    {
      printf("# skip: no cgroup2 mount\n");
      return;
    }
  _cleanup_json_ json_object *res = parse("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
                                          "{\"allow\":true,\"type\":\"c\",\"major\":1,"
                                          "\"minor\":11,\"access\":\"w\"}]}");
  struct cg_plan_opts po = { .flavor = CG_FLAVOR_V2 };
  struct cg_plan plan;
  ASSERT_OK(cg_plan_build(res, &po, &plan, &err));
  set_root();
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s%s/bpf", host->mode == KEEL_CGROUP_V2 ? CG_ROOT : CG_UNIFIED,
           test_root);
  ASSERT_OK(keel_mkdir_p(dir, 0755));
  uint32_t id = 0, id2 = 0, ids[8], n = 8;
  int r = cg_bpf_apply(dir, plan.dev, plan.n_dev, 0, &id, &err);
  cg_plan_free(&plan);
  if (r < 0)
    FAIL_AT("apply: %s", err.msg);
  int wfd;
  pid_t pid = spawn(3, &wfd, NULL);
  ASSERT_OK(cg_enter_pid(dir, pid, &err));
  ASSERT_EQ(write(wfd, "x", 1), 1);
  close(wfd);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 1 | 4); /* null yes, kmsg (write only) EPERM */
  /* update: the new program replaces the old one */
  struct cg_dev_rule all = { true, 'a', -1, -1, 7 };
  ASSERT_OK(cg_bpf_apply(dir, &all, 1, id, &id2, &err));
  ASSERT_NE(id, id2);
  ASSERT_OK(attached_progs(dir, ids, &n));
  ASSERT_EQ(n, 1);
  ASSERT_EQ(ids[0], id2);
  ASSERT_OK(cg_remove_tree(dir, true, NULL, &err));
}

static bool
exists_anywhere(const char *rel)
{
  const struct cg_host *host;
  char dir[PATH_MAX];
  if (cg_host_get(&host, NULL) < 0)
    return false;
  for (size_t i = 0; i < host->n; i++)
    {
      snprintf(dir, sizeof(dir), "%s%s", host->h[i].mnt, rel);
      if (access(dir, F_OK) == 0)
        return true;
    }
  snprintf(dir, sizeof(dir), "%s%s", host->mode == KEEL_CGROUP_V2 ? CG_ROOT : CG_UNIFIED, rel);
  return host->mode != KEEL_CGROUP_V1 && access(dir, F_OK) == 0;
}

/* hugetlb: on this hybrid host it lives only in the unified mount. */
TEST(hugetlb_limit_and_failed_enter)
{
  REQUIRE_ROOT();
  const struct cg_host *host;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(cg_host_get(&host, &err));
  if (!cg_host_has(host, "hugetlb", NULL)
      || access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK))
    {
      printf("# skip: no hugetlb controller or no 2MB pages\n");
      return;
    }
  _cleanup_json_ json_object *ok
      = parse("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}");
  struct keel_cgroup_opts o;
  opts_for(&o, "c5", ok);
  _cleanup_json_ json_object *st = NULL;
  if (keel_cgroup_enter(&o, 0, &st, &err) < 0)
    FAIL_AT("enter: %s", err.msg);
  char buf[64], rel[128];
  bool v1 = keel_cgroup_path(st, "hugetlb") != NULL;
  ASSERT_OK(read_cg(st, "hugetlb", v1 ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max", buf,
                    sizeof(buf)));
  ASSERT_STREQ(buf, "4194304");
  ASSERT_OK(keel_cgroup_destroy(st, &err));
  /* a page size the kernel lacks fails at apply: nothing stays behind */
  _cleanup_json_ json_object *bad
      = parse("{\"hugepageLimits\":[{\"pageSize\":\"64GB\",\"limit\":1}]}");
  json_object *st2 = NULL;
  opts_for(&o, "c6", bad);
  snprintf(rel, sizeof(rel), "%s/c6", test_root);
  ASSERT_TRUE(keel_cgroup_enter(&o, 0, &st2, &err) < 0);
  ASSERT_CONTAINS(err.msg, "hugetlb.64GB");
  ASSERT_TRUE(st2 == NULL);
  ASSERT_FALSE(exists_anywhere(rel));
}

/* The sd-bus table resolves against the installed libsystemd. */
TEST(sdbus_symbols_resolve)
{
  struct keel_error err = KEEL_ERROR_INIT;
  const struct cg_sdbus *sd = cg_sdbus_get(&err);
  if (!sd)
    FAIL_AT("%s", err.msg);
  ASSERT_TRUE(sd->open_system && sd->call && sd->match_signal && sd->error_has_name);
}

TEST(validate_refuses_what_the_host_lacks)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_cgroup_opts o = { .id = "x", .path = "/keel-validate/x" };
  const struct cg_host *host;
  ASSERT_OK(cg_host_get(&host, &err));
  if (!cg_host_has(host, "net_cls", NULL))
    {
      _cleanup_json_ json_object *res = parse("{\"network\":{\"classID\":1}}");
      o.resources = res;
      ASSERT_TRUE(keel_cgroup_validate(&o, &err) < 0);
      ASSERT_TRUE(strstr(err.msg, "needs the net_cls controller")
                  || strstr(err.msg, "exist only in cgroup v1"));
    }
  if (host->mode == KEEL_CGROUP_HYBRID && cg_host_has(host, "memory", NULL)
      && !cg_list_has(host->unified_controllers, "memory", ' '))
    {
      _cleanup_json_ json_object *res = parse("{\"unified\":{\"memory.high\":\"1\"}}");
      o.resources = res;
      ASSERT_EQ(keel_cgroup_validate(&o, &err), -ENODEV);
      ASSERT_CONTAINS(err.msg, "'memory.high' is a cgroup v2 file, and this host's memory");
    }
  o.resources = NULL;
  o.path = "/";
  ASSERT_EQ(keel_cgroup_validate(&o, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "resolves to the root cgroup");
  o.path = "/a/../..";
  ASSERT_EQ(keel_cgroup_validate(&o, &err), -EINVAL);
  o.path = NULL;
  o.id = "a/b";
  ASSERT_EQ(keel_cgroup_validate(&o, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "invalid container id 'a/b'");
  o.id = "x";
  o.systemd = true;
  o.path = "bad";
  ASSERT_TRUE(keel_cgroup_validate(&o, &err) < 0);
  ASSERT_CONTAINS(err.msg, "slice:prefix:name");
  if (!cg_systemd_running())
    {
      o.path = NULL;
      ASSERT_EQ(keel_cgroup_validate(&o, &err), -EOPNOTSUPP);
      ASSERT_CONTAINS(err.msg, "systemd is not running");
      json_object *st = NULL;
      ASSERT_EQ(keel_cgroup_enter(&o, 0, &st, &err), -EOPNOTSUPP);
      ASSERT_CONTAINS(err.msg, "systemd is not running");
    }
  ASSERT_EQ(access("/sys/fs/cgroup/pids/keel-validate", F_OK), -1); /* no side effects */
}

TEST(state_is_checked)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *bad1 = parse("{\"mode\":\"v3\"}");
  _cleanup_json_ json_object *bad2
      = parse("{\"mode\":\"v1\",\"paths\":{\"memory\":\"/etc/passwd\"}}");
  _cleanup_json_ json_object *bad3
      = parse("{\"mode\":\"v2\",\"unified\":\"/sys/fs/cgroup/../../etc\"}");
  _cleanup_json_ json_object *good = parse("{\"mode\":\"hybrid\",\"paths\":{\"cpu,cpuacct\":"
                                           "\"/sys/fs/cgroup/cpu,cpuacct/k/1\"},"
                                           "\"unified\":\"/sys/fs/cgroup/unified/k/1\"}");
  ASSERT_EQ(keel_cgroup_destroy(bad1, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "unknown mode 'v3'");
  ASSERT_EQ(keel_cgroup_destroy(bad2, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "'/etc/passwd' is not a cgroup directory");
  ASSERT_EQ(keel_cgroup_destroy(bad3, &err), -EINVAL);
  ASSERT_STREQ(keel_cgroup_path(good, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/k/1");
  ASSERT_STREQ(keel_cgroup_path(good, NULL), "/sys/fs/cgroup/unified/k/1");
  ASSERT_TRUE(keel_cgroup_path(good, "memory") == NULL);
}

TEST_MAIN
