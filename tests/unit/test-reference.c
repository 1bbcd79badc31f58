/* Docker references: valid ones normalised, invalid ones refused with a reason. */
#include "test.h"

#include "registry/challenge.h"
#include "registry/reference.h"

static const struct
{
  const char *in, *domain, *path, *tag, *digest;
  bool explicit_domain;
} VALID[] = {
  { "busybox", "docker.io", "library/busybox", "latest", "", false },
  { "busybox:1.36", "docker.io", "library/busybox", "1.36", "", false },
  { "user/app", "docker.io", "user/app", "latest", "", false },
  { "docker.io/busybox", "docker.io", "library/busybox", "latest", "", true },
  { "index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", "", true },
  { "localhost/app", "localhost", "app", "latest", "", true },
  { "localhost:5000/a/b/c:v_1.0-rc", "localhost:5000", "a/b/c", "v_1.0-rc", "", true },
  { "127.0.0.1:5000/bb", "127.0.0.1:5000", "bb", "latest", "", true },
  { "[::1]:5000/bb", "[::1]:5000", "bb", "latest", "", true },
  { "quay.io/a/b__c.d-e", "quay.io", "a/b__c.d-e", "latest", "", true },
  { "r.io/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "r.io", "x",
    "", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true },
  { "r.io/x:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "r.io", "x",
    "t", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true },
};

static const struct
{
  const char *in, *why;
} INVALID[] = {
  { "", "empty" },
  { "Busybox", "lowercase" },
  { "r.io/UPPER", "lowercase" },
  { "a//b", "invalid path component" },
  { "-a", "invalid path component" },
  { "a-", "invalid path component" },
  { "a...b", "invalid path component" },
  { "a___b", "invalid path component" },
  { "busybox:", "invalid tag" },
  { "busybox:-x", "invalid tag" },
  { "busybox:a b", "invalid tag" },
  { "busybox@sha256:abc", "not a sha256 digest" },
  { "busybox@md5:0123", "not a sha256 digest" },
  { "r-.io/x", "invalid registry" },
  { "r.io:99999999/x", "invalid registry" },
  { "r.io:/x", "invalid registry" },
};

TEST(reference_valid)
{
  for (size_t i = 0; i < sizeof(VALID) / sizeof(VALID[0]); i++)
    {
      struct keel_reference r;
      struct keel_error err = KEEL_ERROR_INIT;
      int rc = keel_reference_parse(VALID[i].in, &r, &err);
      if (rc < 0)
        FAIL_AT("'%s' refused: %s", VALID[i].in, err.msg);
      ASSERT_STREQ(r.domain, VALID[i].domain);
      ASSERT_STREQ(r.path, VALID[i].path);
      ASSERT_STREQ(r.tag, VALID[i].tag);
      ASSERT_STREQ(r.digest, VALID[i].digest);
      ASSERT_EQ(r.explicit_domain, VALID[i].explicit_domain);
    }
}

TEST(reference_invalid)
{
  for (size_t i = 0; i < sizeof(INVALID) / sizeof(INVALID[0]); i++)
    {
      struct keel_reference r;
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_reference_parse(INVALID[i].in, &r, &err) >= 0)
        FAIL_AT("'%s' accepted", INVALID[i].in);
      ASSERT_CONTAINS(err.msg, INVALID[i].why);
    }
}

TEST(reference_long_name_refused)
{
  char buf[400];
  memset(buf, 'a', 300);
  buf[300] = '\0';
  struct keel_reference r;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_TRUE(keel_reference_parse(buf, &r, &err) < 0);
  ASSERT_CONTAINS(err.msg, "longer than 255");
}

TEST(reference_with_domain_and_format)
{
  struct keel_reference r, q;
  ASSERT_OK(keel_reference_parse("busybox:1", &r, NULL));
  keel_reference_with_domain(&r, "quay.io", &q);
  char buf[600];
  keel_reference_format(&q, buf, sizeof(buf));
  ASSERT_STREQ(buf, "quay.io/busybox:1");
  keel_reference_with_domain(&r, "docker.io", &q);
  keel_reference_store_name(&q, buf, sizeof(buf));
  ASSERT_STREQ(buf, "docker.io/library/busybox:1");
}

TEST(challenge_parse)
{
  struct keel_challenge c;
  ASSERT_OK(keel_challenge_parse("Bearer realm=\"https://a.b/token\",service=\"reg\","
                                 "scope=\"repository:x/y:pull\"",
                                 &c, NULL));
  ASSERT_EQ(c.scheme, KEEL_AUTH_BEARER);
  ASSERT_STREQ(c.realm, "https://a.b/token");
  ASSERT_STREQ(c.service, "reg");
  ASSERT_STREQ(c.scope, "repository:x/y:pull");
  ASSERT_OK(keel_challenge_parse("basic realm=\"Registry Realm\"", &c, NULL));
  ASSERT_EQ(c.scheme, KEEL_AUTH_BASIC);
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_TRUE(keel_challenge_parse("Negotiate abc", &c, &err) < 0);
  ASSERT_CONTAINS(err.msg, "unsupported authentication scheme");
  ASSERT_TRUE(keel_challenge_parse("Bearer realm=\"file:///etc/passwd\"", &c, &err) < 0);
}

TEST_MAIN
