#include "image/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/cleanup.h"
#include "lib/json.h"

static int
copy_str(char *dst, size_t size, const char *src, const char *what, struct keel_error *err)
{
  if (strlen(src) >= size)
    return keel_error_set(err, -EINVAL, "%s: value too long", what);
  memcpy(dst, src, strlen(src) + 1);
  return 0;
}

static int
parse_platform(json_object *o, const char *ctx, struct keel_platform *p, struct keel_error *err)
{
  const char *os = NULL, *arch = NULL, *variant = NULL;
  char c[160];
  snprintf(c, sizeof(c), "%s.platform", ctx);
  int r;
  if ((r = keel_json_get_string(o, "os", c, &os, err)) < 0
      || (r = keel_json_get_string(o, "architecture", c, &arch, err)) < 0
      || (r = keel_json_get_string(o, "variant", c, &variant, err)) < 0)
    return r;
  if (!os || !arch)
    return keel_error_set(err, -EINVAL, "%s: missing os or architecture", c);
  if (copy_str(p->os, sizeof(p->os), os, c, err) < 0
      || copy_str(p->arch, sizeof(p->arch), arch, c, err) < 0
      || copy_str(p->variant, sizeof(p->variant), variant ? variant : "", c, err) < 0)
    return -EINVAL;
  return 0;
}

/* One descriptor: mediaType, digest and size are required; size is capped
 * so a hostile document cannot make us preallocate or wait for terabytes. */
static int
parse_descriptor(json_object *o, const char *ctx, uint64_t max_size, struct keel_descriptor *d,
                 struct keel_error *err)
{
  if (!json_object_is_type(o, json_type_object))
    return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
  const char *mt = NULL, *digest = NULL;
  int r;
  if ((r = keel_json_get_string(o, "mediaType", ctx, &mt, err)) < 0)
    return r;
  if (!mt)
    return keel_error_set(err, -EINVAL, "%s: missing mediaType", ctx);
  if ((r = keel_json_get_string(o, "digest", ctx, &digest, err)) < 0)
    return r;
  if (!digest)
    return keel_error_set(err, -EINVAL, "%s: missing digest", ctx);
  if (!keel_digest_valid(digest))
    return keel_error_set(err, -EINVAL, "%s.digest: '%.80s' is not a sha256 digest", ctx, digest);
  r = keel_json_get_uint64(o, "size", ctx, &d->size, err);
  if (r < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "%s: missing size", ctx);
  if (d->size > max_size)
    return keel_error_set(err, -EFBIG, "%s.size: %llu bytes is over the limit of %llu", ctx,
                          (unsigned long long)d->size, (unsigned long long)max_size);
  if (copy_str(d->media_type, sizeof(d->media_type), mt, ctx, err) < 0)
    return -EINVAL;
  strcpy(d->digest, digest);
  json_object *plat;
  if ((r = keel_json_get_object(o, "platform", ctx, &plat, err)) < 0)
    return r;
  if (r > 0)
    {
      if ((r = parse_platform(plat, ctx, &d->platform, err)) < 0)
        return r;
      d->has_platform = true;
    }
  return 0;
}

static int
parse_descriptor_array(json_object *doc, const char *key, size_t max_n, uint64_t max_size,
                       struct keel_descriptor **ret, size_t *ret_n, struct keel_error *err)
{
  json_object *arr;
  int r = keel_json_get_array(doc, key, "", &arr, err);
  if (r < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "missing %s", key);
  size_t n = json_object_array_length(arr);
  if (n > max_n)
    return keel_error_set(err, -E2BIG, "%s: %zu entries, over the limit of %zu", key, n, max_n);
  struct keel_descriptor *v = calloc(n ? n : 1, sizeof(*v));
  if (!v)
    return keel_error_set(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      char ctx[64];
      snprintf(ctx, sizeof(ctx), "%s[%zu]", key, i);
      r = parse_descriptor(json_object_array_get_idx(arr, i), ctx, max_size, &v[i], err);
      if (r < 0)
        {
          free(v);
          return r;
        }
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

static bool
is_index_type(const char *mt)
{
  return !strcmp(mt, KEEL_MT_OCI_INDEX) || !strcmp(mt, KEEL_MT_DOCKER_LIST);
}

static bool
is_manifest_type(const char *mt)
{
  return !strcmp(mt, KEEL_MT_OCI_MANIFEST) || !strcmp(mt, KEEL_MT_DOCKER_MANIFEST);
}

static bool
is_schema1_type(const char *mt)
{
  return !strcmp(mt, KEEL_MT_DOCKER_SCHEMA1) || !strcmp(mt, KEEL_MT_DOCKER_SCHEMA1S);
}

/* Content-Type headers may carry parameters ("; charset=utf-8"). */
static void
bare_type(const char *ct, char *out, size_t size)
{
  size_t n = strcspn(ct, "; \t");
  if (n >= size)
    n = size - 1;
  memcpy(out, ct, n);
  out[n] = '\0';
}

/* Which kind of document this is: the mediaType field, else the header,
 * else the shape (an OCI index may omit mediaType). */
static int
doc_kind(json_object *doc, const char *content_type, char mt_out[128], struct keel_error *err)
{
  const char *mt = NULL;
  int r = keel_json_get_string(doc, "mediaType", "", &mt, err);
  if (r < 0)
    return r;
  char header[128] = "";
  if (content_type && *content_type)
    bare_type(content_type, header, sizeof(header));
  bool header_known = is_index_type(header) || is_manifest_type(header);
  if (mt && header_known && strcmp(mt, header))
    return keel_error_set(err, -EMEDIUMTYPE,
                          "manifest says mediaType '%.100s' but was served as '%.100s'", mt,
                          header);
  if (!mt && header_known)
    mt = header;
  if (!mt)
    {
      json_object *x;
      mt = json_object_object_get_ex(doc, "manifests", &x) ? KEEL_MT_OCI_INDEX
                                                           : KEEL_MT_OCI_MANIFEST;
    }
  if (is_schema1_type(mt) || is_schema1_type(header))
    mt = KEEL_MT_DOCKER_SCHEMA1;
  if (copy_str(mt_out, 128, mt, "mediaType", err) < 0)
    return -EINVAL;
  if (is_index_type(mt))
    return KEEL_DOC_INDEX;
  if (is_manifest_type(mt))
    return KEEL_DOC_MANIFEST;
  if (!strcmp(mt, KEEL_MT_DOCKER_SCHEMA1))
    return keel_error_set(err, -EMEDIUMTYPE,
                          "Docker schema 1 manifests are not supported (deprecated since 2017); "
                          "push the image again with a current tool");
  return keel_error_set(err, -EMEDIUMTYPE, "unsupported manifest media type '%.100s'", mt);
}

static int
check_layers(const struct keel_manifest *m, struct keel_error *err)
{
  if (strcmp(m->config.media_type, KEEL_MT_OCI_CONFIG)
      && strcmp(m->config.media_type, KEEL_MT_DOCKER_CONFIG))
    return keel_error_set(err, -EMEDIUMTYPE, "config: unsupported media type '%s'",
                          m->config.media_type);
  if (m->config.size > KEEL_CONFIG_MAX_BYTES)
    return keel_error_set(err, -EFBIG, "config.size: %llu bytes is over the limit of %u",
                          (unsigned long long)m->config.size, KEEL_CONFIG_MAX_BYTES);
  for (size_t i = 0; i < m->n_layers; i++)
    if (keel_layer_media_type_compression(m->layers[i].media_type) < 0)
      return keel_error_set(err, -EMEDIUMTYPE, "layers[%zu]: unsupported media type '%s'", i,
                            m->layers[i].media_type);
  return 0;
}

int
keel_manifest_parse(const char *buf, size_t len, const char *content_type,
                    struct keel_manifest *ret, struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  if (len > KEEL_MANIFEST_MAX_BYTES)
    return keel_error_set(err, -EFBIG, "manifest of %zu bytes is over the limit of %u", len,
                          KEEL_MANIFEST_MAX_BYTES);
  _cleanup_json_ json_object *doc = NULL;
  int r = keel_json_parse(buf, len, "manifest", &doc, err);
  if (r < 0)
    return r;
  if (!json_object_is_type(doc, json_type_object))
    return keel_error_set(err, -EINVAL, "manifest: expected a JSON object");
  int64_t version = 0;
  if ((r = keel_json_get_int(doc, "schemaVersion", "", 0, 100, &version, err)) < 0)
    return r;
  if (version == 1)
    return keel_error_set(err, -EMEDIUMTYPE,
                          "Docker schema 1 manifests are not supported (deprecated since 2017); "
                          "push the image again with a current tool");
  if (version != 2)
    return keel_error_set(err, -EINVAL, "schemaVersion: expected 2, not %lld", (long long)version);
  int kind = doc_kind(doc, content_type, ret->media_type, err);
  if (kind < 0)
    return kind;
  ret->kind = kind;
  if (kind == KEEL_DOC_INDEX)
    {
      r = parse_descriptor_array(doc, "manifests", KEEL_INDEX_MAX_ENTRIES, KEEL_MANIFEST_MAX_BYTES,
                                 &ret->manifests, &ret->n_manifests, err);
      return r < 0 ? (keel_manifest_free(ret), r) : 0;
    }
  json_object *cfg;
  if ((r = keel_json_get_object(doc, "config", "", &cfg, err)) < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "manifest: missing config");
  if ((r = parse_descriptor(cfg, "config", KEEL_CONFIG_MAX_BYTES, &ret->config, err)) < 0)
    return r;
  r = parse_descriptor_array(doc, "layers", KEEL_MANIFEST_MAX_LAYERS, KEEL_LAYER_MAX_BYTES,
                             &ret->layers, &ret->n_layers, err);
  if (r == 0)
    r = check_layers(ret, err);
  if (r < 0)
    keel_manifest_free(ret);
  return r;
}

void
keel_manifest_free(struct keel_manifest *m)
{
  if (!m)
    return;
  free(m->layers);
  free(m->manifests);
  m->layers = m->manifests = NULL;
  m->n_layers = m->n_manifests = 0;
}

int
keel_layer_media_type_compression(const char *mt)
{
  static const struct
  {
    const char *suffix;
    int comp;
  } table[] = {
    { ".tar", KEEL_COMPRESSION_NONE },
    { ".tar+gzip", KEEL_COMPRESSION_GZIP },
    { ".tar+zstd", KEEL_COMPRESSION_ZSTD },
    { ".tar.gzip", KEEL_COMPRESSION_GZIP },
  };
  /* OCI layers, their nondistributable forms, Docker rootfs diffs (and the
   * foreign ones, whose blobs a registry may still hold). */
  static const char *const prefixes[] = { "application/vnd.oci.image.layer.v1",
                                          "application/vnd.oci.image.layer.nondistributable.v1",
                                          "application/vnd.docker.image.rootfs.diff",
                                          "application/vnd.docker.image.rootfs.foreign.diff" };
  for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++)
    {
      size_t pl = strlen(prefixes[p]);
      if (strncmp(mt, prefixes[p], pl))
        continue;
      for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (!strcmp(mt + pl, table[i].suffix))
          return table[i].comp;
    }
  return -EMEDIUMTYPE;
}

int
keel_image_config_parse(const char *buf, size_t len, size_t n_layers, struct keel_image_config *ret,
                        struct keel_error *err)
{
  memset(ret, 0, sizeof(*ret));
  _cleanup_json_ json_object *doc = NULL;
  int r = keel_json_parse(buf, len, "image config", &doc, err);
  if (r < 0)
    return r;
  if (!json_object_is_type(doc, json_type_object))
    return keel_error_set(err, -EINVAL, "image config: expected a JSON object");
  if ((r = parse_platform(doc, "config", &ret->platform, err)) < 0)
    return keel_error_prefix(err, "image config");
  const char *created = NULL;
  if ((r = keel_json_get_string(doc, "created", "config", &created, err)) < 0)
    return r;
  snprintf(ret->created, sizeof(ret->created), "%s", created ? created : "");
  json_object *rootfs;
  if ((r = keel_json_get_object(doc, "rootfs", "config", &rootfs, err)) < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "image config: missing rootfs");
  const char *type = NULL;
  if ((r = keel_json_get_string(rootfs, "type", "config.rootfs", &type, err)) < 0)
    return r;
  if (!type || strcmp(type, "layers"))
    return keel_error_set(err, -EINVAL, "config.rootfs.type: expected \"layers\"");
  if ((r = keel_json_get_strv(rootfs, "diff_ids", "config.rootfs", &ret->diff_ids, err)) < 0)
    return r;
  if (r == 0)
    return keel_error_set(err, -EINVAL, "image config: missing rootfs.diff_ids");
  while (ret->diff_ids[ret->n_diff_ids])
    {
      if (!keel_digest_valid(ret->diff_ids[ret->n_diff_ids]))
        {
          r = keel_error_set(err, -EINVAL, "config.rootfs.diff_ids[%zu]: '%.80s' is not a digest",
                             ret->n_diff_ids, ret->diff_ids[ret->n_diff_ids]);
          keel_image_config_free(ret);
          return r;
        }
      ret->n_diff_ids++;
    }
  if (ret->n_diff_ids != n_layers)
    {
      r = keel_error_set(err, -EINVAL, "image config lists %zu diff_ids for %zu layers",
                         ret->n_diff_ids, n_layers);
      keel_image_config_free(ret);
      return r;
    }
  return 0;
}

void
keel_image_config_free(struct keel_image_config *c)
{
  if (!c)
    return;
  keel_strv_free(c->diff_ids);
  c->diff_ids = NULL;
  c->n_diff_ids = 0;
}

void
keel_platform_host(struct keel_platform *ret)
{
  static const struct
  {
    const char *machine, *arch, *variant;
  } map[] = {
    { "x86_64", "amd64", "" },    { "aarch64", "arm64", "" }, { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },    { "i686", "386", "" },      { "i386", "386", "" },
    { "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" },   { "riscv64", "riscv64", "" },
  };
  struct utsname u;
  memset(ret, 0, sizeof(*ret));
  strcpy(ret->os, "linux");
  if (uname(&u) < 0)
    return;
  for (size_t i = 0; i < ARRAY_SIZE(map); i++)
    if (!strcmp(u.machine, map[i].machine))
      {
        strcpy(ret->arch, map[i].arch);
        strcpy(ret->variant, map[i].variant);
        return;
      }
  snprintf(ret->arch, sizeof(ret->arch), "%s", u.machine);
}

int
keel_platform_parse(const char *s, struct keel_platform *ret, struct keel_error *err)
{
  struct keel_platform host;
  keel_platform_host(&host);
  memset(ret, 0, sizeof(*ret));
  const char *parts[3] = { NULL, NULL, NULL };
  size_t lens[3] = { 0, 0, 0 };
  const char *p = s;
  for (int i = 0; i < 3; i++)
    {
      parts[i] = p;
      lens[i] = strcspn(p, "/");
      p += lens[i];
      if (!*p)
        break;
      p++;
      if (i == 2)
        return keel_error_set(err, -EINVAL, "invalid platform '%s': expected os/arch[/variant]", s);
    }
  char *fields[3] = { ret->os, ret->arch, ret->variant };
  for (int i = 0; i < 3; i++)
    {
      if (!parts[i])
        break;
      if (lens[i] >= sizeof(ret->os))
        return keel_error_set(err, -EINVAL, "invalid platform '%s': part too long", s);
      memcpy(fields[i], parts[i], lens[i]);
      fields[i][lens[i]] = '\0';
      for (size_t k = 0; k < lens[i]; k++)
        if (!((fields[i][k] >= 'a' && fields[i][k] <= 'z')
              || (fields[i][k] >= '0' && fields[i][k] <= '9') || fields[i][k] == '_'
              || fields[i][k] == '-'))
          return keel_error_set(err, -EINVAL, "invalid platform '%s'", s);
    }
  if (!ret->os[0])
    strcpy(ret->os, host.os);
  if (!ret->arch[0])
    {
      strcpy(ret->arch, host.arch);
      if (!ret->variant[0])
        strcpy(ret->variant, host.variant);
    }
  return 0;
}

void
keel_platform_format(const struct keel_platform *p, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* The variant an entry without one stands for: arm64 means v8, arm v7. */
static const char *
effective_variant(const struct keel_platform *p)
{
  if (p->variant[0])
    return p->variant;
  if (!strcmp(p->arch, "arm64"))
    return "v8";
  if (!strcmp(p->arch, "arm"))
    return "v7";
  return "";
}

int
keel_index_choose(const struct keel_manifest *index, const struct keel_platform *want,
                  const struct keel_descriptor **ret, struct keel_error *err)
{
  for (size_t i = 0; i < index->n_manifests; i++)
    {
      const struct keel_descriptor *d = &index->manifests[i];
      if (!d->has_platform || !is_manifest_type(d->media_type))
        continue; /* attestations, nested indexes, unknown artifacts */
      if (strcmp(d->platform.os, want->os) || strcmp(d->platform.arch, want->arch))
        continue;
      if (want->variant[0] && strcmp(effective_variant(&d->platform), effective_variant(want)))
        continue;
      *ret = d;
      return 0;
    }
  char wanted[100], have[600] = "";
  keel_platform_format(want, wanted, sizeof(wanted));
  size_t o = 0;
  for (size_t i = 0; i < index->n_manifests && o < sizeof(have) - 100; i++)
    if (index->manifests[i].has_platform)
      {
        char one[100];
        keel_platform_format(&index->manifests[i].platform, one, sizeof(one));
        o += (size_t)snprintf(have + o, sizeof(have) - o, "%s%s", o ? ", " : "", one);
      }
  return keel_error_set(err, -ENOENT, "no image for %s in the index (it has: %s)", wanted,
                        o ? have : "nothing with a platform");
}

int
keel_chain_ids(char *const *diff_ids, size_t n, char (*chain)[KEEL_DIGEST_MAX])
{
  for (size_t i = 0; i < n; i++)
    {
      if (i == 0)
        {
          snprintf(chain[0], KEEL_DIGEST_MAX, "%s", diff_ids[0]);
          continue;
        }
      char buf[2 * KEEL_DIGEST_MAX + 2];
      int len = snprintf(buf, sizeof(buf), "%s %s", chain[i - 1], diff_ids[i]);
      int r = keel_digest_buffer(buf, (size_t)len, chain[i]);
      if (r < 0)
        return r;
    }
  return 0;
}
