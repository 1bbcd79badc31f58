/* WWW-Authenticate challenges (RFC 7235) as registries send them:
 *   Bearer realm="https://auth.example/token",service="registry",scope="repository:x:pull"
 *   Basic realm="Registry Realm"
 * Only the first challenge of a header is used. */
#ifndef KEEL_REGISTRY_CHALLENGE_H
#define KEEL_REGISTRY_CHALLENGE_H

#include "lib/error.h"

enum keel_auth_scheme
{
  KEEL_AUTH_NONE,
  KEEL_AUTH_BASIC,
  KEEL_AUTH_BEARER,
};

struct keel_challenge
{
  enum keel_auth_scheme scheme;
  char realm[1024];
  char service[256];
  char scope[512];
};

int keel_challenge_parse(const char *header, struct keel_challenge *ret, struct keel_error *err);

#endif
