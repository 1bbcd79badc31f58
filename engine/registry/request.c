#include "registry/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/json.h"

struct body_src
{
  const struct registry_request *req;
  uint64_t done;
};

static size_t
read_body(char *out, size_t size, size_t n, void *ud)
{
  struct body_src *b = ud;
  const struct registry_request *q = b->req;
  uint64_t total = q->buf ? q->buf_len : q->length;
  size_t want = size * n;
  if (want > total - b->done)
    want = (size_t)(total - b->done);
  if (want == 0)
    return 0;
  if (q->buf)
    memcpy(out, (const char *)q->buf + b->done, want);
  else
    {
      ssize_t got = pread(q->fd, out, want, (off_t)(q->offset + b->done));
      if (got <= 0)
        return CURL_READFUNC_ABORT;
      want = (size_t)got;
    }
  b->done += want;
  return want;
}

static size_t
keep_body(char *p, size_t size, size_t n, void *ud)
{
  struct registry_request *q = ud;
  size_t len = size * n, room = sizeof(q->body) - 1 - q->body_len;
  size_t take = len < room ? len : room;
  memcpy(q->body + q->body_len, p, take);
  q->body_len += take;
  q->body[q->body_len] = '\0';
  return len;
}

static CURL *
build(struct keel_registry *r, struct registry_request *q, struct body_src *src)
{
  struct curl_slist *h = curl_slist_append(NULL, "Expect:");
  char line[300];
  if (r->auth_header)
    h = curl_slist_append(h, r->auth_header);
  if (q->content_type)
    {
      snprintf(line, sizeof(line), "Content-Type: %s", q->content_type);
      h = curl_slist_append(h, line);
    }
  if (q->content_range)
    {
      snprintf(line, sizeof(line), "Content-Range: %s", q->content_range);
      h = curl_slist_append(h, line);
    }
  CURL *e = registry_new_easy(r, q->url, h);
  if (!e)
    return NULL;
  /* Uploads must not follow redirects blindly: the body would be lost. */
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, strcmp(q->method, "GET") ? 0L : 1L);
  if (!strcmp(q->method, "HEAD"))
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  else if (strcmp(q->method, "GET"))
    {
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                       (curl_off_t)(q->buf       ? q->buf_len
                                    : q->fd >= 0 ? q->length
                                                 : 0));
      curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
      curl_easy_setopt(e, CURLOPT_READDATA, src);
      if (strcmp(q->method, "PUT"))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
    }
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, registry_header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &q->hdr);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
  return e;
}

int
registry_request(struct keel_registry *r, struct registry_request *q, const char *what,
                 struct keel_error *err)
{
  bool reauthed = false;
  for (unsigned attempt = 0;; attempt++)
    {
      struct body_src src = { q, 0 };
      memset(&q->hdr, 0, sizeof(q->hdr));
      q->body_len = 0;
      q->body[0] = '\0';
      CURL *e = build(r, q, &src);
      if (!e)
        return keel_error_set(err, -ENOMEM, "out of memory");
      CURLcode c = registry_run_easy(r, e);
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &q->hdr.status);
      keel_registry_easy_free(e);
      if (c == CURLE_OK && q->hdr.status == 401 && !reauthed && r->chal.scheme == KEEL_AUTH_BEARER)
        {
          /* the token may have expired, or lack an action: ask again once */
          reauthed = true;
          int rc = registry_reauthorize(r, err);
          if (rc < 0)
            return rc;
          continue;
        }
      bool again
          = c != CURLE_OK ? registry_retryable(c) : q->hdr.status >= 500 || q->hdr.status == 429;
      if (again && q->retry && attempt < r->opts.retries)
        {
          registry_sleep_ms(keel_registry_backoff_ms(r, attempt));
          continue;
        }
      if (c != CURLE_OK)
        return registry_transport_error(r, c, what, err);
      return 0;
    }
}

void
registry_error_message(const struct registry_request *q, char *buf, size_t size)
{
  buf[0] = '\0';
  _cleanup_json_ json_object *o = NULL;
  json_object *errors, *first, *msg;
  if (q->body_len == 0 || keel_json_parse(q->body, q->body_len, "error", &o, NULL) < 0)
    return;
  if (json_object_object_get_ex(o, "errors", &errors)
      && json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0
      && (first = json_object_array_get_idx(errors, 0))
      && json_object_object_get_ex(first, "message", &msg))
    snprintf(buf, size, ": %s", json_object_get_string(msg));
}

int
registry_url(struct keel_registry *r, const char *path, char **ret)
{
  return asprintf(ret, "%s://%s/v2/%s", r->scheme, r->host, path) < 0 ? -ENOMEM : 0;
}
