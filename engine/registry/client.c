#include "registry/client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/digest.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "registry/challenge.h"
#include "registry/client-internal.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define USER_AGENT       "keel/0.1"

void
keel_response_clear(struct keel_response *resp)
{
  free(resp->body);
  memset(resp, 0, sizeof(*resp));
}

const struct keel_registry_opts *
keel_registry_opts(const struct keel_registry *r)
{
  return &r->opts;
}

CURLM *
keel_registry_multi(struct keel_registry *r)
{
  return r->multi;
}

unsigned
keel_registry_backoff_ms(const struct keel_registry *r, unsigned n)
{
  unsigned ms = r->opts.retry_delay_ms;
  for (unsigned i = 0; i < n && ms < 10000; i++)
    ms *= 2;
  return ms;
}

void
registry_sleep_ms(unsigned ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Append every *.crt of dir to buf (a PEM bundle). */
static int
add_certs(FILE *out, const char *dir, struct keel_registry *r)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (!d)
    return 0;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    {
      size_t l = strlen(de->d_name);
      char path[4096];
      snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
      if (!strcmp(de->d_name, "client.cert"))
        r->client_cert = strdup(path);
      else if (!strcmp(de->d_name, "client.key"))
        r->client_key = strdup(path);
      if (l < 5 || strcmp(de->d_name + l - 4, ".crt"))
        continue;
      _cleanup_free_ char *pem = NULL;
      size_t len;
      if (keel_read_file(AT_FDCWD, path, 1 << 20, &pem, &len) < 0)
        continue;
      fwrite(pem, 1, len, out);
      fputc('\n', out);
      n++;
    }
  return n;
}

/* Per-registry CAs go on top of the system bundle, as Docker and podman
 * do: --cert-dir, else the first certs.d root with a <host:port> dir. */
static int
load_tls(struct keel_registry *r, struct keel_error *err)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int n = 0;
  if (r->opts.cert_dir)
    n = add_certs(out, r->opts.cert_dir, r);
  else
    {
      _cleanup_free_ char *roots = strdup(r->opts.certs_d ? r->opts.certs_d : KEEL_CERTS_D_DEFAULT);
      for (char *save = NULL, *root = strtok_r(roots, ":", &save); root && n == 0;
           root = strtok_r(NULL, ":", &save))
        {
          char dir[4096];
          snprintf(dir, sizeof(dir), "%s/%s", root, r->domain);
          n = add_certs(out, dir, r);
        }
    }
  if (n > 0)
    {
      _cleanup_free_ char *sys = NULL;
      size_t slen;
      if (keel_read_file(AT_FDCWD, SYSTEM_CA_BUNDLE, 16 << 20, &sys, &slen) == 0)
        fwrite(sys, 1, slen, out);
    }
  fclose(out);
  if (n > 0)
    {
      r->ca_blob = buf;
      r->ca_len = len;
    }
  else
    free(buf);
  return 0;
}

int
keel_registry_new(const char *domain, const struct keel_registry_opts *opts,
                  struct keel_registry **ret, struct keel_error *err)
{
  static bool global_done;
  if (!global_done)
    {
      if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return keel_error_set(err, -EIO, "cannot initialise libcurl");
      global_done = true;
    }
  struct keel_registry *r = calloc(1, sizeof(*r));
  if (!r)
    return keel_error_set(err, -ENOMEM, "out of memory");
  snprintf(r->domain, sizeof(r->domain), "%s", domain);
  snprintf(r->host, sizeof(r->host), "%s",
           !strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain);
  r->opts = *opts;
  if (!r->opts.parallel)
    r->opts.parallel = 4;
  if (!r->opts.stall_timeout_s)
    r->opts.stall_timeout_s = 30;
  if (!r->opts.retry_delay_ms)
    r->opts.retry_delay_ms = 250;
  r->multi = curl_multi_init();
  int rc = r->multi ? load_tls(r, err) : keel_error_set(err, -ENOMEM, "out of memory");
  if (rc < 0)
    {
      keel_registry_free(r);
      return rc;
    }
  /* Multiplex over HTTP/2 where offered; cap HTTP/1.1 connections. */
  curl_multi_setopt(r->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(r->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)r->opts.parallel);
  *ret = r;
  return 0;
}

void
keel_registry_free(struct keel_registry *r)
{
  if (!r)
    return;
  if (r->multi)
    curl_multi_cleanup(r->multi);
  free(r->ca_blob);
  free(r->client_cert);
  free(r->client_key);
  free(r->user);
  if (r->pass)
    explicit_bzero(r->pass, strlen(r->pass));
  free(r->pass);
  if (r->auth_header)
    explicit_bzero(r->auth_header, strlen(r->auth_header));
  free(r->auth_header);
  free(r);
}

void
keel_registry_easy_free(CURL *e)
{
  if (!e)
    return;
  struct curl_slist *h = NULL;
  curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&h);
  curl_slist_free_all(h);
  curl_easy_cleanup(e);
}

CURL *
registry_new_easy(struct keel_registry *r, const char *url, struct curl_slist *headers)
{
  CURL *e = curl_easy_init();
  if (!e)
    {
      curl_slist_free_all(headers);
      return NULL;
    }
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)headers);
  if (headers)
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, r->opts.insecure ? "http,https" : "https");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  /* The TLS handshake counts as connecting: a peer that never answers it
   * (plain HTTP behind a stalling proxy) is given up on as quickly as a
   * stalled transfer. */
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                   (long)(r->probing && r->opts.stall_timeout_s > 3 ? 3 : r->opts.stall_timeout_s));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)r->opts.stall_timeout_s);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r->opts.insecure ? 0L : 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r->opts.insecure ? 0L : 2L);
  if (r->ca_blob)
    {
      struct curl_blob blob = { r->ca_blob, r->ca_len, CURL_BLOB_NOCOPY };
      curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    }
  if (r->client_cert && r->client_key)
    {
      curl_easy_setopt(e, CURLOPT_SSLCERT, r->client_cert);
      curl_easy_setopt(e, CURLOPT_SSLKEY, r->client_key);
    }
  return e;
}

struct sink
{
  struct keel_response *resp;
  size_t max;
  bool too_big;
  char www_auth[1024];
};

static size_t
sink_write(char *p, size_t size, size_t n, void *ud)
{
  struct sink *s = ud;
  size_t len = size * n;
  if (s->resp->len + len > s->max)
    {
      s->too_big = true;
      return 0;
    }
  char *b = realloc(s->resp->body, s->resp->len + len + 1);
  if (!b)
    return 0;
  memcpy(b + s->resp->len, p, len);
  s->resp->body = b;
  s->resp->len += len;
  b[s->resp->len] = '\0';
  return len;
}

/* "Name: value\r\n" → value (trimmed) when the name matches. */
static bool
header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
  size_t nl = strlen(name);
  if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
    return false;
  const char *v = line + nl + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  size_t n = (size_t)(end - v) < size - 1 ? (size_t)(end - v) : size - 1;
  memcpy(out, v, n);
  out[n] = '\0';
  return true;
}

static size_t
sink_header(char *p, size_t size, size_t n, void *ud)
{
  struct sink *s = ud;
  size_t len = size * n;
  /* A redirect's or a 100's headers come first: start over at each status line. */
  if (len > 5 && !strncmp(p, "HTTP/", 5))
    {
      s->resp->content_type[0] = s->resp->digest[0] = s->www_auth[0] = '\0';
      return len;
    }
  header_value(p, len, "Content-Type", s->resp->content_type, sizeof(s->resp->content_type));
  header_value(p, len, "Docker-Content-Digest", s->resp->digest, sizeof(s->resp->digest));
  header_value(p, len, "WWW-Authenticate", s->www_auth, sizeof(s->www_auth));
  return len;
}

size_t
registry_header_cb(char *p, size_t size, size_t n, void *ud)
{
  struct registry_headers *h = ud;
  size_t len = size * n;
  if (len > 5 && !strncmp(p, "HTTP/", 5))
    {
      memset(h, 0, sizeof(*h));
      sscanf(p, "HTTP/%*s %ld", &h->status);
      return len;
    }
  header_value(p, len, "Location", h->location, sizeof(h->location));
  header_value(p, len, "Docker-Content-Digest", h->digest, sizeof(h->digest));
  header_value(p, len, "Range", h->range, sizeof(h->range));
  header_value(p, len, "WWW-Authenticate", h->www_auth, sizeof(h->www_auth));
  return len;
}

CURLcode
registry_run_easy(struct keel_registry *r, CURL *e)
{
  curl_multi_add_handle(r->multi, e);
  CURLcode result = CURLE_OK;
  for (bool done = false; !done;)
    {
      int running = 0, left;
      curl_multi_perform(r->multi, &running);
      CURLMsg *m;
      while ((m = curl_multi_info_read(r->multi, &left)))
        if (m->msg == CURLMSG_DONE && m->easy_handle == e)
          {
            result = m->data.result;
            done = true;
          }
      if (!done)
        curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
    }
  curl_multi_remove_handle(r->multi, e);
  return result;
}

bool
registry_retryable(CURLcode c)
{
  switch (c)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
    }
}

int
registry_transport_error(struct keel_registry *r, CURLcode c, const char *what,
                         struct keel_error *err)
{
  if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE)
    return keel_error_set(err, -EPERM,
                          "%s: cannot verify the TLS certificate of %s (put its CA in "
                          "/etc/containers/certs.d/%s/ca.crt, or use --tls-verify=false)",
                          what, r->domain, r->domain);
  if (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST)
    return keel_error_set(err, -EHOSTUNREACH, "%s: cannot reach registry %s: %s", what, r->domain,
                          curl_easy_strerror(c));
  return keel_error_set(err, -EIO, "%s: %s", what, curl_easy_strerror(c));
}

/* One GET with retries on transport errors, 5xx and 429. */
static int
get(struct keel_registry *r, const char *url, const char *accept, const char *auth, size_t max,
    struct keel_response *resp, char www_auth[1024], const char *what, struct keel_error *err)
{
  for (unsigned attempt = 0;; attempt++)
    {
      keel_response_clear(resp);
      struct curl_slist *h = NULL;
      if (accept)
        h = curl_slist_append(h, accept);
      if (auth)
        h = curl_slist_append(h, auth);
      CURL *e = registry_new_easy(r, url, h);
      if (!e)
        return keel_error_set(err, -ENOMEM, "out of memory");
      struct sink s = { .resp = resp, .max = max };
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sink_header);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, &s);
      CURLcode c = registry_run_easy(r, e);
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
      keel_registry_easy_free(e);
      if (www_auth)
        memcpy(www_auth, s.www_auth, sizeof(s.www_auth));
      if (s.too_big)
        return keel_error_set(err, -EFBIG, "%s: response larger than %zu bytes", what, max);
      bool again
          = c != CURLE_OK ? registry_retryable(c) : resp->status >= 500 || resp->status == 429;
      if (c == CURLE_COULDNT_CONNECT && r->opts.no_connect_retry)
        again = false;
      if (again && attempt < r->opts.retries && !r->probing)
        {
          registry_sleep_ms(keel_registry_backoff_ms(r, attempt));
          continue;
        }
      if (c != CURLE_OK)
        return registry_transport_error(r, c, what, err);
      return 0;
    }
}

static int
load_creds(struct keel_registry *r, struct keel_error *err)
{
  if (r->creds_loaded)
    return r->user ? 1 : 0;
  r->creds_loaded = true;
  if (r->opts.username)
    {
      r->user = strdup(r->opts.username);
      r->pass = strdup(r->opts.password ? r->opts.password : "");
      return r->user && r->pass ? 1 : keel_error_set(err, -ENOMEM, "out of memory");
    }
  if (!r->opts.credentials)
    return 0;
  return r->opts.credentials(r->opts.credentials_userdata, r->domain, &r->user, &r->pass, err);
}

static char *
basic_header(const char *user, const char *pass)
{
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  _cleanup_free_ char *plain = NULL;
  if (asprintf(&plain, "%s:%s", user, pass) < 0)
    return NULL;
  size_t n = strlen(plain);
  char *out = malloc(32 + (n + 2) / 3 * 4);
  if (!out)
    return NULL;
  size_t o = (size_t)sprintf(out, "Authorization: Basic ");
  for (size_t i = 0; i < n; i += 3)
    {
      unsigned v = (unsigned char)plain[i] << 16;
      if (i + 1 < n)
        v |= (unsigned char)plain[i + 1] << 8;
      if (i + 2 < n)
        v |= (unsigned char)plain[i + 2];
      out[o++] = b64[(v >> 18) & 63];
      out[o++] = b64[(v >> 12) & 63];
      out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
      out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
  out[o] = '\0';
  explicit_bzero(plain, n);
  return out;
}

/* The token URL: realm, service and one scope parameter per scope. */
static int
token_url(struct keel_registry *r, const char *scope, char **ret)
{
  CURL *esc = curl_easy_init();
  if (!esc)
    return -ENOMEM;
  char *svc = curl_easy_escape(esc, r->chal.service, 0);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f)
    {
      fprintf(f, "%s%sservice=%s", r->chal.realm, strchr(r->chal.realm, '?') ? "&" : "?",
              svc ? svc : "");
      _cleanup_free_ char *copy = strdup(scope);
      for (char *save = NULL, *sc = copy ? strtok_r(copy, " ", &save) : NULL; sc;
           sc = strtok_r(NULL, " ", &save))
        {
          char *e = curl_easy_escape(esc, sc, 0);
          fprintf(f, "&scope=%s", e ? e : "");
          curl_free(e);
        }
      fclose(f);
    }
  curl_free(svc);
  curl_easy_cleanup(esc);
  if (!buf)
    return -ENOMEM;
  *ret = buf;
  return 0;
}

/* GET a token from the realm for scope (space-separated; "" asks for none,
 * which is how a login checks the credentials alone). */
static int
fetch_token(struct keel_registry *r, const char *scope, struct keel_error *err)
{
  int have = load_creds(r, err);
  if (have < 0)
    return have;
  _cleanup_free_ char *url = NULL;
  if (token_url(r, scope, &url) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  _cleanup_free_ char *basic = have ? basic_header(r->user, r->pass) : NULL;
  struct keel_response resp = { 0 };
  int rc = get(r, url, NULL, basic, 1 << 20, &resp, NULL, "token", err);
  if (rc == 0 && (resp.status == 401 || resp.status == 403))
    rc = keel_error_set(err, -EACCES, "registry %s: %s", r->domain,
                        have ? "authentication failed: check the credentials"
                             : "authentication required (keel login)");
  else if (rc == 0 && resp.status != 200)
    rc = keel_error_set(err, -EPROTO, "registry %s: token server answered HTTP %ld", r->domain,
                        resp.status);
  _cleanup_json_ json_object *o = NULL;
  const char *token = NULL;
  if (rc == 0 && (rc = keel_json_parse(resp.body, resp.len, "token response", &o, err)) == 0
      && keel_json_get_string(o, "token", "", &token, NULL) <= 0
      && keel_json_get_string(o, "access_token", "", &token, NULL) <= 0)
    rc = keel_error_set(err, -EPROTO, "registry %s: token response without a token", r->domain);
  if (rc == 0)
    {
      free(r->auth_header);
      if (asprintf(&r->auth_header, "Authorization: Bearer %s", token) < 0)
        r->auth_header = NULL;
      snprintf(r->auth_scope, sizeof(r->auth_scope), "%s", scope);
    }
  keel_response_clear(&resp);
  return rc;
}

int
registry_ping(struct keel_registry *r, struct keel_error *err)
{
  struct keel_response resp = { 0 };
  char url[600], www[1024] = "";
  int rc = -EIO;
  static const char *const schemes[] = { "https", "http" };
  for (size_t i = 0; i < (r->opts.insecure ? 2u : 1u); i++)
    {
      snprintf(url, sizeof(url), "%s://%s/v2/", schemes[i], r->host);
      keel_error_clear(err);
      /* An insecure registry may not speak TLS at all: one quick https try. */
      r->probing = r->opts.insecure && i == 0;
      rc = get(r, url, NULL, NULL, 1 << 20, &resp, www, "ping", err);
      r->probing = false;
      if (rc == 0)
        {
          r->scheme = schemes[i];
          break;
        }
    }
  long status = resp.status;
  keel_response_clear(&resp);
  if (rc < 0)
    return rc;
  r->pinged = true;
  if (status == 200)
    return 0;
  if (status != 401)
    return keel_error_set(err, -EPROTO, "registry %s does not speak the v2 API (ping: HTTP %ld)",
                          r->domain, status);
  if ((rc = keel_challenge_parse(www, &r->chal, err)) < 0)
    return keel_error_prefix(err, "registry %s", r->domain);
  return 0;
}

int
registry_authorize_scope(struct keel_registry *r, const char *scope, struct keel_error *err)
{
  int rc;
  if (!r->pinged && (rc = registry_ping(r, err)) < 0)
    return rc;
  if (r->chal.scheme == KEEL_AUTH_BEARER)
    return r->auth_header && !strcmp(r->auth_scope, scope) ? 0 : fetch_token(r, scope, err);
  if (r->chal.scheme == KEEL_AUTH_BASIC && !r->auth_header)
    {
      if ((rc = load_creds(r, err)) < 0)
        return rc;
      if (rc == 0)
        return keel_error_set(err, -EACCES, "registry %s: authentication required (keel login)",
                              r->domain);
      r->auth_header = basic_header(r->user, r->pass);
      if (!r->auth_header)
        return keel_error_set(err, -ENOMEM, "out of memory");
    }
  return 0;
}

/* Make sure requests for repo carry what the registry wants. */
static int
authorize(struct keel_registry *r, const char *repo, struct keel_error *err)
{
  char scope[600];
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  return registry_authorize_scope(r, scope, err);
}

int
registry_reauthorize(struct keel_registry *r, struct keel_error *err)
{
  if (r->chal.scheme != KEEL_AUTH_BEARER)
    return keel_error_set(err, -EACCES, "registry %s: access denied", r->domain);
  return fetch_token(r, r->auth_scope, err);
}

int
keel_registry_reauth(struct keel_registry *r, const char *repo, struct keel_error *err)
{
  if (r->chal.scheme != KEEL_AUTH_BEARER)
    return keel_error_set(err, -EACCES, "registry %s: access denied", r->domain);
  char scope[600];
  snprintf(scope, sizeof(scope), "repository:%s:pull", repo);
  return fetch_token(r, scope, err);
}

static int
api_url(struct keel_registry *r, const char *repo, const char *kind, const char *target, char **ret)
{
  return asprintf(ret, "%s://%s/v2/%s/%s/%s", r->scheme, r->host, repo, kind, target) < 0 ? -ENOMEM
                                                                                          : 0;
}

/* GET with authorization, one re-authorization on 401, and the status
 * turned into an error. */
static int
api_get(struct keel_registry *r, const char *repo, const char *kind, const char *target,
        const char *accept, size_t max, struct keel_response *resp, struct keel_error *err)
{
  int rc = authorize(r, repo, err);
  if (rc < 0)
    return rc;
  _cleanup_free_ char *url = NULL;
  if (api_url(r, repo, kind, target, &url) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  char what[400];
  snprintf(what, sizeof(what), "%s/%s %s", r->domain, repo, target);
  for (int round = 0; round < 2; round++)
    {
      if ((rc = get(r, url, accept, r->auth_header, max, resp, NULL, what, err)) < 0)
        return rc;
      if (resp->status != 401 || round == 1)
        break;
      if ((rc = keel_registry_reauth(r, repo, err)) < 0)
        return rc;
    }
  if (resp->status == 200)
    return 0;
  if (resp->status == 404)
    return keel_error_set(err, -ENOENT, "%s: not found in the registry", what);
  if (resp->status == 401 || resp->status == 403)
    return keel_error_set(err, -EACCES, "%s: access denied (HTTP %ld)", what, resp->status);
  return keel_error_set(err, -EPROTO, "%s: registry answered HTTP %ld", what, resp->status);
}

int
keel_registry_get_manifest(struct keel_registry *r, const char *repo, const char *target,
                           struct keel_response *ret, struct keel_error *err)
{
  int rc = api_get(r, repo, "manifests", target, "Accept: " KEEL_MANIFEST_ACCEPT,
                   KEEL_MANIFEST_MAX_BYTES, ret, err);
  if (rc < 0)
    return rc;
  char got[KEEL_DIGEST_MAX];
  keel_digest_buffer(ret->body ? ret->body : "", ret->len, got);
  /* Pulled by digest: the body must hash to it.  By tag: to what the
   * registry announced, when it did. */
  const char *want = keel_digest_valid(target) ? target : ret->digest[0] ? ret->digest : NULL;
  if (want && strcmp(want, got))
    return keel_error_set(err, -EBADMSG, "%s/%s %s: manifest digest mismatch (got %s, want %s)",
                          r->domain, repo, target, got, want);
  memcpy(ret->digest, got, sizeof(got));
  return 0;
}

int
keel_registry_get_blob(struct keel_registry *r, const char *repo, const struct keel_descriptor *d,
                       struct keel_response *ret, struct keel_error *err)
{
  int rc = api_get(r, repo, "blobs", d->digest, NULL, (size_t)d->size, ret, err);
  if (rc < 0)
    return rc;
  char got[KEEL_DIGEST_MAX];
  keel_digest_buffer(ret->body ? ret->body : "", ret->len, got);
  if (ret->len != d->size)
    return keel_error_set(err, -EBADMSG, "blob %s: got %zu bytes, want %llu", d->digest, ret->len,
                          (unsigned long long)d->size);
  if (strcmp(got, d->digest))
    return keel_error_set(err, -EBADMSG, "blob %s: digest mismatch (got %s)", d->digest, got);
  return 0;
}

int
keel_registry_blob_easy(struct keel_registry *r, const char *repo, const char *digest,
                        uint64_t offset, CURL **ret, struct keel_error *err)
{
  int rc = authorize(r, repo, err);
  if (rc < 0)
    return rc;
  _cleanup_free_ char *url = NULL;
  if (api_url(r, repo, "blobs", digest, &url) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  struct curl_slist *h = NULL;
  if (r->auth_header)
    h = curl_slist_append(h, r->auth_header);
  CURL *e = registry_new_easy(r, url, h);
  if (!e)
    return keel_error_set(err, -ENOMEM, "out of memory");
  if (offset)
    {
      char range[64];
      snprintf(range, sizeof(range), "%llu-", (unsigned long long)offset);
      curl_easy_setopt(e, CURLOPT_RANGE, range);
    }
  *ret = e;
  return 0;
}
