/* The on-disk state of one container: <root>/<id>/state.json (written
 * atomically), exec.fifo while the container waits for start, and a lock
 * on the directory for commands that change it. */
#ifndef KEEL_RUNTIME_STATE_H
#define KEEL_RUNTIME_STATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"
#include "runtime/container.h"

#define KEEL_STATE_FILE "state.json"
#define KEEL_EXEC_FIFO  "exec.fifo"

/* Open (and flock, exclusively when `exclusive`) the container's directory. */
int keel_state_open(const struct keel_runtime *rt, const char *id, bool exclusive, int *ret_dirfd,
                    struct keel_error *err);
/* open + read together: what nearly every command starts with. */
int keel_state_load(const struct keel_runtime *rt, const char *id, bool exclusive, int *ret_dirfd,
                    json_object **ret, struct keel_error *err);
int keel_state_read(int dirfd, const char *id, json_object **ret, struct keel_error *err);
int keel_state_write(int dirfd, json_object *st, struct keel_error *err);

/* Start time of pid in clock ticks since boot (field 22 of /proc/PID/stat); 0 if gone. */
unsigned long long keel_proc_start_time(pid_t pid);

/* The pid in st when it still names the same process (start time matches), else 0. */
pid_t keel_state_live_pid(json_object *st);

/* created / running / paused / stopped / creating, from st and the directory. */
const char *keel_state_status(int dirfd, json_object *st);

/* Convenience getters (NULL / 0 when absent). */
const char *keel_state_str(json_object *st, const char *key);
json_object *keel_state_obj(json_object *st, const char *key);

#endif
