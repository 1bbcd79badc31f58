/* linux.resources → cgroup files.  Everything here is pure: it checks types
 * and ranges (the runtime-spec's config-linux.md and the kernel's limits)
 * and produces a list of (controller, file, value) writes plus device rules,
 * so validation, v1, v2 and hybrid hosts share one translation and the
 * tests can look at it without a cgroup in sight. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "runtime/cgroup-internal.h"

#define RES "linux.resources"

/* v1 cpu.shares as the kernel accepts them (MIN_SHARES..MAX_SHARES). */
#define SHARES_MIN 2
#define SHARES_MAX 262144

static int
oom(struct keel_error *err)
{
  return keel_error_set(err, -ENOMEM, "out of memory");
}

static int
grow(struct cg_plan *plan, struct keel_error *err)
{
  if (plan->n < plan->cap)
    return 0;
  size_t cap = plan->cap ? plan->cap * 2 : 16;
  struct cg_write *w = realloc(plan->w, cap * sizeof(*w));
  if (!w)
    return oom(err);
  plan->w = w;
  plan->cap = cap;
  return 0;
}

int
cg_plan_add(struct cg_plan *plan, struct keel_error *err, const char *ctrl, const char *file,
            const char *fmt, ...)
{
  int r = grow(plan, err);
  if (r < 0)
    return r;
  struct cg_write *w = &plan->w[plan->n];
  memset(w, 0, sizeof(*w));
  va_list ap;
  va_start(ap, fmt);
  r = vasprintf(&w->value, fmt, ap);
  va_end(ap);
  if (r < 0)
    return oom(err);
  w->ctrl = ctrl;
  snprintf(w->file, sizeof(w->file), "%s", file);
  plan->n++;
  return 0;
}

/* Second choice for the last write: the file to use when the first is
 * missing (blkio.weight on CFQ kernels vs blkio.bfq.weight on BFQ ones). */
static int __attribute__((format(printf, 4, 5)))
add_alt(struct cg_plan *plan, struct keel_error *err, const char *file, const char *fmt, ...)
{
  struct cg_write *w = &plan->w[plan->n - 1];
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&w->alt_value, fmt, ap);
  va_end(ap);
  if (r < 0)
    {
      w->alt_value = NULL;
      return oom(err);
    }
  snprintf(w->alt_file, sizeof(w->alt_file), "%s", file);
  return 0;
}

void
cg_plan_free(struct cg_plan *plan)
{
  for (size_t i = 0; i < plan->n; i++)
    {
      free(plan->w[i].value);
      free(plan->w[i].alt_value);
    }
  free(plan->w);
  free(plan->dev);
  memset(plan, 0, sizeof(*plan));
}

uint64_t
cg_shares_to_weight(uint64_t shares)
{
  /* The linear map runc and crun 1.x use: [2, 262144] onto [1, 10000]. */
  if (shares == 0)
    return 0;
  if (shares < SHARES_MIN)
    shares = SHARES_MIN;
  if (shares > SHARES_MAX)
    shares = SHARES_MAX;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t
cg_blkio_weight_to_io_weight(uint64_t weight)
{
  /* blkio [10, 1000] onto io.weight [1, 10000]. */
  if (weight == 0)
    return 0;
  return 1 + ((weight - 10) * 9999) / 990;
}

int
cg_swap_v2(int64_t limit, bool has_limit, int64_t swap, int64_t *ret, struct keel_error *err)
{
  if (swap == 0 || swap == -1)
    {
      *ret = swap;
      return 0;
    }
  if (!has_limit || limit == -1)
    return keel_error_set(err, -EINVAL,
                          RES ".memory.swap: a swap limit needs a memory limit (swap counts "
                              "memory+swap)");
  if (swap < limit)
    return keel_error_set(err, -EINVAL,
                          RES ".memory.swap: %" PRId64 " is below memory.limit %" PRId64
                              " (swap counts memory+swap)",
                          swap, limit);
  *ret = swap - limit;
  return 0;
}

/* "max" for -1 on v2; v1 files take -1 as it is. */
static const char *
fmt_limit(char buf[32], int64_t v, bool v2)
{
  if (v == -1 && v2)
    return "max";
  snprintf(buf, 32, "%" PRId64, v);
  return buf;
}

static int
plan_memory(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
            struct keel_error *err)
{
  const char *ctx = RES ".memory";
  json_object *m = NULL;
  int r = keel_json_get_object(res, "memory", RES, &m, err);
  if (r <= 0)
    return r;
  bool v2 = o->flavor == CG_FLAVOR_V2;
  int64_t limit = 0, resv = 0, swap = 0, kmem = 0, swappiness = 0;
  bool oomoff = false, x = false;
  char b[32];
  int has_limit = keel_json_get_int(m, "limit", ctx, -1, INT64_MAX, &limit, err);
  if (has_limit < 0)
    return has_limit;
  int has_resv = keel_json_get_int(m, "reservation", ctx, -1, INT64_MAX, &resv, err);
  if (has_resv < 0)
    return has_resv;
  int has_swap = keel_json_get_int(m, "swap", ctx, -1, INT64_MAX, &swap, err);
  if (has_swap < 0)
    return has_swap;
  /* kernel and kernelTCP are deprecated by the runtime-spec and the kernel
   * refuses v1 kmem limits since 6.x: type-checked, then ignored. */
  if ((r = keel_json_get_int(m, "kernel", ctx, -1, INT64_MAX, &kmem, err)) < 0
      || (r = keel_json_get_int(m, "kernelTCP", ctx, -1, INT64_MAX, &kmem, err)) < 0)
    return r;
  int has_swappiness = keel_json_get_int(m, "swappiness", ctx, 0, 100, &swappiness, err);
  if (has_swappiness < 0)
    return has_swappiness;
  int has_oom = keel_json_get_bool(m, "disableOOMKiller", ctx, &oomoff, err);
  if (has_oom < 0 || (r = keel_json_get_bool(m, "useHierarchy", ctx, &x, err)) < 0
      || (r = keel_json_get_bool(m, "checkBeforeUpdate", ctx, &x, err)) < 0)
    return has_oom < 0 ? has_oom : r;

  if (has_limit
      && (r = cg_plan_add(plan, err, "memory", v2 ? "memory.max" : "memory.limit_in_bytes", "%s",
                          fmt_limit(b, limit, v2)))
             < 0)
    return r;
  if (has_resv
      && (r = cg_plan_add(plan, err, "memory", v2 ? "memory.low" : "memory.soft_limit_in_bytes",
                          "%s", fmt_limit(b, resv, v2)))
             < 0)
    return r;
  if (has_swap && v2)
    {
      int64_t s;
      if ((r = cg_swap_v2(limit, has_limit, swap, &s, err)) < 0)
        return r;
      if (s != 0
          && (r = cg_plan_add(plan, err, "memory", "memory.swap.max", "%s", fmt_limit(b, s, true)))
                 < 0)
        return r;
    }
  else if (has_swap && swap != 0)
    {
      if (has_limit && limit != -1 && swap != -1 && swap < limit)
        return keel_error_set(err, -EINVAL,
                              "%s.swap: %" PRId64 " is below memory.limit %" PRId64
                              " (swap counts memory+swap)",
                              ctx, swap, limit);
      if ((r = cg_plan_add(plan, err, "memory", "memory.memsw.limit_in_bytes", "%" PRId64, swap))
          < 0)
        return r;
      plan->memory_swap_v1 = has_limit;
    }
  /* swappiness and the OOM killer switch have no v2 file: ignored there. */
  if (!v2 && has_swappiness
      && (r = cg_plan_add(plan, err, "memory", "memory.swappiness", "%" PRId64, swappiness)) < 0)
    return r;
  if (!v2 && has_oom && oomoff
      && (r = cg_plan_add(plan, err, "memory", "memory.oom_control", "1")) < 0)
    return r;
  return 0;
}

/* "0-3,5,7-8": what cpuset.cpus and cpuset.mems accept. */
static bool
valid_cpu_list(const char *s)
{
  if (!*s)
    return true; /* empty: leave as is */
  while (*s)
    {
      char *end;
      if (*s < '0' || *s > '9')
        return false;
      unsigned long a = strtoul(s, &end, 10);
      if (*end == '-')
        {
          if (end[1] < '0' || end[1] > '9')
            return false;
          unsigned long b = strtoul(end + 1, &end, 10);
          if (b < a)
            return false;
        }
      if (*end == ',')
        end++;
      else if (*end)
        return false;
      s = end;
    }
  return true;
}

static int
plan_cpu_bandwidth(json_object *c, const struct cg_plan_opts *o, struct cg_plan *plan,
                   struct keel_error *err)
{
  const char *ctx = RES ".cpu";
  bool v2 = o->flavor == CG_FLAVOR_V2;
  int64_t quota = 0, period = 0, burst = 0;
  int hq = keel_json_get_int(c, "quota", ctx, -1, INT64_MAX, &quota, err);
  if (hq < 0)
    return hq;
  int hp = keel_json_get_int(c, "period", ctx, 0, 1000000, &period, err);
  if (hp < 0)
    return hp;
  int hb = keel_json_get_int(c, "burst", ctx, 0, INT64_MAX, &burst, err);
  if (hb < 0)
    return hb;
  /* The kernel's floor for both is 1 ms. */
  if (hq && quota > 0 && quota < 1000)
    return keel_error_set(err, -ERANGE, "%s.quota: %" PRId64 " is below the kernel minimum 1000",
                          ctx, quota);
  if (hp && period > 0 && period < 1000)
    return keel_error_set(err, -ERANGE, "%s.period: %" PRId64 " is out of range [1000, 1000000]",
                          ctx, period);
  int r;
  hq = hq && quota != 0;
  hp = hp && period != 0;
  if (v2 && (hq || hp))
    {
      char b[32];
      r = cg_plan_add(plan, err, "cpu", "cpu.max", "%s %" PRId64,
                      hq ? fmt_limit(b, quota, true) : "max", hp ? period : 100000);
      if (r < 0)
        return r;
    }
  else if (!v2)
    {
      /* Period first: the kernel checks each value against the other. */
      if (hp && (r = cg_plan_add(plan, err, "cpu", "cpu.cfs_period_us", "%" PRId64, period)) < 0)
        return r;
      if (hq && (r = cg_plan_add(plan, err, "cpu", "cpu.cfs_quota_us", "%" PRId64, quota)) < 0)
        return r;
    }
  if (hb
      && (r = cg_plan_add(plan, err, "cpu", v2 ? "cpu.max.burst" : "cpu.cfs_burst_us", "%" PRId64,
                          burst))
             < 0)
    return r;
  return 0;
}

static int
plan_cpu_rt(json_object *c, const struct cg_plan_opts *o, struct cg_plan *plan,
            struct keel_error *err)
{
  const char *ctx = RES ".cpu";
  int64_t rt_rt = 0, rt_p = 0;
  int hr = keel_json_get_int(c, "realtimeRuntime", ctx, -1, INT64_MAX, &rt_rt, err);
  if (hr < 0)
    return hr;
  int hp = keel_json_get_int(c, "realtimePeriod", ctx, 0, INT64_MAX, &rt_p, err);
  if (hp < 0)
    return hp;
  hr = hr && rt_rt != 0;
  hp = hp && rt_p != 0;
  if (!hr && !hp)
    return 0;
  if (o->flavor == CG_FLAVOR_V2)
    return keel_error_set(err, -EOPNOTSUPP,
                          "%s: realtimeRuntime and realtimePeriod need cgroup v1 (the cgroup v2 "
                          "cpu controller has no realtime budget)",
                          ctx);
  int r;
  if (hp && (r = cg_plan_add(plan, err, "cpu", "cpu.rt_period_us", "%" PRId64, rt_p)) < 0)
    return r;
  if (hr && (r = cg_plan_add(plan, err, "cpu", "cpu.rt_runtime_us", "%" PRId64, rt_rt)) < 0)
    return r;
  return 0;
}

static int
plan_cpu(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
         struct keel_error *err)
{
  const char *ctx = RES ".cpu";
  json_object *c = NULL;
  int r = keel_json_get_object(res, "cpu", RES, &c, err);
  if (r <= 0)
    return r;
  bool v2 = o->flavor == CG_FLAVOR_V2;
  int64_t shares = 0, idle = 0;
  int hs = keel_json_get_int(c, "shares", ctx, 0, SHARES_MAX, &shares, err);
  if (hs < 0)
    return hs;
  if (hs && shares == 1)
    return keel_error_set(err, -ERANGE, "%s.shares: value out of range [%d, %d]", ctx, SHARES_MIN,
                          SHARES_MAX);
  if (hs && shares
      && (r = v2 ? cg_plan_add(plan, err, "cpu", "cpu.weight", "%" PRIu64,
                               cg_shares_to_weight((uint64_t)shares))
                 : cg_plan_add(plan, err, "cpu", "cpu.shares", "%" PRId64, shares))
             < 0)
    return r;
  if ((r = plan_cpu_bandwidth(c, o, plan, err)) < 0 || (r = plan_cpu_rt(c, o, plan, err)) < 0)
    return r;
  const char *cpus = NULL, *mems = NULL;
  if ((r = keel_json_get_string(c, "cpus", ctx, &cpus, err)) < 0
      || (r = keel_json_get_string(c, "mems", ctx, &mems, err)) < 0)
    return r;
  if (cpus && !valid_cpu_list(cpus))
    return keel_error_set(err, -EINVAL, "%s.cpus: '%s' is not a CPU list such as \"0-3,5\"", ctx,
                          cpus);
  if (mems && !valid_cpu_list(mems))
    return keel_error_set(err, -EINVAL, "%s.mems: '%s' is not a node list such as \"0-1\"", ctx,
                          mems);
  if (cpus && *cpus && (r = cg_plan_add(plan, err, "cpuset", "cpuset.cpus", "%s", cpus)) < 0)
    return r;
  if (mems && *mems && (r = cg_plan_add(plan, err, "cpuset", "cpuset.mems", "%s", mems)) < 0)
    return r;
  int hi = keel_json_get_int(c, "idle", ctx, 0, 1, &idle, err);
  if (hi < 0)
    return hi;
  if (hi && (r = cg_plan_add(plan, err, "cpu", "cpu.idle", "%" PRId64, idle)) < 0)
    return r;
  return 0;
}

static int
plan_pids(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
          struct keel_error *err)
{
  json_object *p = NULL;
  int64_t limit = 0;
  int r = keel_json_get_object(res, "pids", RES, &p, err);
  if (r <= 0)
    return r;
  r = keel_json_get_int(p, "limit", RES ".pids", -1, INT64_MAX, &limit, err);
  if (r < 0)
    return r;
  /* 0 leaves the limit unset, as runc reads it; -1 is unlimited. */
  if (r == 0 || limit == 0)
    return 0;
  if (limit == -1)
    return cg_plan_add(plan, err, "pids", "pids.max", "max");
  return cg_plan_add(plan, err, "pids", "pids.max", "%" PRId64, limit);
}

static int
dev_numbers(json_object *d, const char *ctx, int64_t *major, int64_t *minor, struct keel_error *err)
{
  int r = keel_json_get_int(d, "major", ctx, 0, UINT32_MAX, major, err);
  if (r < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "%s.major: required", ctx);
  r = keel_json_get_int(d, "minor", ctx, 0, UINT32_MAX, minor, err);
  if (r < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "%s.minor: required", ctx);
  return 0;
}

static int
plan_weight_devices(json_object *b, const struct cg_plan_opts *o, struct cg_plan *plan,
                    struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(b, "weightDevice", RES ".blockIO", &arr, err);
  if (r <= 0)
    return r;
  bool v2 = o->flavor == CG_FLAVOR_V2;
  for (size_t i = 0; i < json_object_array_length(arr); i++)
    {
      char ctx[96];
      snprintf(ctx, sizeof(ctx), RES ".blockIO.weightDevice[%zu]", i);
      json_object *d = json_object_array_get_idx(arr, i);
      int64_t maj, min, w = 0, lw = 0;
      if (!json_object_is_type(d, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
      if ((r = dev_numbers(d, ctx, &maj, &min, err)) < 0)
        return r;
      int hw = keel_json_get_int(d, "weight", ctx, 10, 1000, &w, err);
      if (hw < 0)
        return hw;
      int hl = keel_json_get_int(d, "leafWeight", ctx, 10, 1000, &lw, err);
      if (hl < 0)
        return hl;
      if (hw && v2)
        r = cg_plan_add(plan, err, "io", "io.bfq.weight", "%" PRId64 ":%" PRId64 " %" PRId64, maj,
                        min, w)
                ?: add_alt(plan, err, "io.weight", "%" PRId64 ":%" PRId64 " %" PRIu64, maj, min,
                           cg_blkio_weight_to_io_weight((uint64_t)w));
      else if (hw)
        r = cg_plan_add(plan, err, "blkio", "blkio.weight_device",
                        "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, w)
                ?: add_alt(plan, err, "blkio.bfq.weight_device", "%" PRId64 ":%" PRId64 " %" PRId64,
                           maj, min, w);
      if (r < 0)
        return r;
      /* leaf weights died with CFQ; v2 has none. */
      if (hl && !v2
          && (r = cg_plan_add(plan, err, "blkio", "blkio.leaf_weight_device",
                              "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, lw))
                 < 0)
        return r;
    }
  return 0;
}

static int
plan_throttle(json_object *b, const char *key, const char *v1file, const char *v2key,
              const struct cg_plan_opts *o, struct cg_plan *plan, struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(b, key, RES ".blockIO", &arr, err);
  if (r <= 0)
    return r;
  for (size_t i = 0; i < json_object_array_length(arr); i++)
    {
      char ctx[96];
      snprintf(ctx, sizeof(ctx), RES ".blockIO.%s[%zu]", key, i);
      json_object *d = json_object_array_get_idx(arr, i);
      int64_t maj, min, rate = 0;
      if (!json_object_is_type(d, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
      if ((r = dev_numbers(d, ctx, &maj, &min, err)) < 0)
        return r;
      if ((r = keel_json_get_int(d, "rate", ctx, 0, INT64_MAX, &rate, err)) < 0)
        return r;
      if (r == 0)
        return keel_error_set(err, -EINVAL, "%s.rate: required", ctx);
      if (o->flavor == CG_FLAVOR_V2)
        {
          if (rate == 0)
            r = cg_plan_add(plan, err, "io", "io.max", "%" PRId64 ":%" PRId64 " %s=max", maj, min,
                            v2key);
          else
            r = cg_plan_add(plan, err, "io", "io.max", "%" PRId64 ":%" PRId64 " %s=%" PRId64, maj,
                            min, v2key, rate);
        }
      else
        r = cg_plan_add(plan, err, "blkio", v1file, "%" PRId64 ":%" PRId64 " %" PRId64, maj, min,
                        rate);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
plan_blkio(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
           struct keel_error *err)
{
  const char *ctx = RES ".blockIO";
  json_object *b = NULL;
  int r = keel_json_get_object(res, "blockIO", RES, &b, err);
  if (r <= 0)
    return r;
  bool v2 = o->flavor == CG_FLAVOR_V2;
  int64_t w = 0, lw = 0;
  int hw = keel_json_get_int(b, "weight", ctx, 0, 1000, &w, err);
  if (hw < 0)
    return hw;
  int hl = keel_json_get_int(b, "leafWeight", ctx, 0, 1000, &lw, err);
  if (hl < 0)
    return hl;
  if ((hw && w && w < 10) || (hl && lw && lw < 10))
    return keel_error_set(err, -ERANGE, "%s.%s: value out of range [10, 1000]", ctx,
                          hw && w && w < 10 ? "weight" : "leafWeight");
  if (hw && w && v2)
    r = cg_plan_add(plan, err, "io", "io.bfq.weight", "%" PRId64, w)
            ?: add_alt(plan, err, "io.weight", "default %" PRIu64,
                       cg_blkio_weight_to_io_weight((uint64_t)w));
  else if (hw && w)
    r = cg_plan_add(plan, err, "blkio", "blkio.weight", "%" PRId64, w)
            ?: add_alt(plan, err, "blkio.bfq.weight", "%" PRId64, w);
  if (r < 0)
    return r;
  if (hl && lw && !v2
      && (r = cg_plan_add(plan, err, "blkio", "blkio.leaf_weight", "%" PRId64, lw)) < 0)
    return r;
  if ((r = plan_weight_devices(b, o, plan, err)) < 0
      || (r = plan_throttle(b, "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", o,
                            plan, err))
             < 0
      || (r = plan_throttle(b, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps",
                            o, plan, err))
             < 0
      || (r = plan_throttle(b, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops",
                            o, plan, err))
             < 0
      || (r = plan_throttle(b, "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device",
                            "wiops", o, plan, err))
             < 0)
    return r;
  return 0;
}

/* "2MB", "1GB", "64KB": the size part of hugetlb.<size>.* file names. */
static bool
valid_page_size(const char *s)
{
  size_t digits = strspn(s, "0123456789");
  if (digits == 0 || digits > 12 || s[0] == '0')
    return false;
  return !strcmp(s + digits, "KB") || !strcmp(s + digits, "MB") || !strcmp(s + digits, "GB");
}

static int
plan_hugetlb(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
             struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(res, "hugepageLimits", RES, &arr, err);
  if (r <= 0)
    return r;
  bool v2 = o->flavor == CG_FLAVOR_V2 || o->hugetlb_unified;
  for (size_t i = 0; i < json_object_array_length(arr); i++)
    {
      char ctx[96], file[64];
      snprintf(ctx, sizeof(ctx), RES ".hugepageLimits[%zu]", i);
      json_object *h = json_object_array_get_idx(arr, i);
      const char *size = NULL;
      uint64_t limit = 0;
      if (!json_object_is_type(h, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
      if ((r = keel_json_get_string(h, "pageSize", ctx, &size, err)) < 0)
        return r;
      if (!size || !valid_page_size(size))
        return keel_error_set(err, -EINVAL, "%s.pageSize: '%s' is not a size such as \"2MB\"", ctx,
                              size ? size : "");
      if ((r = keel_json_get_uint64(h, "limit", ctx, &limit, err)) < 0)
        return r;
      if (r == 0)
        return keel_error_set(err, -EINVAL, "%s.limit: required", ctx);
      snprintf(file, sizeof(file), "hugetlb.%s.%s", size, v2 ? "max" : "limit_in_bytes");
      if ((r = cg_plan_add(plan, err, o->hugetlb_unified ? "" : "hugetlb", file, "%" PRIu64, limit))
          < 0)
        return r;
    }
  return 0;
}

static int
plan_network(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
             struct keel_error *err)
{
  const char *ctx = RES ".network";
  json_object *n = NULL, *prios = NULL;
  int64_t classid = 0;
  int r = keel_json_get_object(res, "network", RES, &n, err);
  if (r <= 0)
    return r;
  int hc = keel_json_get_int(n, "classID", ctx, 0, UINT32_MAX, &classid, err);
  if (hc < 0)
    return hc;
  int hp = keel_json_get_array(n, "priorities", ctx, &prios, err);
  if (hp < 0)
    return hp;
  if ((hc || (hp && json_object_array_length(prios))) && o->flavor == CG_FLAVOR_V2)
    return keel_error_set(err, -EOPNOTSUPP,
                          "%s: net_cls and net_prio exist only in cgroup v1 (use an eBPF "
                          "socket filter on v2)",
                          ctx);
  if (hc && (r = cg_plan_add(plan, err, "net_cls", "net_cls.classid", "%" PRId64, classid)) < 0)
    return r;
  for (size_t i = 0; hp && i < json_object_array_length(prios); i++)
    {
      char ictx[96];
      snprintf(ictx, sizeof(ictx), "%s.priorities[%zu]", ctx, i);
      json_object *p = json_object_array_get_idx(prios, i);
      const char *name = NULL;
      int64_t prio = 0;
      if (!json_object_is_type(p, json_type_object))
        return keel_error_set(err, -EINVAL, "%s: expected an object", ictx);
      if ((r = keel_json_get_string(p, "name", ictx, &name, err)) < 0
          || (r = keel_json_get_int(p, "priority", ictx, 0, UINT32_MAX, &prio, err)) < 0)
        return r;
      if (!name || !*name || strpbrk(name, " \n/"))
        return keel_error_set(err, -EINVAL, "%s.name: expected an interface name", ictx);
      if ((r = cg_plan_add(plan, err, "net_prio", "net_prio.ifpriomap", "%s %" PRId64, name, prio))
          < 0)
        return r;
    }
  return 0;
}

static int
plan_rdma(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
          struct keel_error *err)
{
  json_object *rd = NULL;
  int r = keel_json_get_object(res, "rdma", RES, &rd, err);
  if (r <= 0)
    return r;
  json_object_object_foreach(rd, dev, v)
  {
    char ctx[160];
    snprintf(ctx, sizeof(ctx), RES ".rdma.%s", dev);
    int64_t handles = -1, objects = -1;
    if (!json_object_is_type(v, json_type_object))
      return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
    if (!*dev || strpbrk(dev, " \n/="))
      return keel_error_set(err, -EINVAL, "%s: not a device name", ctx);
    if ((r = keel_json_get_int(v, "hcaHandles", ctx, 0, INT32_MAX, &handles, err)) < 0
        || (r = keel_json_get_int(v, "hcaObjects", ctx, 0, INT32_MAX, &objects, err)) < 0)
      return r;
    char h[32] = "", ob[32] = "";
    if (handles >= 0)
      snprintf(h, sizeof(h), " hca_handle=%" PRId64, handles);
    if (objects >= 0)
      snprintf(ob, sizeof(ob), " hca_object=%" PRId64, objects);
    if ((h[0] || ob[0])
        && (r = cg_plan_add(plan, err, "rdma", "rdma.max", "%s%s%s", dev, h, ob)) < 0)
      return r;
  }
  return 0;
}

static int
plan_unified(json_object *res, const struct cg_plan_opts *o, struct cg_plan *plan,
             struct keel_error *err)
{
  json_object *u = NULL;
  int r = keel_json_get_object(res, "unified", RES, &u, err);
  if (r <= 0)
    return r;
  if (!o->unified_ok && json_object_object_length(u) > 0)
    return keel_error_set(err, -EOPNOTSUPP,
                          RES ".unified: needs cgroup v2 (this host has only v1 hierarchies)");
  json_object_object_foreach(u, key, v)
  {
    /* A key is one file name in the container's own cgroup directory:
     * anything with a path separator or a dot-dot could reach another
     * cgroup, or a file outside cgroupfs. */
    if (!*key || strchr(key, '/') || strstr(key, "..") || key[0] == '.' || !strchr(key, '.')
        || strlen(key) >= sizeof(plan->w[0].file))
      return keel_error_set(err, -EINVAL,
                            RES ".unified: '%s' is not a cgroup file name such as \"memory.high\"",
                            key);
    if (!json_object_is_type(v, json_type_string))
      return keel_error_set(err, -EINVAL, RES ".unified.%s: expected a string", key);
    if ((r = cg_plan_add(plan, err, "", key, "%s", json_object_get_string(v))) < 0)
      return r;
  }
  return 0;
}

int
cg_plan_build(json_object *resources, const struct cg_plan_opts *opts, struct cg_plan *plan,
              struct keel_error *err)
{
  memset(plan, 0, sizeof(*plan));
  if (resources && !json_object_is_type(resources, json_type_object))
    return keel_error_set(err, -EINVAL, RES ": expected an object");
  int r;
  if ((r = cg_plan_devices(resources, opts, plan, err)) < 0
      || (r = plan_memory(resources, opts, plan, err)) < 0
      || (r = plan_cpu(resources, opts, plan, err)) < 0
      || (r = plan_pids(resources, opts, plan, err)) < 0
      || (r = plan_blkio(resources, opts, plan, err)) < 0
      || (r = plan_hugetlb(resources, opts, plan, err)) < 0
      || (r = plan_network(resources, opts, plan, err)) < 0
      || (r = plan_rdma(resources, opts, plan, err)) < 0
      || (r = plan_unified(resources, opts, plan, err)) < 0)
    {
      cg_plan_free(plan);
      return r;
    }
  return 0;
}
