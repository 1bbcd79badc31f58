/* Health checks: the command runs in the container (keel_container_exec)
 * every interval while it runs; a check that fails, or outlives its
 * timeout, counts against it; `retries` failures in a row make it
 * unhealthy, one success healthy.  health.json keeps the last results. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/monitor/monitor.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "monitor/status.h"

#define HEALTH_LOG_KEEP 5

void
health_init(struct monitor *m)
{
  m->health = (struct health){ .out_fd = -EBADF };
}

static void
write_health(struct monitor *m)
{
  _cleanup_json_ json_object *o = json_object_new_object();
  json_object_object_add(o, "status", json_object_new_string(m->health.status));
  json_object_object_add(o, "failingStreak", json_object_new_int((int)m->health.streak));
  json_object_object_add(o, "log", json_object_get(m->health.log));
  const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  int r = keel_write_file_replace(m->dirfd, KEEL_MONITOR_HEALTH, s, strlen(s), 0644);
  if (r < 0)
    keel_log_error("cannot write " KEEL_MONITOR_HEALTH ": %s", strerror(-r));
}

void
health_reset(struct monitor *m)
{
  struct health *h = &m->health;
  if (!m->health_cmd)
    return;
  h->status = "starting";
  h->streak = 0;
  h->next_ms = now_ms() + m->health_interval_ms;
  if (!h->log)
    h->log = json_object_new_array();
  write_health(m);
}

int64_t
health_next_timer(struct monitor *m)
{
  if (!m->health_cmd)
    return 0;
  return m->health.pid ? m->health.deadline_ms : m->health.next_ms;
}

static void
record(struct monitor *m, int code, const char *output, size_t len)
{
  struct health *h = &m->health;
  char t[40];
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  json_object *e = json_object_new_object();
  keel_log_time(t, &h->started);
  json_object_object_add(e, "start", json_object_new_string(t));
  keel_log_time(t, &end);
  json_object_object_add(e, "end", json_object_new_string(t));
  json_object_object_add(e, "exitCode", json_object_new_int(code));
  json_object_object_add(e, "output", json_object_new_string_len(output, (int)len));
  json_object_array_add(h->log, e);
  size_t n = json_object_array_length(h->log);
  if (n > HEALTH_LOG_KEEP)
    json_object_array_del_idx(h->log, 0, n - HEALTH_LOG_KEEP);
  if (code == 0)
    {
      h->streak = 0;
      h->status = "healthy";
    }
  else if (++h->streak >= m->health_retries)
    h->status = "unhealthy";
  h->next_ms = now_ms() + m->health_interval_ms;
  write_health(m);
  /* an exec runs much of the runtime again: give those pages back too */
  m->trim_ms = now_ms() + 100;
}

static void
run_check(struct monitor *m)
{
  struct health *h = &m->health;
  struct keel_error err = KEEL_ERROR_INIT;
  char *args[] = { "/bin/sh", "-c", (char *)m->health_cmd, NULL };
  struct keel_exec_opts o = { .args = args, .detach = true };
  int p[2];
  clock_gettime(CLOCK_REALTIME, &h->started);
  h->out_len = 0;
  if (pipe2(p, O_CLOEXEC) < 0)
    {
      keel_error_set_errno(&err, -errno, "cannot create a pipe");
      record(m, -1, err.msg, strlen(err.msg));
      return;
    }
  /* the check's stdout and stderr both land in our pipe */
  int r = io_redirect(m, -1, p[1], p[1]);
  if (r >= 0)
    r = keel_container_exec(&m->rt, m->id, &o, &h->pid, &err);
  else
    keel_error_set_errno(&err, r, "cannot set up the check's stdio");
  io_redirect(m, -1, -1, -1);
  close(p[1]);
  if (r < 0)
    {
      close(p[0]);
      h->pid = 0;
      record(m, -1, err.msg, strlen(err.msg));
      return;
    }
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  h->out_fd = p[0];
  h->deadline_ms = now_ms() + m->health_timeout_ms;
}

void
health_read(struct monitor *m)
{
  struct health *h = &m->health;
  char buf[4096];
  for (;;)
    {
      ssize_t n = read(h->out_fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        break;
      size_t room = sizeof(h->out) - h->out_len;
      size_t take = (size_t)n < room ? (size_t)n : room;
      memcpy(h->out + h->out_len, buf, take);
      h->out_len += take;
    }
  close(h->out_fd);
  h->out_fd = -EBADF;
}

void
health_timers(struct monitor *m, int64_t now)
{
  struct health *h = &m->health;
  if (!m->health_cmd)
    return;
  if (h->pid && now >= h->deadline_ms)
    {
      /* reaped as usual; record() sees the deadline passed */
      kill(h->pid, SIGKILL);
      h->deadline_ms = INT64_MAX;
    }
  else if (!h->pid && now >= h->next_ms)
    run_check(m);
}

bool
health_reap(struct monitor *m, pid_t pid, int status)
{
  struct health *h = &m->health;
  if (!h->pid || pid != h->pid)
    return false;
  bool timed_out = h->deadline_ms == INT64_MAX;
  h->pid = 0;
  if (h->out_fd >= 0)
    health_read(m);
  if (timed_out)
    {
      static const char msg[] = "health check timed out";
      record(m, -1, msg, sizeof(msg) - 1);
    }
  else
    record(m, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), h->out, h->out_len);
  return true;
}
