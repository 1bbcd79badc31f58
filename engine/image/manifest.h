/* OCI and Docker image documents: manifests, indexes (manifest lists) and
 * image configs, parsed into plain structs with every field a registry
 * could get wrong checked, and platform choice over an index.  Pure
 * format code: no I/O. */
#ifndef KEEL_IMAGE_MANIFEST_H
#define KEEL_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/digest.h"
#include "lib/error.h"

#define KEEL_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define KEEL_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define KEEL_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define KEEL_MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define KEEL_MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define KEEL_MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define KEEL_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define KEEL_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define KEEL_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define KEEL_MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define KEEL_MT_DOCKER_SCHEMA1  "application/vnd.docker.distribution.manifest.v1+json"
#define KEEL_MT_DOCKER_SCHEMA1S "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* What a registry is asked for, in order of preference. */
#define KEEL_MANIFEST_ACCEPT                                                                       \
  KEEL_MT_OCI_INDEX ", " KEEL_MT_DOCKER_LIST ", " KEEL_MT_OCI_MANIFEST ","                         \
                    " " KEEL_MT_DOCKER_MANIFEST

/* Limits on what a document may claim; anything larger is refused. */
#define KEEL_MANIFEST_MAX_BYTES  (4u << 20)  /* a manifest or index body */
#define KEEL_CONFIG_MAX_BYTES    (16u << 20) /* an image config body */
#define KEEL_LAYER_MAX_BYTES     (64ull << 30)
#define KEEL_MANIFEST_MAX_LAYERS 500
#define KEEL_INDEX_MAX_ENTRIES   1000

enum keel_doc_kind
{
  KEEL_DOC_MANIFEST, /* OCI image manifest or Docker schema2 */
  KEEL_DOC_INDEX,    /* OCI image index or Docker manifest list */
};

struct keel_platform
{
  char os[32];
  char arch[32];
  char variant[32];
};

struct keel_descriptor
{
  char media_type[128];
  char digest[KEEL_DIGEST_MAX];
  uint64_t size;
  bool has_platform;
  struct keel_platform platform; /* index entries only */
};

/* A parsed manifest or index. */
struct keel_manifest
{
  enum keel_doc_kind kind;
  char media_type[128];
  struct keel_descriptor config;  /* manifests */
  struct keel_descriptor *layers; /* manifests: n_layers entries */
  size_t n_layers;
  struct keel_descriptor *manifests; /* indexes: n_manifests entries */
  size_t n_manifests;
};

/* The parts of an image config the store needs. */
struct keel_image_config
{
  struct keel_platform platform;
  char created[64];
  char **diff_ids; /* NULL-terminated */
  size_t n_diff_ids;
};

enum keel_layer_compression
{
  KEEL_COMPRESSION_NONE,
  KEEL_COMPRESSION_GZIP,
  KEEL_COMPRESSION_ZSTD,
};

/* Parse a manifest or index.  content_type is the registry's Content-Type
 * header (NULL when unknown: the document's own mediaType decides).
 * Schema 1 is refused with a message that says so. */
int keel_manifest_parse(const char *buf, size_t len, const char *content_type,
                        struct keel_manifest *ret, struct keel_error *err);
void keel_manifest_free(struct keel_manifest *m);

/* Parse an image config; the diff_ids must number n_layers. */
int keel_image_config_parse(const char *buf, size_t len, size_t n_layers,
                            struct keel_image_config *ret, struct keel_error *err);
void keel_image_config_free(struct keel_image_config *c);

/* The compression a layer media type implies; -EMEDIUMTYPE when unknown. */
int keel_layer_media_type_compression(const char *media_type);

/* The platform this machine runs ("linux", uname arch mapped to GOARCH). */
void keel_platform_host(struct keel_platform *ret);
/* Parse "os/arch[/variant]" (any part may be empty → host default). */
int keel_platform_parse(const char *s, struct keel_platform *ret, struct keel_error *err);
/* "os/arch[/variant]" */
void keel_platform_format(const struct keel_platform *p, char *buf, size_t size);
/* Choose the index entry for want; -ENOENT with the list of what exists. */
int keel_index_choose(const struct keel_manifest *index, const struct keel_platform *want,
                      const struct keel_descriptor **ret, struct keel_error *err);

/* chain[i] = sha256 over the diff ids 0..i, as the OCI spec defines ChainID. */
int keel_chain_ids(char *const *diff_ids, size_t n, char (*chain)[KEEL_DIGEST_MAX]);

#endif
