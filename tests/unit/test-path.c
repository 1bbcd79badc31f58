/* Safe path resolution inside a root, through openat2 and through the walker. */
#include "test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/path.h"

static char root[64];
static char outside[64];

static int
setup(void)
{
  strcpy(root, "/tmp/keel-path-XXXXXX");
  strcpy(outside, "/tmp/keel-out-XXXXXX");
  if (!mkdtemp(root) || !mkdtemp(outside))
    return -errno;
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "%s/etc", root);
  mkdir(p, 0755);
  snprintf(p, sizeof(p), "%s/etc/passwd", root);
  keel_write_file_atomic(AT_FDCWD, p, "inside\n", 7, 0644);
  snprintf(p, sizeof(p), "%s/secret", outside);
  keel_write_file_atomic(AT_FDCWD, p, "outside\n", 8, 0644);
  /* hostile links: absolute, relative escaping, chains */
  snprintf(p, sizeof(p), "%s/abs", root);
  if (symlink(outside, p) < 0)
    return -errno;
  snprintf(p, sizeof(p), "%s/rel", root);
  if (symlink("../../../../../../../..", p) < 0)
    return -errno;
  snprintf(p, sizeof(p), "%s/etclink", root);
  if (symlink("/etc", p) < 0)
    return -errno;
  snprintf(p, sizeof(p), "%s/loop", root);
  if (symlink("loop", p) < 0)
    return -errno;
  return 0;
}

static void
check_all(bool *_failed)
{
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_TRUE(rootfd >= 0);
  char buf[64];

  int fd = keel_path_open_in_root(rootfd, "/etc/passwd", O_RDONLY, &err);
  ASSERT_OK(fd);
  ASSERT_EQ(read(fd, buf, sizeof(buf)), 7);
  close(fd);

  /* /abs -> host directory: resolved as <root>/tmp/keel-out-..., which does not exist */
  char p[PATH_MAX];
  snprintf(p, sizeof(p), "/abs/secret");
  ASSERT_EQ(keel_path_open_in_root(rootfd, p, O_RDONLY, &err), -ENOENT);
  /* ".." past the root stays at the root */
  fd = keel_path_open_in_root(rootfd, "../../../etc/passwd", O_RDONLY, &err);
  ASSERT_OK(fd);
  ASSERT_EQ(read(fd, buf, sizeof(buf)), 7);
  close(fd);
  fd = keel_path_open_in_root(rootfd, "rel/etc/passwd", O_RDONLY, &err);
  ASSERT_OK(fd);
  ASSERT_EQ(read(fd, buf, sizeof(buf)), 7);
  close(fd);
  fd = keel_path_open_in_root(rootfd, "etclink/passwd", O_RDONLY, &err);
  ASSERT_OK(fd);
  close(fd);
  ASSERT_EQ(keel_path_open_in_root(rootfd, "loop", O_RDONLY, &err), -ELOOP);

  /* creating through a hostile link lands inside the root */
  fd = keel_path_create_in_root(rootfd, "/abs/new/dir", KEEL_PATH_CREATE_DIR, 0755, &err);
  ASSERT_OK(fd);
  close(fd);
  snprintf(p, sizeof(p), "%s%s/new/dir", root, outside);
  struct stat st;
  ASSERT_OK(stat(p, &st));
  ASSERT_TRUE(S_ISDIR(st.st_mode));
  snprintf(p, sizeof(p), "%s/new", outside);
  ASSERT_TRUE(stat(p, &st) < 0);

  fd = keel_path_create_in_root(rootfd, "/rel/f/file", KEEL_PATH_CREATE_FILE, 0644, &err);
  ASSERT_OK(fd);
  close(fd);
  snprintf(p, sizeof(p), "%s/f/file", root);
  ASSERT_OK(stat(p, &st));
  ASSERT_TRUE(S_ISREG(st.st_mode));

  /* a file in the middle of a path */
  ASSERT_EQ(keel_path_create_in_root(rootfd, "/etc/passwd/x", KEEL_PATH_CREATE_DIR, 0755, &err),
            -ENOTDIR);
}

TEST(openat2_resolution)
{
  ASSERT_OK(setup());
  keel_path_force_walker = false;
  check_all(_failed);
  keel_rm_rf_at(AT_FDCWD, root);
  keel_rm_rf_at(AT_FDCWD, outside);
}

TEST(walker_resolution)
{
  ASSERT_OK(setup());
  keel_path_force_walker = true;
  check_all(_failed);
  keel_path_force_walker = false;
  keel_rm_rf_at(AT_FDCWD, root);
  keel_rm_rf_at(AT_FDCWD, outside);
}

TEST(clean)
{
  char out[64];
  const char *cases[][2] = {
    { "/", "/" },        { "a/b", "/a/b" }, { "//a//b/", "/a/b" }, { "/a/./b", "/a/b" },
    { "/a/../b", "/b" }, { "/../..", "/" }, { "/a/b/../..", "/" }, { "/a/b/../c", "/a/c" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
    {
      ASSERT_OK(keel_path_clean(cases[i][0], out, sizeof(out)));
      ASSERT_STREQ(out, cases[i][1]);
    }
}

TEST_MAIN
