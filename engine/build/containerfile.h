/* The Containerfile (Dockerfile) parser: parser directives, comments, line
 * continuations, heredocs and every instruction of the Dockerfile reference,
 * checked for form (flags, JSON arguments, key=value pairs) but not expanded:
 * variable substitution depends on build args and ENV, so the executor does
 * it step by step (build/expand.h).  Errors are one line, "FILE:LINE: ...". */
#ifndef KEEL_BUILD_CONTAINERFILE_H
#define KEEL_BUILD_CONTAINERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

enum keel_cf_cmd
{
  KEEL_CF_FROM,
  KEEL_CF_RUN,
  KEEL_CF_COPY,
  KEEL_CF_ADD,
  KEEL_CF_ENV,
  KEEL_CF_ARG,
  KEEL_CF_WORKDIR,
  KEEL_CF_USER,
  KEEL_CF_EXPOSE,
  KEEL_CF_VOLUME,
  KEEL_CF_LABEL,
  KEEL_CF_CMD,
  KEEL_CF_ENTRYPOINT,
  KEEL_CF_SHELL,
  KEEL_CF_STOPSIGNAL,
  KEEL_CF_HEALTHCHECK,
  KEEL_CF_ONBUILD,
  KEEL_CF_MAINTAINER,
};

/* Upper-case name of an instruction ("RUN"). */
const char *keel_cf_cmd_name(enum keel_cf_cmd cmd);

struct keel_cf_heredoc
{
  char *delim;
  char *body;      /* every line with its '\n'; leading tabs gone for <<- */
  bool expand;     /* unquoted delimiter: $-substitution applies (COPY/ADD) */
  bool strip_tabs; /* <<- */
};

struct keel_cf_flag
{
  char *name;  /* without "--" */
  char *value; /* raw, unexpanded; "true" for a bare boolean flag */
};

struct keel_cf_kv
{
  char *key;
  char *value; /* raw, unexpanded; NULL for an ARG without default */
};

struct keel_cf_instr
{
  enum keel_cf_cmd cmd;
  unsigned line; /* line of the keyword */
  char *text;    /* as written, continuations joined, heredoc bodies excluded */
  struct keel_cf_flag *flags;
  size_t n_flags;
  char *args;            /* the arguments after the flags, raw */
  bool json;             /* args were a JSON array: see argv */
  char **argv;           /* JSON form elements (NULL unless json) */
  struct keel_cf_kv *kv; /* ENV, LABEL, ARG pairs */
  size_t n_kv;
  struct keel_cf_heredoc *heredocs; /* RUN, COPY, ADD */
  size_t n_heredocs;
  bool hc_none;                  /* HEALTHCHECK NONE */
  struct keel_cf_instr *onbuild; /* ONBUILD's inner instruction (parsed for checking) */
};

struct keel_cf_stage
{
  size_t index;
  unsigned line;
  char *base;                   /* raw image or stage reference */
  char *name;                   /* lower-cased AS name, or NULL */
  char *platform;               /* raw --platform, or NULL */
  struct keel_cf_instr *instrs; /* instrs[0] is the FROM */
  size_t n_instrs;
};

struct keel_containerfile
{
  char *path;
  char escape;
  char *syntax;               /* "# syntax=" directive, recorded only */
  struct keel_cf_instr *meta; /* ARGs before the first FROM */
  size_t n_meta;
  struct keel_cf_stage *stages;
  size_t n_stages;
};

/* Parse buf (len bytes, named path in messages). */
int keel_containerfile_parse(const char *path, const char *buf, size_t len,
                             struct keel_containerfile **ret, struct keel_error *err);
void keel_containerfile_free(struct keel_containerfile *cf);

/* The value of flag name (last one wins), or NULL. */
const char *keel_cf_flag_get(const struct keel_cf_instr *in, const char *name);

/* Parse one ONBUILD trigger text into an instruction (for the executor). */
int keel_cf_parse_line(const char *path, unsigned line, char escape, const char *text,
                       struct keel_cf_instr **ret, struct keel_error *err);
void keel_cf_instr_free(struct keel_cf_instr *in);

/* RUN --mount=... */
enum keel_cf_mount_type
{
  KEEL_CF_MOUNT_BIND,
  KEEL_CF_MOUNT_CACHE,
  KEEL_CF_MOUNT_TMPFS,
};

enum keel_cf_sharing
{
  KEEL_CF_SHARING_SHARED,
  KEEL_CF_SHARING_PRIVATE,
  KEEL_CF_SHARING_LOCKED,
};

struct keel_cf_mount
{
  enum keel_cf_mount_type type;
  char *target;
  char *source; /* bind: path in the context or the from-stage; cache: subdir */
  char *from;   /* stage or image */
  char *id;     /* cache id (defaults to target) */
  enum keel_cf_sharing sharing;
  bool readonly; /* bind: default true; cache: default false */
  int mode;      /* -1 unset */
  long uid, gid; /* -1 unset */
};

/* Parse a --mount value ("type=cache,target=/x,..."); messages without the
 * file:line prefix (the caller adds it). */
int keel_cf_mount_parse(const char *spec, struct keel_cf_mount *ret, struct keel_error *err);
void keel_cf_mount_clear(struct keel_cf_mount *m);

#endif
