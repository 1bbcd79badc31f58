/* Content digests in the OCI form "sha256:<64 lowercase hex>". */
#ifndef KEEL_LIB_DIGEST_H
#define KEEL_LIB_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define KEEL_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, rounded */

struct keel_digest_ctx;

/* Streaming sha256. */
int keel_digest_new(struct keel_digest_ctx **ret);
int keel_digest_update(struct keel_digest_ctx *ctx, const void *buf, size_t len);
/* Writes "sha256:..." into out and frees ctx. */
int keel_digest_final(struct keel_digest_ctx *ctx, char out[KEEL_DIGEST_MAX]);
void keel_digest_free(struct keel_digest_ctx *ctx);

/* One-shot digest of a buffer. */
int keel_digest_buffer(const void *buf, size_t len, char out[KEEL_DIGEST_MAX]);

/* True when s is a well-formed digest of a supported algorithm. */
bool keel_digest_valid(const char *s);

#endif
