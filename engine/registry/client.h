/* A client for one registry, speaking the distribution API (the Docker
 * registry HTTP API v2) over libcurl: the ping and its auth challenge
 * (anonymous or credentialed bearer tokens with realm/service/scope, or
 * basic auth), TLS verified by default with per-registry CAs from
 * certs.d/<host:port>/, plain HTTP only when the registry is marked
 * insecure, and one multi handle so every request to the registry shares
 * its connections (HTTP/2 where the server offers it). */
#ifndef KEEL_REGISTRY_CLIENT_H
#define KEEL_REGISTRY_CLIENT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"
#include "lib/error.h"

/* Where per-registry CA directories are looked for, in order. */
#define KEEL_CERTS_D_DEFAULT "/etc/containers/certs.d:/etc/docker/certs.d"

struct keel_registry_opts
{
  bool insecure;        /* no TLS verification; plain HTTP allowed */
  const char *cert_dir; /* *.crt (client.cert, client.key) for this registry, over certs.d */
  const char *certs_d;  /* colon-separated certs.d roots; NULL: KEEL_CERTS_D_DEFAULT */
  const char *username; /* explicit credentials; NULL: ask credentials() */
  const char *password;
  /* Credentials for a registry ("host:port"): 1 and malloc'ed strings when
   * known, 0 when not (anonymous), negative on error. */
  int (*credentials)(void *userdata, const char *registry, char **ret_user, char **ret_pass,
                     struct keel_error *err);
  void *credentials_userdata;
  unsigned retries;         /* attempts after the first; default 4 */
  unsigned retry_delay_ms;  /* first back-off, doubled each time; default 250 */
  unsigned stall_timeout_s; /* a transfer idle this long is dropped and retried; default 30 */
  unsigned parallel;        /* blobs fetched at once; default 4 */
  /* A mirror with other sources behind it: a server that refuses the
   * connection is not retried, the next source is tried at once. */
  bool no_connect_retry;
};

#define KEEL_REGISTRY_OPTS_INIT                                                                    \
  {                                                                                                \
    .retries = 4, .retry_delay_ms = 250, .stall_timeout_s = 30, .parallel = 4                      \
  }

struct keel_registry;

int keel_registry_new(const char *domain, const struct keel_registry_opts *opts,
                      struct keel_registry **ret, struct keel_error *err);
void keel_registry_free(struct keel_registry *r);
const struct keel_registry_opts *keel_registry_opts(const struct keel_registry *r);

struct keel_response
{
  long status;
  char *body; /* NUL-terminated */
  size_t len;
  char content_type[128];
  char digest[KEEL_DIGEST_MAX]; /* Docker-Content-Digest, when sent */
};
void keel_response_clear(struct keel_response *resp);

/* GET a manifest or index by tag or digest; verified against the digest
 * asked for, or the one the registry announced. */
int keel_registry_get_manifest(struct keel_registry *r, const char *repo, const char *target,
                               struct keel_response *ret, struct keel_error *err);
/* GET a small blob (a config) into memory, verified by size and digest. */
int keel_registry_get_blob(struct keel_registry *r, const char *repo,
                           const struct keel_descriptor *d, struct keel_response *ret,
                           struct keel_error *err);

/* Streaming blob transfers are driven by the caller on the client's multi
 * handle: make an easy handle for GET blob from offset (Range), with the
 * client's TLS settings and authorization for repo in place. */
int keel_registry_blob_easy(struct keel_registry *r, const char *repo, const char *digest,
                            uint64_t offset, CURL **ret, struct keel_error *err);
void keel_registry_easy_free(CURL *e);
CURLM *keel_registry_multi(struct keel_registry *r);
/* After a 401 on a blob: fetch a new token (it may have expired). */
int keel_registry_reauth(struct keel_registry *r, const char *repo, struct keel_error *err);
/* Check opts.username / opts.password against the registry: ping, then
 * the bearer token issuer or the basic-auth check with them.  0 when the
 * registry accepts them (or asks for none), -EACCES when it refuses. */
int keel_registry_login(struct keel_registry *r, struct keel_error *err);
/* Seconds to wait before retry n (0-based). */
unsigned keel_registry_backoff_ms(const struct keel_registry *r, unsigned n);

#endif
