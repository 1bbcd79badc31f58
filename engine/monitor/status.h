/* What a keel-monitor leaves in its state directory, and how anyone else
 * (`keel ps`, `keel inspect`, `keel rm`) reads it without the monitor:
 *
 *   monitor.lock  the monitor holds an exclusive flock(2) on it for its
 *                 whole life.  A reader that gets a shared lock with
 *                 LOCK_NB knows the monitor is gone (ended or killed);
 *                 EWOULDBLOCK means it is alive.  keel_monitor_status()
 *                 does exactly that.
 *   state.json    {"id", "monitorPid", "status", "pid", "startedAt",
 *                 "finishedAt", "exitCode", "restartCount",
 *                 "stoppedByUser", "error"}, replaced atomically at each
 *                 change.  status: "starting", "running", "stopping",
 *                 "restarting", "exited", "failed" (never started).
 *   exit.json     {"exitCode", "finishedAt", "startedAt", "restartCount",
 *                 "stoppedByUser"} written (temp + fsync + rename) each
 *                 time the container ends; --exit-file puts it elsewhere.
 *   health.json   with --health-cmd: {"status": "starting" | "healthy" |
 *                 "unhealthy", "failingStreak", "log": [{"start", "end",
 *                 "exitCode", "output"}, ...the last 5]}.
 *   attach.sock   the attach socket (monitor/attach.h), while it runs.
 *   monitor.pid   the monitor's pid and a newline, written once it runs in
 *                 the background (systemd's PIDFile= for Type=forking
 *                 units made by `keel generate systemd`).
 *   container.log the json-file log unless --log-path says otherwise.
 *
 * A monitor that is gone while state.json says "running", "stopping" or
 * "restarting" was killed: its container may still run, with nobody
 * holding its stdio or recording its exit; report it as such (podman
 * says the container's monitor exited) and let `rm -f` clean up. */
#ifndef KEEL_MONITOR_STATUS_H
#define KEEL_MONITOR_STATUS_H

#include <json-c/json.h>
#include <stdbool.h>

#include "lib/error.h"

#define KEEL_MONITOR_LOCK   "monitor.lock"
#define KEEL_MONITOR_PID    "monitor.pid"
#define KEEL_MONITOR_STATE  "state.json"
#define KEEL_MONITOR_EXIT   "exit.json"
#define KEEL_MONITOR_HEALTH "health.json"
#define KEEL_MONITOR_LOG    "container.log"

/* Take the monitor lock in dirfd (created 0600); -EBUSY when another
 * monitor holds it.  The fd returned keeps the lock. */
int keel_monitor_lock(int dirfd, int *ret_fd, struct keel_error *err);

/* For readers: whether a monitor still runs for state_dir (*ret_alive),
 * and its state.json (NULL in *ret_state when there is none yet). */
int keel_monitor_status(const char *state_dir, bool *ret_alive, json_object **ret_state,
                        struct keel_error *err);

#endif
