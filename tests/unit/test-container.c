/* engine/container without privileges: user lookup in an image's passwd
 * and group files, names and ids of records, the OCI config's defaults. */
#include "test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

static char dir[64];

static void
put(const char *rel, const char *text)
{
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/%s", dir, rel);
  keel_write_file_atomic(AT_FDCWD, p, text, strlen(text), 0644);
}

static int
setup(void)
{
  char p[PATH_MAX];
  strcpy(dir, "/tmp/keel-ctr-XXXXXX");
  if (!mkdtemp(dir))
    return -errno;
  snprintf(p, sizeof(p), "%s/rootfs/etc", dir);
  keel_mkdir_p(p, 0755);
  put("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                           "nobody:x:65534:65534:nobody:/:/bin/false\n"
                           "app:x:1000:100::/home/app:/bin/sh\n"
                           "broken line without fields\n");
  put("rootfs/etc/group", "root:x:0:\nusers:x:100:\nwheel:x:10:app,other\naudio:x:29:app\n");
  return 0;
}

TEST(user_lookup)
{
  ASSERT_OK(setup());
  char rootfs[PATH_MAX];
  snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
  unsigned uid, gid;
  _cleanup_free_ unsigned *groups = NULL;
  size_t n;
  ASSERT_OK(keel_ctr_user(rootfs, "app", &uid, &gid, &groups, &n, NULL));
  ASSERT_EQ(uid, 1000);
  ASSERT_EQ(gid, 100);
  ASSERT_EQ(n, 2); /* wheel and audio list app */
  free(TAKE_PTR(groups));
  ASSERT_OK(keel_ctr_user(rootfs, "1000", &uid, &gid, &groups, &n, NULL));
  ASSERT_EQ(gid, 100); /* a numeric uid in passwd takes its primary group */
  free(TAKE_PTR(groups));
  ASSERT_OK(keel_ctr_user(rootfs, "4242:7", &uid, &gid, &groups, &n, NULL));
  ASSERT_EQ(uid, 4242);
  ASSERT_EQ(gid, 7);
  free(TAKE_PTR(groups));
  ASSERT_OK(keel_ctr_user(rootfs, "nobody:wheel", &uid, &gid, &groups, &n, NULL));
  ASSERT_EQ(uid, 65534);
  ASSERT_EQ(gid, 10);
  free(TAKE_PTR(groups));
  /* what a user can get wrong: one line naming the thing */
  static const char *const bad[] = { "ghost", "app:nogroup", "ghost:0" };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      ASSERT_EQ(keel_ctr_user(rootfs, bad[i], &uid, &gid, &groups, &n, &err), -ENOENT);
      ASSERT_TRUE(strstr(err.msg, "unable to find") != NULL);
      free(TAKE_PTR(groups));
    }
}

TEST(record_names)
{
  char root[PATH_MAX], id[KEEL_CTR_ID_LEN + 1], id2[KEEL_CTR_ID_LEN + 1];
  snprintf(root, sizeof(root), "%s/store", dir);
  _cleanup_json_ json_object *cfg = json_object_new_object();
  json_object_object_add(cfg, "Name", json_object_new_string("web"));
  json_object_object_add(cfg, "Created", json_object_new_string("2026-01-01T00:00:00Z"));
  ASSERT_OK(keel_ctr_new(root, cfg, id, NULL));
  ASSERT_EQ(strlen(id), KEEL_CTR_ID_LEN);
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_EQ(keel_ctr_new(root, cfg, id2, &err), -EEXIST);
  ASSERT_TRUE(strstr(err.msg, "already in use") != NULL);
  ASSERT_OK(keel_ctr_lookup(root, "web", id2, NULL, NULL));
  ASSERT_STREQ(id2, id);
  char prefix[8];
  snprintf(prefix, sizeof(prefix), "%.6s", id);
  ASSERT_OK(keel_ctr_lookup(root, prefix, id2, NULL, NULL));
  ASSERT_STREQ(id2, id);
  ASSERT_EQ(keel_ctr_lookup(root, "nothere", id2, NULL, NULL), -ENOENT);
  static const char *const bad[] = { "-x", ".hidden", "a/b", "sp ace", "" };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    {
      _cleanup_json_ json_object *c = json_object_new_object();
      json_object_object_add(c, "Name", json_object_new_string(bad[i]));
      if (!*bad[i])
        continue; /* empty means "generate one" */
      ASSERT_EQ(keel_ctr_new(root, c, id2, NULL), -EINVAL);
    }
  ASSERT_EQ(keel_ctr_rename(root, id, "-bad", NULL), -EINVAL);
  ASSERT_OK(keel_ctr_rename(root, id, "web2", NULL));
  ASSERT_OK(keel_ctr_remove(root, id, NULL));
  ASSERT_EQ(keel_ctr_lookup(root, "web2", id2, NULL, NULL), -ENOENT);
}

TEST(spec_defaults)
{
  char root[PATH_MAX], rootfs_dir[PATH_MAX + 16], id[KEEL_CTR_ID_LEN + 1];
  snprintf(root, sizeof(root), "%s/store2", dir);
  _cleanup_json_ json_object *cfg = NULL;
  const char *text = "{\"Created\":\"x\",\"Config\":{\"Cmd\":[\"true\"],\"User\":\"app\","
                     "\"Hostname\":\"h\"},\"HostConfig\":{\"NetworkMode\":\"none\","
                     "\"CapDrop\":[\"chown\"],\"CapAdd\":[\"CAP_NET_ADMIN\"]}}";
  ASSERT_OK(keel_json_parse(text, strlen(text), "cfg", &cfg, NULL));
  ASSERT_OK(keel_ctr_new(root, cfg, id, NULL));
  /* the spec reads passwd from the (here unmounted) rootfs directory */
  keel_ctr_path(root, id, "rootfs", rootfs_dir, sizeof(rootfs_dir));
  char cmd[PATH_MAX * 3];
  snprintf(cmd, sizeof(cmd), "cp -a %s/rootfs %s", dir, rootfs_dir);
  ASSERT_EQ(system(cmd), 0);
  _cleanup_json_ json_object *spec = NULL;
  ASSERT_OK(keel_ctr_spec(root, id, cfg, NULL, &spec, NULL));
  const char *s = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN
                                                           | JSON_C_TO_STRING_NOSLASHESCAPE);
  ASSERT_TRUE(strstr(s, "\"uid\":1000") != NULL);
  ASSERT_TRUE(strstr(s, "CAP_NET_ADMIN") != NULL);
  ASSERT_TRUE(strstr(s, "CAP_CHOWN") == NULL);
  ASSERT_TRUE(strstr(s, "\"noNewPrivileges\":false") != NULL);
  ASSERT_TRUE(strstr(s, "\"defaultAction\":\"SCMP_ACT_ERRNO\"") != NULL);
  ASSERT_TRUE(strstr(s, "/proc/kcore") != NULL);
  keel_rm_rf_at(AT_FDCWD, dir);
}

TEST_MAIN
