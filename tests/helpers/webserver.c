/* webserver: a tiny static HTTP/1.1 file server on 127.0.0.1, for the VM
 * tests and benchmarks that serve an ostree archive repo to a QEMU guest
 * (the guest reaches the host's loopback at 10.0.2.2).
 *
 *   webserver --root DIR [--port N] [--port-file F] [--log F] [--rate BYTES/S]
 *
 * GET and HEAD of regular files below DIR (no directory listings), single
 * byte ranges ("Range: bytes=A-B", "A-", "-N") answered with 206 or 416,
 * persistent connections (HTTP/1.1 default, "Connection: close" honoured,
 * HTTP/1.0 closes).  --port 0 or none picks a free port, written (with a
 * newline, atomically) to --port-file.  --rate throttles each connection's
 * body bytes, so a test can catch a fetch in the act.
 *
 * --log gets one line per request, appended with a single write(2) so the
 * forked children never interleave:
 *
 *   METHOD PATH STATUS BODY_BYTES_SENT HEAD_BYTES_SENT [range=SPEC]
 *
 * BODY_BYTES_SENT counts what write(2) accepted, also for a client that
 * went away mid-body.  Each connection is served by a forked child, which
 * dies with the server; the server runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX        16384
#define IDLE_TIMEOUT_MS 30000

static struct
{
  const char *root, *port_file, *log;
  int port;
  long long rate;
} opt;

static int root_fd = -1;
static int log_fd = -1;

struct conn
{
  int fd;
  char buf[HEAD_MAX];
  size_t len; /* bytes buffered (the start of the next request) */
};

struct req
{
  char method[16];
  char path[PATH_MAX];
  char range[128];
  bool keep_alive;
};

struct reply
{
  int status;
  long long body_sent, head_sent;
};

static void __attribute__((noreturn)) die(const char *what)
{
  fprintf(stderr, "webserver: %s\n", what);
  exit(1);
}

static long long
write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  long long sent = 0;
  while (len > 0)
    {
      ssize_t n = write(fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -(sent + 1); /* what went out before the failure, encoded negative */
      p += n;
      len -= n;
      sent += n;
    }
  return sent;
}

/* Read until the buffer holds a complete request head; returns its length
 * (including the blank line), 0 on a clean close or idle timeout, -1 on a
 * head that does not fit. */
static ssize_t
read_head(struct conn *c)
{
  for (;;)
    {
      char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
      if (end)
        return end + 4 - c->buf;
      if (c->len == sizeof c->buf)
        return -1;
      struct pollfd p = { .fd = c->fd, .events = POLLIN };
      if (poll(&p, 1, IDLE_TIMEOUT_MS) <= 0)
        return 0;
      ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return 0;
      c->len += n;
    }
}

static int
hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode %XX escapes and drop the query; false on a malformed escape. */
static bool
url_decode(const char *in, size_t len, char *out, size_t outsz)
{
  size_t o = 0;
  for (size_t i = 0; i < len && in[i] != '?' && in[i] != '#'; i++)
    {
      char ch = in[i];
      if (ch == '%')
        {
          if (i + 2 >= len || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
            return false;
          ch = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
          i += 2;
        }
      if (ch == '\0' || o + 1 >= outsz)
        return false;
      out[o++] = ch;
    }
  out[o] = '\0';
  return true;
}

/* A header's value in a request head, copied into out; false when absent. */
static bool
header(const char *head, const char *name, char *out, size_t outsz)
{
  size_t nl = strlen(name);
  for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n"))
    {
      const char *h = l + 2;
      if (strncasecmp(h, name, nl) || h[nl] != ':')
        continue;
      h += nl + 1;
      h += strspn(h, " \t");
      size_t vl = strcspn(h, "\r");
      while (vl > 0 && (h[vl - 1] == ' ' || h[vl - 1] == '\t'))
        vl--;
      if (vl >= outsz)
        vl = outsz - 1;
      memcpy(out, h, vl);
      out[vl] = '\0';
      return true;
    }
  return false;
}

/* Parse the request line and the headers we care about; false -> 400. */
static bool
parse_request(char *head, struct req *r)
{
  char target[PATH_MAX], version[16], conn[64];
  if (sscanf(head, "%15s %4095s %15s", r->method, target, version) != 3)
    return false;
  if (strncmp(version, "HTTP/1.", 7) || target[0] != '/')
    return false;
  if (!url_decode(target, strlen(target), r->path, sizeof r->path))
    return false;
  r->keep_alive = strcmp(version, "HTTP/1.0") != 0;
  if (header(head, "Connection", conn, sizeof conn))
    {
      if (!strcasecmp(conn, "close"))
        r->keep_alive = false;
      else if (!strcasecmp(conn, "keep-alive"))
        r->keep_alive = true;
    }
  if (!header(head, "Range", r->range, sizeof r->range))
    r->range[0] = '\0';
  return true;
}

/* Open PATH below the root: no "..", no dot-files' parents escaping, only
 * regular files.  Returns an fd or -1 with the HTTP status in *status. */
static int
open_below_root(const char *path, struct stat *st, int *status)
{
  const char *rel = path + strspn(path, "/");
  if (strstr(rel, "/../") || !strncmp(rel, "../", 3) || !strcmp(rel, "..")
      || (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")))
    {
      *status = 403;
      return -1;
    }
  int fd = openat(root_fd, *rel ? rel : ".", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      *status = errno == EACCES ? 403 : 404;
      return -1;
    }
  if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))
    {
      close(fd);
      *status = 404;
      return -1;
    }
  return fd;
}

/* One "bytes=" range against SIZE: 1 and [*start, *end] when satisfiable,
 * 0 when it must be ignored (malformed: serve the whole file, RFC 9110
 * 14.2), -1 when unsatisfiable (416). */
static int
parse_range(const char *spec, long long size, long long *start, long long *end)
{
  long long a, b;
  char tail;
  if (strncasecmp(spec, "bytes=", 6) || strchr(spec, ','))
    return 0;
  spec += 6;
  if (sscanf(spec, "-%lld%c", &b, &tail) == 1)
    {
      if (b <= 0)
        return -1;
      *start = b >= size ? 0 : size - b;
      *end = size - 1;
      return size > 0 ? 1 : -1;
    }
  int n = sscanf(spec, "%lld-%lld%c", &a, &b, &tail);
  if (n == 1 && spec[strlen(spec) - 1] == '-')
    b = size - 1;
  else if (n != 2)
    return 0;
  if (a >= 0 && a >= size)
    return -1;
  if (a < 0 || b < a)
    return 0;
  *start = a;
  *end = b >= size ? size - 1 : b;
  return 1;
}

static void
throttle(long long sent, const struct timespec *t0)
{
  if (opt.rate <= 0)
    return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double elapsed = (now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
  double due = (double)sent / (double)opt.rate;
  if (due > elapsed)
    usleep((useconds_t)((due - elapsed) * 1e6));
}

/* Send [start, start + len) of fd; returns the bytes accepted by the socket
 * and sets *broken when the client went away. */
static long long
send_body(int sock, int fd, long long start, long long len, bool *broken)
{
  char buf[65536];
  long long sent = 0;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (sent < len)
    {
      size_t want = len - sent < (long long)sizeof buf ? (size_t)(len - sent) : sizeof buf;
      if (opt.rate > 0 && (long long)want > opt.rate / 10 + 1)
        want = opt.rate / 10 + 1;
      ssize_t n = pread(fd, buf, want, start + sent);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          *broken = true; /* the file shrank under us: the length we promised is a lie */
          return sent;
        }
      long long w = write_all(sock, buf, n);
      if (w < 0)
        {
          *broken = true;
          return sent - w - 1;
        }
      sent += w;
      throttle(sent, &t0);
    }
  return sent;
}

static const char *
reason(int status)
{
  switch (status)
    {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 416:
      return "Range Not Satisfiable";
    default:
      return "Error";
    }
}

/* An error answer with a one-line body (none for HEAD). */
static bool
send_error(int sock, const struct req *r, struct reply *rep)
{
  char body[64], head[512];
  int bl = snprintf(body, sizeof body, "%d %s\n", rep->status, reason(rep->status));
  bool is_head = !strcmp(r->method, "HEAD");
  int hl = snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                    "%s%s\r\n",
                    rep->status, reason(rep->status), bl,
                    rep->status == 405 ? "Allow: GET, HEAD\r\n" : "",
                    r->keep_alive ? "" : "Connection: close\r\n");
  long long w = write_all(sock, head, hl);
  rep->head_sent = w < 0 ? -w - 1 : w;
  if (w < 0)
    return false;
  if (!is_head)
    {
      w = write_all(sock, body, bl);
      rep->body_sent = w < 0 ? -w - 1 : w;
      if (w < 0)
        return false;
    }
  return true;
}

/* Serve one parsed request; false when the connection must close. */
static bool
respond(int sock, const struct req *r, struct reply *rep)
{
  bool is_head = !strcmp(r->method, "HEAD");
  if (!is_head && strcmp(r->method, "GET"))
    {
      rep->status = 405;
      return send_error(sock, r, rep);
    }
  struct stat st;
  int fd = open_below_root(r->path, &st, &rep->status);
  if (fd < 0)
    return send_error(sock, r, rep);
  long long start = 0, end = st.st_size - 1;
  int rr = r->range[0] ? parse_range(r->range, st.st_size, &start, &end) : 0;
  if (rr < 0)
    {
      close(fd);
      rep->status = 416;
      return send_error(sock, r, rep);
    }
  rep->status = rr > 0 ? 206 : 200;
  long long len = st.st_size > 0 ? end - start + 1 : 0;
  char head[512], crange[96] = "";
  if (rr > 0)
    snprintf(crange, sizeof crange, "Content-Range: bytes %lld-%lld/%lld\r\n", start, end,
             (long long)st.st_size);
  int hl = snprintf(head, sizeof head,
                    "HTTP/1.1 %d %s\r\nContent-Type: application/octet-stream\r\n"
                    "Content-Length: %lld\r\nAccept-Ranges: bytes\r\n%s%s\r\n",
                    rep->status, reason(rep->status), len, crange,
                    r->keep_alive ? "" : "Connection: close\r\n");
  long long w = write_all(sock, head, hl);
  rep->head_sent = w < 0 ? -w - 1 : w;
  bool ok = w >= 0;
  if (ok && !is_head)
    {
      bool broken = false;
      rep->body_sent = send_body(sock, fd, start, len, &broken);
      ok = !broken;
    }
  close(fd);
  return ok;
}

static void
log_request(const struct req *r, const struct reply *rep)
{
  if (log_fd < 0)
    return;
  char line[PATH_MAX + 256];
  int n = snprintf(line, sizeof line, "%s %s %d %lld %lld%s%s\n", r->method[0] ? r->method : "-",
                   r->path[0] ? r->path : "-", rep->status, rep->body_sent, rep->head_sent,
                   r->range[0] ? " range=" : "", r->range);
  if (n > (int)sizeof line - 1)
    n = sizeof line - 1;
  (void)!write(log_fd, line, n);
}

static void
serve(int sock)
{
  static struct conn c;
  c.fd = sock;
  c.len = 0;
  for (;;)
    {
      ssize_t hl = read_head(&c);
      if (hl == 0)
        return;
      struct req r = { 0 };
      struct reply rep = { 0 };
      bool keep;
      if (hl < 0)
        {
          rep.status = 400;
          send_error(sock, &r, &rep);
          log_request(&r, &rep);
          return;
        }
      c.buf[hl - 2] = '\0'; /* the head as a string, ending at its last CRLF */
      if (!parse_request(c.buf, &r))
        {
          r.keep_alive = false;
          rep.status = 400;
          send_error(sock, &r, &rep);
          keep = false;
        }
      else
        keep = respond(sock, &r, &rep) && r.keep_alive;
      log_request(&r, &rep);
      /* Request bodies are not expected (GET/HEAD); what follows the head
       * is the next pipelined request. */
      memmove(c.buf, c.buf + hl, c.len - hl);
      c.len -= hl;
      if (!keep)
        return;
    }
}

static void
parse_args(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
      char *end;
      if (!v)
        die("every option takes a value (see the usage in tests/helpers/webserver.c)");
      i++;
      if (!strcmp(k, "--root"))
        opt.root = v;
      else if (!strcmp(k, "--port-file"))
        opt.port_file = v;
      else if (!strcmp(k, "--log"))
        opt.log = v;
      else if (!strcmp(k, "--port") || !strcmp(k, "--rate"))
        {
          long long n = strtoll(v, &end, 10);
          if (*end || n < 0 || (k[2] == 'p' && n > 65535))
            die("--port and --rate take a non-negative number");
          if (k[2] == 'p')
            opt.port = (int)n;
          else
            opt.rate = n;
        }
      else
        die("usage: webserver --root DIR [--port N] [--port-file F] [--log F] [--rate BYTES/S]");
    }
  if (!opt.root)
    die("usage: webserver --root DIR [--port N] [--port-file F] [--log F] [--rate BYTES/S]");
}

static void
write_port_file(int port)
{
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.tmp", opt.port_file);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, opt.port_file) < 0)
    die("cannot write --port-file");
}

int
main(int argc, char **argv)
{
  parse_args(argc, argv);
  root_fd = open(opt.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    die("cannot open --root directory");
  if (opt.log)
    {
      log_fd = open(opt.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log_fd < 0)
        die("cannot open --log file");
    }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET,
                           .sin_port = htons(opt.port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0
      || getsockname(s, (struct sockaddr *)&a, &al) < 0)
    die("cannot listen on 127.0.0.1");
  if (opt.port_file)
    write_port_file(ntohs(a.sin_port));
  for (;;)
    {
      int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      pid_t pid = fork();
      if (pid == 0)
        {
          close(s);
          /* Killing the server (by its PID) ends its connections too. */
          prctl(PR_SET_PDEATHSIG, SIGTERM);
          if (getppid() == 1)
            _exit(0);
          serve(c);
          _exit(0);
        }
      close(c);
    }
}
