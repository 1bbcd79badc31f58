/* auth.json: write, read back, longest-prefix lookup, Docker's config.json,
 * legacy URL keys, removal, mode 0600, and malformed files refused. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "registry/auth.h"

static char dir[64];

static void
mkpath(char *buf, size_t size, const char *name)
{
  if (!dir[0])
    {
      strcpy(dir, "/tmp/keel-auth-XXXXXX");
      if (!mkdtemp(dir))
        abort();
    }
  snprintf(buf, size, "%s/%s", dir, name);
}

static void
put(const char *name, const char *text)
{
  char p[256];
  mkpath(p, sizeof(p), name);
  if (keel_write_file_atomic(AT_FDCWD, p, text, strlen(text), 0600) < 0)
    abort();
}

/* Look name up in the files named; "user:pass", "-" for none, or "ERR: ...". */
static void
lookup(char *out, size_t size, const char *name, const char *f1, const char *f2)
{
  char p1[256], p2[256];
  const char *paths[3] = { NULL, NULL, NULL };
  mkpath(p1, sizeof(p1), f1);
  paths[0] = p1;
  if (f2)
    {
      mkpath(p2, sizeof(p2), f2);
      paths[1] = p2;
    }
  struct keel_error err = KEEL_ERROR_INIT;
  char *u = NULL, *pw = NULL;
  int r = keel_auth_lookup(paths, name, &u, &pw, &err);
  if (r < 0)
    snprintf(out, size, "ERR: %s", err.msg);
  else if (r == 0)
    snprintf(out, size, "-");
  else
    snprintf(out, size, "%s:%s", u, pw);
  free(u);
  free(pw);
}

TEST(store_then_lookup_roundtrip_mode_0600)
{
  char p[256], got[512];
  struct keel_error err = KEEL_ERROR_INIT;
  mkpath(p, sizeof(p), "sub/dir/auth.json");
  ASSERT_OK(keel_auth_store(p, "127.0.0.1:5000", "alice", "s3cr:et pass", &err));
  ASSERT_OK(keel_auth_store(p, "127.0.0.1:5000/team", "bob", "b", &err));
  struct stat st;
  ASSERT_OK(stat(p, &st) < 0 ? -errno : 0);
  ASSERT_EQ(st.st_mode & 07777, 0600);
  mkpath(p, sizeof(p), "sub");
  ASSERT_OK(stat(p, &st) < 0 ? -errno : 0);
  ASSERT_EQ(st.st_mode & 07777, 0700);
  lookup(got, sizeof(got), "127.0.0.1:5000", "sub/dir/auth.json", NULL);
  ASSERT_STREQ(got, "alice:s3cr:et pass");
  /* the podman-compatible encoding: base64 of user:password */
  mkpath(p, sizeof(p), "sub/dir/auth.json");
  _cleanup_json_ json_object *o = NULL;
  ASSERT_OK(keel_json_parse_file(p, &o, &err));
  json_object *auths, *e, *a;
  ASSERT_TRUE(json_object_object_get_ex(o, "auths", &auths));
  ASSERT_TRUE(json_object_object_get_ex(auths, "127.0.0.1:5000", &e));
  ASSERT_TRUE(json_object_object_get_ex(e, "auth", &a));
  ASSERT_STREQ(json_object_get_string(a), "YWxpY2U6czNjcjpldCBwYXNz");
  /* replacing keeps one entry */
  ASSERT_OK(keel_auth_store(p, "127.0.0.1:5000", "alice", "new", &err));
  lookup(got, sizeof(got), "127.0.0.1:5000/x/y", "sub/dir/auth.json", NULL);
  ASSERT_STREQ(got, "alice:new");
}

TEST(longest_prefix_on_path_boundaries)
{
  char got[512];
  put("prefix.json", "{\"auths\": {"
                     "\"reg.example\": {\"auth\": \"cm9vdDpy\"},"         /* root:r */
                     "\"reg.example/team\": {\"auth\": \"dGVhbTp0\"},"    /* team:t */
                     "\"reg.example/team/app\": {\"auth\": \"YXBwOmE=\"}" /* app:a */
                     "}, \"credHelpers\": {\"x\": \"y\"}}");
  lookup(got, sizeof(got), "reg.example", "prefix.json", NULL);
  ASSERT_STREQ(got, "root:r");
  lookup(got, sizeof(got), "reg.example/team/other", "prefix.json", NULL);
  ASSERT_STREQ(got, "team:t");
  lookup(got, sizeof(got), "reg.example/team/app", "prefix.json", NULL);
  ASSERT_STREQ(got, "app:a");
  lookup(got, sizeof(got), "reg.example/teamx/app", "prefix.json", NULL);
  ASSERT_STREQ(got, "root:r");
  lookup(got, sizeof(got), "reg.example:5000/team", "prefix.json", NULL);
  ASSERT_STREQ(got, "-");
  lookup(got, sizeof(got), "other.example", "prefix.json", NULL);
  ASSERT_STREQ(got, "-");
}

TEST(docker_config_legacy_keys_and_file_order)
{
  char got[512];
  put("docker.json", "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"aHViOmg=\"},"
                     "\"http://legacy.example:5000/v2/\": {\"auth\": \"bGVnOmw=\"},"
                     "\"helper.example\": {}}, \"credsStore\": \"desktop\"}");
  put("first.json", "{\"auths\": {\"legacy.example:5000\": {\"auth\": \"Zmlyc3Q6MQ==\"}}}");
  lookup(got, sizeof(got), "docker.io/library/busybox", "docker.json", NULL);
  ASSERT_STREQ(got, "hub:h");
  lookup(got, sizeof(got), "legacy.example:5000", "docker.json", NULL);
  ASSERT_STREQ(got, "leg:l");
  lookup(got, sizeof(got), "helper.example", "docker.json", NULL);
  ASSERT_STREQ(got, "-");
  /* the first file with a match wins */
  lookup(got, sizeof(got), "legacy.example:5000", "first.json", "docker.json");
  ASSERT_STREQ(got, "first:1");
  lookup(got, sizeof(got), "docker.io", "first.json", "docker.json");
  ASSERT_STREQ(got, "hub:h");
  /* a missing file is no credentials, not an error */
  lookup(got, sizeof(got), "docker.io", "missing.json", "docker.json");
  ASSERT_STREQ(got, "hub:h");
}

TEST(malformed_files_are_refused)
{
  char got[512];
  put("bad1.json", "{\"auths\": ");
  lookup(got, sizeof(got), "x", "bad1.json", NULL);
  ASSERT_CONTAINS(got, "ERR: ");
  ASSERT_CONTAINS(got, "bad1.json");
  put("bad2.json", "{\"auths\": {\"x\": {\"auth\": \"!!!!\"}}}");
  lookup(got, sizeof(got), "x", "bad2.json", NULL);
  ASSERT_CONTAINS(got, "auths.\"x\".auth is not base64");
  put("bad3.json", "{\"auths\": {\"x\": {\"auth\": \"bm9jb2xvbg==\"}}}"); /* nocolon */
  lookup(got, sizeof(got), "x", "bad3.json", NULL);
  ASSERT_CONTAINS(got, "auths.\"x\".auth is not user:password");
  put("bad4.json", "{\"auths\": []}");
  lookup(got, sizeof(got), "x", "bad4.json", NULL);
  ASSERT_CONTAINS(got, "auths: expected");
  put("bad5.json", "[1]");
  lookup(got, sizeof(got), "x", "bad5.json", NULL);
  ASSERT_CONTAINS(got, "not a JSON object");
}

TEST(remove_one_and_all_keep_other_keys)
{
  char p[256], got[512];
  struct keel_error err = KEEL_ERROR_INIT;
  put("rm.json", "{\"auths\": {\"a.example\": {\"auth\": \"YTph\"}, \"https://b.example/v1/\": "
                 "{\"auth\": \"Yjpi\"}, \"c.example\": {\"auth\": \"Yzpj\"}}, \"keep\": true}");
  mkpath(p, sizeof(p), "rm.json");
  ASSERT_EQ(keel_auth_remove(p, "a.example", &err), 1);
  ASSERT_EQ(keel_auth_remove(p, "a.example", &err), 0);
  ASSERT_EQ(keel_auth_remove(p, "b.example", &err), 1); /* its legacy URL key */
  lookup(got, sizeof(got), "c.example", "rm.json", NULL);
  ASSERT_STREQ(got, "c:c");
  ASSERT_EQ(keel_auth_remove_all(p, &err), 1);
  lookup(got, sizeof(got), "c.example", "rm.json", NULL);
  ASSERT_STREQ(got, "-");
  _cleanup_json_ json_object *o = NULL;
  ASSERT_OK(keel_json_parse_file(p, &o, &err));
  json_object *keep;
  ASSERT_TRUE(json_object_object_get_ex(o, "keep", &keep));
  ASSERT_EQ(keel_auth_remove_all(p, &err), 0);
}

TEST(default_paths_follow_the_environment)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_free_ char *p = NULL;
  setenv("REGISTRY_AUTH_FILE", "/x/auth.json", 1);
  ASSERT_OK(keel_auth_default_path(&p, &err));
  ASSERT_STREQ(p, "/x/auth.json");
  _cleanup_strv_ char **v = NULL;
  ASSERT_OK(keel_auth_lookup_paths(&v, &err));
  ASSERT_STREQ(v[0], "/x/auth.json");
  ASSERT_TRUE(v[1] == NULL); /* an explicit file is the only one read */
  unsetenv("REGISTRY_AUTH_FILE");
  setenv("XDG_RUNTIME_DIR", "/run/user/77", 1);
  setenv("XDG_CONFIG_HOME", "/home/u/.cfg", 1);
  setenv("HOME", "/home/u", 1);
  unsetenv("DOCKER_CONFIG");
  free(p);
  p = NULL;
  ASSERT_OK(keel_auth_default_path(&p, &err));
  ASSERT_STREQ(p, "/run/user/77/containers/auth.json");
  keel_strv_free(v);
  v = NULL;
  ASSERT_OK(keel_auth_lookup_paths(&v, &err));
  ASSERT_STREQ(v[1], "/home/u/.cfg/containers/auth.json");
  ASSERT_STREQ(v[2], "/home/u/.docker/config.json");
  unsetenv("XDG_RUNTIME_DIR");
  free(p);
  p = NULL;
  ASSERT_OK(keel_auth_default_path(&p, &err));
  if (geteuid() == 0)
    ASSERT_STREQ(p, "/run/containers/0/auth.json");
}

TEST(cleanup_tmpdir)
{
  if (dir[0])
    keel_rm_rf_at(AT_FDCWD, dir);
}

TEST_MAIN
