#include "build/stages.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cleanup.h"

int
keel_stage_ref(const struct keel_containerfile *cf, const char *ref)
{
  for (size_t i = 0; i < cf->n_stages; i++)
    if (cf->stages[i].name && strcasecmp(cf->stages[i].name, ref) == 0)
      return (int)i;
  if (!*ref || strspn(ref, "0123456789") != strlen(ref))
    return -ENOENT;
  if (strlen(ref) > 6 || (size_t)atoi(ref) >= cf->n_stages)
    return -ERANGE;
  return atoi(ref);
}

static int
resolve(const struct keel_containerfile *cf, const struct keel_expand *x, const char *raw,
        unsigned line, int *ret, struct keel_error *err)
{
  _cleanup_free_ char *ref = NULL;
  int r = keel_expand_word(x, raw, &ref, err);
  if (r < 0)
    return keel_error_prefix(err, "%s:%u", cf->path, line);
  r = keel_stage_ref(cf, ref);
  if (r == -ERANGE)
    return keel_error_set(err, EINVAL, "%s:%u: undefined stage %s (there are %zu stages)", cf->path,
                          line, ref, cf->n_stages);
  *ret = r;
  return 0;
}

/* Stage references made by one instruction. */
static int
instr_deps(const struct keel_containerfile *cf, const struct keel_cf_instr *in,
           const struct keel_expand *x, int (*fn)(size_t, unsigned, void *), void *ud,
           struct keel_error *err)
{
  for (size_t i = 0; i < in->n_flags; i++)
    {
      const char *raw = NULL;
      struct keel_cf_mount m = { 0 };
      if (in->cmd == KEEL_CF_COPY && strcmp(in->flags[i].name, "from") == 0)
        raw = in->flags[i].value;
      else if (in->cmd == KEEL_CF_RUN && strcmp(in->flags[i].name, "mount") == 0
               && keel_cf_mount_parse(in->flags[i].value, &m, NULL) == 0)
        raw = m.from;
      int dep = -ENOENT, r = raw ? resolve(cf, x, raw, in->line, &dep, err) : 0;
      if (r >= 0 && dep >= 0)
        r = fn((size_t)dep, in->line, ud);
      keel_cf_mount_clear(&m);
      if (r < 0)
        return r;
    }
  return 0;
}

int
keel_stage_deps(const struct keel_containerfile *cf, size_t stage, const struct keel_expand *x,
                int (*fn)(size_t dep, unsigned line, void *ud), void *ud, struct keel_error *err)
{
  const struct keel_cf_stage *st = &cf->stages[stage];
  int dep;
  int r = resolve(cf, x, st->base, st->line, &dep, err);
  if (r < 0)
    return r;
  if (dep >= 0 && (r = fn((size_t)dep, st->line, ud)) < 0)
    return r;
  for (size_t i = 1; i < st->n_instrs; i++)
    if ((r = instr_deps(cf, &st->instrs[i], x, fn, ud, err)) < 0)
      return r;
  return 0;
}

enum
{
  WHITE,
  GREY,
  BLACK
};

struct walk
{
  const struct keel_containerfile *cf;
  const struct keel_expand *x;
  char *color;
  size_t *order, n;
  size_t *path, depth; /* the grey stages, for the cycle message */
  struct keel_error *err;
};

static int visit(struct walk *w, size_t stage);

static const char *
stage_label(const struct keel_containerfile *cf, size_t i, char buf[32])
{
  if (cf->stages[i].name)
    return cf->stages[i].name;
  snprintf(buf, 32, "%zu", i);
  return buf;
}

static int
cycle_error(struct walk *w, size_t dep, unsigned line)
{
  char msg[512] = "", b[32];
  size_t start = 0;
  while (w->path[start] != dep)
    start++;
  for (size_t i = start; i < w->depth; i++)
    {
      strncat(msg, stage_label(w->cf, w->path[i], b), sizeof(msg) - strlen(msg) - 1);
      strncat(msg, " -> ", sizeof(msg) - strlen(msg) - 1);
    }
  strncat(msg, stage_label(w->cf, dep, b), sizeof(msg) - strlen(msg) - 1);
  return keel_error_set(w->err, ELOOP, "%s:%u: cycle between stages: %s", w->cf->path, line, msg);
}

static int
on_dep(size_t dep, unsigned line, void *ud)
{
  struct walk *w = ud;
  if (w->color[dep] == GREY)
    return cycle_error(w, dep, line);
  return w->color[dep] == WHITE ? visit(w, dep) : 0;
}

static int
visit(struct walk *w, size_t stage)
{
  w->color[stage] = GREY;
  w->path[w->depth++] = stage;
  int r = keel_stage_deps(w->cf, stage, w->x, on_dep, w, w->err);
  if (r < 0)
    return r;
  w->depth--;
  w->color[stage] = BLACK;
  w->order[w->n++] = stage;
  return 0;
}

int
keel_stage_plan(const struct keel_containerfile *cf, const char *target,
                const struct keel_expand *x, size_t **ret, size_t *ret_n, struct keel_error *err)
{
  size_t t = cf->n_stages - 1;
  if (target)
    {
      int r = keel_stage_ref(cf, target);
      if (r < 0 || !cf->stages[r].name || strcasecmp(cf->stages[r].name, target) != 0)
        return keel_error_set(err, ENOENT, "%s: target stage '%s' could not be found", cf->path,
                              target);
      t = (size_t)r;
    }
  _cleanup_free_ char *color = calloc(cf->n_stages, 1);
  _cleanup_free_ size_t *path = calloc(cf->n_stages + 1, sizeof(size_t));
  size_t *order = calloc(cf->n_stages, sizeof(size_t));
  if (!color || !path || !order)
    {
      free(order);
      return keel_error_set(err, ENOMEM, "out of memory");
    }
  struct walk w = { cf, x, color, order, 0, path, 0, err };
  int r = visit(&w, t);
  if (r < 0)
    {
      free(order);
      return r;
    }
  *ret = order;
  *ret_n = w.n;
  return 0;
}
