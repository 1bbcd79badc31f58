/* linux.resources.devices → device rules.  One list serves both kernels:
 * v1 gets "a" in devices.deny and then one devices.allow / devices.deny
 * line per rule; v2 gets an eBPF program built from the same rules
 * (cgroup-ebpf.c).  The policy is always default-deny, and the devices every
 * container needs (crun and runc allow the same set) come after the
 * configuration's rules, so a config cannot lock itself out of /dev/null. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "lib/json.h"
#include "runtime/cgroup-internal.h"

#define CTX "linux.resources.devices"

static const struct cg_dev_rule default_rules[] = {
  /* mknod of any node: the runtime creates /dev inside the container. */
  { true, 'c', -1, -1, BPF_DEVCG_ACC_MKNOD },
  { true, 'b', -1, -1, BPF_DEVCG_ACC_MKNOD },
  { true, 'c', 1, 3, 7 },    /* /dev/null */
  { true, 'c', 1, 5, 7 },    /* /dev/zero */
  { true, 'c', 1, 7, 7 },    /* /dev/full */
  { true, 'c', 1, 8, 7 },    /* /dev/random */
  { true, 'c', 1, 9, 7 },    /* /dev/urandom */
  { true, 'c', 5, 0, 7 },    /* /dev/tty */
  { true, 'c', 5, 1, 7 },    /* /dev/console */
  { true, 'c', 5, 2, 7 },    /* /dev/ptmx */
  { true, 'c', 136, -1, 7 }, /* /dev/pts/N */
};

static int
parse_access(const char *s, unsigned *ret)
{
  unsigned acc = 0;
  if (!*s)
    return -EINVAL;
  for (; *s; s++)
    switch (*s)
      {
      case 'r':
        acc |= BPF_DEVCG_ACC_READ;
        break;
      case 'w':
        acc |= BPF_DEVCG_ACC_WRITE;
        break;
      case 'm':
        acc |= BPF_DEVCG_ACC_MKNOD;
        break;
      default:
        return -EINVAL;
      }
  *ret = acc;
  return 0;
}

static int
parse_rule(json_object *d, const char *ctx, struct cg_dev_rule *rule, struct keel_error *err)
{
  const char *type = NULL, *access = NULL;
  int r;
  if (!json_object_is_type(d, json_type_object))
    return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
  if ((r = keel_json_get_bool(d, "allow", ctx, &rule->allow, err)) < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "%s.allow: required", ctx);
  if ((r = keel_json_get_string(d, "type", ctx, &type, err)) < 0)
    return r;
  rule->type = type ? type[0] : 'a';
  if (type && (strlen(type) != 1 || !strchr("abc", type[0])))
    return keel_error_set(err, -EINVAL, "%s.type: '%s' is not one of a, b, c", ctx, type);
  rule->major = rule->minor = -1;
  if ((r = keel_json_get_int(d, "major", ctx, -1, UINT32_MAX, &rule->major, err)) < 0
      || (r = keel_json_get_int(d, "minor", ctx, -1, UINT32_MAX, &rule->minor, err)) < 0)
    return r;
  if ((r = keel_json_get_string(d, "access", ctx, &access, err)) < 0)
    return r;
  rule->access = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  if (access && parse_access(access, &rule->access) < 0)
    return keel_error_set(err, -EINVAL, "%s.access: '%s' is not a non-empty subset of \"rwm\"", ctx,
                          access);
  return 0;
}

static void
fmt_num(char *buf, size_t size, int64_t v)
{
  if (v < 0)
    snprintf(buf, size, "*");
  else
    snprintf(buf, size, "%" PRId64, v);
}

static void
fmt_access(char buf[4], unsigned acc)
{
  char *p = buf;
  if (acc & BPF_DEVCG_ACC_READ)
    *p++ = 'r';
  if (acc & BPF_DEVCG_ACC_WRITE)
    *p++ = 'w';
  if (acc & BPF_DEVCG_ACC_MKNOD)
    *p++ = 'm';
  *p = '\0';
}

/* One rule as v1 devices.allow / devices.deny lines.  The v1 kernel reads
 * type "a" as "every device" whatever numbers follow, so a rule of type a
 * with numbers becomes one line for c and one for b. */
static int
v1_lines(struct cg_plan *plan, const struct cg_dev_rule *rule, struct keel_error *err)
{
  const char *file = rule->allow ? "devices.allow" : "devices.deny";
  char maj[16], min[16], acc[4];
  fmt_num(maj, sizeof(maj), rule->major);
  fmt_num(min, sizeof(min), rule->minor);
  fmt_access(acc, rule->access);
  if (rule->type != 'a')
    return cg_plan_add(plan, err, "devices", file, "%c %s:%s %s", rule->type, maj, min, acc);
  if (rule->major < 0 && rule->minor < 0)
    return cg_plan_add(plan, err, "devices", file, "a *:* %s", acc);
  int r = cg_plan_add(plan, err, "devices", file, "c %s:%s %s", maj, min, acc);
  if (r < 0)
    return r;
  return cg_plan_add(plan, err, "devices", file, "b %s:%s %s", maj, min, acc);
}

int
cg_plan_devices(json_object *resources, const struct cg_plan_opts *opts, struct cg_plan *plan,
                struct keel_error *err)
{
  json_object *arr = NULL;
  int r = keel_json_get_array(resources, "devices", "linux.resources", &arr, err);
  if (r < 0)
    return r;
  if (r == 0 && opts->update)
    return 0; /* update without devices leaves the policy alone */
  size_t n = arr ? json_object_array_length(arr) : 0;
  size_t total = n + sizeof(default_rules) / sizeof(default_rules[0]);
  plan->dev = calloc(total, sizeof(*plan->dev));
  if (!plan->dev)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      char ctx[64];
      snprintf(ctx, sizeof(ctx), CTX "[%zu]", i);
      if ((r = parse_rule(json_object_array_get_idx(arr, i), ctx, &plan->dev[i], err)) < 0)
        return r;
    }
  memcpy(plan->dev + n, default_rules, sizeof(default_rules));
  plan->n_dev = total;
  plan->devices = true;
  if (opts->flavor == CG_FLAVOR_V2)
    return 0;
  if ((r = cg_plan_add(plan, err, "devices", "devices.deny", "a")) < 0)
    return r;
  for (size_t i = 0; i < total; i++)
    if ((r = v1_lines(plan, &plan->dev[i], err)) < 0)
      return r;
  return 0;
}
