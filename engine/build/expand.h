/* Variable substitution in Containerfile arguments, per the Dockerfile
 * reference ("Environment replacement"): $VAR, ${VAR}, ${VAR:-word},
 * ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg}, ${VAR?msg}; single
 * quotes are literal, double quotes protect whitespace, the escape character
 * (\ or the `# escape=` one) makes the next character literal. */
#ifndef KEEL_BUILD_EXPAND_H
#define KEEL_BUILD_EXPAND_H

#include "lib/error.h"

/* Value of a variable, or NULL when it is not set. */
typedef const char *(*keel_expand_lookup_fn)(const char *name, void *userdata);

struct keel_expand
{
  char escape;
  keel_expand_lookup_fn lookup;
  void *userdata;
};

/* One word: quotes removed, whitespace kept (WORKDIR, USER, ENV values). */
int keel_expand_word(const struct keel_expand *x, const char *in, char **ret,
                     struct keel_error *err);

/* Words split on unquoted whitespace (COPY sources, EXPOSE, VOLUME, FROM). */
int keel_expand_words(const struct keel_expand *x, const char *in, char ***ret,
                      struct keel_error *err);

/* Heredoc bodies: only $-substitution; quotes and escapes stay as written
 * (an escaped $ is not substituted). */
int keel_expand_raw(const struct keel_expand *x, const char *in, char **ret,
                    struct keel_error *err);

#endif
