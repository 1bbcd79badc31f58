/* engine/monitor: the json-file log framing and rotation, the attach
 * protocol's encoding and its incremental decoder. */
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "monitor/attach.h"
#include "monitor/logwriter.h"

static const struct timespec ts = { 1700000000, 5 }; /* 2023-11-14T22:13:20 */

static char *
fmt(const char *data, size_t len)
{
  static char out[1024];
  size_t n = keel_log_format(out, sizeof(out) - 1, &ts, KEEL_LOG_STDERR, data, len);
  out[n] = 0;
  return out;
}

TEST(log_format_escapes_and_stamps)
{
  ASSERT_STREQ(
      fmt("hi\n", 3),
      "{\"time\":\"2023-11-14T22:13:20.000000005Z\",\"stream\":\"stderr\",\"log\":\"hi\\n\"}\n");
  ASSERT_CONTAINS(fmt("a\"b\\c\t\r\x01\x7f", 9), "\"log\":\"a\\\"b\\\\c\\t\\r\\u0001\\u007f\"");
  /* valid UTF-8 passes, a stray byte becomes U+FFFD */
  ASSERT_CONTAINS(fmt("\xc3\xa9", 2), "\"log\":\"\xc3\xa9\"");
  ASSERT_CONTAINS(fmt("a\xff"
                      "b",
                      3),
                  "\"log\":\"a\xef\xbf\xbd"
                  "b\"");
  ASSERT_CONTAINS(fmt("\xe2\x82", 2), "\"log\":\"\xef\xbf\xbd\xef\xbf\xbd\"");
  /* a too small buffer reports the length needed */
  char small[8];
  ASSERT_EQ(keel_log_format(small, sizeof(small), &ts, KEEL_LOG_STDOUT, "x", 1), 70u);
}

static char *
slurp(const char *path)
{
  char *buf = NULL;
  size_t len;
  if (keel_read_file(AT_FDCWD, path, 1 << 22, &buf, &len) < 0)
    return NULL;
  return buf;
}

static void
tmpdir(char *dir)
{
  strcpy(dir, "/tmp/keel-test-monitor.XXXXXX");
  if (!mkdtemp(dir))
    abort();
}

TEST(log_lines_partials_and_long_lines)
{
  char dir[64], path[128];
  tmpdir(dir);
  snprintf(path, sizeof(path), "%s/log", dir);
  struct keel_logw w;
  struct keel_logw_opts o = { .driver = KEEL_LOG_DRIVER_JSON_FILE, .path = path };
  ASSERT_OK(keel_logw_open(&w, &o, NULL));
  ASSERT_OK(keel_logw_write(&w, KEEL_LOG_STDOUT, "one\ntw", 6, &ts));
  ASSERT_OK(keel_logw_write(&w, KEEL_LOG_STDERR, "e1\n", 3, &ts));
  ASSERT_OK(keel_logw_write(&w, KEEL_LOG_STDOUT, "o\nthr", 5, &ts));
  _cleanup_free_ char *big = malloc(KEEL_LOG_LINE_MAX + 10);
  memset(big, 'x', KEEL_LOG_LINE_MAX + 10);
  ASSERT_OK(keel_logw_write(&w, KEEL_LOG_STDERR, big, KEEL_LOG_LINE_MAX + 10, &ts));
  ASSERT_OK(keel_logw_flush(&w, &ts));
  keel_logw_close(&w);
  _cleanup_free_ char *s = slurp(path);
  ASSERT_TRUE(s != NULL);
  /* stdout: "one\n", "two\n", then "thr" cut at the end; stderr: e1, a
   * full piece of the long line and its 10-byte rest */
  char *l1 = strstr(s, "\"log\":\"one\\n\"");
  char *l2 = strstr(s, "\"log\":\"e1\\n\"");
  char *l3 = strstr(s, "\"log\":\"two\\n\"");
  char *l4 = strstr(s, "\"log\":\"thr\"");
  ASSERT_TRUE(l1 && l2 && l3 && l4);
  ASSERT_TRUE(l1 < l2 && l2 < l3);
  ASSERT_TRUE(strstr(s, "\"log\":\"xxxxxxxxxx\"}") != NULL);
  size_t lines = 0;
  for (char *p = s; *p; p++)
    lines += *p == '\n';
  ASSERT_EQ(lines, 6u);
  keel_rm_rf_at(AT_FDCWD, dir);
}

TEST(log_rotation_keeps_one_file_under_the_size)
{
  char dir[64], path[128], old[140];
  tmpdir(dir);
  snprintf(path, sizeof(path), "%s/log", dir);
  snprintf(old, sizeof(old), "%s/log.1", dir);
  struct keel_logw w;
  struct keel_logw_opts o = { .driver = KEEL_LOG_DRIVER_JSON_FILE, .path = path, .max_size = 300 };
  ASSERT_OK(keel_logw_open(&w, &o, NULL));
  for (int i = 0; i < 20; i++)
    {
      char line[32];
      int n = snprintf(line, sizeof(line), "line %d\n", i);
      ASSERT_OK(keel_logw_write(&w, KEEL_LOG_STDOUT, line, (size_t)n, &ts));
    }
  keel_logw_close(&w);
  struct stat a, b;
  ASSERT_OK(stat(path, &a));
  ASSERT_OK(stat(old, &b));
  ASSERT_TRUE(a.st_size <= 300 && b.st_size <= 300 && a.st_size > 0 && b.st_size > 0);
  _cleanup_free_ char *s = slurp(path);
  ASSERT_CONTAINS(s, "line 19\\n");
  char older[150];
  snprintf(older, sizeof(older), "%s/log.2", dir);
  ASSERT_TRUE(access(older, F_OK) < 0);
  keel_rm_rf_at(AT_FDCWD, dir);
}

TEST(log_driver_names)
{
  enum keel_log_driver d;
  ASSERT_OK(keel_log_driver_parse("journald", &d));
  ASSERT_EQ(d, KEEL_LOG_DRIVER_JOURNALD);
  ASSERT_OK(keel_log_driver_parse("k8s-file", &d));
  ASSERT_EQ(d, KEEL_LOG_DRIVER_JSON_FILE);
  ASSERT_EQ(keel_log_driver_parse("syslog", &d), -EINVAL);
}

TEST(attach_frames_round_trip_in_pieces)
{
  int sv[2];
  ASSERT_OK(pipe(sv));
  uint8_t rs[4];
  keel_attach_encode_resize(rs, 50, 300);
  ASSERT_OK(keel_attach_send(sv[1], KEEL_ATTACH_STDOUT, "hello", 5));
  ASSERT_OK(keel_attach_send(sv[1], KEEL_ATTACH_RESIZE, rs, 4));
  ASSERT_OK(keel_attach_send(sv[1], KEEL_ATTACH_STDIN_CLOSE, NULL, 0));
  uint8_t buf[64];
  ssize_t n = read(sv[0], buf, sizeof(buf));
  ASSERT_EQ(n, 8 + 5 + 8 + 4 + 8);
  /* Docker's header: stream byte, three zeros, big-endian length */
  ASSERT_TRUE(!memcmp(buf, "\x01\0\0\0\0\0\0\x05hello", 13));
  static struct keel_attach_decoder d;
  uint8_t type;
  const uint8_t *p;
  uint32_t len;
  int got = 0;
  for (ssize_t i = 0; i < n; i++) /* one byte at a time */
    {
      ASSERT_EQ(keel_attach_feed(&d, buf + i, 1), 1u);
      while (keel_attach_next(&d, &type, &p, &len) > 0)
        {
          unsigned r, c;
          if (got == 0)
            ASSERT_TRUE(type == KEEL_ATTACH_STDOUT && len == 5 && !memcmp(p, "hello", 5));
          if (got == 1)
            {
              ASSERT_EQ(type, KEEL_ATTACH_RESIZE);
              ASSERT_OK(keel_attach_decode_resize(p, len, &r, &c));
              ASSERT_TRUE(r == 50 && c == 300);
            }
          if (got == 2)
            ASSERT_TRUE(type == KEEL_ATTACH_STDIN_CLOSE && len == 0);
          got++;
        }
    }
  ASSERT_EQ(got, 3);
  ASSERT_EQ(keel_attach_next(&d, &type, &p, &len), 0);
  close(sv[0]);
  close(sv[1]);
}

TEST(attach_rejects_malformed_frames)
{
  static const struct
  {
    const char *bytes;
    size_t len;
  } bad[] = {
    { "\x09\0\0\0\0\0\0\0", 8 },         /* unknown type */
    { "\x01\0\x01\0\0\0\0\0", 8 },       /* padding not zero */
    { "\x10\0\0\0\0\x01\0\x01", 8 },     /* 65537 bytes: over the limit */
    { "\x13\0\0\0\xff\xff\xff\xff", 8 }, /* absurd length */
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    {
      static struct keel_attach_decoder d;
      uint8_t type;
      const uint8_t *p;
      uint32_t len;
      memset(&d, 0, sizeof(d));
      keel_attach_feed(&d, bad[i].bytes, bad[i].len);
      ASSERT_EQ(keel_attach_next(&d, &type, &p, &len), -EPROTO);
    }
  uint8_t b[4];
  unsigned r, c;
  ASSERT_EQ(keel_attach_decode_resize(b, 3, &r, &c), -EPROTO);
  keel_attach_encode_u32(b, 0x01020304);
  ASSERT_EQ(keel_attach_decode_u32(b), 0x01020304u);
}

TEST_MAIN
