/* .containerignore / .dockerignore rules. */
#include "test.h"

#include "build/ignore.h"

static const struct
{
  const char *pattern, *path;
  int want;
} matches[] = {
  { "*.txt", "a.txt", 1 },
  { "*.txt", "dir/a.txt", 0 },
  { "*/*.txt", "dir/a.txt", 1 },
  { "**/*.txt", "a.txt", 1 },
  { "**/*.txt", "d/e/f/a.txt", 1 },
  { "d/**/x", "d/x", 1 },
  { "d/**/x", "d/a/b/x", 1 },
  { "d/**/x", "e/a/x", 0 },
  { "d/**", "d/a/b", 1 },
  { "**", "anything/at/all", 1 },
  { "a?c", "abc", 1 },
  { "a?c", "a/c", 0 },
  { "[a-c]x", "bx", 1 },
  { "[^a-c]x", "bx", 0 },
  { "[^a-c]x", "dx", 1 },
  { "\\*x", "*x", 1 },
  { "\\*x", "ax", 0 },
  { "a[", "a", -EINVAL },
  { "a[", "b", -EINVAL },
  { "[]a]", "]", 1 },
  { "dir", "dir", 1 },
  { "dir", "dir2", 0 },
};

TEST(match_table)
{
  for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++)
    {
      int r = keel_ignore_match(matches[i].pattern, matches[i].path);
      if (r != matches[i].want)
        FAIL_AT("case %zu: '%s' vs '%s' gave %d, want %d", i, matches[i].pattern, matches[i].path,
                r, matches[i].want);
    }
}

TEST(rules_last_match_wins_and_parents)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_ignore *ig = NULL;
  ASSERT_OK(keel_ignore_parse(".containerignore",
                              "# comment\n\n  *.md  \n!README.md\n/build\nsecret/../tmp\n"
                              "docs\n!docs/keep\n",
                              &ig, &err));
  ASSERT_TRUE(keel_ignore_excluded(ig, "notes.md"));
  ASSERT_FALSE(keel_ignore_excluded(ig, "README.md"));
  ASSERT_FALSE(keel_ignore_excluded(ig, "sub/notes.md")); /* *.md is top level only */
  ASSERT_TRUE(keel_ignore_excluded(ig, "build"));
  ASSERT_TRUE(keel_ignore_excluded(ig, "build/out/x.o")); /* parent directory matched */
  ASSERT_TRUE(keel_ignore_excluded(ig, "tmp/a"));         /* cleaned pattern */
  ASSERT_FALSE(keel_ignore_excluded(ig, "secret/a"));
  ASSERT_TRUE(keel_ignore_excluded(ig, "docs/other"));
  ASSERT_FALSE(keel_ignore_excluded(ig, "docs/keep"));
  ASSERT_FALSE(keel_ignore_excluded(ig, "src/main.c"));
  ASSERT_TRUE(keel_ignore_has_exceptions(ig));
  keel_ignore_free(ig);
}

TEST(exception_order_matters)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_ignore *ig = NULL;
  ASSERT_OK(keel_ignore_parse("x", "!keep.txt\n*.txt\n", &ig, &err));
  ASSERT_TRUE(keel_ignore_excluded(ig, "keep.txt"));
  ASSERT_FALSE(keel_ignore_has_exceptions(ig) == false);
  keel_ignore_free(ig);
}

TEST(empty_rules_exclude_nothing)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_ignore *ig = NULL;
  ASSERT_OK(keel_ignore_parse("x", "", &ig, &err));
  ASSERT_FALSE(keel_ignore_excluded(ig, "a"));
  ASSERT_FALSE(keel_ignore_has_exceptions(ig));
  keel_ignore_free(ig);
}

TEST(bad_pattern_names_file_and_line)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_ignore *ig = NULL;
  ASSERT_TRUE(keel_ignore_parse(".dockerignore", "ok\n\nfoo[\n", &ig, &err) < 0);
  ASSERT_STREQ(err.msg, ".dockerignore:3: bad pattern 'foo['");
  ASSERT_TRUE(keel_ignore_parse(".dockerignore", "x\\", &ig, &err) < 0);
  ASSERT_CONTAINS(err.msg, ".dockerignore:1: bad pattern");
}

TEST(digest_follows_text)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_ignore *a = NULL, *b = NULL;
  ASSERT_OK(keel_ignore_parse("x", "a\n", &a, &err));
  ASSERT_OK(keel_ignore_parse("x", "b\n", &b, &err));
  ASSERT_TRUE(strcmp(keel_ignore_digest(a), keel_ignore_digest(b)) != 0);
  keel_ignore_free(a);
  keel_ignore_free(b);
}

TEST_MAIN
