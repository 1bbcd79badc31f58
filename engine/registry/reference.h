/* Image references in Docker's grammar:
 *
 *   [domain[:port]/]path-component[/path-component...][:tag][@digest]
 *
 * A first component is a domain when it holds a '.' or a ':' or is
 * "localhost"; otherwise the reference is short and (unless resolved
 * through an unqualified-search list) means docker.io, where a one-
 * component path gets "library/" in front. */
#ifndef KEEL_REGISTRY_REFERENCE_H
#define KEEL_REGISTRY_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/digest.h"
#include "lib/error.h"

#define KEEL_REF_NAME_MAX 255
#define KEEL_REF_TAG_MAX  128
#define KEEL_DOCKER_HUB   "docker.io"

struct keel_reference
{
  char domain[KEEL_REF_NAME_MAX + 1];
  char path[KEEL_REF_NAME_MAX + 1];
  char tag[KEEL_REF_TAG_MAX + 1]; /* "" when only a digest was given */
  char digest[KEEL_DIGEST_MAX];   /* "" when none */
  bool explicit_domain;           /* the text named its registry */
};

/* Parse and normalise (docker.io, library/, default tag "latest" when
 * neither tag nor digest is given). */
int keel_reference_parse(const char *s, struct keel_reference *ret, struct keel_error *err);

/* The same short reference under another registry (unqualified search):
 * "library/" is added only for docker.io. */
void keel_reference_with_domain(const struct keel_reference *in, const char *domain,
                                struct keel_reference *ret);

/* "domain/path" */
void keel_reference_name(const struct keel_reference *r, char *buf, size_t size);
/* "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest" */
void keel_reference_format(const struct keel_reference *r, char *buf, size_t size);
/* The name the store records: "domain/path:tag", else "domain/path@digest". */
void keel_reference_store_name(const struct keel_reference *r, char *buf, size_t size);

/* What to ask the registry for: the digest when given, else the tag. */
const char *keel_reference_target(const struct keel_reference *r);

#endif
