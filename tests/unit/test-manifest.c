/* OCI / Docker documents: valid ones parsed, malformed ones refused with a
 * message naming the problem; platform choice over an index. */
#include "test.h"

#include "image/manifest.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DG  "\"sha256:" D64 "\""

#define MANIFEST(cfg_mt, layer)                                                                    \
  "{\"schemaVersion\":2,\"mediaType\":\"" KEEL_MT_OCI_MANIFEST                                     \
  "\",\"config\":{\"mediaType\":\"" cfg_mt "\",\"digest\":" DG ",\"size\":10},\"layers\":[" layer  \
  "]}"
#define LAYER(mt, size) "{\"mediaType\":\"" mt "\",\"digest\":" DG ",\"size\":" size "}"

static const struct
{
  const char *doc, *content_type, *why;
} INVALID[] = {
  { "", NULL, "malformed JSON" },
  { "[]", NULL, "expected a JSON object" },
  { "{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, "schema 1" },
  { "{\"schemaVersion\":2}", KEEL_MT_DOCKER_SCHEMA1S, "schema 1" },
  { "{\"schemaVersion\":3}", NULL, "expected 2" },
  { "{\"schemaVersion\":\"2\"}", NULL, "expected an integer" },
  { "{\"schemaVersion\":2,\"mediaType\":\"text/html\"}", NULL, "unsupported manifest media type" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, LAYER(KEEL_MT_OCI_LAYER_GZIP, "1")), KEEL_MT_DOCKER_MANIFEST,
    "but was served as" },
  { "{\"schemaVersion\":2,\"mediaType\":\"" KEEL_MT_OCI_MANIFEST "\",\"layers\":[]}", NULL,
    "missing config" },
  { MANIFEST("text/plain", ""), NULL, "config: unsupported media type" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, LAYER("application/x-foo", "1")), NULL,
    "layers[0]: unsupported media type" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, LAYER(KEEL_MT_OCI_LAYER_GZIP, "-1")), NULL, "non-negative" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, LAYER(KEEL_MT_OCI_LAYER_GZIP, "99999999999999999")), NULL,
    "over the limit" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, LAYER(KEEL_MT_OCI_LAYER_GZIP, "1.5")), NULL,
    "expected an integer" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, "{\"mediaType\":\"" KEEL_MT_OCI_LAYER "\",\"size\":1}"), NULL,
    "layers[0]: missing digest" },
  { MANIFEST(KEEL_MT_OCI_CONFIG,
             "{\"mediaType\":\"" KEEL_MT_OCI_LAYER "\",\"digest\":\"sha256:xyz\",\"size\":1}"),
    NULL, "is not a sha256 digest" },
  { MANIFEST(KEEL_MT_OCI_CONFIG,
             "{\"mediaType\":\"" KEEL_MT_OCI_LAYER "\",\"digest\":\"../../etc\",\"size\":1}"),
    NULL, "is not a sha256 digest" },
  { MANIFEST(KEEL_MT_OCI_CONFIG, LAYER(KEEL_MT_OCI_LAYER, "1")) "x", NULL, "trailing data" },
  { "{\"schemaVersion\":2,\"mediaType\":\"" KEEL_MT_OCI_INDEX "\",\"manifests\":{}}", NULL,
    "manifests: expected an array" },
};

TEST(manifest_invalid)
{
  for (size_t i = 0; i < sizeof(INVALID) / sizeof(INVALID[0]); i++)
    {
      struct keel_manifest m;
      struct keel_error err = KEEL_ERROR_INIT;
      if (keel_manifest_parse(INVALID[i].doc, strlen(INVALID[i].doc), INVALID[i].content_type, &m,
                              &err)
          >= 0)
        FAIL_AT("document %zu accepted", i);
      if (!strstr(err.msg, INVALID[i].why))
        FAIL_AT("document %zu: '%s' lacks '%s'", i, err.msg, INVALID[i].why);
    }
}

TEST(manifest_valid_and_compression)
{
  const char *doc
      = MANIFEST(KEEL_MT_DOCKER_CONFIG,
                 LAYER(KEEL_MT_DOCKER_LAYER, "7") "," LAYER(KEEL_MT_OCI_LAYER_ZSTD, "8"));
  struct keel_manifest m;
  ASSERT_OK(
      keel_manifest_parse(doc, strlen(doc), KEEL_MT_OCI_MANIFEST "; charset=utf-8", &m, NULL));
  ASSERT_EQ(m.kind, KEEL_DOC_MANIFEST);
  ASSERT_EQ(m.n_layers, 2);
  ASSERT_EQ(m.layers[1].size, 8);
  ASSERT_EQ(keel_layer_media_type_compression(m.layers[0].media_type), KEEL_COMPRESSION_GZIP);
  ASSERT_EQ(keel_layer_media_type_compression(m.layers[1].media_type), KEEL_COMPRESSION_ZSTD);
  ASSERT_EQ(keel_layer_media_type_compression(KEEL_MT_OCI_LAYER), KEEL_COMPRESSION_NONE);
  keel_manifest_free(&m);
}

#define ENTRY(arch, variant)                                                                       \
  "{\"mediaType\":\"" KEEL_MT_OCI_MANIFEST "\",\"digest\":" DG ",\"size\":5,\"platform\":{\"os\":" \
  "\"linux\",\"architecture\":\"" arch "\"" variant "}}"

TEST(index_choose_platform)
{
  const char *doc = "{\"schemaVersion\":2,\"manifests\":[" ENTRY("amd64", "") "," ENTRY(
      "arm64", ",\"variant\":\"v8\"") "," ENTRY("arm", ",\"variant\":\"v6\"") "]}";
  struct keel_manifest m;
  ASSERT_OK(keel_manifest_parse(doc, strlen(doc), NULL, &m, NULL));
  ASSERT_EQ(m.kind, KEEL_DOC_INDEX);
  struct keel_platform p;
  const struct keel_descriptor *d;
  ASSERT_OK(keel_platform_parse("linux/arm64", &p, NULL));
  ASSERT_OK(keel_index_choose(&m, &p, &d, NULL));
  ASSERT_STREQ(d->platform.arch, "arm64");
  ASSERT_OK(keel_platform_parse("linux/arm/v6", &p, NULL));
  ASSERT_OK(keel_index_choose(&m, &p, &d, NULL));
  ASSERT_STREQ(d->platform.variant, "v6");
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(keel_platform_parse("linux/arm/v7", &p, NULL));
  ASSERT_TRUE(keel_index_choose(&m, &p, &d, &err) < 0);
  ASSERT_CONTAINS(err.msg, "no image for linux/arm/v7 in the index (it has: linux/amd64, "
                           "linux/arm64/v8, linux/arm/v6)");
  ASSERT_TRUE(keel_platform_parse("linux/a/b/c", &p, NULL) < 0);
  ASSERT_TRUE(keel_platform_parse("linux/AMD64", &p, NULL) < 0);
  keel_manifest_free(&m);
}

TEST(config_diff_ids)
{
  const char *good = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                     "\"layers\",\"diff_ids\":[" DG "]}}";
  struct keel_image_config c;
  ASSERT_OK(keel_image_config_parse(good, strlen(good), 1, &c, NULL));
  ASSERT_EQ(c.n_diff_ids, 1);
  keel_image_config_free(&c);
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_TRUE(keel_image_config_parse(good, strlen(good), 2, &c, &err) < 0);
  ASSERT_CONTAINS(err.msg, "1 diff_ids for 2 layers");
  const char *bad = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                    "\"layers\",\"diff_ids\":[\"sha256:nothex\"]}}";
  ASSERT_TRUE(keel_image_config_parse(bad, strlen(bad), 1, &c, &err) < 0);
  ASSERT_CONTAINS(err.msg, "is not a digest");
  const char *noos = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  ASSERT_TRUE(keel_image_config_parse(noos, strlen(noos), 0, &c, &err) < 0);
  ASSERT_CONTAINS(err.msg, "missing os or architecture");
}

TEST(chain_ids)
{
  char *ids[] = { "sha256:" D64, "sha256:" D64 };
  char chain[2][KEEL_DIGEST_MAX];
  ASSERT_OK(keel_chain_ids(ids, 2, chain));
  ASSERT_STREQ(chain[0], ids[0]);
  char expect[KEEL_DIGEST_MAX];
  const char *s = "sha256:" D64 " sha256:" D64;
  ASSERT_OK(keel_digest_buffer(s, strlen(s), expect));
  ASSERT_STREQ(chain[1], expect);
}

TEST_MAIN
