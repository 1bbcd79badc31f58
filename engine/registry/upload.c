#include "registry/upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "registry/request.h"

/* Location headers may be relative; the digest goes in the query. */
static int
resolve_location(struct keel_registry *r, const char *location, const char *digest, char **ret)
{
  CURLU *u = curl_url();
  if (!u)
    return -ENOMEM;
  char base[600];
  snprintf(base, sizeof(base), "%s://%s/v2/", r->scheme, r->host);
  int rc = -EPROTO;
  if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK
      && curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK)
    {
      char q[KEEL_DIGEST_MAX + 16];
      snprintf(q, sizeof(q), "digest=%s", digest ? digest : "");
      char *out = NULL;
      if ((!digest
           || curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK)
          && curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
        {
          *ret = strdup(out);
          rc = *ret ? 0 : -ENOMEM;
        }
      curl_free(out);
    }
  curl_url_cleanup(u);
  return rc;
}

static int
status_error(struct registry_request *q, const char *what, struct keel_error *err)
{
  char msg[300];
  registry_error_message(q, msg, sizeof(msg));
  long st = q->hdr.status;
  int code = st == 401 || st == 403 ? -EACCES : st == 404 ? -ENOENT : st >= 500 ? -EIO : -EPROTO;
  return keel_error_set(err, code, "%s: registry answered HTTP %ld%s", what, st, msg);
}

/* HEAD: 1 when the repository has the blob. */
static int
blob_exists(struct keel_registry *r, const char *repo, const struct registry_blob *b,
            struct keel_error *err)
{
  _cleanup_free_ char *path = NULL, *url = NULL;
  if (asprintf(&path, "%s/blobs/%s", repo, b->digest) < 0 || registry_url(r, path, &url) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  struct registry_request q = REGISTRY_REQUEST_INIT("HEAD", url);
  q.retry = true;
  int rc = registry_request(r, &q, b->digest, err);
  if (rc < 0)
    return rc;
  return q.hdr.status == 200 ? 1 : 0;
}

/* POST a new upload session (trying a mount from each source first):
 * 1 mounted, 0 with *ret_location to upload to. */
static int
start_upload(struct keel_registry *r, const char *repo, const struct registry_blob *b,
             char **ret_location, struct keel_error *err)
{
  char what[200];
  snprintf(what, sizeof(what), "%s: upload", b->digest);
  for (size_t i = 0;; i++)
    {
      const char *from = b->mount_from ? b->mount_from[i] : NULL;
      _cleanup_free_ char *path = NULL, *url = NULL;
      int n = from ? asprintf(&path, "%s/blobs/uploads/?mount=%s&from=%s", repo, b->digest, from)
                   : asprintf(&path, "%s/blobs/uploads/", repo);
      if (n < 0 || registry_url(r, path, &url) < 0)
        return keel_error_set(err, -ENOMEM, "out of memory");
      struct registry_request q = REGISTRY_REQUEST_INIT("POST", url);
      q.retry = true;
      int rc = registry_request(r, &q, what, err);
      if (rc < 0)
        return rc;
      if (from && q.hdr.status == 201)
        return 1;
      if (q.hdr.status != 202 || !q.hdr.location[0])
        return status_error(&q, what, err);
      /* a mount the registry declined still opened a session: use it */
      *ret_location = strdup(q.hdr.location);
      return *ret_location ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
    }
}

/* The closing PUT (with the whole body when monolithic). */
static int
finish_upload(struct keel_registry *r, const char *location, const struct registry_blob *b,
              bool with_body, struct keel_error *err)
{
  _cleanup_free_ char *url = NULL;
  if (resolve_location(r, location, b->digest, &url) < 0)
    return keel_error_set(err, -EPROTO, "%s: bad upload location '%.200s'", b->digest, location);
  struct registry_request q = REGISTRY_REQUEST_INIT("PUT", url);
  q.content_type = "application/octet-stream";
  if (with_body)
    {
      q.buf = b->buf;
      q.buf_len = b->buf ? b->size : 0;
      q.fd = b->buf ? -1 : b->fd;
      q.length = b->size;
    }
  char what[200];
  snprintf(what, sizeof(what), "%s: upload", b->digest);
  int rc = registry_request(r, &q, what, err);
  if (rc < 0)
    return rc;
  if (q.hdr.status != 201)
    return status_error(&q, what, err);
  if (q.hdr.digest[0] && strcmp(q.hdr.digest, b->digest))
    return keel_error_set(err, -EBADMSG, "%s: the registry stored it as %s", b->digest,
                          q.hdr.digest);
  return 0;
}

/* PATCH the body in chunks, following the Location each answer gives. */
static int
send_chunks(struct keel_registry *r, char **location, const struct registry_blob *b,
            struct keel_error *err)
{
  char what[200];
  snprintf(what, sizeof(what), "%s: chunked upload", b->digest);
  for (uint64_t off = 0; off < b->size;)
    {
      uint64_t n = b->size - off < b->chunk_size ? b->size - off : b->chunk_size;
      _cleanup_free_ char *url = NULL;
      if (resolve_location(r, *location, NULL, &url) < 0)
        return keel_error_set(err, -EPROTO, "%s: bad upload location", b->digest);
      char range[64];
      snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
               (unsigned long long)(off + n - 1));
      struct registry_request q = REGISTRY_REQUEST_INIT("PATCH", url);
      q.content_type = "application/octet-stream";
      q.content_range = range;
      if (b->buf)
        q.buf = (const char *)b->buf + off, q.buf_len = (size_t)n;
      else
        q.fd = b->fd, q.offset = off, q.length = n;
      int rc = registry_request(r, &q, what, err);
      if (rc < 0)
        return rc;
      if (q.hdr.status != 202)
        return status_error(&q, what, err);
      if (q.hdr.location[0])
        {
          free(*location);
          if (!(*location = strdup(q.hdr.location)))
            return keel_error_set(err, -ENOMEM, "out of memory");
        }
      off += n;
    }
  return 0;
}

static bool
worth_retrying(int code)
{
  return code == -EIO || code == -EHOSTUNREACH || code == -ECONNRESET || code == -ETIMEDOUT;
}

int
registry_push_blob(struct keel_registry *r, const char *repo, const struct registry_blob *b,
                   void (*retry)(void *ud, const char *why), void *ud,
                   enum registry_blob_result *ret, struct keel_error *err)
{
  int rc = blob_exists(r, repo, b, err);
  if (rc != 0)
    {
      *ret = REGISTRY_BLOB_EXISTS;
      return rc < 0 ? rc : 0;
    }
  bool chunked = b->chunk_size > 0 && b->size > b->chunk_size;
  for (unsigned attempt = 0;; attempt++)
    {
      _cleanup_free_ char *location = NULL;
      rc = start_upload(r, repo, b, &location, err);
      if (rc > 0)
        {
          *ret = REGISTRY_BLOB_MOUNTED;
          return 0;
        }
      if (rc == 0 && chunked)
        rc = send_chunks(r, &location, b, err);
      if (rc == 0)
        rc = finish_upload(r, location, b, !chunked, err);
      if (rc == 0)
        {
          *ret = chunked ? REGISTRY_BLOB_CHUNKED : REGISTRY_BLOB_UPLOADED;
          return 0;
        }
      /* A session that broke half-way cannot be trusted to resume:
       * start a new one (the registry drops the old after a while). */
      if (!worth_retrying(rc) || attempt >= r->opts.retries)
        return attempt ? keel_error_prefix(err, "retries exhausted") : rc;
      if (retry)
        retry(ud, err->msg);
      registry_sleep_ms(keel_registry_backoff_ms(r, attempt));
      keel_error_clear(err);
    }
}

int
registry_push_manifest(struct keel_registry *r, const char *repo, const char *reference,
                       const char *media_type, const void *buf, size_t len, const char *digest,
                       struct keel_error *err)
{
  _cleanup_free_ char *path = NULL, *url = NULL;
  if (asprintf(&path, "%s/manifests/%s", repo, reference) < 0 || registry_url(r, path, &url) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  struct registry_request q = REGISTRY_REQUEST_INIT("PUT", url);
  q.content_type = media_type;
  q.buf = buf;
  q.buf_len = len;
  q.retry = true; /* a manifest PUT is idempotent */
  char what[400];
  snprintf(what, sizeof(what), "%s/%s:%s: manifest", r->domain, repo, reference);
  int rc = registry_request(r, &q, what, err);
  if (rc < 0)
    return rc;
  if (q.hdr.status != 201 && q.hdr.status != 200)
    return status_error(&q, what, err);
  if (q.hdr.digest[0] && strcmp(q.hdr.digest, digest))
    return keel_error_set(err, -EBADMSG, "%s: the registry stored it as %s", what, q.hdr.digest);
  return 0;
}
