/* One Containerfile instruction as a build step: expand its arguments,
 * compute its cache key, reuse a cached result or execute it on the
 * stage's working container / config document, and commit. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/bld.h"
#include "build/context.h"
#include "build/instr.h"
#include "build/stages.h"
#include "lib/cleanup.h"
#include "lib/digest.h"
#include "lib/fs.h"
#include "lib/path.h"

/* What a step reads, hashed into its cache key. */
struct step
{
  const struct keel_cf_instr *in;
  struct keel_digest_ctx *key;
  bool fs;             /* changes the filesystem: needs a working container */
  const char *history; /* created_by */
};

const char *
stage_lookup(const char *name, void *userdata)
{
  struct stage *st = userdata;
  const char *v = doc_getenv(st->doc, name);
  if (v)
    return v;
  for (size_t i = st->n_args; i-- > 0;)
    if (strcmp(st->args[i].name, name) == 0)
      return st->args[i].value;
  return NULL;
}

struct keel_expand
stage_expander(struct stage *st)
{
  struct keel_expand x = { st->b->cf->escape, stage_lookup, st };
  return x;
}

static int
xword(struct stage *st, const struct keel_cf_instr *in, const char *raw, char **ret,
      struct keel_error *err)
{
  struct keel_expand x = stage_expander(st);
  int r = keel_expand_word(&x, raw, ret, err);
  return r < 0 ? keel_error_prefix(err, "%s:%u", st->b->cf->path, in->line) : 0;
}

static int
xwords(struct stage *st, const struct keel_cf_instr *in, const char *raw, char ***ret,
       struct keel_error *err)
{
  struct keel_expand x = stage_expander(st);
  int r = keel_expand_words(&x, raw, ret, err);
  return r < 0 ? keel_error_prefix(err, "%s:%u", st->b->cf->path, in->line) : 0;
}

static int
key_add(struct step *sp, const char *label, const char *value)
{
  int r = keel_digest_update(sp->key, label, strlen(label) + 1);
  if (r >= 0)
    r = keel_digest_update(sp->key, value ? value : "\x01(unset)",
                           strlen(value ? value : "\x01(unset)") + 1);
  return r;
}

/* ---- the working container ------------------------------------------- */

int
stage_working(struct stage *st, struct keel_error *err)
{
  if (st->w)
    return 0;
  struct keel_working_create_opts co = KEEL_WORKING_CREATE_OPTS_INIT;
  co.image = st->parent[0] ? st->parent : "scratch";
  co.platform = st->b->o->platform;
  char name[96];
  snprintf(name, sizeof(name), "keel-build-%d-%zu-%u", (int)getpid(), st->index, st->b->step);
  co.name = name;
  int r = keel_working_create(st->b->store, &co, &st->w, err);
  if (r < 0)
    return keel_error_prefix(err, "cannot create a working container");
  return 0;
}

void
stage_drop_working(struct stage *st)
{
  if (!st->w)
    return;
  struct keel_error ignored = KEEL_ERROR_INIT;
  if (keel_working_remove(st->w, &ignored) < 0)
    keel_working_free(st->w);
  st->w = NULL;
  st->w_dirty = false;
}

/* The stage's document becomes the working container's config. */
static void
sync_doc(struct stage *st)
{
  json_object *wd = keel_working_image_config(st->w);
  static const char *const keys[] = { "config", "history", "author" };
  for (size_t i = 0; i < 3; i++)
    {
      json_object *v;
      if (json_object_object_get_ex(st->doc, keys[i], &v))
        {
          json_object *copy = NULL;
          json_object_deep_copy(v, &copy, NULL);
          json_object_object_add(wd, keys[i], copy);
        }
      else
        json_object_object_del(wd, keys[i]);
    }
}

static int
set_parent(struct stage *st, const char *id, struct keel_error *err)
{
  json_object *doc = NULL;
  int r = doc_load(st->b->store, id, &doc, err);
  if (r < 0)
    return r;
  json_object_put(st->doc);
  st->doc = doc;
  snprintf(st->parent, sizeof(st->parent), "%s", id);
  return 0;
}

/* Commit what the step did: the working container when it changed files,
 * else the config document alone (no layer). */
static int
commit_now(struct stage *st, const char *created_by, bool omit_history, struct keel_error *err)
{
  struct keel_commit_opts co = KEEL_COMMIT_OPTS_INIT;
  co.created_by = created_by;
  co.omit_history = omit_history;
  char id[KEEL_DIGEST_MAX];
  int r;
  if (st->w)
    {
      sync_doc(st);
      r = keel_working_commit(st->w, &co, id, err);
      stage_drop_working(st);
    }
  else
    {
      struct keel_image *base = NULL;
      co.omit_layer = true;
      r = st->parent[0] ? keel_store_image_lookup(st->b->store, st->parent, &base, err) : 0;
      if (r >= 0)
        r = keel_build_commit(st->b->store, base, NULL, st->doc, &co, id, err);
      keel_image_free(base);
    }
  if (r < 0)
    return keel_error_prefix(err, "commit");
  st->pending = 0;
  return set_parent(st, id, err);
}

/* Layers off: everything since FROM in one commit at the end. */
int
stage_commit_pending(struct stage *st, struct keel_error *err)
{
  if (!st->w && st->pending == 0)
    return 0;
  /* Config steps put their history entries in the document already. */
  return commit_now(st, "keel build", !st->w, err);
}

/* ---- cache ------------------------------------------------------------ */

static int
args_in_scope(struct stage *st, struct step *sp)
{
  /* Declaration order is part of the instruction sequence already; values
   * are what matter here. */
  for (size_t i = 0; i < st->n_args; i++)
    {
      int r = key_add(sp, st->args[i].name, st->args[i].value);
      if (r < 0)
        return r;
    }
  return 0;
}

/* 1 when a cached result was taken. */
static int
step_lookup(struct stage *st, struct step *sp, char key[KEEL_DIGEST_MAX], struct keel_error *err)
{
  struct bld *b = st->b;
  int r = key_add(sp, "parent", st->parent[0] ? st->parent : "scratch");
  if (r >= 0)
    r = key_add(sp, "platform", b->o->platform);
  /* Build args reach a RUN as its environment; elsewhere only through
   * the expanded arguments already in the key (Docker's rule). */
  if (r >= 0 && sp->in->cmd == KEEL_CF_RUN)
    r = args_in_scope(st, sp);
  if (r >= 0)
    r = keel_digest_final(sp->key, key);
  sp->key = NULL;
  if (r < 0)
    return keel_error_set(err, r, "cannot compute the cache key");
  if (!b->o->layers || b->o->no_cache)
    return 0;
  char id[KEEL_DIGEST_MAX];
  if (cache_lookup(b->store, key, id) <= 0)
    return 0;
  if ((r = set_parent(st, id, err)) < 0)
    return r;
  bld_say(b, "--> Using cache %s", strchr(id, ':') + 1);
  return 1;
}

static int
step_done(struct stage *st, struct step *sp, const char *key, struct keel_error *err)
{
  struct bld *b = st->b;
  if (!b->o->layers)
    {
      if (!sp->fs)
        {
          doc_history(st->doc, sp->history, true);
          st->pending++;
        }
      return 0;
    }
  int r = commit_now(st, sp->history, false, err);
  if (r < 0)
    return r;
  bld_say(b, "--> %.12s", strchr(st->parent, ':') + 1);
  return cache_record(b->store, key, st->parent, err);
}

/* ---- config instructions ---------------------------------------------- */

static int
do_env(struct stage *st, struct step *sp, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  for (size_t i = 0; i < in->n_kv; i++)
    {
      _cleanup_free_ char *k = NULL, *v = NULL;
      int r = xword(st, in, in->kv[i].key, &k, err);
      if (r >= 0)
        r = xword(st, in, in->kv[i].value, &v, err);
      if (r < 0)
        return r;
      if (in->cmd == KEEL_CF_ENV)
        doc_setenv(st->doc, k, v);
      else
        doc_set_label(st->doc, k, v);
      if ((r = key_add(sp, k, v)) < 0)
        return r;
    }
  return 0;
}

/* Shell form → Shell + [text]; JSON form as is. */
static char **
command_argv(struct stage *st, const struct keel_cf_instr *in, const char *text)
{
  if (in->json)
    return keel_strv_dup(in->argv);
  _cleanup_strv_ char **shell = doc_strv(st->doc, "Shell");
  struct keel_strv v = { 0 };
  if (!shell)
    return NULL;
  if (!shell[0])
    {
      if (!keel_strv_pushdup(&v, "/bin/sh") || !keel_strv_pushdup(&v, "-c"))
        goto oom;
    }
  for (size_t i = 0; shell[i]; i++)
    if (!keel_strv_pushdup(&v, shell[i]))
      goto oom;
  if (!keel_strv_pushdup(&v, text))
    goto oom;
  return keel_strv_steal(&v);
oom:
  keel_strv_clear(&v);
  return NULL;
}

static int
do_cmd(struct stage *st, struct step *sp, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  _cleanup_strv_ char **argv = command_argv(st, in, in->args);
  if (!argv)
    return keel_error_set(err, ENOMEM, "out of memory");
  for (char **a = argv; *a; a++)
    key_add(sp, "arg", *a);
  if (in->cmd == KEEL_CF_CMD)
    {
      doc_set_strv(st->doc, "Cmd", argv);
      st->cmd_set = true;
    }
  else if (in->cmd == KEEL_CF_ENTRYPOINT)
    {
      doc_set_strv(st->doc, "Entrypoint", argv);
      /* Docker: a CMD inherited from the base image is dropped. */
      if (!st->cmd_set)
        doc_set_strv(st->doc, "Cmd", NULL);
    }
  else
    doc_set_strv(st->doc, "Shell", argv);
  return 0;
}

static int
do_workdir(struct stage *st, struct step *sp, struct keel_error *err)
{
  _cleanup_free_ char *dir = NULL;
  int r = xword(st, sp->in, sp->in->args, &dir, err);
  if (r < 0)
    return r;
  const char *cur = doc_str(st->doc, "WorkingDir");
  _cleanup_free_ char *joined = NULL;
  if (dir[0] != '/' && asprintf(&joined, "%s/%s", cur && *cur ? cur : "", dir) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  char clean[4096];
  if (keel_path_clean(joined ? joined : dir, clean, sizeof(clean)) < 0)
    return bld_fail(st->b, sp->in, EINVAL, "WORKDIR %s: path too long", dir);
  doc_set_str(st->doc, "WorkingDir", clean);
  return key_add(sp, "workdir", clean);
}

static int
do_simple(struct stage *st, struct step *sp, const char *field, struct keel_error *err)
{
  _cleanup_free_ char *v = NULL;
  int r = xword(st, sp->in, sp->in->args, &v, err);
  if (r < 0)
    return r;
  if (!*v)
    return bld_fail(st->b, sp->in, EINVAL, "%s: empty after expansion",
                    keel_cf_cmd_name(sp->in->cmd));
  if (strcmp(field, "author") == 0)
    json_object_object_add(st->doc, "author", json_object_new_string(v));
  else
    doc_set_str(st->doc, field, v);
  return key_add(sp, field, v);
}

static int
port_spec(const char *p, char *out, size_t size)
{
  char *end;
  long lo = strtol(p, &end, 10), hi = lo;
  if (end == p || lo < 1 || lo > 65535)
    return -EINVAL;
  if (*end == '-')
    {
      const char *q = end + 1;
      hi = strtol(q, &end, 10);
      if (end == q || hi < lo || hi > 65535)
        return -EINVAL;
    }
  const char *proto = "tcp";
  if (*end == '/')
    proto = end + 1;
  else if (*end)
    return -EINVAL;
  if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))
    return -EINVAL;
  if (hi != lo)
    snprintf(out, size, "%ld-%ld/%s", lo, hi, proto);
  else
    snprintf(out, size, "%ld/%s", lo, proto);
  for (char *c = out; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  return 0;
}

static int
do_expose_volume(struct stage *st, struct step *sp, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  _cleanup_strv_ char **words = NULL;
  int r = in->json ? ((words = keel_strv_dup(in->argv)) ? 0 : -ENOMEM)
                   : xwords(st, in, in->args, &words, err);
  if (r < 0)
    return r == -ENOMEM ? keel_error_set(err, ENOMEM, "out of memory") : r;
  for (char **w = words; *w; w++)
    {
      char port[64];
      if (in->cmd == KEEL_CF_EXPOSE)
        {
          if (port_spec(*w, port, sizeof(port)) < 0)
            return bld_fail(st->b, in, EINVAL, "EXPOSE %s: not a port (like 80, 80/tcp, 53/udp)",
                            *w);
          doc_add_set_key(st->doc, "ExposedPorts", port);
        }
      else if (!**w)
        return bld_fail(st->b, in, EINVAL, "VOLUME: empty path");
      else
        doc_add_set_key(st->doc, "Volumes", *w);
      key_add(sp, "item", in->cmd == KEEL_CF_EXPOSE ? port : *w);
    }
  return 0;
}

static int
duration_flag(struct stage *st, const struct keel_cf_instr *in, const char *name, json_object *hc,
              const char *field)
{
  const char *v = keel_cf_flag_get(in, name);
  long long ns;
  if (v && keel_cf_duration_parse(v, &ns) == 0 && ns)
    json_object_object_add(hc, field, json_object_new_int64(ns));
  return 0;
}

static int
do_healthcheck(struct stage *st, struct step *sp, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  json_object *hc = json_object_new_object(), *test = json_object_new_array();
  json_object_object_add(hc, "Test", test);
  if (in->hc_none)
    json_object_array_add(test, json_object_new_string("NONE"));
  else if (in->json)
    {
      json_object_array_add(test, json_object_new_string("CMD"));
      for (char **a = in->argv; *a; a++)
        json_object_array_add(test, json_object_new_string(*a));
    }
  else
    {
      json_object_array_add(test, json_object_new_string("CMD-SHELL"));
      json_object_array_add(test, json_object_new_string(in->args));
    }
  duration_flag(st, in, "interval", hc, "Interval");
  duration_flag(st, in, "timeout", hc, "Timeout");
  duration_flag(st, in, "start-period", hc, "StartPeriod");
  duration_flag(st, in, "start-interval", hc, "StartInterval");
  const char *retries = keel_cf_flag_get(in, "retries");
  if (retries)
    json_object_object_add(hc, "Retries", json_object_new_int(atoi(retries)));
  json_object_object_add(doc_config(st->doc), "Healthcheck", hc);
  return key_add(sp, "healthcheck", json_object_to_json_string(hc));
}

static int
do_onbuild(struct stage *st, struct step *sp, struct keel_error *err)
{
  doc_append(st->doc, "OnBuild", sp->in->args);
  return key_add(sp, "onbuild", sp->in->args);
}

/* ---- RUN ---------------------------------------------------------------- */

struct run_ctx
{
  struct keel_working_mount mounts[16];
  struct keel_cf_mount specs[16];
  size_t n;
  struct keel_working *from_w[16]; /* working containers lent for bind from= */
  char *paths[16];
  char *script;  /* host file of a heredoc script, removed after */
  int locks[16]; /* flocks of sharing=locked|private caches, 0 when none */
};

static void
run_ctx_clear(struct run_ctx *rc)
{
  for (size_t i = 0; i < rc->n; i++)
    {
      keel_cf_mount_clear(&rc->specs[i]);
      free(rc->paths[i]);
      if (rc->locks[i] > 0)
        close(rc->locks[i]);
      if (rc->from_w[i])
        {
          struct keel_error ignored = KEEL_ERROR_INIT;
          if (keel_working_remove(rc->from_w[i], &ignored) < 0)
            keel_working_free(rc->from_w[i]);
        }
    }
  if (rc->script)
    unlink(rc->script);
  free(rc->script);
}

/* A stage name or an image reference → an image id. */
static int
resolve_from(struct stage *st, const struct keel_cf_instr *in, const char *ref,
             char id[KEEL_DIGEST_MAX], struct keel_error *err)
{
  struct bld *b = st->b;
  int idx = keel_stage_ref(b->cf, ref);
  if (idx >= 0)
    {
      const char *sid = b->stage_ids + (size_t)idx * KEEL_DIGEST_MAX;
      if (!*sid)
        return bld_fail(b, in, EINVAL, "stage '%s' is not built before it is used", ref);
      snprintf(id, KEEL_DIGEST_MAX, "%s", sid);
      return 0;
    }
  if (idx == -ERANGE)
    return bld_fail(b, in, EINVAL, "undefined stage %s", ref);
  if (!b->o->resolve)
    return bld_fail(b, in, ENOENT, "'%s' is neither a stage nor a known image", ref);
  int r = b->o->resolve(b->o->resolve_userdata, ref, b->o->platform, id, err);
  if (r < 0)
    return keel_error_prefix(err, "%s:%u: '%s' is not a stage, and as an image", b->cf->path,
                             in->line, ref);
  return 0;
}

static int
bind_source(struct stage *st, struct step *sp, struct run_ctx *rc, size_t i, struct keel_error *err)
{
  struct keel_cf_mount *m = &rc->specs[i];
  const char *src = m->source ? m->source : ".";
  if (m->from)
    {
      char id[KEEL_DIGEST_MAX];
      int r = resolve_from(st, sp->in, m->from, id, err);
      if (r < 0)
        return r;
      key_add(sp, "bind-from", id);
      struct keel_working_create_opts co = KEEL_WORKING_CREATE_OPTS_INIT;
      co.image = id;
      const char *root;
      if ((r = keel_working_create(st->b->store, &co, &rc->from_w[i], err)) < 0
          || (r = keel_working_mount(rc->from_w[i], &root, err)) < 0)
        return keel_error_prefix(err, "%s:%u: RUN --mount from=%s", st->b->cf->path, sp->in->line,
                                 m->from);
      return asprintf(&rc->paths[i], "%s/%s", root, src) < 0
                 ? keel_error_set(err, ENOMEM, "out of memory")
                 : 0;
    }
  _cleanup_strv_ char **list = NULL;
  int r = keel_context_sources(st->b->ctxfd, NULL, src, &list, err);
  if (r >= 0)
    r = keel_context_digest(st->b->ctxfd, st->b->ignore, list[0], sp->key, err);
  if (r < 0)
    return keel_error_prefix(err, "%s:%u: RUN --mount", st->b->cf->path, sp->in->line);
  return asprintf(&rc->paths[i], "%s/%s", st->b->ctx_abs, list[0]) < 0
             ? keel_error_set(err, ENOMEM, "out of memory")
             : 0;
}

/* sharing=locked (and private, served the same way): one RUN at a time
 * uses the cache; others wait. */
static int
cache_lock(struct stage *st, const char *id, int *ret, struct keel_error *err)
{
  char dig[KEEL_DIGEST_MAX], path[4096];
  if (keel_digest_buffer(id, strlen(id), dig) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  snprintf(path, sizeof(path), "%s/build-steps", keel_store_root(st->b->store));
  mkdir(path, 0700);
  snprintf(path, sizeof(path), "%s/build-steps/cache-%s.lock", keel_store_root(st->b->store),
           strchr(dig, ':') + 1);
  int fd = keel_lock_open(path);
  if (fd < 0)
    return keel_error_set_errno(err, fd, "cannot lock the cache '%s' (%s)", id, path);
  *ret = fd;
  return 0;
}

static int
run_mounts(struct stage *st, struct step *sp, struct run_ctx *rc, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  for (size_t f = 0; f < in->n_flags; f++)
    {
      if (strcmp(in->flags[f].name, "mount") != 0)
        continue;
      if (rc->n == 16)
        return bld_fail(st->b, in, E2BIG, "RUN: at most 16 --mount options");
      _cleanup_free_ char *spec = NULL;
      int r = xword(st, in, in->flags[f].value, &spec, err);
      if (r < 0)
        return r;
      size_t i = rc->n++;
      if ((r = keel_cf_mount_parse(spec, &rc->specs[i], err)) < 0)
        return keel_error_prefix(err, "%s:%u: RUN --mount=%s", st->b->cf->path, in->line, spec);
      key_add(sp, "mount", spec);
      struct keel_cf_mount *m = &rc->specs[i];
      struct keel_working_mount *wm = &rc->mounts[i];
      wm->target = m->target;
      wm->readonly = m->readonly;
      if (m->target[0] != '/')
        return bld_fail(st->b, in, EINVAL, "RUN --mount target=%s: must be an absolute path",
                        m->target);
      if (m->type == KEEL_CF_MOUNT_TMPFS)
        wm->type = KEEL_WORKING_MOUNT_TMPFS;
      else if (m->type == KEEL_CF_MOUNT_CACHE)
        {
          wm->type = KEEL_WORKING_MOUNT_CACHE;
          wm->source = m->id ? m->id : m->target;
          wm->mode = m->mode >= 0 ? (mode_t)m->mode : 0755;
          wm->uid = m->uid >= 0 ? (uid_t)m->uid : 0;
          wm->gid = m->gid >= 0 ? (gid_t)m->gid : 0;
          if (m->sharing != KEEL_CF_SHARING_SHARED
              && (r = cache_lock(st, wm->source, &rc->locks[i], err)) < 0)
            return r;
        }
      else
        {
          wm->type = KEEL_WORKING_MOUNT_BIND;
          if ((r = bind_source(st, sp, rc, i, err)) < 0)
            return r;
          wm->source = rc->paths[i];
        }
    }
  return 0;
}

/* A lone "<<EOF" is the script itself; otherwise the shell reads the
 * heredocs as written.  A script with a #! line runs as a file. */
static int
run_script(struct stage *st, const struct keel_cf_instr *in, struct run_ctx *rc, char ***argv,
           struct keel_error *err)
{
  const char *a = in->args + strspn(in->args, " \t");
  bool lone = in->n_heredocs == 1 && a[0] == '<' && !strpbrk(a, " \t");
  if (lone && strncmp(in->heredocs[0].body, "#!", 2) == 0 && rc->n < 16)
    {
      if (asprintf(&rc->script, "%s/run-%u", st->b->tmpdir, st->b->step) < 0)
        return keel_error_set(err, ENOMEM, "out of memory");
      const char *body = in->heredocs[0].body;
      int r = keel_write_file_replace(AT_FDCWD, rc->script, body, strlen(body), 0755);
      if (r < 0)
        return keel_error_set_errno(err, r, "cannot write the heredoc script");
      struct keel_working_mount *wm = &rc->mounts[rc->n];
      memset(&rc->specs[rc->n], 0, sizeof(rc->specs[0]));
      rc->paths[rc->n] = NULL;
      rc->from_w[rc->n++] = NULL;
      *wm = (struct keel_working_mount){ .type = KEEL_WORKING_MOUNT_BIND,
                                         .source = rc->script,
                                         .target = "/dev/.keel-heredoc-script",
                                         .readonly = true };
      struct keel_strv v = { 0 };
      keel_strv_pushdup(&v, wm->target);
      *argv = keel_strv_steal(&v);
      return *argv ? 0 : keel_error_set(err, ENOMEM, "out of memory");
    }
  struct keel_buf s = { 0 };
  if (lone)
    keel_buf_adds(&s, in->heredocs[0].body);
  else
    {
      keel_buf_adds(&s, in->args);
      keel_buf_addc(&s, '\n');
      for (size_t i = 0; i < in->n_heredocs; i++)
        keel_buf_printf(&s, "%s%s\n", in->heredocs[i].body, in->heredocs[i].delim);
    }
  _cleanup_free_ char *text = keel_buf_steal(&s);
  *argv = text ? command_argv(st, in, text) : NULL;
  return *argv ? 0 : keel_error_set(err, ENOMEM, "out of memory");
}

/* Build args in scope go to RUN's environment unless ENV set the name. */
static char **
run_env(struct stage *st)
{
  struct keel_strv v = { 0 };
  for (size_t i = 0; i < st->n_args; i++)
    {
      const struct var *a = &st->args[i];
      if (!a->value || doc_getenv(st->doc, a->name))
        continue;
      char *kv = NULL;
      if (asprintf(&kv, "%s=%s", a->name, a->value) < 0 || !keel_strv_push(&v, kv))
        {
          keel_strv_clear(&v);
          return NULL;
        }
    }
  return keel_strv_steal(&v);
}

static enum keel_working_network
run_network(struct stage *st, const struct keel_cf_instr *in)
{
  const char *n = keel_cf_flag_get(in, "network");
  if (n && strcmp(n, "none") == 0)
    return KEEL_WORKING_NET_NONE;
  if (n && strcmp(n, "host") == 0)
    return KEEL_WORKING_NET_HOST;
  return st->b->o->network;
}

static void
shorten(const char *s, char *out, size_t size)
{
  size_t n = strcspn(s, "\n");
  if (n > size - 4)
    n = size - 4;
  memcpy(out, s, n);
  strcpy(out + n, n < strcspn(s, "\n") || s[strcspn(s, "\n")] ? "..." : "");
}

static int
run_exec(struct stage *st, struct step *sp, struct run_ctx *rc, char **argv, struct keel_error *err)
{
  int r = stage_working(st, err);
  if (r < 0)
    return r;
  _cleanup_strv_ char **env = run_env(st);
  if (!env)
    return keel_error_set(err, ENOMEM, "out of memory");
  struct keel_working_run_opts ro = KEEL_WORKING_RUN_OPTS_INIT;
  ro.argv = argv;
  ro.env = env;
  const char *wd = doc_str(st->doc, "WorkingDir"), *user = doc_str(st->doc, "User");
  ro.workdir = wd && *wd ? wd : "/";
  ro.user = user && *user ? user : NULL;
  ro.network = run_network(st, sp->in);
  ro.mounts = rc->mounts;
  ro.n_mounts = rc->n;
  ro.runtime_root = st->b->o->runtime_root;
  if (st->b->o->out)
    fflush(st->b->o->out);
  int status = 0;
  r = keel_working_run(st->w, &ro, &status, err);
  if (r < 0)
    return keel_error_prefix(err, "%s:%u: RUN", st->b->cf->path, sp->in->line);
  st->w_dirty = true;
  if (status != 0)
    {
      char cmd[80];
      shorten(sp->in->args, cmd, sizeof(cmd));
      return bld_fail(st->b, sp->in, EIO, "RUN %s exited %d", cmd, status);
    }
  return 0;
}

static int
do_run(struct stage *st, struct step *sp, struct keel_error *err, bool *hit,
       char key[KEEL_DIGEST_MAX])
{
  const struct keel_cf_instr *in = sp->in;
  struct run_ctx rc = { 0 };
  _cleanup_strv_ char **argv = NULL;
  int r = run_mounts(st, sp, &rc, err);
  if (r >= 0)
    r = in->n_heredocs ? run_script(st, in, &rc, &argv, err)
                       : ((argv = command_argv(st, in, in->args)) ? 0 : -ENOMEM);
  if (r == -ENOMEM)
    r = keel_error_set(err, ENOMEM, "out of memory");
  for (size_t i = 0; r >= 0 && i < in->n_heredocs; i++)
    key_add(sp, "heredoc", in->heredocs[i].body);
  for (size_t i = 0; r >= 0 && argv[i]; i++)
    key_add(sp, "argv", argv[i]);
  if (r >= 0)
    key_add(sp, "network", keel_cf_flag_get(in, "network"));
  if (r >= 0)
    r = step_lookup(st, sp, key, err);
  if (r >= 0)
    *hit = r == 1;
  if (r == 0)
    r = run_exec(st, sp, &rc, argv, err);
  run_ctx_clear(&rc);
  return r < 0 ? r : 0;
}

/* ---- COPY and ADD -------------------------------------------------------- */

struct skip_ctx
{
  const struct keel_ignore *ig;
  const char *prefix; /* the source's context path ("." for the root) */
};

static bool
skip_ignored(const char *path, bool is_dir, void *userdata)
{
  struct skip_ctx *s = userdata;
  char full[4096];
  if (strcmp(s->prefix, ".") == 0)
    snprintf(full, sizeof(full), "%s", path);
  else
    snprintf(full, sizeof(full), "%s/%s", s->prefix, path);
  if (!keel_ignore_excluded(s->ig, full))
    return false;
  /* an exception may still want something below an excluded directory */
  return !(is_dir && keel_ignore_has_exceptions(s->ig));
}

struct copy_plan
{
  char **words; /* expanded sources..., dest */
  size_t n_src;
  char *dest;         /* absolute */
  char **ctx_sources; /* cleaned context paths */
  char from_id[KEEL_DIGEST_MAX];
  const char *chown;
  bool set_mode;
  mode_t mode;
};

static void
copy_plan_clear(struct copy_plan *p)
{
  keel_strv_free(p->words);
  keel_strv_free(p->ctx_sources);
  free(p->dest);
}

static bool
is_remote(const char *s)
{
  return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0
         || strncmp(s, "git@", 4) == 0 || strstr(s, "://") != NULL;
}

static bool
is_heredoc_word(const struct keel_cf_instr *in, const char *w)
{
  return in->n_heredocs && strncmp(w + strspn(w, "0123456789"), "<<", 2) == 0;
}

static int
copy_dest(struct stage *st, struct copy_plan *p, const char *d, struct keel_error *err)
{
  const char *wd = doc_str(st->doc, "WorkingDir");
  bool slash = d[strlen(d) - 1] == '/' || strcmp(d, ".") == 0;
  char buf[4096], clean[4096];
  snprintf(buf, sizeof(buf), "%s%s%s", d[0] == '/' ? "" : (wd && *wd ? wd : "/"),
           d[0] == '/' ? "" : "/", d);
  if (keel_path_clean(buf, clean, sizeof(clean)) < 0)
    return keel_error_set(err, ENAMETOOLONG, "destination too long");
  if (asprintf(&p->dest, "%s%s", clean, slash && strcmp(clean, "/") ? "/" : "") < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  return 0;
}

static int
copy_flags(struct stage *st, struct step *sp, struct copy_plan *p, char **own,
           struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  const char *v;
  int r = 0;
  if ((v = keel_cf_flag_get(in, "chown")) && (r = xword(st, in, v, own, err)) >= 0)
    p->chown = *own;
  if (r >= 0 && (v = keel_cf_flag_get(in, "chmod")))
    {
      _cleanup_free_ char *m = NULL;
      if ((r = xword(st, in, v, &m, err)) < 0)
        return r;
      char *end;
      long mode = strtol(m, &end, 8);
      if (!*m || *end || mode < 0 || mode > 07777)
        return bld_fail(st->b, in, EINVAL, "%s --chmod=%s: not an octal mode",
                        keel_cf_cmd_name(in->cmd), m);
      p->set_mode = true;
      p->mode = (mode_t)mode;
    }
  if (r >= 0 && keel_cf_flag_get(in, "checksum"))
    return bld_fail(st->b, in, EINVAL,
                    "ADD --checksum applies to remote sources, which keel "
                    "build does not fetch");
  key_add(sp, "chown", p->chown);
  key_add(sp, "chmod", keel_cf_flag_get(in, "chmod"));
  return r;
}

/* Expand words, check sources, and hash everything the copy will read. */
static int
copy_prepare(struct stage *st, struct step *sp, struct copy_plan *p, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  struct bld *b = st->b;
  const char *name = keel_cf_cmd_name(in->cmd);
  int r = 0;
  if (in->json)
    {
      struct keel_strv v = { 0 };
      for (char **a = in->argv; r >= 0 && *a; a++)
        {
          char *w = NULL;
          if ((r = xword(st, in, *a, &w, err)) >= 0 && !keel_strv_push(&v, w))
            r = keel_error_set(err, ENOMEM, "out of memory");
        }
      p->words = keel_strv_steal(&v);
    }
  else
    r = xwords(st, in, in->args, &p->words, err);
  if (r < 0)
    return r;
  p->n_src = keel_strv_len(p->words);
  if (p->n_src < 2)
    return bld_fail(b, in, EINVAL, "%s requires at least two arguments after expansion", name);
  p->n_src--;
  const char *d = p->words[p->n_src];
  if (p->n_src > 1 && d[strlen(d) - 1] != '/')
    return bld_fail(b, in, EINVAL,
                    "%s with more than one source needs a destination ending "
                    "in '/' (%s)",
                    name, d);
  if ((r = copy_dest(st, p, d, err)) < 0)
    return keel_error_prefix(err, "%s:%u: %s", b->cf->path, in->line, name);
  key_add(sp, "dest", p->dest);
  _cleanup_free_ char *from = NULL;
  const char *fv = keel_cf_flag_get(in, "from");
  if (fv
      && ((r = xword(st, in, fv, &from, err)) < 0
          || (r = resolve_from(st, in, from, p->from_id, err)) < 0))
    return r;
  key_add(sp, "from", fv ? p->from_id : NULL);
  size_t hd = 0;
  for (size_t i = 0; i < p->n_src; i++)
    {
      const char *s = p->words[i];
      key_add(sp, "src", s);
      if (is_heredoc_word(in, s) && hd < in->n_heredocs)
        {
          key_add(sp, "heredoc", in->heredocs[hd++].body);
          continue;
        }
      if (is_remote(s))
        return bld_fail(b, in, EPROTONOSUPPORT,
                        "%s %s: remote sources are not supported (keel build fetches nothing "
                        "from the network; put the file in the build context)",
                        name, s);
      if (fv)
        continue;
      size_t before = keel_strv_len(p->ctx_sources);
      if ((r = keel_context_sources(b->ctxfd, b->ignore, s, &p->ctx_sources, err)) < 0)
        return keel_error_prefix(err, "%s:%u: %s", b->cf->path, in->line, name);
      for (size_t j = before; p->ctx_sources[j]; j++)
        if ((r = keel_context_digest(b->ctxfd, b->ignore, p->ctx_sources[j], sp->key, err)) < 0)
          return keel_error_prefix(err, "%s:%u: %s", b->cf->path, in->line, name);
    }
  return 0;
}

static int
copy_one(struct stage *st, struct keel_working_copy_opts *co, const char *src,
         struct keel_error *err)
{
  char *const srcs[] = { (char *)src, NULL };
  co->sources = srcs;
  return keel_working_copy(st->w, co, err);
}

/* COPY --from=X with a wildcard: the pattern is matched inside X's rootfs. */
static int
copy_from_glob(struct stage *st, struct keel_working_copy_opts *co, const char *pattern,
               struct keel_error *err)
{
  struct keel_working_create_opts wo = KEEL_WORKING_CREATE_OPTS_INIT;
  wo.image = co->from_image;
  struct keel_working *fw = NULL;
  const char *root;
  _cleanup_strv_ char **list = NULL;
  _cleanup_close_ int rootfd = -EBADF;
  int r = keel_working_create(st->b->store, &wo, &fw, err);
  if (r >= 0)
    r = keel_working_mount(fw, &root, err);
  if (r >= 0 && (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    r = keel_error_set_errno(err, errno, "cannot open '%s'", root);
  if (r >= 0)
    r = keel_context_glob(rootfd, pattern, &list, err);
  for (size_t i = 0; r >= 0 && list[i]; i++)
    {
      _cleanup_free_ char *abs = NULL;
      r = asprintf(&abs, "/%s", list[i]) < 0 ? keel_error_set(err, ENOMEM, "out of memory")
                                             : copy_one(st, co, abs, err);
    }
  if (fw)
    {
      struct keel_error ignored = KEEL_ERROR_INIT;
      if (keel_working_remove(fw, &ignored) < 0)
        keel_working_free(fw);
    }
  return r;
}

/* A heredoc source: its body (expanded unless the delimiter was quoted)
 * as a file named after the delimiter. */
static int
copy_heredoc(struct stage *st, const struct keel_cf_instr *in, const struct keel_cf_heredoc *h,
             struct keel_working_copy_opts *co, struct keel_error *err)
{
  _cleanup_free_ char *body = NULL;
  if (h->expand)
    {
      struct keel_expand x = stage_expander(st);
      if (keel_expand_raw(&x, h->body, &body, err) < 0)
        return keel_error_prefix(err, "%s:%u", st->b->cf->path, in->line);
    }
  const char *text = body ? body : h->body;
  int r = keel_write_file_replace(st->b->tmpdir_fd, h->delim, text, strlen(text), 0644);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write heredoc '%s'", h->delim);
  struct keel_working_copy_opts c2 = *co;
  c2.src_dirfd = st->b->tmpdir_fd;
  c2.from_image = NULL;
  c2.skip = NULL;
  c2.extract_archives = false;
  r = copy_one(st, &c2, h->delim, err);
  unlinkat(st->b->tmpdir_fd, h->delim, 0);
  return r;
}

static int
copy_exec(struct stage *st, struct step *sp, struct copy_plan *p, struct keel_error *err)
{
  const struct keel_cf_instr *in = sp->in;
  int r = stage_working(st, err);
  if (r < 0)
    return r;
  struct keel_working_copy_opts co = KEEL_WORKING_COPY_OPTS_INIT;
  co.dest = p->dest;
  co.chown = p->chown;
  co.set_mode = p->set_mode;
  co.mode = p->mode;
  co.extract_archives = in->cmd == KEEL_CF_ADD;
  st->w_dirty = true;
  size_t hd = 0, cs = 0;
  for (size_t i = 0; r >= 0 && i < p->n_src; i++)
    {
      const char *s = p->words[i];
      if (is_heredoc_word(in, s) && hd < in->n_heredocs)
        r = copy_heredoc(st, in, &in->heredocs[hd++], &co, err);
      else if (p->from_id[0])
        {
          co.from_image = p->from_id;
          r = keel_context_has_wildcard(s) ? copy_from_glob(st, &co, s, err)
                                           : copy_one(st, &co, s, err);
        }
      else
        for (; r >= 0 && p->ctx_sources && p->ctx_sources[cs]; cs++)
          {
            struct skip_ctx sk = { st->b->ignore, p->ctx_sources[cs] };
            co.src_dirfd = st->b->ctxfd;
            co.skip = skip_ignored;
            co.skip_userdata = &sk;
            r = copy_one(st, &co, p->ctx_sources[cs], err);
          }
    }
  if (r < 0)
    return keel_error_prefix(err, "%s:%u: %s", st->b->cf->path, in->line,
                             keel_cf_cmd_name(in->cmd));
  return 0;
}

static int
do_copy(struct stage *st, struct step *sp, struct keel_error *err, bool *hit,
        char key[KEEL_DIGEST_MAX])
{
  struct copy_plan p = { 0 };
  _cleanup_free_ char *own = NULL;
  int r = copy_flags(st, sp, &p, &own, err);
  if (r >= 0)
    r = copy_prepare(st, sp, &p, err);
  if (r >= 0)
    r = step_lookup(st, sp, key, err);
  if (r >= 0)
    *hit = r == 1;
  if (r == 0)
    r = copy_exec(st, sp, &p, err);
  copy_plan_clear(&p);
  return r < 0 ? r : 0;
}

/* ---- ARG -------------------------------------------------------------- */

static void
scope_set(struct stage *st, const char *name, char *value)
{
  for (size_t i = 0; i < st->n_args; i++)
    if (strcmp(st->args[i].name, name) == 0)
      {
        free(st->args[i].value);
        st->args[i].value = value;
        return;
      }
  struct var *v = realloc(st->args, (st->n_args + 1) * sizeof(*v));
  char *n = strdup(name);
  if (!v || !n)
    {
      free(n);
      free(value);
      if (v)
        st->args = v;
      return;
    }
  st->args = v;
  v[st->n_args].name = n;
  v[st->n_args++].value = value;
}

/* --build-arg value for name (marking it used), or NULL. */
const char *
bld_build_arg(struct bld *b, const char *name)
{
  size_t nl = strlen(name);
  const char *found = NULL;
  for (size_t i = 0; i < b->n_args; i++)
    {
      const char *a = b->o->build_args[i];
      if (strncmp(a, name, nl) == 0 && (a[nl] == '=' || a[nl] == '\0'))
        {
          b->arg_used[i] = true;
          found = a[nl] == '=' ? a + nl + 1 : getenv(name);
        }
    }
  return found;
}

const char *
bld_meta(struct bld *b, const char *name)
{
  size_t nl = strlen(name);
  for (size_t i = b->meta.n; i-- > 0;)
    if (strncmp(b->meta.v[i], name, nl) == 0 && b->meta.v[i][nl] == '=')
      return b->meta.v[i] + nl + 1;
  return NULL;
}

static int
do_arg(struct stage *st, const struct keel_cf_instr *in, struct keel_error *err)
{
  for (size_t i = 0; i < in->n_kv; i++)
    {
      const char *name = in->kv[i].key, *given = bld_build_arg(st->b, name);
      char *value = NULL;
      if (given)
        value = strdup(given);
      else if (in->kv[i].value)
        {
          int r = xword(st, in, in->kv[i].value, &value, err);
          if (r < 0)
            return r;
        }
      else if (bld_meta(st->b, name))
        value = strdup(bld_meta(st->b, name));
      scope_set(st, name, value);
    }
  return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static int
config_step(struct stage *st, struct step *sp, struct keel_error *err)
{
  switch (sp->in->cmd)
    {
    case KEEL_CF_ENV:
    case KEEL_CF_LABEL:
      return do_env(st, sp, err);
    case KEEL_CF_CMD:
    case KEEL_CF_ENTRYPOINT:
    case KEEL_CF_SHELL:
      return do_cmd(st, sp, err);
    case KEEL_CF_WORKDIR:
      return do_workdir(st, sp, err);
    case KEEL_CF_USER:
      return do_simple(st, sp, "User", err);
    case KEEL_CF_STOPSIGNAL:
      return do_simple(st, sp, "StopSignal", err);
    case KEEL_CF_MAINTAINER:
      return do_simple(st, sp, "author", err);
    case KEEL_CF_EXPOSE:
    case KEEL_CF_VOLUME:
      return do_expose_volume(st, sp, err);
    case KEEL_CF_HEALTHCHECK:
      return do_healthcheck(st, sp, err);
    case KEEL_CF_ONBUILD:
      return do_onbuild(st, sp, err);
    default:
      return bld_fail(st->b, sp->in, EINVAL, "%s cannot appear here",
                      keel_cf_cmd_name(sp->in->cmd));
    }
}

static char *
history_text(const struct keel_cf_instr *in)
{
  char *s = NULL;
  if (in->cmd == KEEL_CF_RUN)
    return asprintf(&s, "/bin/sh -c %s", in->args) < 0 ? NULL : s;
  return asprintf(&s, "/bin/sh -c #(nop) %s", in->text) < 0 ? NULL : s;
}

int
step_run(struct stage *st, const struct keel_cf_instr *in, struct keel_error *err)
{
  struct bld *b = st->b;
  b->step++;
  bld_say(b, "STEP %u/%u: %s", b->step, b->steps, in->text);
  if (in->cmd == KEEL_CF_ARG)
    return do_arg(st, in, err);
  _cleanup_free_ char *hist = history_text(in);
  struct step sp = { .in = in, .history = hist };
  if (!hist || keel_digest_new(&sp.key) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  key_add(&sp, "cmd", keel_cf_cmd_name(in->cmd));
  char key[KEEL_DIGEST_MAX];
  bool hit = false;
  int r;
  if (in->cmd == KEEL_CF_RUN || in->cmd == KEEL_CF_COPY || in->cmd == KEEL_CF_ADD)
    {
      sp.fs = true;
      r = in->cmd == KEEL_CF_RUN ? do_run(st, &sp, err, &hit, key)
                                 : do_copy(st, &sp, err, &hit, key);
    }
  else if ((r = config_step(st, &sp, err)) >= 0 && (r = step_lookup(st, &sp, key, err)) >= 0)
    hit = r == 1;
  keel_digest_free(sp.key);
  if (r < 0 || hit)
    return r < 0 ? r : 0;
  return step_done(st, &sp, key, err);
}

/* --label K=V on the final image, one more config step. */
int
step_labels(struct stage *st, char *const *labels, struct keel_error *err)
{
  struct step sp = { .history = "/bin/sh -c #(nop) LABEL (keel build --label)" };
  struct keel_cf_instr fake = { .cmd = KEEL_CF_LABEL, .text = (char *)"LABEL" };
  sp.in = &fake;
  if (keel_digest_new(&sp.key) < 0)
    return keel_error_set(err, ENOMEM, "out of memory");
  key_add(&sp, "cmd", "--label");
  for (size_t i = 0; labels[i]; i++)
    {
      _cleanup_free_ char *k = strdup(labels[i]);
      char *eq = k ? strchr(k, '=') : NULL;
      if (!k)
        return keel_error_set(err, ENOMEM, "out of memory");
      if (eq)
        *eq = '\0';
      doc_set_label(st->doc, k, eq ? eq + 1 : "");
      key_add(&sp, k, eq ? eq + 1 : "");
    }
  char key[KEEL_DIGEST_MAX];
  int r = step_lookup(st, &sp, key, err);
  keel_digest_free(sp.key);
  if (r != 0)
    return r < 0 ? r : 0;
  return step_done(st, &sp, key, err);
}

void
bld_say(struct bld *b, const char *fmt, ...)
{
  if (!b->o->out)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(b->o->out, fmt, ap);
  va_end(ap);
  fputc('\n', b->o->out);
  fflush(b->o->out);
}

int
bld_fail(struct bld *b, const struct keel_cf_instr *in, int code, const char *fmt, ...)
{
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return keel_error_set(b->err, code, "%s:%u: %s", b->cf->path, in ? in->line : 1, msg);
}
