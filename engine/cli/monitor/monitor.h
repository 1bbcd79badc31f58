/* keel-monitor's insides: one process per container, single-threaded,
 * one poll() loop.  main.c parses and daemonizes, run.c starts, reaps,
 * restarts and stops the container, io.c moves bytes (output to the log
 * and attached clients, stdin from them), health.c runs health checks. */
#ifndef KEEL_CLI_MONITOR_H
#define KEEL_CLI_MONITOR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "monitor/attach.h"
#include "monitor/logwriter.h"
#include "runtime/container.h"

enum restart_policy
{
  RESTART_NO,
  RESTART_ON_FAILURE,
  RESTART_ALWAYS,
  RESTART_UNLESS_STOPPED,
};

struct client
{
  int fd;
  struct keel_attach_decoder *dec; /* allocated on the first byte received */
  char *out;                       /* output not yet taken by the client */
  size_t out_len;
  bool dead; /* freed at the end of the loop turn, not under our feet */
  struct client *next;
};

struct health
{
  pid_t pid;  /* the running check, 0 when none */
  int out_fd; /* its stdout + stderr */
  char out[4096];
  size_t out_len;
  int64_t started_ms, next_ms, deadline_ms;
  struct timespec started;
  unsigned streak;
  const char *status;
  json_object *log;
};

struct monitor
{
  /* options */
  const char *id, *name, *bundle, *state_dir, *exit_file;
  bool terminal, want_stdin, rm;
  enum restart_policy restart;
  unsigned restart_max;
  int stop_signal;
  int64_t stop_timeout_ms;
  const char *health_cmd;
  int64_t health_interval_ms, health_timeout_ms;
  unsigned health_retries;
  struct keel_logw_opts log_opts;
  int sync_fd;             /* the starter's pipe: "started PID", "failed: MSG", "exited CODE" */
  int attach_fd;           /* a client connected from the start (--attach-fd) */
  const char *sdnotify;    /* --sdnotify: NULL, "conmon", "container" */
  const char *notify_path; /* --notify-socket: the container's socket (container mode) */

  /* live */
  struct keel_runtime rt;
  struct keel_logw log;
  int dirfd, lock_fd, listen_fd, devnull;
  int sig_pipe[2];
  int out_fd, err_fd; /* pipes, or out_fd = the terminal master */
  int in_fd;          /* stdin pipe's write end (unused with a terminal: out_fd) */
  char *in_buf;       /* stdin bytes the container has not taken yet */
  size_t in_len;
  bool in_close; /* close stdin once in_buf is written */
  pid_t pid;     /* the container's process, 0 when none */
  json_object *rt_state;
  unsigned restarts;
  int64_t backoff_ms, started_ms, restart_ms, kill_ms, trim_ms;
  struct timespec started_at;
  bool stopping, stopped_by_user, done;
  int exit_code;
  struct client *clients;
  struct health health;
  char *notify_host; /* the unit's $NOTIFY_SOCKET, when --sdnotify and set */
  int notify_fd;     /* the container's socket, container mode */
  bool notify_ready; /* READY=1 passed on */
};

int64_t now_ms(void);
/* trim.c: give back the memory of a start once it is done */
void monitor_trim(void);

/* run.c */
int monitor_start(struct monitor *m, struct keel_error *err);
void monitor_reap(struct monitor *m);
void monitor_stop(struct monitor *m, int64_t timeout_ms);
void monitor_timers(struct monitor *m, int64_t now);
int64_t monitor_next_timer(struct monitor *m);
int monitor_write_state(struct monitor *m, const char *status, const char *error);
void monitor_sync(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* io.c */
int io_listen(struct monitor *m, struct keel_error *err);
int io_loop(struct monitor *m);
void io_drain(struct monitor *m);
void io_broadcast(struct monitor *m, enum keel_attach_type type, const void *data, size_t len);
void io_add_client(struct monitor *m, int fd);
void io_close_all(struct monitor *m);
/* Point fds 0, 1, 2 at in/out/err (-1: /dev/null) for a child to inherit. */
int io_redirect(struct monitor *m, int in, int out, int err);

/* notify.c */
int notify_setup(struct monitor *m, struct keel_error *err);
void notify_started(struct monitor *m);
void notify_read(struct monitor *m);

/* health.c */
void health_init(struct monitor *m);
void health_timers(struct monitor *m, int64_t now);
int64_t health_next_timer(struct monitor *m);
void health_read(struct monitor *m);
bool health_reap(struct monitor *m, pid_t pid, int status);
void health_reset(struct monitor *m);

#endif
