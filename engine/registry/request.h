/* One distribution-API request with a body from memory or from a file
 * range, its response headers collected and the start of its body kept
 * for messages; the building block of push and login.  Internal to
 * engine/registry. */
#ifndef KEEL_REGISTRY_REQUEST_H
#define KEEL_REGISTRY_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry/client-internal.h"

struct registry_request
{
  const char *method; /* GET HEAD POST PUT PATCH */
  const char *url;
  const char *content_type;  /* NULL: none */
  const char *content_range; /* "start-end", PATCH only */
  const void *buf;           /* body from memory... */
  size_t buf_len;
  int fd; /* ...or from fd at offset (-1: none) */
  uint64_t offset, length;
  bool retry; /* safe to repeat: transport errors, 5xx and 429 are retried */
  /* out */
  struct registry_headers hdr;
  char body[512]; /* the first bytes of the response body */
  size_t body_len;
};

#define REGISTRY_REQUEST_INIT(m, u)                                                                \
  {                                                                                                \
    .method = (m), .url = (u), .fd = -1                                                            \
  }

/* Send req with the registry's authorization, fetching a fresh token once
 * on a 401.  0 with req->hdr.status set whatever the status; negative on
 * a transport failure (after the retries when req->retry). */
int registry_request(struct keel_registry *r, struct registry_request *req, const char *what,
                     struct keel_error *err);

/* The registry's error message from a response body ("" when none). */
void registry_error_message(const struct registry_request *req, char *buf, size_t size);

/* "scheme://host/v2/<path>" */
int registry_url(struct keel_registry *r, const char *path, char **ret);

#endif
