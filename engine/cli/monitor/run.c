/* The container's life under the monitor: create + start in-process
 * through the runtime library, reap, record, restart, stop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/monitor/monitor.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "monitor/status.h"
#include "runtime/terminal.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
/* trim once the start's aftermath (first output, first clients) is over */
#define TRIM_DELAY_MS 1000

void
monitor_sync(struct monitor *m, const char *fmt, ...)
{
  char line[1300];
  va_list ap;
  if (m->sync_fd < 0)
    return;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof(line))
    {
      n = sizeof(line) - 1;
      line[n - 1] = '\n';
    }
  /* a starter that went away is no reason to stop */
  if (keel_write_all(m->sync_fd, line, (size_t)n) < 0)
    {
      close(m->sync_fd);
      m->sync_fd = -EBADF;
    }
}

static void
add_time(json_object *o, const char *key, const struct timespec *ts)
{
  char t[40];
  keel_log_time(t, ts);
  json_object_object_add(o, key, json_object_new_string(t));
}

int
monitor_write_state(struct monitor *m, const char *status, const char *error)
{
  _cleanup_json_ json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(m->id));
  json_object_object_add(o, "monitorPid", json_object_new_int(getpid()));
  json_object_object_add(o, "status", json_object_new_string(status));
  json_object_object_add(o, "pid", json_object_new_int(m->pid));
  if (m->started_at.tv_sec)
    add_time(o, "startedAt", &m->started_at);
  if (!m->pid && m->started_at.tv_sec)
    {
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      add_time(o, "finishedAt", &now);
      json_object_object_add(o, "exitCode", json_object_new_int(m->exit_code));
    }
  json_object_object_add(o, "restartCount", json_object_new_int((int)m->restarts));
  json_object_object_add(o, "stoppedByUser", json_object_new_boolean(m->stopped_by_user));
  if (error)
    json_object_object_add(o, "error", json_object_new_string(error));
  const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  /* live state: rename makes it atomic; it need not survive a reboot */
  int r = keel_write_file_replace(m->dirfd, KEEL_MONITOR_STATE, s, strlen(s), 0644);
  if (r < 0)
    keel_log_error("cannot write %s/" KEEL_MONITOR_STATE ": %s", m->state_dir, strerror(-r));
  return r;
}

/* exit.json: what survives the monitor, so temp + fsync + rename. */
static void
write_exit_file(struct monitor *m, const struct timespec *finished)
{
  _cleanup_json_ json_object *o = json_object_new_object();
  json_object_object_add(o, "exitCode", json_object_new_int(m->exit_code));
  add_time(o, "startedAt", &m->started_at);
  add_time(o, "finishedAt", finished);
  json_object_object_add(o, "restartCount", json_object_new_int((int)m->restarts));
  json_object_object_add(o, "stoppedByUser", json_object_new_boolean(m->stopped_by_user));
  const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  int r = keel_write_file_atomic(AT_FDCWD, m->exit_file, s, strlen(s), 0644);
  if (r < 0)
    keel_log_error("cannot write exit file '%s': %s", m->exit_file, strerror(-r));
}

static void
close_pair(int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      {
        close(p[i]);
        p[i] = -EBADF;
      }
}

/* The pipes for one run: the container's ends go to fds 0-2 only for the
 * clone inside keel_container_create, ours stay non-blocking. */
static int
create_with_stdio(struct monitor *m, struct keel_create_opts *o, pid_t *pid, struct keel_error *err)
{
  int out[2] = { -EBADF, -EBADF }, errp[2] = { -EBADF, -EBADF }, in[2] = { -EBADF, -EBADF };
  int r = 0;
  if (!m->terminal
      && (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0
          || (m->want_stdin && pipe2(in, O_CLOEXEC) < 0)))
    r = keel_error_set_errno(err, -errno, "cannot create the container's pipes");
  if (r == 0 && (r = io_redirect(m, in[0], out[1], errp[1])) < 0)
    keel_error_set_errno(err, r, "cannot set up the container's stdio");
  if (r == 0)
    r = keel_container_create(&m->rt, o, pid, err);
  io_redirect(m, -1, -1, -1);
  if (r < 0)
    {
      close_pair(out), close_pair(errp), close_pair(in);
      return r;
    }
  close(out[1]), close(errp[1]), close(in[0]);
  m->out_fd = out[0];
  m->err_fd = errp[0];
  m->in_fd = in[1];
  return 0;
}

static int
receive_terminal(struct monitor *m, int *master_sock, struct keel_error *err)
{
  if (*master_sock < 0)
    return keel_error_set(err, -EINVAL, "--terminal: the bundle's process.terminal is false");
  int r = keel_fd_recv(*master_sock, &m->out_fd);
  close(*master_sock);
  *master_sock = -EBADF;
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot receive the container's terminal");
  return 0;
}

static void
set_nonblock(int fd)
{
  if (fd >= 0)
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A container that never ran: gone without a trace. */
static void
abandon(struct monitor *m, pid_t pid, json_object *st)
{
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  keel_container_delete_state(&m->rt, st, NULL);
  json_object_put(st);
  int *fds[] = { &m->out_fd, &m->err_fd, &m->in_fd };
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
    if (*fds[i] >= 0)
      {
        close(*fds[i]);
        *fds[i] = -EBADF;
      }
}

int
monitor_start(struct monitor *m, struct keel_error *err)
{
  int master_sock = -EBADF, start_fd = -EBADF;
  json_object *st = NULL;
  pid_t pid;
  struct keel_create_opts o
      = { .id = m->id, .bundle = m->bundle, .ret_start_fd = &start_fd, .ret_state = &st };
  if (m->terminal)
    o.ret_console_master = &master_sock;
  int r = create_with_stdio(m, &o, &pid, err);
  if (r < 0)
    return r;
  if (m->terminal)
    r = receive_terminal(m, &master_sock, err);
  if (r == 0)
    r = keel_container_start_run(start_fd, st, err);
  else
    close(start_fd);
  if (r < 0)
    {
      abandon(m, pid, st);
      return r;
    }
  if (r > 0)
    keel_log_warning("%s", err->msg);
  /* the pid is ours from here: a child we have not reaped cannot be recycled */
  m->pid = pid;
  m->rt_state = st;
  set_nonblock(m->out_fd);
  set_nonblock(m->err_fd);
  set_nonblock(m->in_fd);
  clock_gettime(CLOCK_REALTIME, &m->started_at);
  m->started_ms = now_ms();
  monitor_write_state(m, "running", NULL);
  health_reset(m);
  m->trim_ms = now_ms() + TRIM_DELAY_MS;
  return 0;
}

static bool
should_restart(struct monitor *m)
{
  if (m->stopped_by_user)
    return false;
  switch (m->restart)
    {
    case RESTART_ON_FAILURE:
      return m->exit_code != 0 && (m->restart_max == 0 || m->restarts < m->restart_max);
    case RESTART_ALWAYS:
    case RESTART_UNLESS_STOPPED:
      return true;
    default:
      return false;
    }
}

/* No more runs: tell everyone, and let the loop end. */
static void
finish(struct monitor *m, const char *error)
{
  m->done = true;
  m->restart_ms = 0;
  monitor_write_state(m, error ? "failed" : "exited", error);
  monitor_sync(m, "exited %d\n", m->exit_code);
  io_broadcast(m, KEEL_ATTACH_GONE, NULL, 0);
}

static void
schedule_restart(struct monitor *m, int64_t now)
{
  /* Docker's rule: the delay doubles from 100 ms, and a run that lasted
   * 10 s or more starts the count again */
  if (!m->backoff_ms || now - m->started_ms >= BACKOFF_MAX_MS)
    m->backoff_ms = BACKOFF_MIN_MS;
  m->restart_ms = now + m->backoff_ms;
  m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
  m->restarts++;
  monitor_write_state(m, "restarting", NULL);
}

static void
container_exited(struct monitor *m, int status)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct timespec finished;
  char code[16];
  clock_gettime(CLOCK_REALTIME, &finished);
  m->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m->pid = 0;
  m->stopping = false;
  m->kill_ms = 0;
  io_drain(m);
  write_exit_file(m, &finished);
  if (keel_container_delete_state(&m->rt, m->rt_state, &err) < 0)
    keel_log_error("cannot delete the runtime state: %s", err.msg);
  json_object_put(m->rt_state);
  m->rt_state = NULL;
  int n = snprintf(code, sizeof(code), "%d", m->exit_code);
  io_broadcast(m, KEEL_ATTACH_EXIT, code, (size_t)n);
  if (should_restart(m))
    schedule_restart(m, now_ms());
  else
    finish(m, NULL);
}

void
monitor_reap(struct monitor *m)
{
  int status;
  pid_t p;
  while ((p = waitpid(-1, &status, WNOHANG)) > 0)
    {
      if (p == m->pid)
        container_exited(m, status);
      else
        health_reap(m, p, status);
    }
}

void
monitor_stop(struct monitor *m, int64_t timeout_ms)
{
  int64_t now = now_ms();
  m->stopped_by_user = true;
  if (m->done)
    return;
  if (!m->pid)
    {
      finish(m, NULL); /* between two runs: the next one is cancelled */
      return;
    }
  if (!m->stopping)
    {
      m->stopping = true;
      kill(m->pid, m->stop_signal);
      monitor_write_state(m, "stopping", NULL);
    }
  if (!m->kill_ms || now + timeout_ms < m->kill_ms)
    m->kill_ms = now + timeout_ms;
}

void
monitor_timers(struct monitor *m, int64_t now)
{
  struct keel_error err = KEEL_ERROR_INIT;
  if (m->kill_ms && now >= m->kill_ms && m->pid)
    {
      m->kill_ms = 0;
      /* every process of the container, not only its first */
      if (keel_container_kill(&m->rt, m->id, SIGKILL, true, NULL) < 0)
        kill(m->pid, SIGKILL);
    }
  if (m->restart_ms && now >= m->restart_ms && !m->done)
    {
      m->restart_ms = 0;
      if (monitor_start(m, &err) < 0)
        {
          keel_log_error("cannot restart: %s", err.msg);
          finish(m, err.msg);
        }
    }
  if (m->pid)
    health_timers(m, now);
  if (m->trim_ms && now >= m->trim_ms)
    {
      m->trim_ms = 0;
      monitor_trim();
    }
}

int64_t
monitor_next_timer(struct monitor *m)
{
  int64_t t = 0;
  if (m->kill_ms)
    t = m->kill_ms;
  if (m->restart_ms && (!t || m->restart_ms < t))
    t = m->restart_ms;
  int64_t h = m->pid ? health_next_timer(m) : 0;
  if (h && (!t || h < t))
    t = h;
  if (m->trim_ms && (!t || m->trim_ms < t))
    t = m->trim_ms;
  return t;
}
