/* registries.conf: the TOML subset, the containers-registries.conf(5)
 * semantics Keel supports, and a table of malformed files that must each
 * be refused with file:line and a reason. */
#include "test.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "registry/config.h"

static struct keel_registries_conf *
parse(const char *text, struct keel_error *err)
{
  struct keel_registries_conf *c = NULL;
  if (keel_registries_conf_parse(text, strlen(text), "test.conf", &c, err) < 0)
    return NULL;
  return c;
}

static const char full[]
    = "# Keel test configuration\n"
      "unqualified-search-registries = [\"first.example\", 'second.example:5000',\n"
      "   # a comment inside the array\n"
      "   \"third.example\",   ]\n"
      "short-name-mode = \"enforcing\"\n"
      "\n"
      "[[registry]]\n"
      "prefix = \"example.com/foo\"\n"
      "location = \"internal.example:5000/bar\" # rewritten\n"
      "insecure = true\n"
      "\n"
      "[[registry.mirror]]\n"
      "location = \"mirror-one.example/foo\"\n"
      "[[registry.mirror]]\n"
      "location = \"mirror-two.example:8443/foo\"\n"
      "insecure = true\n"
      "pull-from-mirror = \"digest-only\"\n"
      "\n"
      "[[registry]]\n"
      "location = \"example.com\"\n"
      "\n"
      "[[registry]]\n"
      "location = \"blocked.example\"\n"
      "blocked = true\n"
      "\n"
      "[[registry]]\n"
      "prefix = \"*.wild.example\"\n"
      "[[registry.mirror]]\n"
      "location = \"wild-mirror.example\"\n"
      "\n"
      "[[registry]]\n"
      "\"location\" = \"uni\\u00e9code.example\\t\"\n"
      "\n"
      "[aliases]\n"
      "\"fedora\" = \"registry.fedoraproject.org/fedora\"\n";

TEST(search_list_and_notes)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_registries_conf *c = parse(full, &err);
  if (!c)
    FAIL_AT("parse failed: %s", err.msg);
  const char *const *s = keel_registries_conf_search(c);
  ASSERT_STREQ(s[0], "first.example");
  ASSERT_STREQ(s[1], "second.example:5000");
  ASSERT_STREQ(s[2], "third.example");
  ASSERT_TRUE(s[3] == NULL);
  const char *const *n = keel_registries_conf_notes(c);
  ASSERT_CONTAINS(n[0], "test.conf:5: short-name-mode");
  ASSERT_CONTAINS(n[1], "test.conf:34: [aliases]");
  ASSERT_TRUE(n[2] == NULL);
  keel_registries_conf_free(c);
}

/* Resolve ref; expect the sources "name|insecure|mirror" joined by spaces. */
static void
check_resolve(bool *_failed, struct keel_registries_conf *c, const char *ref, const char *want,
              bool blocked)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_registry_resolution r;
  ASSERT_OK(keel_registries_conf_resolve(c, ref, &r, &err));
  char got[2048] = "";
  for (size_t i = 0; i < r.n_sources; i++)
    snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s|%d|%d", i ? " " : "",
             r.sources[i].name, r.sources[i].insecure, r.sources[i].mirror);
  bool b = r.blocked;
  keel_registry_resolution_clear(&r);
  ASSERT_STREQ(got, want);
  ASSERT_EQ(b, blocked);
}

TEST(resolve_longest_prefix_mirrors_rewrite)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_registries_conf *c = parse(full, &err);
  if (!c)
    FAIL_AT("parse failed: %s", err.msg);
  /* by tag: the digest-only mirror is skipped */
  check_resolve(_failed, c, "example.com/foo/img:1",
                "mirror-one.example/foo/img:1|0|1 internal.example:5000/bar/img:1|1|0", false);
  check_resolve(_failed, c, "example.com/foo/img@sha256:abcd",
                "mirror-one.example/foo/img@sha256:abcd|0|1 "
                "mirror-two.example:8443/foo/img@sha256:abcd|1|1 "
                "internal.example:5000/bar/img@sha256:abcd|1|0",
                false);
  check_resolve(_failed, c, "example.com/foo:tag",
                "mirror-one.example/foo:tag|0|1 internal.example:5000/bar:tag|1|0", false);
  /* component boundaries: foobar is not under foo; the shorter prefix wins */
  check_resolve(_failed, c, "example.com/foobar:1", "example.com/foobar:1|0|0", false);
  /* a port is not a tag: example.com does not cover example.com:5000 */
  check_resolve(_failed, c, "example.com:5000/x:1", "example.com:5000/x:1|0|0", false);
  check_resolve(_failed, c, "blocked.example/x:1", "blocked.example/x:1|0|0", true);
  check_resolve(_failed, c, "a.b.wild.example/x:1",
                "wild-mirror.example/x:1|0|1 a.b.wild.example/x:1|0|0", false);
  check_resolve(_failed, c, "wild.example/x:1", "wild.example/x:1|0|0", false);
  check_resolve(_failed, c, "unknown.example/x:1", "unknown.example/x:1|0|0", false);
  check_resolve(_failed, c,
                "uni\xc3\xa9"
                "code.example\t/x",
                "uni\xc3\xa9"
                "code.example\t/x|0|0",
                false);
  ASSERT_FALSE(keel_registries_conf_insecure(c, "example.com"));
  ASSERT_TRUE(keel_registries_conf_insecure(c, "mirror-two.example:8443"));
  keel_registries_conf_free(c);
  struct keel_registries_conf *d
      = parse("[[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n", &err);
  ASSERT_TRUE(d != NULL);
  ASSERT_TRUE(keel_registries_conf_insecure(d, "localhost:5000"));
  ASSERT_FALSE(keel_registries_conf_insecure(d, "localhost:5001"));
  keel_registries_conf_free(d);
}

TEST(empty_and_comment_only_files)
{
  struct keel_error err = KEEL_ERROR_INIT;
  static const char *const ok[]
      = { "", "\n\n", "# only a comment", "  \t# x\r\n\r\n", "unqualified-search-registries = []" };
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
    {
      struct keel_registries_conf *c = parse(ok[i], &err);
      if (!c)
        FAIL_AT("%zu: %s", i, err.msg);
      ASSERT_TRUE(keel_registries_conf_search(c)[0] == NULL);
      keel_registries_conf_free(c);
    }
}

/* Each must be refused, the message naming file:line and the reason. */
static const struct
{
  const char *text, *msg;
} invalid[] = {
  { "unqualified-search-registries = \"x\"",
    "test.conf:1: 'unqualified-search-registries' must be an array of strings" },
  { "\n\nunqualified-search-registries = [\"a\", 1]", "test.conf:3: unsupported value '1'" },
  { "unqualified-search-registries = [\"a\" \"b\"]",
    "test.conf:1: expected ',' or ']' in an array" },
  { "unqualified-search-registries = [\"a\",\n\"b\"\n",
    "test.conf:3: unterminated array (opened at line 1)" },
  { "unqualified-search-registries = [\"a/b\"]",
    "test.conf:1: search registry 'a/b' must be a registry host" },
  { "unqualified-search-registries = [[\"a\"]]", "test.conf:1: arrays may hold only strings" },
  { "foo = 1", "test.conf:1: unsupported value '1'" },
  { "foo = \"x\"", "test.conf:1: unknown key 'foo'" },
  { "x", "test.conf:1: expected '=' after key 'x'" },
  { "= \"x\"", "test.conf:1: expected a key, found '='" },
  { "a.b = \"x\"", "test.conf:1: dotted keys are not supported" },
  { "short-name-mode = \"sometimes\"",
    "test.conf:1: short-name-mode must be enforcing, permissive or disabled" },
  { "short-name-mode =", "test.conf:1: missing value after '='" },
  { "short-name-mode = \"enforcing\" extra", "test.conf:1: unexpected 'e' after the value" },
  { "short-name-mode = \"unterminated", "test.conf:1: unterminated string" },
  { "short-name-mode = \"\"\"multi\"\"\"", "test.conf:1: multi-line strings are not supported" },
  { "short-name-mode = \"bad \\q escape\"", "test.conf:1: invalid escape '\\q'" },
  { "short-name-mode = \"\\u12\"", "test.conf:1: invalid \\u escape: 4 hex digits expected" },
  { "short-name-mode = \"\\uD800\"", "test.conf:1: invalid unicode escape U+D800" },
  { "short-name-mode = {a = \"b\"}", "test.conf:1: inline tables are not supported" },
  { "\n[registries.search]\nregistries = [\"a\"]",
    "test.conf:2: [registries.search] is the version 1 format" },
  { "[registry]\nlocation = \"a\"", "test.conf:1: unknown table [registry]" },
  { "[[registry]\nlocation = \"a\"", "test.conf:1: expected ']]' to close table [[registry" },
  { "[[registry.mirror]]\nlocation = \"a\"",
    "test.conf:1: [[registry.mirror]] must follow a [[registry]]" },
  { "[[registry]]\ninsecure = true\n", "test.conf:1: [[registry]] needs a location or a prefix" },
  { "[[registry]]\nlocation = \"a\"\ninsecure = \"yes\"",
    "test.conf:3: 'insecure' must be a boolean" },
  { "[[registry]]\nlocation = \"a\"\nlocation = \"b\"", "test.conf:3: duplicate key 'location'" },
  { "[[registry]]\nlocation = \"https://a\"", "test.conf:2: 'location' must not include a scheme" },
  { "[[registry]]\nlocation = \"a\"\nmirrors = [\"b\"]",
    "test.conf:3: unknown key 'mirrors' in [[registry]]" },
  { "[[registry]]\nlocation = \"a\"\n[[registry]]\nprefix = \"a\"\nlocation = \"b\"",
    "test.conf:3: prefix 'a' is already defined at line 1" },
  { "[[registry]]\nlocation = \"a\"\n\n[[registry.mirror]]\ninsecure = true\n",
    "test.conf:4: [[registry.mirror]] needs a location" },
  { "[[registry]]\nlocation = \"a\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = "
    "\"never\"",
    "test.conf:5: pull-from-mirror must be all, digest-only or tag-only" },
  { "[[registry]]\nlocation = \"a\"\n[[registry.mirror]]\nlocation = \"m\"\nblocked = true",
    "test.conf:5: unknown key 'blocked' in [[registry.mirror]]" },
  { "[[registry]]\nprefix = \"*.example.com/path\"",
    "test.conf:1: wildcard prefix '*.example.com/path' takes neither" },
  { "[[registry]]\nprefix = \"*.example.com\"\nlocation = \"x\"",
    "test.conf:1: wildcard prefix '*.example.com' takes neither" },
  { "short-name-mode = \"a\x01\"", "test.conf:1: control character 0x01 in a string" },
};

TEST(malformed_files_name_file_line_and_reason)
{
  for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct keel_registries_conf *c = parse(invalid[i].text, &err);
      if (c)
        {
          keel_registries_conf_free(c);
          FAIL_AT("invalid[%zu] accepted: %s", i, invalid[i].text);
        }
      ASSERT_EQ(err.code, -EINVAL);
      if (strncmp(err.msg, invalid[i].msg, strlen(invalid[i].msg)) != 0)
        FAIL_AT("invalid[%zu]: got \"%s\", want \"%s...\"", i, err.msg, invalid[i].msg);
    }
}

TEST(nul_byte_is_refused)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_registries_conf *c = NULL;
  ASSERT_EQ(keel_registries_conf_parse("a = \"b\"\0", 8, "x.conf", &c, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "x.conf:1: NUL byte");
}

TEST(load_paths_and_environment)
{
  char dir[] = "/tmp/keel-regconf-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir) != NULL);
  char path[256], missing[256];
  snprintf(path, sizeof(path), "%s/registries.conf", dir);
  snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
  const char text[] = "unqualified-search-registries = [\"env.example\"]\n";
  ASSERT_OK(keel_write_file_atomic(AT_FDCWD, path, text, sizeof(text) - 1, 0644));
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_registries_conf *c = NULL;
  setenv("CONTAINERS_REGISTRIES_CONF", path, 1);
  _cleanup_free_ char *def = NULL;
  ASSERT_OK(keel_registries_conf_default_path(&def, &err));
  ASSERT_STREQ(def, path);
  ASSERT_OK(keel_registries_conf_load(NULL, &c, &err));
  ASSERT_STREQ(keel_registries_conf_search(c)[0], "env.example");
  keel_registries_conf_free(c);
  /* a missing file named explicitly, or by the environment, is an error */
  ASSERT_EQ(keel_registries_conf_load(missing, &c, &err), -ENOENT);
  ASSERT_CONTAINS(err.msg, "missing.conf");
  setenv("CONTAINERS_REGISTRIES_CONF", missing, 1);
  ASSERT_EQ(keel_registries_conf_load(NULL, &c, &err), -ENOENT);
  unsetenv("CONTAINERS_REGISTRIES_CONF");
  unlink(path);
  rmdir(dir);
}

TEST_MAIN
