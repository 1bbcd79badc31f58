/* faultproxy: an HTTP/1.1 proxy on 127.0.0.1 in front of a plain-HTTP
 * registry that misbehaves on purpose, so the pull path's retries, resumes
 * and digest checks can be tested against a real registry.
 *
 *   faultproxy --upstream HOST:PORT --mode MODE [--count N] [--match S]
 *              [--after BYTES] [--port-file F] [--log F]
 *
 * MODE (applied to requests whose path contains S, default "/blobs/"):
 *   pass      relay untouched
 *   corrupt   flip one byte of a GET response body (a wrong digest)
 *   truncate  cut a GET response body short and say so in Content-Length
 *   500       answer "500 Internal Server Error" without asking upstream
 *   drop      close the connection part-way through a GET response body, or
 *             part-way through the request body of a PUT or PATCH (an upload)
 *   stall     stop sending part-way through a GET response body
 * --count N   misbehave only the first N times (default: always)
 * --after B   the body offset where corrupt/truncate/drop/stall act
 *             (default: half the Content-Length)
 *
 * One request per connection: the proxy asks upstream and tells the client
 * "Connection: close", which keeps the parsing to request and response
 * heads while bodies (chunked uploads included) stream through untouched.
 * Each connection is served by a forked child; the fault counter lives in
 * shared memory.  The chosen port is written to --port-file; every request
 * is logged as "METHOD PATH STATUS FAULT [range=...]" to --log. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 65536

enum mode
{
  M_PASS,
  M_CORRUPT,
  M_TRUNCATE,
  M_500,
  M_DROP,
  M_STALL,
};

static const char *mode_names[] = { "pass", "corrupt", "truncate", "500", "drop", "stall" };

static struct
{
  const char *upstream_host, *upstream_port, *match, *log;
  enum mode mode;
  long count;
  long long after;
} opt = { .match = "/blobs/", .count = -1, .after = -1 };

static long *faults; /* shared between the forked children */

struct req
{
  char method[16];
  char path[2048];
  char range[128];
};

static int
write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write(fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

static void
log_line(const struct req *r, int status, const char *fault)
{
  if (!opt.log)
    return;
  char line[2400];
  int n = snprintf(line, sizeof line, "%s %s %d %s%s%s\n", r->method, r->path, status, fault,
                   r->range[0] ? " range=" : "", r->range);
  int fd = open(opt.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      (void)write_all(fd, line, (size_t)n); /* O_APPEND: one write per line */
      close(fd);
    }
}

/* Read until the end of an HTTP head; returns its length (bytes after it
 * stay in buf, *len says how many were read in all), 0 at EOF, -1 on error. */
static ssize_t
read_head(int fd, char *buf, size_t *len)
{
  for (;;)
    {
      buf[*len] = 0;
      char *end = strstr(buf, "\r\n\r\n");
      if (end)
        return end + 4 - buf;
      if (*len >= HEAD_MAX - 1)
        return -1;
      ssize_t n = read(fd, buf + *len, HEAD_MAX - 1 - *len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return n == 0 && *len == 0 ? 0 : -1;
      *len += (size_t)n;
    }
}

/* Copy the head in to out without Connection/Keep-Alive headers (and
 * without Content-Length when drop_length), then add "Connection: close"
 * and, when new_length >= 0, a Content-Length. */
static size_t
rewrite_head(const char *in, size_t len, char *out, long long new_length)
{
  size_t o = 0;
  const char *p = in, *end = in + len - 2; /* before the final CRLF */
  while (p < end)
    {
      const char *eol = strstr(p, "\r\n");
      size_t l = (size_t)(eol + 2 - p);
      bool drop = !strncasecmp(p, "Connection:", 11) || !strncasecmp(p, "Keep-Alive:", 11)
                  || (new_length >= 0 && !strncasecmp(p, "Content-Length:", 15));
      if (!drop && o + l < HEAD_MAX - 128)
        {
          memcpy(out + o, p, l);
          o += l;
        }
      p = eol + 2;
    }
  o += (size_t)sprintf(out + o, "Connection: close\r\n");
  if (new_length >= 0)
    o += (size_t)sprintf(out + o, "Content-Length: %lld\r\n", new_length);
  o += (size_t)sprintf(out + o, "\r\n");
  return o;
}

/* The value of header name in head (up to its CRLF), or NULL. */
static const char *
header(const char *head, const char *name, char *val, size_t size)
{
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
    if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':')
      {
        const char *v = p + 3 + nl, *e = strstr(v, "\r\n");
        while (*v == ' ')
          v++;
        snprintf(val, size, "%.*s", (int)(e - v), v);
        return val;
      }
  return NULL;
}

static bool
take_fault(void)
{
  if (opt.count < 0)
    return true;
  return __atomic_fetch_add(faults, 1, __ATOMIC_SEQ_CST) < opt.count;
}

static int
connect_upstream(void)
{
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
  if (getaddrinfo(opt.upstream_host, opt.upstream_port, &hints, &ai) != 0)
    return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
    {
      close(fd);
      fd = -1;
    }
  freeaddrinfo(ai);
  return fd;
}

static void
answer_500(int c, const struct req *r)
{
  static const char body[] = "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"injected by "
                             "faultproxy\"}]}";
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   sizeof body - 1);
  (void)write_all(c, head, (size_t)n);
  (void)write_all(c, body, sizeof body - 1);
  log_line(r, 500, "500");
}

/* Hold the connection open, sending nothing, until the client gives up. */
static void
stall(int c)
{
  char buf[4096];
  for (int waited = 0; waited < 600; waited++)
    {
      struct pollfd p = { .fd = c, .events = POLLIN };
      if (poll(&p, 1, 1000) > 0 && read(c, buf, sizeof buf) <= 0)
        return;
    }
}

struct body
{
  enum mode fault; /* M_PASS when this response is left alone */
  long long limit; /* where the fault acts */
  long long sent;
};

/* Forward n body bytes to the client, applying the fault; returns false
 * when the connection is to end here. */
static bool
body_write(int c, struct body *b, char *data, size_t n)
{
  if (b->fault == M_CORRUPT && b->limit >= b->sent && b->limit < b->sent + (long long)n)
    data[b->limit - b->sent] ^= 0x20;
  if (b->fault == M_TRUNCATE || b->fault == M_DROP || b->fault == M_STALL)
    {
      long long room = b->limit - b->sent;
      if ((long long)n >= room)
        {
          if (write_all(c, data, (size_t)room) < 0)
            return false;
          b->sent += room;
          if (b->fault == M_STALL)
            stall(c);
          return false;
        }
    }
  if (write_all(c, data, n) < 0)
    return false;
  b->sent += (long long)n;
  return true;
}

/* Read the response head from upstream, decide the fault, send the
 * (rewritten) head and the body bytes that came with it. */
static bool
response_head(int c, int u, const struct req *r, struct body *b)
{
  static char buf[HEAD_MAX], out[HEAD_MAX];
  size_t len = 0;
  ssize_t hl = read_head(u, buf, &len);
  if (hl <= 0)
    return false;
  int status = 0;
  sscanf(buf, "HTTP/%*s %d", &status);
  while (status >= 100 && status < 200) /* "100 Continue" and friends pass as they are */
    {
      if (write_all(c, buf, (size_t)hl) < 0)
        return false;
      memmove(buf, buf + hl, len - (size_t)hl);
      len -= (size_t)hl;
      if ((hl = read_head(u, buf, &len)) <= 0)
        return false;
      sscanf(buf, "HTTP/%*s %d", &status);
    }
  char val[64];
  long long clen = header(buf, "Content-Length", val, sizeof val) ? atoll(val) : -1;
  b->fault = M_PASS;
  bool body_fault = opt.mode == M_CORRUPT || opt.mode == M_TRUNCATE || opt.mode == M_DROP
                    || opt.mode == M_STALL;
  if (body_fault && !strcmp(r->method, "GET") && strstr(r->path, opt.match)
      && (status == 200 || status == 206) && clen != 0 && take_fault())
    {
      b->fault = opt.mode;
      b->limit = opt.after >= 0 ? opt.after : clen > 0 ? clen / 2 : 1024;
      if (clen > 0 && b->limit >= clen)
        b->limit = clen - 1;
    }
  log_line(r, status, mode_names[b->fault]);
  char saved = buf[hl];
  buf[hl] = 0;
  size_t ol = rewrite_head(buf, (size_t)hl, out, b->fault == M_TRUNCATE ? b->limit : -1);
  buf[hl] = saved;
  if (write_all(c, out, ol) < 0)
    return false;
  return body_write(c, b, buf + hl, len - (size_t)hl);
}

/* Relay both ways until upstream has sent its whole response.  up_limit
 * >= 0: drop the connection once that many request body bytes went up
 * (up_sent counts those that already did). */
static void
relay(int c, int u, const struct req *r, long long up_limit, long long up_sent)
{
  static char buf[65536];
  struct body b = { 0 };
  bool have_head = false, client_open = true;
  for (;;)
    {
      struct pollfd p[2] = { { .fd = u, .events = POLLIN }, { .fd = c, .events = POLLIN } };
      if (poll(p, client_open ? 2 : 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return;
        }
      if (client_open && (p[1].revents & (POLLIN | POLLHUP)))
        {
          ssize_t n = read(c, buf, sizeof buf);
          if (n > 0 && up_limit >= 0 && up_sent + n > up_limit)
            {
              (void)write_all(u, buf, (size_t)(up_limit - up_sent));
              log_line(r, 0, "drop");
              return;
            }
          if (n <= 0)
            client_open = false, shutdown(u, SHUT_WR);
          else if (write_all(u, buf, (size_t)n) < 0)
            return;
          else
            up_sent += n;
        }
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      if (!have_head)
        {
          if (!response_head(c, u, r, &b))
            return;
          have_head = true;
          continue;
        }
      ssize_t n = read(u, buf, sizeof buf);
      if (n <= 0 || !body_write(c, &b, buf, (size_t)n))
        return;
    }
}

static void
serve(int c)
{
  static char buf[HEAD_MAX], out[HEAD_MAX];
  size_t len = 0;
  ssize_t hl = read_head(c, buf, &len);
  if (hl <= 0)
    return;
  struct req r = { 0 };
  sscanf(buf, "%15s %2047s", r.method, r.path);
  buf[hl - 2] = 0;
  header(buf, "Range", r.range, sizeof r.range);
  buf[hl - 2] = '\r';
  if (opt.mode == M_500 && strstr(r.path, opt.match) && take_fault())
    {
      answer_500(c, &r);
      return;
    }
  char val[64];
  buf[hl - 2] = 0;
  long long up_len = header(buf, "Content-Length", val, sizeof val) ? atoll(val) : -1;
  buf[hl - 2] = '\r';
  long long up_limit = -1;
  if (opt.mode == M_DROP && (!strcmp(r.method, "PUT") || !strcmp(r.method, "PATCH"))
      && strstr(r.path, opt.match) && up_len > 1 && take_fault())
    {
      up_limit = opt.after >= 0 && opt.after < up_len ? opt.after : up_len / 2;
      if ((long long)(len - (size_t)hl) > up_limit)
        {
          log_line(&r, 0, "drop");
          return;
        }
    }
  int u = connect_upstream();
  if (u < 0)
    {
      log_line(&r, 502, "upstream-down");
      return;
    }
  char saved = buf[hl];
  buf[hl] = 0;
  size_t ol = rewrite_head(buf, (size_t)hl, out, -1);
  buf[hl] = saved;
  if (write_all(u, out, ol) == 0 && write_all(u, buf + hl, len - (size_t)hl) == 0)
    relay(c, u, &r, up_limit, (long long)(len - (size_t)hl));
  close(u);
}

static void
parse_args(int argc, char **argv, const char **port_file)
{
  for (int i = 1; i + 1 < argc; i += 2)
    {
      const char *k = argv[i], *v = argv[i + 1];
      if (!strcmp(k, "--upstream"))
        {
          char *colon = strrchr(v, ':');
          if (!colon)
            break;
          opt.upstream_host = strndup(v, (size_t)(colon - v));
          opt.upstream_port = colon + 1;
        }
      else if (!strcmp(k, "--mode"))
        {
          int m = -1;
          for (int j = 0; j < (int)(sizeof mode_names / sizeof *mode_names); j++)
            if (!strcmp(v, mode_names[j]))
              m = j;
          if (m < 0)
            {
              fprintf(stderr, "faultproxy: unknown mode '%s'\n", v);
              exit(2);
            }
          opt.mode = (enum mode)m;
        }
      else if (!strcmp(k, "--count"))
        opt.count = atol(v);
      else if (!strcmp(k, "--after"))
        opt.after = atoll(v);
      else if (!strcmp(k, "--match"))
        opt.match = v;
      else if (!strcmp(k, "--log"))
        opt.log = v;
      else if (!strcmp(k, "--port-file"))
        *port_file = v;
    }
  if (!opt.upstream_host)
    {
      fprintf(stderr, "usage: faultproxy --upstream HOST:PORT --mode MODE [--count N] [--match S] "
                      "[--after BYTES] [--port-file F] [--log F]\n");
      exit(2);
    }
}

/* Listen on 127.0.0.1 at a port the kernel picks; publish it atomically. */
static int
listen_loopback(const char *port_file)
{
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0
      || getsockname(s, (struct sockaddr *)&a, &al) < 0)
    {
      perror("faultproxy: listen");
      exit(1);
    }
  if (port_file)
    {
      char tmp[4096];
      snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
      FILE *f = fopen(tmp, "w");
      if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0
          || rename(tmp, port_file) < 0)
        {
          perror("faultproxy: port file");
          exit(1);
        }
    }
  return s;
}

int
main(int argc, char **argv)
{
  const char *port_file = NULL;
  parse_args(argc, argv, &port_file);
  faults = mmap(NULL, sizeof *faults, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (faults == MAP_FAILED)
    return 1;
  signal(SIGCHLD, SIG_IGN); /* children reap themselves */
  signal(SIGPIPE, SIG_IGN);
  int s = listen_loopback(port_file);
  for (;;)
    {
      int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      pid_t pid = fork();
      if (pid == 0)
        {
          close(s);
          serve(c);
          close(c);
          _exit(0);
        }
      close(c);
    }
}
