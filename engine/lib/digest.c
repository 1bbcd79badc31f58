#include "lib/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keel_digest_ctx
{
  EVP_MD_CTX *md;
};

int
keel_digest_new(struct keel_digest_ctx **ret)
{
  struct keel_digest_ctx *c = calloc(1, sizeof(*c));
  if (!c)
    return -ENOMEM;
  c->md = EVP_MD_CTX_new();
  if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
    {
      keel_digest_free(c);
      return -ENOMEM;
    }
  *ret = c;
  return 0;
}

int
keel_digest_update(struct keel_digest_ctx *ctx, const void *buf, size_t len)
{
  return EVP_DigestUpdate(ctx->md, buf, len) == 1 ? 0 : -EIO;
}

int
keel_digest_final(struct keel_digest_ctx *ctx, char out[KEEL_DIGEST_MAX])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex(ctx->md, md, &n) == 1;
  keel_digest_free(ctx);
  if (!ok || n != 32)
    return -EIO;
  memcpy(out, "sha256:", 7);
  static const char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[8 + 2 * i] = hex[md[i] & 15];
    }
  out[7 + 64] = '\0';
  return 0;
}

void
keel_digest_free(struct keel_digest_ctx *ctx)
{
  if (!ctx)
    return;
  EVP_MD_CTX_free(ctx->md);
  free(ctx);
}

int
keel_digest_buffer(const void *buf, size_t len, char out[KEEL_DIGEST_MAX])
{
  struct keel_digest_ctx *c;
  int r = keel_digest_new(&c);
  if (r < 0)
    return r;
  r = keel_digest_update(c, buf, len);
  if (r < 0)
    {
      keel_digest_free(c);
      return r;
    }
  return keel_digest_final(c, out);
}

bool
keel_digest_valid(const char *s)
{
  if (strncmp(s, "sha256:", 7) != 0)
    return false;
  s += 7;
  size_t i;
  for (i = 0; s[i]; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return i == 64;
}
