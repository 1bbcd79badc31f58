/* The container lifecycle behind keel-runtime's command line: create,
 * start, run, state, kill, delete, list, ps, pause, resume, update, exec.
 * State lives in <root>/<id>/ (state.json, exec.fifo); every command works
 * from it alone, so each can run in a different process. */
#ifndef KEEL_RUNTIME_CONTAINER_H
#define KEEL_RUNTIME_CONTAINER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

#define KEEL_RUNTIME_DEFAULT_ROOT "/run/keel-runtime"
#define KEEL_OCI_VERSION          "1.1.0"

struct keel_runtime
{
  const char *root; /* state directory root */
  bool systemd_cgroup;
};

struct keel_create_opts
{
  const char *id;
  const char *bundle;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  /* run only: keep the container's terminal master for the caller */
  int *ret_console_master;
  /* run only: no exec.fifo; the init waits for KEEL_SYNC_START on this
   * socket (returned here), and the state comes back in memory, so the
   * runtime that created the container also starts and deletes it without
   * reading anything back. */
  int *ret_start_fd;
  json_object **ret_state;
};

/* Validate an id: letters, digits, '_', '+', '-', '.'; not "." or "..". */
int keel_container_check_id(const char *id, struct keel_error *err);

/* Create the container; returns once its init waits for start. */
int keel_container_create(const struct keel_runtime *rt, const struct keel_create_opts *opts,
                          pid_t *ret_pid, struct keel_error *err);

/* Release a created container's process (runs poststart hooks). */
int keel_container_start(const struct keel_runtime *rt, const char *id, struct keel_error *err);

/* The runtime-spec State document (ociVersion, id, status, pid, bundle,
 * annotations) plus Keel's extra fields (created, owner, rootfs). */
int keel_container_state(const struct keel_runtime *rt, const char *id, json_object **ret,
                         struct keel_error *err);

/* Start a container made with ret_start_fd (runs poststart hooks); closes
 * start_fd.  Returns 1 with a warning in err when a poststart hook failed. */
int keel_container_start_run(int start_fd, json_object *state, struct keel_error *err);

/* Delete a container from its in-memory state (as returned to run). */
int keel_container_delete_state(const struct keel_runtime *rt, json_object *state,
                                struct keel_error *err);

/* Status string of a container: creating, created, running, paused, stopped. */
int keel_container_status(const struct keel_runtime *rt, const char *id, const char **ret,
                          pid_t *ret_pid, struct keel_error *err);

int keel_container_kill(const struct keel_runtime *rt, const char *id, int sig, bool all,
                        struct keel_error *err);

/* Remove a stopped (or, with force, any) container: kill, cgroup,
 * poststop hooks, state. */
int keel_container_delete(const struct keel_runtime *rt, const char *id, bool force,
                          struct keel_error *err);

/* Array of State documents of every container under root. */
int keel_container_list(const struct keel_runtime *rt, json_object **ret, struct keel_error *err);

int keel_container_pids(const struct keel_runtime *rt, const char *id, pid_t **ret, size_t *ret_n,
                        struct keel_error *err);
int keel_container_pause(const struct keel_runtime *rt, const char *id, bool pause,
                         struct keel_error *err);
int keel_container_update(const struct keel_runtime *rt, const char *id, json_object *resources,
                          struct keel_error *err);

/* Wait for a child container process; returns its exit code (128+signal). */
int keel_container_wait_child(pid_t pid, int *ret_code);

struct keel_exec_opts
{
  const char *process_file; /* --process FILE: a runtime-spec Process */
  char **args;              /* or args from the command line */
  char **env;               /* --env additions */
  const char *cwd;          /* --cwd */
  const char *user;         /* --user uid[:gid] */
  char **caps;              /* --cap additions */
  bool tty, detach, no_new_privs;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  int *ret_console_master;
};

/* Run a new process in a running container; with detach the pid is
 * returned at once, else the exit code after it ends. */
int keel_container_exec(const struct keel_runtime *rt, const char *id,
                        const struct keel_exec_opts *opts, pid_t *ret_pid, struct keel_error *err);

#endif
