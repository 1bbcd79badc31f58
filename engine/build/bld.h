/* Internal to the builder (build.c, step.c, doc.c, cache.c). */
#ifndef KEEL_BUILD_BLD_H
#define KEEL_BUILD_BLD_H

#include <json-c/json.h>

#include "build/buf.h"
#include "build/builder.h"
#include "build/containerfile.h"
#include "build/expand.h"
#include "build/ignore.h"

struct bld
{
  struct keel_store *store;
  const struct keel_build_opts *o;
  struct keel_containerfile *cf;
  int ctxfd;
  char *ctx_abs; /* the context's absolute path (bind mounts) */
  struct keel_ignore *ignore;
  char *stage_ids;       /* n_stages * KEEL_DIGEST_MAX: a built stage's image id, "" if not */
  struct keel_strv meta; /* global ARGs "K=V" (value known) */
  bool *arg_used;        /* per opts->build_args entry */
  size_t n_args;
  unsigned step, steps; /* for "STEP n/N" */
  int tmpdir_fd;        /* scratch for heredoc files */
  char tmpdir[256];
  struct keel_error *err;
};

/* One variable in scope: value NULL means declared without a value. */
struct var
{
  char *name, *value;
};

struct stage
{
  struct bld *b;
  size_t index;
  char parent[KEEL_DIGEST_MAX]; /* current image id; "" for scratch */
  json_object *doc;             /* the image config document being built */
  struct var *args;
  size_t n_args;
  struct keel_working *w; /* open working container, or NULL */
  bool w_dirty;           /* w has changes not yet committed */
  bool cmd_set;           /* CMD given in this stage (ENTRYPOINT keeps it) */
  unsigned pending;       /* config steps not yet committed (layers off) */
};

/* doc.c: the OCI image config document. */
json_object *doc_config(json_object *doc);
const char *doc_getenv(json_object *doc, const char *key);
void doc_setenv(json_object *doc, const char *key, const char *value);
char **doc_env(json_object *doc);
const char *doc_str(json_object *doc, const char *key);
void doc_set_str(json_object *doc, const char *key, const char *value);
void doc_set_strv(json_object *doc, const char *key, char *const *v);
void doc_set_label(json_object *doc, const char *key, const char *value);
void doc_add_set_key(json_object *doc, const char *field, const char *key);
void doc_append(json_object *doc, const char *field, const char *value);
char **doc_strv(json_object *doc, const char *key);
void doc_history(json_object *doc, const char *created_by, bool empty_layer);
int doc_load(struct keel_store *s, const char *id, json_object **ret, struct keel_error *err);
json_object *doc_scratch(const char *platform);

/* cache.c */
int cache_lookup(struct keel_store *s, const char *key, char id[KEEL_DIGEST_MAX]);
int cache_record(struct keel_store *s, const char *key, const char *id, struct keel_error *err);

/* step.c */
const char *stage_lookup(const char *name, void *userdata);
struct keel_expand stage_expander(struct stage *st);
int step_run(struct stage *st, const struct keel_cf_instr *in, struct keel_error *err);
int stage_commit_pending(struct stage *st, struct keel_error *err);
int stage_working(struct stage *st, struct keel_error *err);
void stage_drop_working(struct stage *st);

int step_labels(struct stage *st, char *const *labels, struct keel_error *err);
/* --build-arg value for name (marking it used), or NULL; a global ARG's value. */
const char *bld_build_arg(struct bld *b, const char *name);
const char *bld_meta(struct bld *b, const char *name);

/* Print a progress line. */
void bld_say(struct bld *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FILE:LINE: " + message */
int bld_fail(struct bld *b, const struct keel_cf_instr *in, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
