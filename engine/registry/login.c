/* keel login's check: the credentials are tried against the registry
 * before anything is written, the way the registry itself will see them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "registry/request.h"

int
keel_registry_login(struct keel_registry *r, struct keel_error *err)
{
  if (!r->opts.username)
    return keel_error_set(err, -EINVAL, "registry %s: no user name given", r->domain);
  int rc = registry_ping(r, err);
  if (rc < 0)
    return rc;
  /* A registry that asks for nothing accepts anything, as podman and
   * docker treat it. */
  if (r->chal.scheme == KEEL_AUTH_NONE)
    return 0;
  /* Bearer: a token with no scope proves the credentials at the issuer
   * (a wrong password is refused there); basic: the header itself. */
  if ((rc = registry_authorize_scope(r, "", err)) < 0)
    return rc;
  _cleanup_free_ char *url = NULL;
  if (registry_url(r, "", &url) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  struct registry_request q = REGISTRY_REQUEST_INIT("GET", url);
  q.retry = true;
  char what[300];
  snprintf(what, sizeof(what), "login to %s", r->domain);
  if ((rc = registry_request(r, &q, what, err)) < 0)
    return rc;
  if (q.hdr.status == 200)
    return 0;
  if (q.hdr.status == 401 || q.hdr.status == 403)
    return keel_error_set(err, -EACCES, "registry %s: authentication failed: check the credentials",
                          r->domain);
  return keel_error_set(err, -EPROTO, "registry %s: login check answered HTTP %ld", r->domain,
                        q.hdr.status);
}
