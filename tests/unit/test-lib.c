/* engine/lib: errors, JSON helpers, digests, files. */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/digest.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/json.h"

TEST(error_sets_code_and_message)
{
  struct keel_error err = KEEL_ERROR_INIT;
  int r = keel_error_set(&err, EINVAL, "bad '%s'", "x");
  ASSERT_EQ(r, -EINVAL);
  ASSERT_EQ(err.code, -EINVAL);
  ASSERT_STREQ(err.msg, "bad 'x'");
  r = keel_error_set_errno(&err, -ENOENT, "cannot open '%s'", "/nope");
  ASSERT_EQ(r, -ENOENT);
  ASSERT_STREQ(err.msg, "cannot open '/nope': No such file or directory");
  r = keel_error_prefix(&err, "config.json");
  ASSERT_EQ(r, -ENOENT);
  ASSERT_STREQ(err.msg, "config.json: cannot open '/nope': No such file or directory");
  /* a zero code is still a failure */
  ASSERT_EQ(keel_error_set(&err, 0, "x"), -EIO);
  ASSERT_EQ(keel_error_set(NULL, -EPERM, "x"), -EPERM);
}

TEST(json_parse_reports_malformed)
{
  struct keel_error err = KEEL_ERROR_INIT;
  json_object *o = NULL;
  ASSERT_EQ(keel_json_parse("{\"a\": ", 6, "doc", &o, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "doc: malformed JSON");
  ASSERT_EQ(keel_json_parse("{} x", 4, "doc", &o, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "trailing data");
  ASSERT_OK(keel_json_parse("{\"a\": 1}\n", 9, "doc", &o, &err));
  json_object_put(o);
}

TEST(json_typed_getters)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *o = NULL;
  const char *doc = "{\"s\":\"v\",\"i\":42,\"b\":true,\"a\":[\"x\",\"y\"],\"bad\":[1],"
                    "\"big\":99999999999999999999,\"neg\":-1,\"f\":1.5}";
  ASSERT_OK(keel_json_parse(doc, strlen(doc), "doc", &o, &err));
  const char *s = NULL;
  ASSERT_EQ(keel_json_get_string(o, "s", "root", &s, &err), 1);
  ASSERT_STREQ(s, "v");
  ASSERT_EQ(keel_json_get_string(o, "missing", "root", &s, &err), 0);
  ASSERT_EQ(keel_json_get_string(o, "i", "root", &s, &err), -EINVAL);
  ASSERT_STREQ(err.msg, "root.i: expected a string");
  int64_t i = 0;
  ASSERT_EQ(keel_json_get_int(o, "i", "root", 0, 100, &i, &err), 1);
  ASSERT_EQ(i, 42);
  ASSERT_EQ(keel_json_get_int(o, "i", "root", 0, 10, &i, &err), -ERANGE);
  ASSERT_EQ(keel_json_get_int(o, "big", "root", INT64_MIN, INT64_MAX, &i, &err), -ERANGE);
  ASSERT_EQ(keel_json_get_int(o, "f", "root", 0, 10, &i, &err), -EINVAL);
  uint64_t u;
  ASSERT_EQ(keel_json_get_uint64(o, "neg", "root", &u, &err), -EINVAL);
  bool b = false;
  ASSERT_EQ(keel_json_get_bool(o, "b", "", &b, &err), 1);
  ASSERT_TRUE(b);
  ASSERT_EQ(keel_json_get_bool(o, "s", "", &b, &err), -EINVAL);
  ASSERT_STREQ(err.msg, "s: expected a boolean");
  _cleanup_strv_ char **v = NULL;
  ASSERT_EQ(keel_json_get_strv(o, "a", "root", &v, &err), 1);
  ASSERT_STREQ(v[0], "x");
  ASSERT_STREQ(v[1], "y");
  ASSERT_TRUE(v[2] == NULL);
  ASSERT_EQ(keel_json_get_strv(o, "bad", "root", &v, &err), -EINVAL);
  ASSERT_STREQ(err.msg, "root.bad: expected an array of strings");
}

TEST(digest_sha256)
{
  char d[KEEL_DIGEST_MAX];
  ASSERT_OK(keel_digest_buffer("abc", 3, d));
  ASSERT_STREQ(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(keel_digest_valid(d));
  ASSERT_FALSE(
      keel_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  ASSERT_FALSE(keel_digest_valid("sha256:abc"));
  ASSERT_FALSE(
      keel_digest_valid("md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

/* mkdtemp(tmpl), opened. */
static int
open_tmpdir(char *tmpl)
{
  return mkdtemp(tmpl) ? open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

TEST(atomic_write_and_read)
{
  char dir[] = "/tmp/keel-unit-XXXXXX";
  _cleanup_close_ int dfd = open_tmpdir(dir);
  ASSERT_TRUE(dfd >= 0);
  ASSERT_OK(keel_write_file_atomic(dfd, "f", "hello", 5, 0600));
  _cleanup_free_ char *buf = NULL;
  size_t len;
  ASSERT_OK(keel_read_file(dfd, "f", 1024, &buf, &len));
  ASSERT_EQ(len, 5);
  ASSERT_STREQ(buf, "hello");
  _cleanup_free_ char *b2 = NULL;
  ASSERT_EQ(keel_read_file(dfd, "f", 3, &b2, &len), -EFBIG);
  ASSERT_OK(keel_rm_rf_at(AT_FDCWD, dir));
  ASSERT_TRUE(access(dir, F_OK) < 0);
}

/* Replacing an existing file (names swapped, the old file dropped) leaves
 * the new content with the new file's mode and no temporary behind. */
TEST(replace_existing_file)
{
  char dir[] = "/tmp/keel-unit-XXXXXX";
  _cleanup_close_ int dfd = open_tmpdir(dir);
  ASSERT_TRUE(dfd >= 0);
  ASSERT_OK(keel_write_file_replace(dfd, "s", "first", 5, 0600));
  ASSERT_OK(keel_write_file_replace(dfd, "s", "second!", 7, 0644));
  ASSERT_OK(keel_write_file_replace(dfd, "s", "third", 5, 0600));
  _cleanup_free_ char *buf = NULL;
  ASSERT_OK(keel_read_file(dfd, "s", 1024, &buf, NULL));
  ASSERT_STREQ(buf, "third");
  struct stat st;
  ASSERT_OK(fstatat(dfd, "s", &st, 0));
  ASSERT_EQ(st.st_mode & 07777, 0600);
  _cleanup_closedir_ DIR *d = fdopendir(dup(dfd));
  ASSERT_TRUE(d != NULL);
  int n = 0;
  for (struct dirent *de; (de = readdir(d));)
    n += de->d_name[0] != '.';
  ASSERT_EQ(n, 1);
  ASSERT_OK(keel_rm_rf_at(AT_FDCWD, dir));
}

TEST_MAIN
