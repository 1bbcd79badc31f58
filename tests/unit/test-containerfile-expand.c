/* Environment replacement per the Dockerfile reference. */
#include "test.h"

#include "build/expand.h"
#include "lib/cleanup.h"

static const char *
lookup(const char *name, void *ud)
{
  static const char *const vars[][2] = {
    { "A", "alpha" },
    { "EMPTY", "" },
    { "SP", "two words" },
    { "P", "/usr/local" },
  };
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
    if (strcmp(vars[i][0], name) == 0)
      return vars[i][1];
  return NULL;
}

static const struct keel_expand X = { '\\', lookup, NULL };
static const struct keel_expand XB = { '`', lookup, NULL };

static const struct
{
  const char *in, *out;
} words[] = {
  { "$A", "alpha" },
  { "${A}", "alpha" },
  { "x${A}y", "xalphay" },
  { "$A$A", "alphaalpha" },
  { "$UNSET", "" },
  { "${UNSET:-def}", "def" },
  { "${EMPTY:-def}", "def" },
  { "${EMPTY-def}", "" },
  { "${UNSET-def}", "def" },
  { "${A:-def}", "alpha" },
  { "${A:+set}", "set" },
  { "${EMPTY:+set}", "" },
  { "${EMPTY+set}", "set" },
  { "${UNSET+set}", "" },
  { "${UNSET:-$A}", "alpha" },
  { "${UNSET:-\"a b\"}", "a b" },
  { "'$A'", "$A" },
  { "\"$A\"", "alpha" },
  { "\\$A", "$A" },
  { "\"\\$A\"", "$A" },
  { "\"a\\b\"", "a\\b" },
  { "\"a\\\"b\"", "a\"b" },
  { "a\\ b", "a b" },
  { "$", "$" },
  { "$1x", "$1x" },
  { "${P}/bin", "/usr/local/bin" },
  { "it's", NULL }, /* unterminated quote */
};

TEST(expand_word_table)
{
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      _cleanup_free_ char *out = NULL;
      int r = keel_expand_word(&X, words[i].in, &out, &err);
      if (!words[i].out)
        {
          ASSERT_TRUE(r < 0);
          ASSERT_CONTAINS(err.msg, "missing closing");
          continue;
        }
      if (r < 0)
        FAIL_AT("case %zu '%s': %s", i, words[i].in, err.msg);
      if (strcmp(out, words[i].out) != 0)
        FAIL_AT("case %zu '%s' gave '%s', want '%s'", i, words[i].in, out, words[i].out);
    }
}

TEST(expand_words_split)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_strv_ char **w = NULL;
  ASSERT_OK(keel_expand_words(&X, "a  $SP \"$SP\" 'q r' \"\" x\\ y", &w, &err));
  ASSERT_STREQ(w[0], "a");
  ASSERT_STREQ(w[1], "two");
  ASSERT_STREQ(w[2], "words");
  ASSERT_STREQ(w[3], "two words");
  ASSERT_STREQ(w[4], "q r");
  ASSERT_STREQ(w[5], "x y");
  ASSERT_TRUE(w[6] == NULL);
}

TEST(expand_backtick_escape)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ char *out = NULL;
  ASSERT_OK(keel_expand_word(&XB, "c:\\dir `$A", &out, &err));
  ASSERT_STREQ(out, "c:\\dir $A");
}

TEST(expand_raw_keeps_quotes)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ char *out = NULL;
  ASSERT_OK(keel_expand_raw(&X, "echo \"$A\" '$A' \\$A\n", &out, &err));
  ASSERT_STREQ(out, "echo \"alpha\" 'alpha' \\$A\n");
}

TEST(expand_errors)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ char *out = NULL;
  ASSERT_TRUE(keel_expand_word(&X, "${UNSET:?must be set}", &out, &err) < 0);
  ASSERT_STREQ(err.msg, "UNSET: must be set");
  ASSERT_TRUE(keel_expand_word(&X, "${A", &out, &err) < 0);
  ASSERT_CONTAINS(err.msg, "bad substitution");
  ASSERT_TRUE(keel_expand_word(&X, "${}", &out, &err) < 0);
  ASSERT_CONTAINS(err.msg, "bad substitution");
  ASSERT_TRUE(keel_expand_word(&X, "${A:-x", &out, &err) < 0);
  ASSERT_CONTAINS(err.msg, "missing '}'");
  ASSERT_TRUE(keel_expand_word(&X, "${A#x}", &out, &err) < 0);
  ASSERT_CONTAINS(err.msg, "unsupported modifier");
}

TEST_MAIN
