/* Shared between the files of the registry client (client.c: ping, auth,
 * GETs; upload.c: push and login); not for other layers. */
#ifndef KEEL_REGISTRY_CLIENT_INTERNAL_H
#define KEEL_REGISTRY_CLIENT_INTERNAL_H

#include "registry/challenge.h"
#include "registry/client.h"

struct keel_registry
{
  char domain[256];
  char host[256]; /* where the API lives (docker.io → registry-1.docker.io) */
  struct keel_registry_opts opts;
  const char *scheme; /* "https" or "http", settled by the ping */
  CURLM *multi;
  char *ca_blob;
  size_t ca_len;
  char *client_cert, *client_key;
  bool creds_loaded;
  char *user, *pass;
  bool pinged;
  bool probing; /* trying https on an insecure registry that may speak only http */
  struct keel_challenge chal;
  char *auth_header;     /* "Authorization: ..." or NULL */
  char auth_scope[1024]; /* the scope the bearer token was issued for */
};

/* A handle with the registry's transport settings; headers (owned by the
 * handle) may be NULL. */
CURL *registry_new_easy(struct keel_registry *r, const char *url, struct curl_slist *headers);
/* Run one handle to completion on the multi (sharing its connections). */
CURLcode registry_run_easy(struct keel_registry *r, CURL *e);
/* Transport failures that a retry may cure. */
bool registry_retryable(CURLcode c);
/* One line for a transport failure. */
int registry_transport_error(struct keel_registry *r, CURLcode c, const char *what,
                             struct keel_error *err);
void registry_sleep_ms(unsigned ms);
/* Ping once (settling the scheme and the challenge). */
int registry_ping(struct keel_registry *r, struct keel_error *err);
/* Make requests carry what the registry wants for scope (a token scope
 * such as "repository:a:pull,push repository:b:pull"; "" for none). */
int registry_authorize_scope(struct keel_registry *r, const char *scope, struct keel_error *err);
/* After a 401: a fresh token for the same scope, or a clear failure. */
int registry_reauthorize(struct keel_registry *r, struct keel_error *err);
/* Response headers collected by registry_header_cb. */
struct registry_headers
{
  long status;
  char location[2048];
  char digest[KEEL_DIGEST_MAX];
  char range[64];
  char www_auth[1024];
};
size_t registry_header_cb(char *p, size_t size, size_t n, void *ud);

#endif
