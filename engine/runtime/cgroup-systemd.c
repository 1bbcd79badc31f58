/* The systemd cgroup driver: the container's cgroup is a transient scope
 * unit that systemd creates with StartTransientUnit (man
 * org.freedesktop.systemd1) holding the container's pid, with Delegate=yes
 * so that the runtime (and the container) may manage what lies below it.
 * systemd gets the resource properties it knows, so a daemon-reload does
 * not undo them; the runtime then writes every file itself as with the
 * cgroupfs driver. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "runtime/cgroup-internal.h"
#include "runtime/cgroup-sdbus.h"

#define SD_DEST  "org.freedesktop.systemd1"
#define SD_PATH  "/org/freedesktop/systemd1"
#define SD_IFACE "org.freedesktop.systemd1.Manager"

bool
cg_systemd_running(void)
{
  /* sd_booted(): this directory exists only when systemd is PID 1. */
  return access("/run/systemd/system/", F_OK) == 0;
}

struct job_wait
{
  const char *job;
  char result[32];
  bool done;
};

static int
on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  const struct cg_sdbus *sd = cg_sdbus_get(NULL);
  struct job_wait *w = userdata;
  uint32_t id;
  const char *path, *unit, *result;
  if (sd->message_read(m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  if (w->job && !strcmp(path, w->job))
    {
      snprintf(w->result, sizeof(w->result), "%s", result);
      w->done = true;
    }
  return 0;
}

static int
prop_u64(const struct cg_sdbus *sd, sd_bus_message *m, const char *name, uint64_t v)
{
  return sd->message_append(m, "(sv)", name, "t", v);
}

/* -1 in the OCI config is "infinity" for systemd. */
static uint64_t
limit_u64(int64_t v)
{
  return v < 0 ? UINT64_MAX : (uint64_t)v;
}

static int
append_resources(const struct cg_sdbus *sd, sd_bus_message *m, const struct cg_scope_opts *o)
{
  json_object *mem = NULL, *cpu = NULL, *pids = NULL, *blk = NULL;
  int64_t v = 0, period = 0;
  int r = 0;
  /* Already validated: errors here cannot happen, so none is passed. */
  keel_json_get_object(o->resources, "memory", NULL, &mem, NULL);
  keel_json_get_object(o->resources, "cpu", NULL, &cpu, NULL);
  keel_json_get_object(o->resources, "pids", NULL, &pids, NULL);
  keel_json_get_object(o->resources, "blockIO", NULL, &blk, NULL);
  if (mem && keel_json_get_int(mem, "limit", NULL, -1, INT64_MAX, &v, NULL) > 0)
    r = prop_u64(sd, m, o->v2 ? "MemoryMax" : "MemoryLimit", limit_u64(v));
  if (r >= 0 && o->v2 && mem
      && keel_json_get_int(mem, "reservation", NULL, -1, INT64_MAX, &v, NULL) > 0)
    r = prop_u64(sd, m, "MemoryLow", limit_u64(v));
  if (r >= 0 && cpu && keel_json_get_int(cpu, "shares", NULL, 0, INT64_MAX, &v, NULL) > 0 && v)
    r = o->v2 ? prop_u64(sd, m, "CPUWeight", cg_shares_to_weight((uint64_t)v))
              : prop_u64(sd, m, "CPUShares", (uint64_t)v);
  if (r >= 0 && cpu && keel_json_get_int(cpu, "quota", NULL, -1, INT64_MAX, &v, NULL) > 0 && v > 0)
    {
      if (keel_json_get_int(cpu, "period", NULL, 0, INT64_MAX, &period, NULL) <= 0 || !period)
        period = 100000;
      /* systemd counts quota per second of wall time. */
      r = prop_u64(sd, m, "CPUQuotaPerSecUSec", (uint64_t)v * 1000000ULL / (uint64_t)period);
    }
  if (r >= 0 && pids && keel_json_get_int(pids, "limit", NULL, -1, INT64_MAX, &v, NULL) > 0 && v)
    r = prop_u64(sd, m, "TasksMax", limit_u64(v));
  if (r >= 0 && blk && keel_json_get_int(blk, "weight", NULL, 0, INT64_MAX, &v, NULL) > 0 && v)
    r = o->v2 ? prop_u64(sd, m, "IOWeight", cg_blkio_weight_to_io_weight((uint64_t)v))
              : prop_u64(sd, m, "BlockIOWeight", (uint64_t)v);
  return r;
}

static int
build_call(const struct cg_sdbus *sd, sd_bus *bus, const struct cg_scope_opts *o,
           sd_bus_message **ret)
{
  sd_bus_message *m = NULL;
  uint32_t pid = (uint32_t)o->pid;
  int r = sd->message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_IFACE, "StartTransientUnit");
  if (r < 0)
    return r;
  if ((r = sd->message_append(m, "ss", o->unit, "fail")) < 0
      || (r = sd->message_open_container(m, 'a', "(sv)")) < 0
      || (r = sd->message_append(m, "(sv)", "Description", "s", "keel container")) < 0
      || (r = sd->message_append(m, "(sv)", "Slice", "s", o->slice)) < 0
      || (r = sd->message_append(m, "(sv)", "Delegate", "b", 1)) < 0
      || (r = sd->message_append(m, "(sv)", "DefaultDependencies", "b", 0)) < 0
      || (o->pid > 0 && (r = sd->message_append(m, "(sv)", "PIDs", "au", 1, pid)) < 0)
      || (r = append_resources(sd, m, o)) < 0 || (r = sd->message_close_container(m)) < 0
      || (r = sd->message_append(m, "a(sa(sv))", 0)) < 0)
    {
      sd->message_unref(m);
      return r;
    }
  *ret = m;
  return 0;
}

static int
wait_job(const struct cg_sdbus *sd, sd_bus *bus, struct job_wait *w, const char *unit,
         struct keel_error *err)
{
  uint64_t deadline = cg_now_usec() + CG_TIMEOUT_USEC;
  while (!w->done)
    {
      int r = sd->process(bus, NULL);
      if (r < 0)
        return keel_error_set_errno(err, r, "systemd: lost the bus while starting '%s'", unit);
      if (r > 0)
        continue;
      uint64_t now = cg_now_usec();
      if (now >= deadline)
        return keel_error_set(err, -ETIMEDOUT,
                              "systemd: the job starting '%s' did not finish "
                              "within %llu s",
                              unit, CG_TIMEOUT_USEC / 1000000ULL);
      if ((r = sd->wait(bus, deadline - now)) < 0 && r != -EINTR)
        return keel_error_set_errno(err, r, "systemd: waiting for '%s'", unit);
    }
  if (strcmp(w->result, "done") != 0)
    return keel_error_set(err, -EIO, "systemd: starting '%s' ended with result '%s'", unit,
                          w->result);
  return 0;
}

static int
start_on_bus(const struct cg_sdbus *sd, sd_bus *bus, const struct cg_scope_opts *o,
             struct keel_error *err)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *call = NULL, *reply = NULL;
  sd_bus_slot *slot = NULL;
  struct job_wait w = { 0 };
  const char *job = NULL;
  /* The match goes in before the call so the signal cannot be missed. */
  int r
      = sd->match_signal(bus, &slot, SD_DEST, SD_PATH, SD_IFACE, "JobRemoved", on_job_removed, &w);
  if (r < 0)
    return keel_error_set_errno(err, r, "systemd: cannot watch for jobs");
  r = sd->call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "Subscribe", &e, NULL, "");
  sd->error_free(&e);
  if ((r = build_call(sd, bus, o, &call)) < 0)
    r = keel_error_set_errno(err, r, "systemd: cannot build the request for '%s'", o->unit);
  else if ((r = sd->call(bus, call, CG_TIMEOUT_USEC, &e, &reply)) < 0)
    r = keel_error_set(err, r, "systemd: cannot start '%s' in '%s': %s", o->unit, o->slice,
                       e.message ? e.message : strerror(-r));
  else if ((r = sd->message_read(reply, "o", &job)) < 0)
    r = keel_error_set_errno(err, r, "systemd: bad reply starting '%s'", o->unit);
  else
    {
      w.job = job;
      r = wait_job(sd, bus, &w, o->unit, err);
    }
  sd->error_free(&e);
  sd->message_unref(reply);
  sd->message_unref(call);
  sd->slot_unref(slot);
  return r;
}

static int
open_bus(const struct cg_sdbus **ret_sd, sd_bus **ret_bus, struct keel_error *err)
{
  if (!cg_systemd_running())
    return keel_error_set(err, -EOPNOTSUPP,
                          "--systemd-cgroup: systemd is not running on this host (no "
                          "/run/systemd/system); drop the flag to use cgroupfs");
  const struct cg_sdbus *sd = cg_sdbus_get(err);
  if (!sd)
    return err ? err->code : -ENOSYS;
  int r = sd->open_system(ret_bus);
  if (r < 0)
    return keel_error_set_errno(err, r, "--systemd-cgroup: cannot connect to the system bus");
  *ret_sd = sd;
  return 0;
}

int
cg_systemd_start(const struct cg_scope_opts *opts, struct keel_error *err)
{
  const struct cg_sdbus *sd;
  sd_bus *bus = NULL;
  int r = open_bus(&sd, &bus, err);
  if (r < 0)
    return r;
  r = start_on_bus(sd, bus, opts, err);
  sd->flush_close_unref(bus);
  return r;
}

int
cg_systemd_stop(const char *unit, struct keel_error *err)
{
  const struct cg_sdbus *sd;
  sd_bus *bus = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = open_bus(&sd, &bus, err);
  if (r < 0)
    return r;
  r = sd->call_method(bus, SD_DEST, SD_PATH, SD_IFACE, "StopUnit", &e, NULL, "ss", unit, "replace");
  /* A scope that emptied is garbage-collected by systemd: gone is success. */
  if (r < 0
      && (sd->error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")
          || sd->error_has_name(&e, "org.freedesktop.systemd1.LoadFailed")))
    r = 0;
  if (r < 0)
    r = keel_error_set(err, r, "systemd: cannot stop '%s': %s", unit,
                       e.message ? e.message : strerror(-r));
  sd->error_free(&e);
  sd->flush_close_unref(bus);
  return r;
}
