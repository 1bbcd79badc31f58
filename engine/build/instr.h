/* Internal to the Containerfile parser: one instruction's arguments. */
#ifndef KEEL_BUILD_INSTR_H
#define KEEL_BUILD_INSTR_H

#include "build/containerfile.h"

int keel_cf_cmd_lookup(const char *word, size_t len);
int keel_cf_split_raw(const char *s, char esc, char ***ret);
/* Fill in from "KEYWORD args..." (continuations already joined). */
int keel_cf_instr_fill(struct keel_cf_instr *in, const char *text, char esc,
                       struct keel_error *err);
int keel_cf_instr_parse(const char *text, char esc, struct keel_cf_instr **ret,
                        struct keel_error *err);
void keel_cf_instr_clear(struct keel_cf_instr *in);
/* Go duration ("1m30s") → nanoseconds. */
int keel_cf_duration_parse(const char *s, long long *ret);

#endif
