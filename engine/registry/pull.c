#include "registry/pull.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "registry/config.h"
#include "registry/reference.h"

/* Everything one pull holds. */
struct pull
{
  struct keel_store *store;
  const struct keel_pull_opts *opts;
  struct keel_reference ref; /* the name asked for: what the store records */
  struct keel_reference src; /* where it comes from: a mirror or the location */
  char ref_text[600];        /* src, for messages */
  struct keel_registry_opts registry_opts;
  bool announce_early; /* one of several sources: say which before asking it */
  struct keel_registry *registry;
  struct keel_response top;   /* what the tag or digest resolved to */
  struct keel_manifest index; /* top, when it is an index (kind set only then) */
  bool is_index;
  const struct keel_descriptor *chosen; /* the index entry for the platform */
  struct keel_response child;           /* the platform manifest, when top is an index */
  struct keel_manifest manifest;
  struct keel_response config_body;
  struct keel_image_config config;
  char manifest_digest[KEEL_DIGEST_MAX];
  char (*chain)[KEEL_DIGEST_MAX];
  struct keel_platform platform;
};

/* Forget one platform's documents (the next index entry reuses p). */
static void
platform_clear(struct pull *p)
{
  keel_response_clear(&p->child);
  keel_manifest_free(&p->manifest);
  memset(&p->manifest, 0, sizeof(p->manifest));
  keel_response_clear(&p->config_body);
  keel_image_config_free(&p->config);
  memset(&p->config, 0, sizeof(p->config));
  free(p->chain);
  p->chain = NULL;
}

static void
pull_free(struct pull *p)
{
  keel_registry_free(p->registry);
  keel_response_clear(&p->top);
  if (p->is_index)
    keel_manifest_free(&p->index);
  platform_clear(p);
}

static void
emit(struct pull *p, enum keel_pull_event_kind kind, const char *digest)
{
  if (!p->opts->progress)
    return;
  struct keel_pull_event ev = { .kind = kind, .ref = p->ref_text, .digest = digest };
  p->opts->progress(p->opts->progress_userdata, &ev);
}

/* Resolve the reference: a manifest (p->manifest) or an index (p->index). */
static int
resolve(struct pull *p, struct keel_error *err)
{
  int r = keel_registry_get_manifest(p->registry, p->src.path, keel_reference_target(&p->src),
                                     &p->top, err);
  if (r < 0)
    return r;
  struct keel_manifest m;
  if ((r = keel_manifest_parse(p->top.body, p->top.len, p->top.content_type, &m, err)) < 0)
    return keel_error_prefix(err, "%s", p->ref_text);
  if (m.kind == KEEL_DOC_MANIFEST)
    {
      p->manifest = m;
      strcpy(p->manifest_digest, p->top.digest);
      return 0;
    }
  p->index = m;
  p->is_index = true;
  if ((r = keel_index_choose(&p->index, &p->platform, &p->chosen, err)) < 0)
    return keel_error_prefix(err, "%s", p->ref_text);
  return 0;
}

/* Fetch and parse the platform manifest d of the index. */
static int
load_child(struct pull *p, const struct keel_descriptor *d, struct keel_error *err)
{
  strcpy(p->manifest_digest, d->digest);
  int r = keel_registry_get_manifest(p->registry, p->src.path, d->digest, &p->child, err);
  if (r < 0
      || (r = keel_manifest_parse(p->child.body, p->child.len, p->child.content_type, &p->manifest,
                                  err))
             < 0)
    return keel_error_prefix(err, "%s", p->ref_text);
  if (p->manifest.kind != KEEL_DOC_MANIFEST)
    return keel_error_set(err, -EMEDIUMTYPE, "%s: index entry %s is not an image manifest",
                          p->ref_text, p->manifest_digest);
  return 0;
}

static int
fetch_config(struct pull *p, struct keel_error *err)
{
  int r
      = keel_registry_get_blob(p->registry, p->src.path, &p->manifest.config, &p->config_body, err);
  if (r < 0)
    return keel_error_prefix(err, "%s: config", p->ref_text);
  r = keel_image_config_parse(p->config_body.body, p->config_body.len, p->manifest.n_layers,
                              &p->config, err);
  if (r < 0)
    return keel_error_prefix(err, "%s", p->ref_text);
  p->chain = calloc(p->manifest.n_layers + 1, KEEL_DIGEST_MAX);
  if (!p->chain)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return keel_chain_ids(p->config.diff_ids, p->config.n_diff_ids, p->chain);
}

static void
fill_layer(struct pull *p, size_t i, struct keel_fetch_layer *l)
{
  memset(l, 0, sizeof(*l));
  l->desc = &p->manifest.layers[i];
  l->index = (unsigned)i;
  strcpy(l->chain_id, p->chain[i]);
  strcpy(l->diff_id, p->config.diff_ids[i]);
  if (i > 0)
    strcpy(l->parent, p->chain[i - 1]);
}

static void
emit_exists(struct pull *p, size_t i)
{
  if (!p->opts->progress)
    return;
  struct keel_pull_event ev = {
    .kind = KEEL_PULL_LAYER_DONE,
    .ref = p->ref_text,
    .digest = p->manifest.layers[i].digest,
    .index = (unsigned)i,
    .count = (unsigned)p->manifest.n_layers,
    .total = p->manifest.layers[i].size,
    .done = p->manifest.layers[i].size,
    .exists = true,
  };
  p->opts->progress(p->opts->progress_userdata, &ev);
}

static void
release_claims(int *claims, size_t *nc)
{
  for (size_t k = 0; k < *nc; k++)
    close(claims[k]);
  *nc = 0;
}

/* Fetch the missing layers.  Each is claimed with a per-layer flock so
 * that two pulls of one image download it once: what another process
 * holds is waited for after our own batch, then taken over if that
 * process died without committing it.  A pull never waits for a claim
 * while it holds one: two pulls that each claimed a layer the other
 * wants would otherwise wait for each other forever. */
static int
fetch_missing(struct pull *p, struct keel_error *err)
{
  size_t n = p->manifest.n_layers;
  _cleanup_free_ struct keel_fetch_layer *todo = calloc(n + 1, sizeof(*todo));
  _cleanup_free_ int *claims = calloc(n + 1, sizeof(int));
  _cleanup_free_ size_t *deferred = calloc(n + 1, sizeof(size_t));
  if (!todo || !claims || !deferred)
    return keel_error_set(err, -ENOMEM, "out of memory");
  size_t nt = 0, nd = 0, nc = 0;
  int r = 0;
  for (size_t i = 0; i < n && r >= 0; i++)
    {
      if (keel_store_layer_exists(p->store, p->chain[i]))
        {
          emit_exists(p, i);
          continue;
        }
      int fd = -1;
      r = keel_store_layer_claim(p->store, p->chain[i], false, &fd, err);
      if (r == 0)
        deferred[nd++] = i;
      else if (r > 0)
        {
          claims[nc++] = fd;
          if (keel_store_layer_exists(p->store, p->chain[i]))
            emit_exists(p, i);
          else
            fill_layer(p, i, &todo[nt++]);
        }
    }
  struct keel_fetch_ctx ctx = { p->store, p->registry, p->src.path, (unsigned)n, p->opts };
  if (r >= 0)
    r = keel_fetch_layers(&ctx, todo, nt, err);
  release_claims(claims, &nc);
  for (size_t k = 0; k < nd && r >= 0; k++)
    {
      size_t i = deferred[k];
      int fd = -1;
      emit(p, KEEL_PULL_WAITING, p->manifest.layers[i].digest);
      if ((r = keel_store_layer_claim(p->store, p->chain[i], true, &fd, err)) < 0)
        break;
      claims[nc++] = fd;
      if (keel_store_layer_exists(p->store, p->chain[i]))
        emit_exists(p, i);
      else
        {
          fill_layer(p, i, &todo[0]);
          r = keel_fetch_layers(&ctx, todo, 1, err);
        }
      release_claims(claims, &nc);
    }
  return r < 0 ? r : 0;
}

static int
commit(struct pull *p, const char *name, const char *name_digest, char ret_id[KEEL_DIGEST_MAX],
       struct keel_error *err)
{
  int r;
  if ((r = keel_store_blob_put(p->store, p->top.digest, p->top.body, p->top.len, err)) < 0
      || (p->child.body
          && (r = keel_store_blob_put(p->store, p->child.digest, p->child.body, p->child.len, err))
                 < 0)
      || (r = keel_store_blob_put(p->store, p->manifest.config.digest, p->config_body.body,
                                  p->config_body.len, err))
             < 0)
    return r;
  size_t n = p->manifest.n_layers;
  struct keel_image img = { .n_layers = n, .pulled = (int64_t)time(NULL) };
  img.layers = calloc(n + 1, sizeof(*img.layers));
  if (!img.layers)
    return keel_error_set(err, -ENOMEM, "out of memory");
  strcpy(img.id, p->manifest.config.digest);
  strcpy(img.manifest, p->manifest_digest);
  keel_platform_format(&p->config.platform, img.platform, sizeof(img.platform));
  snprintf(img.created, sizeof(img.created), "%s", p->config.created);
  for (size_t i = 0; i < n; i++)
    {
      struct keel_image_layer *l = &img.layers[i];
      strcpy(l->chain_id, p->chain[i]);
      strcpy(l->diff_id, p->config.diff_ids[i]);
      strcpy(l->digest, p->manifest.layers[i].digest);
      snprintf(l->media_type, sizeof(l->media_type), "%s", p->manifest.layers[i].media_type);
      l->size = p->manifest.layers[i].size;
      struct keel_layer_info info;
      if (keel_store_layer_read(p->store, l->chain_id, &info) == 0)
        img.size += info.unpacked;
    }
  r = keel_store_image_commit(p->store, &img, name, name_digest, err);
  free(img.layers);
  if (r == 0)
    strcpy(ret_id, img.id);
  return r;
}

/* Fetch the config and layers of p->manifest and record the image under
 * name, resolved through name_digest. */
static int
pull_image(struct pull *p, const char *name, const char *name_digest, char ret_id[KEEL_DIGEST_MAX],
           struct keel_error *err)
{
  int r = fetch_config(p, err);
  if (r == 0)
    r = fetch_missing(p, err);
  if (r == 0)
    r = commit(p, name, name_digest, ret_id, err);
  return r;
}

/* The name of an index entry: "repo@sha256:...". */
static void
name_by_digest(const struct pull *p, const char *digest, char name[600])
{
  struct keel_reference by_digest = p->ref;
  by_digest.tag[0] = '\0';
  strcpy(by_digest.digest, digest);
  keel_reference_store_name(&by_digest, name, 600);
}

/* --all-platforms: every image of the index, each named by digest
 * ("repo@sha256:..."), so that push can send the whole index back.
 * Entries for no platform ("unknown", attestations) are not images and
 * are skipped; the chosen one comes last. */
static int
pull_all_platforms(struct pull *p, const struct keel_descriptor *chosen,
                   const char chosen_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  for (size_t i = 0; i < p->index.n_manifests; i++)
    {
      const struct keel_descriptor *d = &p->index.manifests[i];
      if (d == chosen || (d->has_platform && !strcmp(d->platform.os, "unknown")))
        continue;
      char name[600], id[KEEL_DIGEST_MAX];
      name_by_digest(p, d->digest, name);
      int r = load_child(p, d, err);
      if (r == 0)
        r = pull_image(p, name, d->digest, id, err);
      platform_clear(p);
      if (r < 0)
        return r;
    }
  char name[600];
  name_by_digest(p, chosen->digest, name);
  return keel_store_tag_digest(p->store, chosen_id, name, chosen->digest, err);
}

static int
pull_resolved_doc(struct pull *p, char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  char name[600];
  keel_reference_store_name(&p->ref, name, sizeof(name));
  if (!p->is_index)
    return pull_image(p, name, p->top.digest, ret_id, err);
  const struct keel_descriptor *d = p->chosen;
  int r;
  if ((r = load_child(p, d, err)) < 0 || (r = pull_image(p, name, p->top.digest, ret_id, err)) < 0)
    return r;
  return p->opts->all_platforms ? pull_all_platforms(p, d, ret_id, err) : 0;
}

static int
pull_one(struct pull *p, char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  keel_reference_format(&p->src, p->ref_text, sizeof(p->ref_text));
  if (p->announce_early)
    emit(p, KEEL_PULL_TRYING, NULL);
  int r = keel_registry_new(p->src.domain, &p->registry_opts, &p->registry, err);
  if (r < 0 || (r = resolve(p, err)) < 0)
    return r;
  if (!p->announce_early)
    emit(p, KEEL_PULL_TRYING, NULL);
  emit(p, KEEL_PULL_RESOLVED, p->top.digest);
  if ((r = keel_store_pull_begin(p->store, err)) < 0)
    return r;
  keel_store_tmp_sweep(p->store);
  r = pull_resolved_doc(p, ret_id, err);
  keel_store_pull_end(p->store);
  if (r == 0)
    emit(p, KEEL_PULL_COMMITTED, ret_id);
  return r;
}

/* Pull one fully qualified reference from source (a mirror or the
 * location registries.conf gives it). */
static int
pull_from(struct keel_store *store, const struct keel_reference *ref,
          const struct keel_registry_resolution *res, size_t i, const struct keel_pull_opts *opts,
          char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  const struct keel_registry_source *source = &res->sources[i];
  struct pull p = { .store = store, .opts = opts, .ref = *ref };
  p.announce_early = res->n_sources > 1;
  int r = keel_reference_parse(source->name, &p.src, err);
  if (r < 0)
    return keel_error_prefix(err, "registries.conf");
  p.platform = opts->platform;
  if (!p.platform.os[0])
    keel_platform_host(&p.platform);
  p.registry_opts = opts->registry;
  p.registry_opts.insecure = opts->registry.insecure || source->insecure;
  p.registry_opts.no_connect_retry = source->mirror;
  r = pull_one(&p, ret_id, err);
  pull_free(&p);
  return r;
}

/* Append "; NAME: reason" of a failed mirror to the list shown when every
 * source failed. */
static void
note_failure(char *buf, size_t size, const char *name, const struct keel_error *e)
{
  size_t n = strlen(buf);
  if (n < size)
    snprintf(buf + n, size - n, "%s%s: %s", n ? "; " : "", name, e->msg);
}

/* registries.conf's view of ref: mirrors in order, then the location; a
 * blocked prefix is refused.  Mirrors are only for pulls (push goes to the
 * name as written, as containers/image does). */
static int
pull_resolved(struct keel_store *store, const struct keel_reference *ref,
              const struct keel_pull_opts *opts, char ret_id[KEEL_DIGEST_MAX],
              struct keel_error *err)
{
  char text[600];
  keel_reference_format(ref, text, sizeof(text));
  struct keel_registry_resolution res = { 0 };
  int r = keel_registries_conf_resolve(opts->conf, text, &res, err);
  if (r < 0)
    return r;
  if (res.blocked)
    r = keel_error_set(err, -EACCES, "%s: pulling from '%s' is blocked by registries.conf", text,
                       res.prefix);
  char mirrors[sizeof(err->msg)] = "";
  for (size_t i = 0; !res.blocked && i < res.n_sources; i++)
    {
      keel_error_clear(err);
      r = pull_from(store, ref, &res, i, opts, ret_id, err);
      if (r == 0)
        break;
      if (res.sources[i].mirror)
        note_failure(mirrors, sizeof(mirrors), res.sources[i].name, err);
    }
  size_t n = strlen(err->msg);
  if (r < 0 && mirrors[0] && n < sizeof(err->msg))
    snprintf(err->msg + n, sizeof(err->msg) - n, " (mirrors failed too: %s)", mirrors);
  keel_registry_resolution_clear(&res);
  return r;
}

int
keel_pull(struct keel_store *store, const char *text, const struct keel_pull_opts *opts,
          char ret_id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  struct keel_reference ref;
  int r = keel_reference_parse(text, &ref, err);
  if (r < 0)
    return r;
  static const char *const hub_only[] = { KEEL_DOCKER_HUB, NULL };
  const char *const *search = opts->search && opts->search[0] ? opts->search : hub_only;
  struct keel_error first = KEEL_ERROR_INIT;
  for (size_t i = 0; search[i]; i++)
    {
      struct keel_reference cand = ref;
      if (!ref.explicit_domain)
        keel_reference_with_domain(&ref, search[i], &cand);
      keel_error_clear(err);
      r = pull_resolved(store, &cand, opts, ret_id, err);
      if (r == 0 || ref.explicit_domain)
        return r;
      if (!first.code)
        first = *err;
    }
  /* Every candidate failed: the first registry's reason is the one to show. */
  *err = first;
  return first.code ? first.code : r;
}
