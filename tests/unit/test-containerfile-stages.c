/* The stage graph: what --target needs, in order; cycles and undefined
 * stages refused with the file and line. */
#include "test.h"

#include "build/stages.h"
#include "lib/cleanup.h"

static const char *
meta(const char *name, void *ud)
{
  return strcmp(name, "SRC") == 0 ? "builder" : NULL;
}

static const struct keel_expand X = { '\\', meta, NULL };

static int
plan(const char *text, const char *target, size_t **order, size_t *n, struct keel_error *err)
{
  struct keel_containerfile *cf = NULL;
  int r = keel_containerfile_parse("Containerfile", text, strlen(text), &cf, err);
  if (r >= 0)
    r = keel_stage_plan(cf, target, &X, order, n, err);
  keel_containerfile_free(cf);
  return r;
}

static const char multi[] = "FROM busybox AS base\n" /* 0 */
                            "FROM base AS builder\n" /* 1 */
                            "RUN make\n"
                            "FROM busybox AS unused\n" /* 2 */
                            "RUN sleep 1000\n"
                            "FROM busybox AS other\n" /* 3 */
                            "FROM scratch AS final\n" /* 4 */
                            "COPY --from=${SRC} /a /a\n"
                            "COPY --from=3 /b /b\n";

TEST(only_needed_stages_in_order)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  ASSERT_OK(plan(multi, NULL, &order, &n, &err));
  ASSERT_EQ(n, 4);
  ASSERT_EQ(order[0], 0);
  ASSERT_EQ(order[1], 1);
  ASSERT_EQ(order[2], 3);
  ASSERT_EQ(order[3], 4);
}

TEST(target_builds_a_prefix)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  ASSERT_OK(plan(multi, "builder", &order, &n, &err));
  ASSERT_EQ(n, 2);
  ASSERT_EQ(order[0], 0);
  ASSERT_EQ(order[1], 1);
  free(order);
  order = NULL;
  ASSERT_OK(plan(multi, "UNUSED", &order, &n, &err));
  ASSERT_EQ(n, 1);
  ASSERT_EQ(order[0], 2);
}

TEST(unknown_target)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  ASSERT_TRUE(plan(multi, "nope", &order, &n, &err) < 0);
  ASSERT_STREQ(err.msg, "Containerfile: target stage 'nope' could not be found");
}

TEST(cycles_refused)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  ASSERT_TRUE(plan("FROM b AS a\nFROM a AS b\n", NULL, &order, &n, &err) < 0);
  ASSERT_STREQ(err.msg, "Containerfile:1: cycle between stages: b -> a -> b");
  ASSERT_TRUE(plan("FROM busybox AS a\nCOPY --from=c /x /x\nFROM busybox AS c\n"
                   "COPY --from=a /y /y\n",
                   NULL, &order, &n, &err)
              < 0);
  ASSERT_STREQ(err.msg, "Containerfile:2: cycle between stages: c -> a -> c");
  ASSERT_TRUE(plan("FROM busybox AS a\nRUN --mount=type=bind,from=a,target=/m true\n", NULL, &order,
                   &n, &err)
              < 0);
  ASSERT_STREQ(err.msg, "Containerfile:2: cycle between stages: a -> a");
}

TEST(undefined_stage_number)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  ASSERT_TRUE(plan("FROM busybox\nCOPY --from=7 /x /x\n", NULL, &order, &n, &err) < 0);
  ASSERT_STREQ(err.msg, "Containerfile:2: undefined stage 7 (there are 1 stages)");
}

TEST(images_are_not_stages)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ size_t *order = NULL;
  size_t n = 0;
  ASSERT_OK(plan("FROM busybox\nCOPY --from=localhost:5000/x:1 /x /x\n", NULL, &order, &n, &err));
  ASSERT_EQ(n, 1);
}

TEST_MAIN
