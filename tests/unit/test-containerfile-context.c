/* COPY sources in the build context: escapes refused, wildcards expanded,
 * ignore rules applied, and a digest that changes exactly with content. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/context.h"
#include "lib/cleanup.h"
#include "lib/digest.h"
#include "lib/fs.h"

static void
put(int fd, const char *path, const char *text)
{
  if (keel_write_file_replace(fd, path, text, strlen(text), 0644) < 0)
    abort();
}

static char dir[] = "/tmp/keel-ctx-XXXXXX";

static int
ctx_open(void)
{
  if (dir[strlen(dir) - 1] == 'X')
    {
      if (!mkdtemp(dir))
        return -1;
      int fd = open(dir, O_RDONLY | O_DIRECTORY);
      mkdirat(fd, "src", 0755);
      mkdirat(fd, "src/sub", 0755);
      put(fd, "src/a.c", "int a;\n");
      put(fd, "src/b.c", "int b;\n");
      put(fd, "src/sub/c.c", "int c;\n");
      put(fd, "src/notes.md", "notes\n");
      put(fd, "top.txt", "top\n");
      if (symlinkat("/etc/passwd", fd, "abs-link") < 0 || symlinkat("../../etc", fd, "up-link") < 0
          || symlinkat("src/a.c", fd, "in-link") < 0)
        {
          close(fd);
          return -1;
        }
      close(fd);
    }
  return open(dir, O_RDONLY | O_DIRECTORY);
}

static struct keel_ignore *
rules(const char *text)
{
  struct keel_ignore *ig = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  keel_ignore_parse("x", text, &ig, &err);
  return ig;
}

TEST(plain_and_wildcard_sources)
{
  _cleanup_close_ int fd = ctx_open();
  struct keel_ignore *ig = rules("**/*.md\n");
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_strv_ char **list = NULL;
  ASSERT_OK(keel_context_sources(fd, ig, "./src//a.c", &list, &err));
  ASSERT_OK(keel_context_sources(fd, ig, "src/*", &list, &err));
  ASSERT_OK(keel_context_sources(fd, ig, "src/sub/../b.c", &list, &err));
  ASSERT_OK(keel_context_sources(fd, ig, ".", &list, &err));
  ASSERT_STREQ(list[0], "src/a.c");
  ASSERT_STREQ(list[1], "src/a.c");
  ASSERT_STREQ(list[2], "src/b.c");
  ASSERT_STREQ(list[3], "src/sub"); /* notes.md is ignored */
  ASSERT_STREQ(list[4], "src/b.c");
  ASSERT_STREQ(list[5], ".");
  ASSERT_TRUE(list[6] == NULL);
  keel_ignore_free(ig);
}

TEST(escapes_refused)
{
  _cleanup_close_ int fd = ctx_open();
  struct keel_ignore *ig = rules("src/notes.md\n");
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_strv_ char **list = NULL;
  ASSERT_TRUE(keel_context_sources(fd, ig, "../etc/passwd", &list, &err) < 0);
  ASSERT_STREQ(err.msg, "../etc/passwd: source is outside the build context");
  ASSERT_TRUE(keel_context_sources(fd, ig, "src/../../x", &list, &err) < 0);
  ASSERT_TRUE(keel_context_sources(fd, ig, "/etc/passwd", &list, &err) < 0);
  ASSERT_CONTAINS(err.msg, "/etc/passwd: source is an absolute path");
  ASSERT_TRUE(keel_context_sources(fd, ig, "abs-link", &list, &err) < 0);
  ASSERT_STREQ(err.msg, "abs-link: a symlink leads outside the build context");
  ASSERT_TRUE(keel_context_sources(fd, ig, "up-link", &list, &err) < 0);
  ASSERT_STREQ(err.msg, "up-link: a symlink leads outside the build context");
  ASSERT_TRUE(keel_context_sources(fd, ig, "src/notes.md", &list, &err) < 0);
  ASSERT_CONTAINS(err.msg, "excluded from the build context");
  ASSERT_TRUE(keel_context_sources(fd, ig, "*.none", &list, &err) < 0);
  ASSERT_CONTAINS(err.msg, "no source files in the build context match");
  ASSERT_TRUE(keel_context_sources(fd, ig, "missing", &list, &err) < 0);
  ASSERT_CONTAINS(err.msg, "missing: not found in the build context");
  ASSERT_OK(keel_context_sources(fd, ig, "in-link", &list, &err));
  keel_ignore_free(ig);
}

static void
digest_of(int fd, struct keel_ignore *ig, const char *path, char out[KEEL_DIGEST_MAX])
{
  struct keel_digest_ctx *ctx = NULL;
  struct keel_error err = KEEL_ERROR_INIT;
  keel_digest_new(&ctx);
  if (keel_context_digest(fd, ig, path, ctx, &err) < 0)
    {
      keel_digest_free(ctx);
      strcpy(out, err.msg);
      return;
    }
  keel_digest_final(ctx, out);
}

TEST(digest_tracks_content_mode_and_ignores)
{
  _cleanup_close_ int fd = ctx_open();
  struct keel_ignore *ig = rules("src/notes.md\n");
  char d1[KEEL_DIGEST_MAX], d2[KEEL_DIGEST_MAX], d3[KEEL_DIGEST_MAX], d4[KEEL_DIGEST_MAX];
  char d5[KEEL_DIGEST_MAX];
  digest_of(fd, ig, "src", d1);
  ASSERT_TRUE(keel_digest_valid(d1));
  digest_of(fd, ig, "src", d2);
  ASSERT_STREQ(d1, d2);
  put(fd, "src/notes.md", "changed but ignored\n");
  digest_of(fd, ig, "src", d3);
  ASSERT_STREQ(d1, d3);
  put(fd, "src/sub/c.c", "int c2;\n");
  digest_of(fd, ig, "src", d4);
  ASSERT_TRUE(strcmp(d1, d4) != 0);
  ASSERT_OK(fchmodat(fd, "src/sub/c.c", 0600, 0));
  digest_of(fd, ig, "src", d5);
  ASSERT_TRUE(strcmp(d4, d5) != 0);
  char l1[KEEL_DIGEST_MAX], l2[KEEL_DIGEST_MAX];
  digest_of(fd, ig, "in-link", l1);
  put(fd, "src/a.c", "int a2;\n");
  digest_of(fd, ig, "in-link", l2);
  ASSERT_TRUE(strcmp(l1, l2) != 0); /* a symlink source is followed */
  keel_ignore_free(ig);
}

TEST(cleanup)
{
  _cleanup_close_ int fd = ctx_open();
  ASSERT_OK(keel_rm_rf_at(AT_FDCWD, dir));
}

TEST_MAIN
