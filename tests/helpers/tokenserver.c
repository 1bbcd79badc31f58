/* tokenserver: the token issuer of the tests' bearer-auth registry.  A tiny
 * HTTP/1.1 server on 127.0.0.1 that answers the distribution token protocol
 * (GET /token?service=S&scope=repository:NAME:ACTIONS&account=U) with a
 * JWT signed RS256 by --key; the certificate given as --cert travels in the
 * JWT's x5c header and is the registry's auth.token.rootcertbundle, which
 * is how the registry trusts the token.
 *
 *   tokenserver --key K --cert C --issuer I --service S --user U
 *               --password P [--anonymous pull|none] [--port-file F] [--log F]
 *
 * Basic credentials that match grant every requested action; no
 * credentials grant "pull" only (or nothing with --anonymous none); wrong
 * credentials get 401.  One request per connection, served in turn. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct
{
  const char *key, *cert, *issuer, *service, *user, *password, *log, *port_file;
  bool anonymous_pull;
} opt = { .anonymous_pull = true };

static EVP_PKEY *pkey;
static char *cert_b64; /* standard base64 of the DER certificate, for x5c */

static void __attribute__((noreturn)) die(const char *what)
{
  fprintf(stderr, "tokenserver: %s\n", what);
  exit(1);
}

static void *
xmalloc(size_t n)
{
  void *p = malloc(n);
  if (!p)
    die("out of memory");
  return p;
}

/* base64url without padding, as JWS wants it. */
static char *
b64url(const unsigned char *in, size_t len)
{
  char *out = xmalloc(4 * (len / 3 + 2) + 1);
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while (n > 0 && out[n - 1] == '=')
    n--;
  out[n] = 0;
  for (char *p = out; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  return out;
}

static void
load_keys(void)
{
  FILE *f = fopen(opt.key, "r");
  if (!f || !(pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
    die("cannot read --key");
  fclose(f);
  f = fopen(opt.cert, "r");
  X509 *x;
  if (!f || !(x = PEM_read_X509(f, NULL, NULL, NULL)))
    die("cannot read --cert");
  fclose(f);
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  if (n <= 0)
    die("cannot encode --cert");
  cert_b64 = xmalloc(4 * ((size_t)n / 3 + 2) + 1);
  EVP_EncodeBlock((unsigned char *)cert_b64, der, n);
  OPENSSL_free(der);
  X509_free(x);
}

/* The signed JWT for subject sub with the given access list (consumed). */
static char *
make_jwt(const char *sub, json_object *access)
{
  json_object *h = json_object_new_object(), *c = json_object_new_object(), *x5c;
  json_object_object_add(h, "alg", json_object_new_string("RS256"));
  json_object_object_add(h, "typ", json_object_new_string("JWT"));
  x5c = json_object_new_array();
  json_object_array_add(x5c, json_object_new_string(cert_b64));
  json_object_object_add(h, "x5c", x5c);
  time_t now = time(NULL);
  unsigned char rnd[16];
  RAND_bytes(rnd, sizeof rnd);
  char *jti = b64url(rnd, sizeof rnd);
  json_object_object_add(c, "iss", json_object_new_string(opt.issuer));
  json_object_object_add(c, "sub", json_object_new_string(sub));
  json_object_object_add(c, "aud", json_object_new_string(opt.service));
  json_object_object_add(c, "exp", json_object_new_int64(now + 300));
  json_object_object_add(c, "nbf", json_object_new_int64(now - 10));
  json_object_object_add(c, "iat", json_object_new_int64(now));
  json_object_object_add(c, "jti", json_object_new_string(jti));
  json_object_object_add(c, "access", access);
  const char *hs = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
  const char *cs = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
  char *h64 = b64url((const unsigned char *)hs, strlen(hs));
  char *c64 = b64url((const unsigned char *)cs, strlen(cs));
  size_t ilen = strlen(h64) + strlen(c64) + 1;
  char *input = xmalloc(ilen + 1);
  sprintf(input, "%s.%s", h64, c64);
  unsigned char sig[1024];
  size_t siglen = sizeof sig;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1
      || EVP_DigestSign(md, sig, &siglen, (unsigned char *)input, ilen) != 1)
    die("signing failed");
  EVP_MD_CTX_free(md);
  char *s64 = b64url(sig, siglen);
  char *jwt = xmalloc(ilen + strlen(s64) + 2);
  sprintf(jwt, "%s.%s", input, s64);
  free(h64), free(c64), free(s64), free(input), free(jti);
  json_object_put(h), json_object_put(c);
  return jwt;
}

static void
url_decode(char *s)
{
  char *o = s;
  for (; *s; s++)
    {
      unsigned v;
      if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1)
        *o++ = (char)v, s += 2;
      else
        *o++ = *s == '+' ? ' ' : *s;
    }
  *o = 0;
}

/* Add "type:name:a,b" to access, keeping only "pull" when !full. */
static void
add_scope(json_object *access, char *scope, bool full)
{
  char *last = strrchr(scope, ':'), *first = strchr(scope, ':');
  if (!last || last == first)
    return;
  *first = *last = 0;
  json_object *acts = json_object_new_array(), *e = json_object_new_object();
  for (char *save, *a = strtok_r(last + 1, ",", &save); a; a = strtok_r(NULL, ",", &save))
    if (full || !strcmp(a, "pull"))
      json_object_array_add(acts, json_object_new_string(a));
  json_object_object_add(e, "type", json_object_new_string(scope));
  json_object_object_add(e, "name", json_object_new_string(first + 1));
  json_object_object_add(e, "actions", acts);
  json_object_array_add(access, e);
}

/* 1: credentials match, 0: none given, -1: wrong. */
static int
check_basic(const char *head)
{
  const char *p = strcasestr(head, "\r\nAuthorization: Basic ");
  if (!p)
    return 0;
  p += strlen("\r\nAuthorization: Basic ");
  size_t n = strcspn(p, "\r\n");
  unsigned char dec[1024];
  if (n == 0 || n >= 1300)
    return -1;
  int dl = EVP_DecodeBlock(dec, (const unsigned char *)p, (int)n);
  if (dl < 0)
    return -1;
  while (n > 0 && p[n - 1] == '=') /* EVP_DecodeBlock counts padding as zeros */
    n--, dl--;
  char want[1024];
  snprintf(want, sizeof want, "%s:%s", opt.user, opt.password);
  return (size_t)dl == strlen(want) && !memcmp(dec, want, (size_t)dl) ? 1 : -1;
}

static void
reply(int c, int status, const char *extra, const char *body)
{
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n%s\r\n",
                   status,
                   status == 200   ? "OK"
                   : status == 401 ? "Unauthorized"
                                   : "Not Found",
                   strlen(body), extra);
  if (write(c, head, (size_t)n) != n || write(c, body, strlen(body)) < 0)
    return;
}

/* One line per request: "STATUS WHO WHAT". */
static void
log_line(int status, const char *who, const char *what)
{
  if (!opt.log)
    return;
  FILE *f = fopen(opt.log, "a");
  if (f)
    fprintf(f, "%d %s %s\n", status, who, what), fclose(f);
}

static void
serve(int c)
{
  static char buf[16384];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1 && (n = read(c, buf + len, sizeof buf - 1 - len)) > 0)
    {
      len += (size_t)n;
      buf[len] = 0;
      if (strstr(buf, "\r\n\r\n"))
        break;
    }
  buf[len] = 0;
  char path[8192] = "";
  if (sscanf(buf, "GET %8191s", path) != 1 || strncmp(path, "/token", 6) != 0)
    return reply(c, 404, "", "{\"error\":\"not found\"}");
  int auth = check_basic(buf);
  if (auth < 0 || (auth == 0 && !opt.anonymous_pull))
    {
      log_line(401, "-", path);
      return reply(c, 401, "WWW-Authenticate: Basic realm=\"keel-test-token\"\r\n",
                   "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}");
    }
  json_object *access = json_object_new_array();
  char *q = strchr(path, '?');
  for (char *save, *kv = q ? strtok_r(q + 1, "&", &save) : NULL; kv;
       kv = strtok_r(NULL, "&", &save))
    if (!strncmp(kv, "scope=", 6))
      {
        url_decode(kv + 6);
        for (char *s2, *sc = strtok_r(kv + 6, " ", &s2); sc; sc = strtok_r(NULL, " ", &s2))
          add_scope(access, sc, auth == 1);
      }
  log_line(200, auth == 1 ? opt.user : "anonymous",
           json_object_to_json_string_ext(access, JSON_C_TO_STRING_PLAIN));
  char *jwt = make_jwt(auth == 1 ? opt.user : "", access);
  char *body = xmalloc(2 * strlen(jwt) + 200);
  sprintf(body, "{\"token\":\"%s\",\"access_token\":\"%s\",\"expires_in\":300}", jwt, jwt);
  reply(c, 200, "", body);
  free(body), free(jwt);
}

static void
parse_args(int argc, char **argv)
{
  for (int i = 1; i + 1 < argc; i += 2)
    {
      const char *k = argv[i], *v = argv[i + 1];
      if (!strcmp(k, "--key"))
        opt.key = v;
      else if (!strcmp(k, "--cert"))
        opt.cert = v;
      else if (!strcmp(k, "--issuer"))
        opt.issuer = v;
      else if (!strcmp(k, "--service"))
        opt.service = v;
      else if (!strcmp(k, "--user"))
        opt.user = v;
      else if (!strcmp(k, "--password"))
        opt.password = v;
      else if (!strcmp(k, "--log"))
        opt.log = v;
      else if (!strcmp(k, "--port-file"))
        opt.port_file = v;
      else if (!strcmp(k, "--anonymous"))
        opt.anonymous_pull = !strcmp(v, "pull");
    }
  if (!opt.key || !opt.cert || !opt.issuer || !opt.service || !opt.user || !opt.password)
    die("usage: tokenserver --key K --cert C --issuer I --service S --user U --password P "
        "[--anonymous pull|none] [--port-file F] [--log F]");
}

int
main(int argc, char **argv)
{
  parse_args(argc, argv);
  load_keys();
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t al = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0
      || getsockname(s, (struct sockaddr *)&a, &al) < 0)
    die("cannot listen on 127.0.0.1");
  if (opt.port_file)
    {
      char tmp[4096];
      snprintf(tmp, sizeof tmp, "%s.tmp", opt.port_file);
      FILE *f = fopen(tmp, "w");
      if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0
          || rename(tmp, opt.port_file) < 0)
        die("cannot write --port-file");
    }
  for (;;)
    {
      int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      struct timeval tv = { .tv_sec = 5 }; /* a silent client cannot hold the server */
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      serve(c);
      close(c);
    }
}
