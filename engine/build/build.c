/* keel build: parse, plan the stages the target needs, run each stage's
 * steps, name the final image. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/bld.h"
#include "build/stages.h"
#include "lib/cleanup.h"
#include "lib/fs.h"

static const char *
meta_lookup(const char *name, void *userdata)
{
  return bld_meta(userdata, name);
}

static int
add_meta(struct bld *b, const char *name, const char *value)
{
  char *kv = NULL;
  if (asprintf(&kv, "%s=%s", name, value) < 0 || !keel_strv_push(&b->meta, kv))
    return keel_error_set(b->err, ENOMEM, "out of memory");
  return 0;
}

/* Global ARGs: the platform ones Docker predefines, then the file's. */
static int
meta_args(struct bld *b)
{
  char os[32] = "linux", arch[32] = "amd64";
  if (b->o->platform)
    sscanf(b->o->platform, "%31[^/]/%31[^/]", os, arch);
  char plat[80];
  snprintf(plat, sizeof(plat), "%s/%s", os, arch);
  int r = 0;
  if ((r = add_meta(b, "TARGETPLATFORM", plat)) < 0 || (r = add_meta(b, "TARGETOS", os)) < 0
      || (r = add_meta(b, "TARGETARCH", arch)) < 0
      || (r = add_meta(b, "BUILDPLATFORM", "linux/amd64")) < 0
      || (r = add_meta(b, "BUILDOS", "linux")) < 0 || (r = add_meta(b, "BUILDARCH", "amd64")) < 0)
    return r;
  struct keel_expand x = { b->cf->escape, meta_lookup, b };
  for (size_t i = 0; i < b->cf->n_meta; i++)
    for (size_t j = 0; j < b->cf->meta[i].n_kv; j++)
      {
        const struct keel_cf_kv *kv = &b->cf->meta[i].kv[j];
        const char *given = bld_build_arg(b, kv->key);
        _cleanup_free_ char *def = NULL;
        if (!given && kv->value)
          {
            if ((r = keel_expand_word(&x, kv->value, &def, b->err)) < 0)
              return keel_error_prefix(b->err, "%s:%u", b->cf->path, b->cf->meta[i].line);
            given = def;
          }
        if (given && (r = add_meta(b, kv->key, given)) < 0)
          return r;
      }
  return 0;
}

static int
stage_from(struct stage *st, struct keel_error *err)
{
  struct bld *b = st->b;
  const struct keel_cf_stage *cs = &b->cf->stages[st->index];
  struct keel_expand x = { b->cf->escape, meta_lookup, b };
  _cleanup_free_ char *base = NULL;
  int r = keel_expand_word(&x, cs->base, &base, err);
  if (r < 0)
    return keel_error_prefix(err, "%s:%u", b->cf->path, cs->line);
  b->step++;
  bld_say(b, "STEP %u/%u: %s", b->step, b->steps, cs->instrs[0].text);
  if (!*base)
    return bld_fail(b, &cs->instrs[0], EINVAL, "FROM: empty image name after expansion");
  if (strcmp(base, "scratch") == 0)
    {
      st->parent[0] = '\0';
      st->doc = doc_scratch(b->o->platform);
      return 0;
    }
  char id[KEEL_DIGEST_MAX];
  int idx = keel_stage_ref(b->cf, base);
  if (idx >= 0)
    snprintf(id, sizeof(id), "%s", b->stage_ids + (size_t)idx * KEEL_DIGEST_MAX);
  else if (!b->o->resolve)
    return bld_fail(b, &cs->instrs[0], ENOENT, "FROM %s: no image resolver", base);
  else if ((r = b->o->resolve(b->o->resolve_userdata, base, b->o->platform, id, err)) < 0)
    return keel_error_prefix(err, "%s:%u: FROM %s", b->cf->path, cs->line, base);
  json_object *doc = NULL;
  if ((r = doc_load(b->store, id, &doc, err)) < 0)
    return keel_error_prefix(err, "%s:%u: FROM %s", b->cf->path, cs->line, base);
  st->doc = doc;
  snprintf(st->parent, sizeof(st->parent), "%s", id);
  return 0;
}

/* Triggers recorded by the base image's ONBUILD run first (then go). */
static int
run_triggers(struct stage *st, struct keel_error *err)
{
  _cleanup_strv_ char **triggers = doc_strv(st->doc, "OnBuild");
  if (!triggers || !triggers[0])
    return 0;
  json_object_object_del(doc_config(st->doc), "OnBuild");
  unsigned line = st->b->cf->stages[st->index].line;
  for (char **t = triggers; *t; t++)
    {
      struct keel_cf_instr *in = NULL;
      int r = keel_cf_parse_line(st->b->cf->path, line, st->b->cf->escape, *t, &in, err);
      if (r < 0)
        return keel_error_prefix(err, "ONBUILD trigger of the base image");
      st->b->steps++;
      r = step_run(st, in, err);
      keel_cf_instr_free(in);
      if (r < 0)
        return r;
    }
  return 0;
}

static void
stage_clear(struct stage *st)
{
  stage_drop_working(st);
  json_object_put(st->doc);
  for (size_t i = 0; i < st->n_args; i++)
    free(st->args[i].name), free(st->args[i].value);
  free(st->args);
}

static int
build_stage(struct bld *b, size_t index, bool last, struct keel_error *err)
{
  struct stage st = { .b = b, .index = index };
  const struct keel_cf_stage *cs = &b->cf->stages[index];
  int r = stage_from(&st, err);
  if (r >= 0)
    r = run_triggers(&st, err);
  for (size_t i = 1; r >= 0 && i < cs->n_instrs; i++)
    r = step_run(&st, &cs->instrs[i], err);
  if (r >= 0 && !b->o->layers)
    r = stage_commit_pending(&st, err);
  if (r >= 0 && last && b->o->labels && b->o->labels[0])
    r = step_labels(&st, b->o->labels, err);
  /* A stage with nothing but "FROM scratch" still is an (empty) image. */
  if (r >= 0 && !st.parent[0])
    {
      st.pending = 1;
      bool layers = b->o->layers;
      r = stage_commit_pending(&st, err);
      (void)layers;
    }
  if (r >= 0)
    snprintf(b->stage_ids + index * KEEL_DIGEST_MAX, KEEL_DIGEST_MAX, "%s", st.parent);
  stage_clear(&st);
  return r;
}

static int
open_context(struct bld *b, char **ret_path, char **ret_text, size_t *ret_len)
{
  const struct keel_build_opts *o = b->o;
  b->ctxfd = open(o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (b->ctxfd < 0)
    return keel_error_set_errno(b->err, errno, "build context '%s'", o->context);
  if (!(b->ctx_abs = realpath(o->context, NULL)))
    return keel_error_set_errno(b->err, errno, "build context '%s'", o->context);
  char *path = NULL;
  if (o->file)
    path = strdup(o->file);
  else
    {
      bool cf = faccessat(b->ctxfd, "Containerfile", F_OK, 0) == 0;
      if (asprintf(&path, "%s/%s", o->context, cf ? "Containerfile" : "Dockerfile") < 0)
        path = NULL;
    }
  if (!path)
    return keel_error_set(b->err, ENOMEM, "out of memory");
  *ret_path = path;
  int r = keel_read_file(AT_FDCWD, path, 4 << 20, ret_text, ret_len);
  if (r < 0)
    return keel_error_set_errno(b->err, r, "cannot read '%s'", path);
  return 0;
}

static int
prepare(struct bld *b)
{
  _cleanup_free_ char *path = NULL, *text = NULL;
  size_t len;
  int r = open_context(b, &path, &text, &len);
  if (r >= 0)
    r = keel_containerfile_parse(path, text, len, &b->cf, b->err);
  if (r >= 0)
    r = keel_ignore_load(b->ctxfd, b->o->context, &b->ignore, NULL, b->err);
  if (r < 0)
    return r;
  b->n_args = keel_strv_len(b->o->build_args);
  b->arg_used = calloc(b->n_args + 1, sizeof(bool));
  b->stage_ids = calloc(b->cf->n_stages, KEEL_DIGEST_MAX);
  snprintf(b->tmpdir, sizeof(b->tmpdir), "/var/tmp/keel-build-XXXXXX");
  if (!b->arg_used || !b->stage_ids)
    return keel_error_set(b->err, ENOMEM, "out of memory");
  if (!mkdtemp(b->tmpdir))
    {
      r = keel_error_set_errno(b->err, errno, "cannot create a temporary directory");
      b->tmpdir[0] = '\0';
      return r;
    }
  b->tmpdir_fd = open(b->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (b->tmpdir_fd < 0)
    return keel_error_set_errno(b->err, errno, "cannot open '%s'", b->tmpdir);
  return meta_args(b);
}

static void
warn_unused(struct bld *b)
{
  struct keel_buf names = { 0 };
  for (size_t i = 0; i < b->n_args; i++)
    if (!b->arg_used[i])
      {
        const char *a = b->o->build_args[i];
        keel_buf_printf(&names, "%s%.*s", names.len ? " " : "", (int)strcspn(a, "="), a);
      }
  if (names.len)
    fprintf(stderr, "[Warning] one or more build-args [%s] were not consumed\n", names.s);
  keel_buf_free(&names);
}

static int
tag_all(struct bld *b, const char *id)
{
  for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
    {
      int r = keel_store_tag(b->store, id, b->o->tags[i], b->err);
      if (r < 0)
        return keel_error_prefix(b->err, "cannot name the image %s", b->o->tags[i]);
      bld_say(b, "Successfully tagged %s", b->o->tags[i]);
    }
  return 0;
}

static void
cleanup(struct bld *b)
{
  if (b->ctxfd >= 0)
    close(b->ctxfd);
  if (b->tmpdir_fd >= 0)
    close(b->tmpdir_fd);
  if (b->tmpdir[0])
    keel_rm_rf_at(AT_FDCWD, b->tmpdir);
  keel_containerfile_free(b->cf);
  free(b->ctx_abs);
  keel_ignore_free(b->ignore);
  keel_strv_clear(&b->meta);
  free(b->arg_used);
  free(b->stage_ids);
}

static int
run_plan(struct bld *b, char ret_id[KEEL_DIGEST_MAX])
{
  struct keel_expand x = { b->cf->escape, meta_lookup, b };
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  int r = keel_stage_plan(b->cf, b->o->target, &x, &order, &n, b->err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    b->steps += (unsigned)b->cf->stages[order[i]].n_instrs;
  for (size_t i = 0; r >= 0 && i < n; i++)
    r = build_stage(b, order[i], i + 1 == n, b->err);
  if (r < 0)
    return r;
  const char *id = b->stage_ids + order[n - 1] * KEEL_DIGEST_MAX;
  if ((r = tag_all(b, id)) < 0)
    return r;
  snprintf(ret_id, KEEL_DIGEST_MAX, "%s", id);
  return 0;
}

int
keel_build(struct keel_store *s, const struct keel_build_opts *o, char ret_id[KEEL_DIGEST_MAX],
           struct keel_error *err)
{
  struct bld b = { .store = s, .o = o, .ctxfd = -EBADF, .tmpdir_fd = -EBADF, .err = err };
  int r = prepare(&b);
  if (r >= 0)
    r = run_plan(&b, ret_id);
  if (r >= 0)
    warn_unused(&b);
  cleanup(&b);
  return r;
}
