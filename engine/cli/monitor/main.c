/* keel-monitor: the per-container process that holds a container's stdio,
 * writes its log, records its exit and outlives the command that started
 * it.  See --help and the README for the interface. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/monitor/monitor.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "monitor/status.h"
#include "runtime/selfexec.h"

extern char **environ;

static const char usage_text[]
    = "usage: keel-monitor --id ID --bundle DIR --state-dir DIR [OPTIONS]\n"
      "\n"
      "Create and start one container in-process and watch over it.\n"
      "\n"
      "  --id ID                 container id (as for keel-runtime)\n"
      "  --name NAME             name for the journal (default: the id)\n"
      "  --bundle DIR            OCI bundle\n"
      "  --state-dir DIR         where state.json, exit.json, the lock, the attach socket live\n"
      "  --runtime-root DIR      the runtime's state root (default /run/keel-runtime)\n"
      "  --systemd-cgroup        cgroups through systemd (as keel-runtime --systemd-cgroup)\n"
      "  --terminal              give the container a pty (the bundle must say terminal)\n"
      "  --stdin                 keep the container's stdin open for attached clients\n"
      "  --log-driver D          json-file (default), journald, none\n"
      "  --log-path F            json-file log (default STATE-DIR/container.log)\n"
      "  --log-max-size N        rotate past N bytes (k, m, g suffixes); keeps F.1\n"
      "  --exit-file F           exit record (default STATE-DIR/exit.json)\n"
      "  --restart P             no, on-failure[:N], always, unless-stopped\n"
      "  --stop-signal SIG       signal for stop (default SIGTERM)\n"
      "  --stop-timeout T        seconds before SIGKILL on stop (default 10)\n"
      "  --health-cmd CMD        shell command run in the container to check health\n"
      "  --health-interval T     between checks (default 30s)\n"
      "  --health-timeout T      for one check (default 30s)\n"
      "  --health-retries N      failures in a row before unhealthy (default 3)\n"
      "  --sync-fd N             report here: \"started PID\", \"failed: MSG\", \"exited CODE\"\n"
      "  --attach-fd N           an attach client connected from the start (a socket)\n"
      "  --rm                    remove STATE-DIR once the container is gone for good\n"
      "  --sdnotify MODE         with $NOTIFY_SOCKET: conmon (we tell READY and our pid once\n"
      "                          the container runs) or container (pass on what it sends)\n"
      "  --notify-socket PATH    the socket the container sends to (container mode)\n"
      "  --monitor-log F         the monitor's own messages (default: none)\n"
      "  --journal-socket PATH   journald's socket (default /run/systemd/journal/socket)\n"
      "\n"
      "Durations take ms, s, m suffixes (default seconds).  Exit status: 0 when the\n"
      "container started (the monitor keeps running in the background), 125 when not.\n";

enum
{
  OPT_ID = 256,
  OPT_NAME,
  OPT_BUNDLE,
  OPT_STATE_DIR,
  OPT_RUNTIME_ROOT,
  OPT_TERMINAL,
  OPT_STDIN,
  OPT_LOG_DRIVER,
  OPT_LOG_PATH,
  OPT_LOG_MAX,
  OPT_EXIT_FILE,
  OPT_RESTART,
  OPT_STOP_SIGNAL,
  OPT_STOP_TIMEOUT,
  OPT_HEALTH_CMD,
  OPT_HEALTH_INTERVAL,
  OPT_HEALTH_TIMEOUT,
  OPT_HEALTH_RETRIES,
  OPT_SYNC_FD,
  OPT_ATTACH_FD,
  OPT_RM,
  OPT_MONITOR_LOG,
  OPT_JOURNAL_SOCKET,
  OPT_SYSTEMD_CGROUP,
  OPT_SDNOTIFY,
  OPT_NOTIFY_SOCKET,
  OPT_HELP,
};

static const struct option long_opts[] = {
  { "id", required_argument, NULL, OPT_ID },
  { "name", required_argument, NULL, OPT_NAME },
  { "bundle", required_argument, NULL, OPT_BUNDLE },
  { "state-dir", required_argument, NULL, OPT_STATE_DIR },
  { "runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT },
  { "terminal", no_argument, NULL, OPT_TERMINAL },
  { "stdin", no_argument, NULL, OPT_STDIN },
  { "log-driver", required_argument, NULL, OPT_LOG_DRIVER },
  { "log-path", required_argument, NULL, OPT_LOG_PATH },
  { "log-max-size", required_argument, NULL, OPT_LOG_MAX },
  { "exit-file", required_argument, NULL, OPT_EXIT_FILE },
  { "restart", required_argument, NULL, OPT_RESTART },
  { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
  { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
  { "health-cmd", required_argument, NULL, OPT_HEALTH_CMD },
  { "health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL },
  { "health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT },
  { "health-retries", required_argument, NULL, OPT_HEALTH_RETRIES },
  { "sync-fd", required_argument, NULL, OPT_SYNC_FD },
  { "attach-fd", required_argument, NULL, OPT_ATTACH_FD },
  { "rm", no_argument, NULL, OPT_RM },
  { "monitor-log", required_argument, NULL, OPT_MONITOR_LOG },
  { "journal-socket", required_argument, NULL, OPT_JOURNAL_SOCKET },
  { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
  { "sdnotify", required_argument, NULL, OPT_SDNOTIFY },
  { "notify-socket", required_argument, NULL, OPT_NOTIFY_SOCKET },
  { "help", no_argument, NULL, OPT_HELP },
  { NULL, 0, NULL, 0 },
};

int64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A failure before the container runs: one line to the starter (sync fd
 * and stderr), exit 125 as podman does for engine errors. */
static void __attribute__((noreturn, format(printf, 2, 3)))
fail(struct monitor *m, const char *fmt, ...)
{
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  keel_log_error("%s", msg);
  monitor_sync(m, "failed: %s\n", msg);
  exit(125);
}

/* "10", "10s", "1.5s", "500ms", "2m" → milliseconds; -1 if malformed. */
static int64_t
parse_duration(const char *s)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < 0)
    return -1;
  double unit = 1000;
  if (!strcmp(end, "ms"))
    unit = 1;
  else if (!strcmp(end, "m"))
    unit = 60000;
  else if (*end && strcmp(end, "s"))
    return -1;
  double ms = v * unit;
  return ms > 1e12 ? -1 : (int64_t)ms;
}

static int
parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *s == '-' || v > max)
    return -1;
  unsigned long long mult = 1;
  if (*end == 'k' || *end == 'K')
    mult = 1ULL << 10, end++;
  else if (*end == 'm' || *end == 'M')
    mult = 1ULL << 20, end++;
  else if (*end == 'g' || *end == 'G')
    mult = 1ULL << 30, end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end || v > max / mult)
    return -1;
  *ret = v * mult;
  return 0;
}

static int
parse_signal(const char *s)
{
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end)
    return n > 0 && n < 65 ? (int)n : -1;
  if (!strncasecmp(s, "SIG", 3))
    s += 3;
  for (int i = 1; i < 32; i++)
    {
      const char *abbrev = sigabbrev_np(i);
      if (abbrev && !strcasecmp(s, abbrev))
        return i;
    }
  return -1;
}

static int
parse_restart(struct monitor *m, const char *s)
{
  unsigned long long n = 0;
  if (!strcmp(s, "no"))
    m->restart = RESTART_NO;
  else if (!strcmp(s, "always"))
    m->restart = RESTART_ALWAYS;
  else if (!strcmp(s, "unless-stopped"))
    m->restart = RESTART_UNLESS_STOPPED;
  else if (!strncmp(s, "on-failure", 10) && (!s[10] || s[10] == ':'))
    {
      if (s[10] == ':' && parse_uint(s + 11, 1000000, &n) < 0)
        return -1;
      m->restart = RESTART_ON_FAILURE;
      m->restart_max = (unsigned)n;
    }
  else
    return -1;
  return 0;
}

static int
parse_fd(const char *s)
{
  unsigned long long v;
  if (parse_uint(s, INT_MAX, &v) < 0 || v < 3 || fcntl((int)v, F_GETFD) < 0)
    return -1;
  return (int)v;
}

/* One option into m; a message naming the option when its value is bad. */
static int
parse_option(struct monitor *m, int c, const char *arg, const char **monitor_log)
{
  unsigned long long n;
  switch (c)
    {
    case OPT_ID:
      m->id = arg;
      return 0;
    case OPT_NAME:
      m->name = arg;
      return 0;
    case OPT_BUNDLE:
      m->bundle = arg;
      return 0;
    case OPT_STATE_DIR:
      m->state_dir = arg;
      return 0;
    case OPT_RUNTIME_ROOT:
      m->rt.root = arg;
      return 0;
    case OPT_TERMINAL:
      m->terminal = true;
      return 0;
    case OPT_STDIN:
      m->want_stdin = true;
      return 0;
    case OPT_LOG_DRIVER:
      return keel_log_driver_parse(arg, &m->log_opts.driver) < 0 ? -1 : 0;
    case OPT_LOG_PATH:
      m->log_opts.path = arg;
      return 0;
    case OPT_LOG_MAX:
      return parse_uint(arg, UINT64_MAX, &n) < 0 ? -1 : (m->log_opts.max_size = n, 0);
    case OPT_EXIT_FILE:
      m->exit_file = arg;
      return 0;
    case OPT_RESTART:
      return parse_restart(m, arg);
    case OPT_STOP_SIGNAL:
      return (m->stop_signal = parse_signal(arg)) < 0 ? -1 : 0;
    case OPT_STOP_TIMEOUT:
      return (m->stop_timeout_ms = parse_duration(arg)) < 0 ? -1 : 0;
    case OPT_HEALTH_CMD:
      m->health_cmd = *arg ? arg : NULL;
      return 0;
    case OPT_HEALTH_INTERVAL:
      return (m->health_interval_ms = parse_duration(arg)) <= 0 ? -1 : 0;
    case OPT_HEALTH_TIMEOUT:
      return (m->health_timeout_ms = parse_duration(arg)) <= 0 ? -1 : 0;
    case OPT_HEALTH_RETRIES:
      return parse_uint(arg, 1000000, &n) < 0 || n == 0 ? -1 : (m->health_retries = (unsigned)n, 0);
    case OPT_SYNC_FD:
      return (m->sync_fd = parse_fd(arg)) < 0 ? -1 : 0;
    case OPT_ATTACH_FD:
      return (m->attach_fd = parse_fd(arg)) < 0 ? -1 : 0;
    case OPT_RM:
      m->rm = true;
      return 0;
    case OPT_MONITOR_LOG:
      *monitor_log = arg;
      return 0;
    case OPT_JOURNAL_SOCKET:
      m->log_opts.journal_socket = arg;
      return 0;
    case OPT_SYSTEMD_CGROUP:
      m->rt.systemd_cgroup = true;
      return 0;
    case OPT_SDNOTIFY:
      m->sdnotify = arg;
      return strcmp(arg, "conmon") && strcmp(arg, "container") ? -1 : 0;
    case OPT_NOTIFY_SOCKET:
      m->notify_path = arg;
      return arg[0] == '/' ? 0 : -1;
    default:
      return -1;
    }
}

static void
parse_args(struct monitor *m, int argc, char **argv)
{
  const char *monitor_log = NULL;
  int c;
  /* the sync fd first, so every later complaint reaches the starter */
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], "--sync-fd"))
      m->sync_fd = parse_fd(argv[i + 1]);
  while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1)
    {
      if (c == 'h' || c == OPT_HELP)
        {
          fputs(usage_text, stdout);
          exit(0);
        }
      if (c == '?')
        fail(m, "bad option (see keel-monitor --help)");
      if (parse_option(m, c, optarg, &monitor_log) < 0)
        fail(m, "--%s: bad value '%s'", long_opts[c - OPT_ID].name, optarg);
    }
  if (optind < argc)
    fail(m, "unexpected argument '%s'", argv[optind]);
  if (!m->id || !m->bundle || !m->state_dir)
    fail(m, "--id, --bundle and --state-dir are required");
  if (monitor_log && keel_log_set_file(monitor_log, KEEL_LOG_TEXT) < 0)
    fail(m, "cannot open monitor log '%s': %s", monitor_log, strerror(errno));
}

/* Absolute copies of the paths: the monitor runs from "/". */
static const char *
absolute(struct monitor *m, const char *path)
{
  static char cwd[PATH_MAX];
  char *out;
  if (!path || path[0] == '/')
    return path;
  if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
    fail(m, "cannot get the working directory: %s", strerror(errno));
  if (asprintf(&out, "%s/%s", cwd, path) < 0)
    fail(m, "out of memory");
  return out;
}

static const char *
in_state_dir(struct monitor *m, const char *name)
{
  char *out;
  if (asprintf(&out, "%s/%s", m->state_dir, name) < 0)
    fail(m, "out of memory");
  return out;
}

static void
resolve_paths(struct monitor *m)
{
  char buf[PATH_MAX];
  int r = keel_mkdir_p(m->state_dir, 0700);
  if (r < 0)
    fail(m, "cannot create state directory '%s': %s", m->state_dir, strerror(-r));
  if (!realpath(m->state_dir, buf) || !(m->state_dir = strdup(buf)))
    fail(m, "cannot resolve '%s': %s", m->state_dir, strerror(errno));
  if (!realpath(m->bundle, buf) || !(m->bundle = strdup(buf)))
    fail(m, "bundle '%s': %s", m->bundle, strerror(errno));
  m->rt.root = absolute(m, m->rt.root);
  m->log_opts.path
      = m->log_opts.path ? absolute(m, m->log_opts.path) : in_state_dir(m, KEEL_MONITOR_LOG);
  m->exit_file = m->exit_file ? absolute(m, m->exit_file) : in_state_dir(m, KEEL_MONITOR_EXIT);
  m->log_opts.id = m->id;
  m->log_opts.name = m->name ? m->name : m->id;
}

/* Nothing of the starter's but stdio and our two fds stays open: a
 * monitor that kept, say, a pipe its starter's caller reads to EOF would
 * hang `id=$(keel run -d ...)` for the container's whole life. */
static void
close_inherited(struct monitor *m)
{
  int keep[2] = { m->sync_fd, m->attach_fd };
  if (keep[0] > keep[1])
    keep[0] = m->attach_fd, keep[1] = m->sync_fd;
  unsigned from = 3;
  for (int i = 0; i < 2; i++)
    if (keep[i] >= 3)
      {
        if ((unsigned)keep[i] > from)
          close_range(from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
      }
  close_range(from, ~0U, 0);
}

/* Before forking: whatever can fail because of the caller's input fails
 * here, in the process the caller waits for. */
static void
prepare(struct monitor *m)
{
  struct keel_error err = KEEL_ERROR_INIT;
  if (keel_container_check_id(m->id, &err) < 0)
    fail(m, "%s", err.msg);
  resolve_paths(m);
  m->dirfd = open(m->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->dirfd < 0)
    fail(m, "cannot open state directory '%s': %s", m->state_dir, strerror(errno));
  if (keel_monitor_lock(m->dirfd, &m->lock_fd, &err) < 0)
    fail(m, "%s: %s", m->state_dir, err.msg);
  if (keel_logw_open(&m->log, &m->log_opts, &err) < 0)
    fail(m, "%s", err.msg);
  if (io_listen(m, &err) < 0 || notify_setup(m, &err) < 0)
    fail(m, "%s", err.msg);
  m->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (m->devnull < 0)
    fail(m, "cannot open /dev/null: %s", strerror(errno));
  if (m->sync_fd >= 0)
    fcntl(m->sync_fd, F_SETFD, FD_CLOEXEC);
  if (m->attach_fd >= 0)
    fcntl(m->attach_fd, F_SETFD, FD_CLOEXEC);
}

/* Fork twice with a new session in between: the monitor is nobody's
 * child that anyone waits for, has no controlling terminal, and the
 * starter's own child exits at once. */
static void
daemonize(struct monitor *m)
{
  pid_t pid = fork();
  if (pid < 0)
    fail(m, "cannot fork: %s", strerror(errno));
  if (pid > 0)
    {
      /* reap the middle process so no zombie waits for init */
      int status;
      waitpid(pid, &status, 0);
      _exit(0);
    }
  if (setsid() < 0)
    fail(m, "cannot start a session: %s", strerror(errno));
  pid = fork();
  if (pid < 0)
    fail(m, "cannot fork: %s", strerror(errno));
  if (pid > 0)
    _exit(0);
  if (chdir("/") < 0)
    fail(m, "cannot change to /: %s", strerror(errno));
  io_redirect(m, -1, -1, -1);
  /* orphans of a container without a pid namespace come to us, not init */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  char line[32];
  snprintf(line, sizeof(line), "%d\n", (int)getpid());
  /* before "started": a Type=forking unit reads it once its starter ends */
  int r = keel_write_file_replace(m->dirfd, KEEL_MONITOR_PID, line, strlen(line), 0644);
  if (r < 0)
    fail(m, "cannot write %s/" KEEL_MONITOR_PID ": %s", m->state_dir, strerror(-r));
}

static struct monitor *sig_monitor;

static void
on_signal(int sig)
{
  int saved = errno;
  unsigned char c = (unsigned char)sig;
  if (sig_monitor && write(sig_monitor->sig_pipe[1], &c, 1) < 0)
    {
      /* the pipe is full of the same news already */
    }
  errno = saved;
}

/* Handlers, not signalfd: a blocked mask would be inherited by the
 * container's process through execve, handlers are reset by it.  SIGPIPE
 * gets one too, so a vanished reader is EPIPE, not death, while the
 * container still starts with SIGPIPE at its default. */
static void
setup_signals(struct monitor *m)
{
  static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE };
  if (pipe2(m->sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    fail(m, "cannot create a pipe: %s", strerror(errno));
  sig_monitor = m;
  struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
    sigaction(sigs[i], &sa, NULL);
}

int
main(int argc, char **argv)
{
  struct monitor m = {
    .rt = { .root = KEEL_RUNTIME_DEFAULT_ROOT },
    .log_opts = { .driver = KEEL_LOG_DRIVER_JSON_FILE },
    .stop_signal = SIGTERM,
    .stop_timeout_ms = 10000,
    .health_interval_ms = 30000,
    .health_timeout_ms = 30000,
    .health_retries = 3,
    .sync_fd = -EBADF,
    .attach_fd = -EBADF,
    .dirfd = -EBADF,
    .lock_fd = -EBADF,
    .listen_fd = -EBADF,
    .devnull = -EBADF,
    .out_fd = -EBADF,
    .err_fd = -EBADF,
    .in_fd = -EBADF,
    .notify_fd = -EBADF,
  };
  struct keel_error err = KEEL_ERROR_INIT;
  keel_log_init("keel-monitor");
  parse_args(&m, argc, argv);
  /* The container's process starts as a fork of this one (CVE-2019-5736) */
  if (keel_selfexec_ensure(argv, environ, &err) < 0)
    fail(&m, "%s", err.msg);
  /* under the memfd copy the command name would read "memfd:keel-run" */
  prctl(PR_SET_NAME, "keel-monitor");
  close_inherited(&m);
  prepare(&m);
  daemonize(&m);
  setup_signals(&m);
  health_init(&m);
  if (m.attach_fd >= 0)
    io_add_client(&m, TAKE_FD(m.attach_fd));
  if (monitor_start(&m, &err) < 0)
    {
      monitor_write_state(&m, "failed", err.msg);
      io_close_all(&m);
      fail(&m, "%s", err.msg);
    }
  monitor_sync(&m, "started %d\n", (int)m.pid);
  notify_started(&m);
  io_loop(&m);
  return 0;
}
