/* Keel's unit-test harness: TEST(name) { ... } registers a test; the
 * ASSERT_* macros print file:line and the failing expression and end the
 * test; main() (TEST_MAIN) runs every test and speaks TAP. */
#ifndef KEEL_TEST_H
#define KEEL_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct keel_test
{
  const char *name;
  void (*fn)(bool *failed);
  struct keel_test *next;
};

extern struct keel_test *keel_tests;

#define TEST(name_)                                                                                \
  static void test_##name_(bool *_failed);                                                         \
  static struct keel_test _test_rec_##name_ = { #name_, test_##name_, NULL };                      \
  __attribute__((constructor)) static void _test_reg_##name_(void)                                 \
  {                                                                                                \
    struct keel_test **pp = &keel_tests;                                                           \
    while (*pp)                                                                                    \
      pp = &(*pp)->next;                                                                           \
    *pp = &_test_rec_##name_;                                                                      \
  }                                                                                                \
  static void test_##name_(bool *_failed)

#define FAIL_AT(...)                                                                               \
  do                                                                                               \
    {                                                                                              \
      printf("# %s:%d: ", __FILE__, __LINE__);                                                     \
      printf(__VA_ARGS__);                                                                         \
      printf("\n");                                                                                \
      *_failed = true;                                                                             \
      return;                                                                                      \
    }                                                                                              \
  while (0)

#define ASSERT_TRUE(e)                                                                             \
  do                                                                                               \
    if (!(e))                                                                                      \
      FAIL_AT("ASSERT_TRUE(%s) failed", #e);                                                       \
  while (0)

#define ASSERT_FALSE(e)                                                                            \
  do                                                                                               \
    if (e)                                                                                         \
      FAIL_AT("ASSERT_FALSE(%s) failed", #e);                                                      \
  while (0)

#define ASSERT_EQ(a, b)                                                                            \
  do                                                                                               \
    {                                                                                              \
      intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);                                             \
      if (_a != _b)                                                                                \
        FAIL_AT("ASSERT_EQ(%s, %s) failed: %jd != %jd", #a, #b, _a, _b);                           \
    }                                                                                              \
  while (0)

#define ASSERT_NE(a, b)                                                                            \
  do                                                                                               \
    {                                                                                              \
      intmax_t _a = (intmax_t)(a), _b = (intmax_t)(b);                                             \
      if (_a == _b)                                                                                \
        FAIL_AT("ASSERT_NE(%s, %s) failed: both %jd", #a, #b, _a);                                 \
    }                                                                                              \
  while (0)

/* r >= 0; on failure prints the errno name */
#define ASSERT_OK(e)                                                                               \
  do                                                                                               \
    {                                                                                              \
      intmax_t _r = (intmax_t)(e);                                                                 \
      if (_r < 0)                                                                                  \
        FAIL_AT("ASSERT_OK(%s) failed: %jd (%s)", #e, _r, strerror((int)-_r));                     \
    }                                                                                              \
  while (0)

#define ASSERT_STREQ(a, b)                                                                         \
  do                                                                                               \
    {                                                                                              \
      const char *_a = (a), *_b = (b);                                                             \
      if (!_a || !_b || strcmp(_a, _b) != 0)                                                       \
        FAIL_AT("ASSERT_STREQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)",       \
                _b ? _b : "(null)");                                                               \
    }                                                                                              \
  while (0)

/* substring */
#define ASSERT_CONTAINS(hay, needle)                                                               \
  do                                                                                               \
    {                                                                                              \
      const char *_h = (hay), *_n = (needle);                                                      \
      if (!_h || !strstr(_h, _n))                                                                  \
        FAIL_AT("ASSERT_CONTAINS(%s, %s) failed: \"%s\" lacks \"%s\"", #hay, #needle,              \
                _h ? _h : "(null)", _n);                                                           \
    }                                                                                              \
  while (0)

/* In a forked child, where ASSERT_* cannot report: print the failed
 * check and exit 90, for the parent to see in the status. */
#define CHILD_CHECK(e)                                                                             \
  do                                                                                               \
    if (!(e))                                                                                      \
      {                                                                                            \
        dprintf(1, "# child %s:%d: CHILD_CHECK(%s) failed (errno %d)\n", __FILE__, __LINE__, #e,   \
                errno);                                                                            \
        _exit(90);                                                                                 \
      }                                                                                            \
  while (0)

#define TEST_MAIN                                                                                  \
  struct keel_test *keel_tests;                                                                    \
  int main(void)                                                                                   \
  {                                                                                                \
    int n = 0, bad = 0;                                                                            \
    for (struct keel_test *t = keel_tests; t; t = t->next)                                         \
      n++;                                                                                         \
    printf("1..%d\n", n);                                                                          \
    int i = 0;                                                                                     \
    for (struct keel_test *t = keel_tests; t; t = t->next)                                         \
      {                                                                                            \
        bool failed = false;                                                                       \
        fflush(stdout);                                                                            \
        t->fn(&failed);                                                                            \
        printf("%s %d - %s\n", failed ? "not ok" : "ok", ++i, t->name);                            \
        bad += failed;                                                                             \
      }                                                                                            \
    return bad ? 1 : 0;                                                                            \
  }

#endif
