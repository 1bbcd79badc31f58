/* systemd unit-file syntax (systemd.syntax(7)): sections, KEY=VALUE lines,
 * comments, backslash continuations, and the word splitting of values
 * with quotes and escapes.  What keel's Quadlet-style generator and
 * `keel generate systemd` read and write. */
#ifndef KEEL_SYSTEMD_UNITFILE_H
#define KEEL_SYSTEMD_UNITFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

struct keel_unit_entry
{
  char *section;
  char *key;
  char *value;
  unsigned line;
};

struct keel_unit
{
  struct keel_unit_entry *v;
  size_t n;
};

/* Parse text (name is used in messages); entries keep file order. */
int keel_unit_parse(const char *text, const char *name, struct keel_unit **ret,
                    struct keel_error *err);
void keel_unit_free(struct keel_unit *u);

/* The last value of key in section (systemd: a later assignment wins),
 * or NULL. */
const char *keel_unit_get(const struct keel_unit *u, const char *section, const char *key);

/* A value's words: separated by whitespace, "double" and 'single' quoted
 * words taken whole, C-style escapes (\n, \t, \\, \", \', \xNN) decoded.
 * An unterminated quote or trailing backslash is an error. */
int keel_unit_split(const char *value, char ***ret, struct keel_error *err);

/* systemd's boolean words: 1 yes y true t on / 0 no n false f off. */
int keel_unit_parse_bool(const char *s, bool *ret);

/* Append word to a command line in the unit's own quoting, so that
 * keel_unit_split() and systemd read back the same word; % is doubled
 * unless keep_specifiers (then %N and friends stay systemd's). */
int keel_unit_quote_append(char **line, const char *word, bool keep_specifiers);

#define _cleanup_unit_ __attribute__((cleanup(keel_unit_freep)))
static inline void
keel_unit_freep(struct keel_unit **u)
{
  keel_unit_free(*u);
}

#endif
