/* The layer unpacker on tars built here with libarchive's writer:
 * whiteouts become overlay form, hostile entries are refused. */
#include "test.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/unpack.h"
#include "lib/fs.h"

struct ent
{
  const char *path;
  mode_t type;
  const char *data; /* file content, or link target */
  bool hardlink;
};

/* Write a gzip tar of ents to a memfd; return it rewound. */
static int
make_tar(const struct ent *e, size_t n)
{
  int fd = memfd_create("layer", 0);
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_open_fd(a, fd);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *ae = archive_entry_new();
      archive_entry_set_pathname(ae, e[i].path);
      archive_entry_set_filetype(ae, e[i].type);
      archive_entry_set_perm(ae, 0644);
      if (e[i].hardlink)
        archive_entry_set_hardlink(ae, e[i].data);
      else if (e[i].type == AE_IFLNK)
        archive_entry_set_symlink(ae, e[i].data);
      else if (e[i].type == AE_IFREG)
        archive_entry_set_size(ae, e[i].data ? (la_int64_t)strlen(e[i].data) : 0);
      else if (e[i].type == AE_IFCHR)
        archive_entry_set_rdev(ae, makedev(1, 3));
      archive_write_header(a, ae);
      if (e[i].type == AE_IFREG && e[i].data && !e[i].hardlink)
        archive_write_data(a, e[i].data, strlen(e[i].data));
      archive_entry_free(ae);
    }
  archive_write_close(a);
  archive_write_free(a);
  lseek(fd, 0, SEEK_SET);
  return fd;
}

static int
unpack(const struct ent *e, size_t n, const char *dir, struct keel_error *err)
{
  int tar = make_tar(e, n);
  keel_rm_rf_at(AT_FDCWD, dir);
  mkdir(dir, 0755);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  struct keel_unpack_source src = { keel_unpack_read_fd, &tar };
  struct keel_unpack_opts o = KEEL_UNPACK_OPTS_INIT;
  struct keel_unpack_stats st;
  int r = keel_unpack_layer(dfd, &src, &o, &st, err);
  close(dfd);
  close(tar);
  return r;
}

#define DIR_ "/tmp/keel-test-unpack"

TEST(whiteouts_become_overlay_form)
{
  if (geteuid() != 0)
    return; /* mknod and trusted.* xattrs need root */
  const struct ent e[] = {
    { "etc/", AE_IFDIR, NULL, false },    { "etc/.wh.passwd", AE_IFREG, NULL, false },
    { "opq/", AE_IFDIR, NULL, false },    { "opq/.wh..wh..opq", AE_IFREG, NULL, false },
    { "opq/kept", AE_IFREG, "k", false }, { "a", AE_IFREG, "hello", false },
    { "b", AE_IFREG, "a", true },         { "l", AE_IFLNK, "/etc/shadow", false },
  };
  struct keel_error err = KEEL_ERROR_INIT;
  if (unpack(e, (sizeof(e) / sizeof(e[0])), DIR_, &err) < 0)
    FAIL_AT("unpack: %s", err.msg);
  struct stat st;
  ASSERT_OK(lstat(DIR_ "/etc/passwd", &st));
  ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  char v[4] = "";
  ASSERT_EQ(getxattr(DIR_ "/opq", "trusted.overlay.opaque", v, sizeof(v)), 1);
  ASSERT_EQ(v[0], 'y');
  ASSERT_EQ(access(DIR_ "/opq/.wh..wh..opq", F_OK), -1);
  ASSERT_OK(stat(DIR_ "/b", &st));
  ASSERT_EQ(st.st_nlink, 2);
  ASSERT_OK(lstat(DIR_ "/l", &st));
  ASSERT_TRUE(S_ISLNK(st.st_mode));
  keel_rm_rf_at(AT_FDCWD, DIR_);
}

static const struct
{
  struct ent e[3];
  size_t n;
  const char *why;
} HOSTILE[] = {
  { { { "../escape", AE_IFREG, "x", false } }, 1, "path contains '..'" },
  { { { "a/../../escape", AE_IFREG, "x", false } }, 1, "path contains '..'" },
  { { { "/abs", AE_IFREG, "x", false } }, 1, "absolute path" },
  { { { "s", AE_IFLNK, "/tmp", false }, { "s/keel-test-escape", AE_IFREG, "x", false } },
    2,
    "passes through a symlink" },
  { { { "h", AE_IFREG, "/etc/passwd", true } }, 1, "absolute path" },
  { { { "h", AE_IFREG, "nothere", true } }, 1, "not in this layer" },
  { { { ".wh..", AE_IFREG, NULL, false } }, 1, "whiteout of '.' or '..'" },
  { { { "d/", AE_IFDIR, NULL, false }, { "d", AE_IFREG, "x", false } },
    2,
    "duplicate entry replaces a directory" },
};

TEST(hostile_entries_refused)
{
  if (geteuid() != 0)
    return; /* layers keep their owners: chown needs root */
  for (size_t i = 0; i < sizeof(HOSTILE) / sizeof(HOSTILE[0]); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      if (unpack(HOSTILE[i].e, HOSTILE[i].n, DIR_, &err) >= 0)
        FAIL_AT("hostile case %zu accepted", i);
      if (!strstr(err.msg, HOSTILE[i].why))
        FAIL_AT("case %zu: '%s' lacks '%s'", i, err.msg, HOSTILE[i].why);
    }
  ASSERT_EQ(access("/tmp/keel-test-escape", F_OK), -1);
  keel_rm_rf_at(AT_FDCWD, DIR_);
}

/* Root in the initial user namespace: the full identity map. */
static bool
initial_root(void)
{
  unsigned long in = 1, out = 1, count = 0;
  FILE *f = fopen("/proc/self/uid_map", "re");
  bool ok = f && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3 && in == 0 && out == 0
            && count == 4294967295ul;
  if (f)
    fclose(f);
  return geteuid() == 0 && ok;
}

TEST(device_nodes_only_for_initial_root)
{
  static const struct ent e[] = { { "dev/null", AE_IFCHR, NULL, false } };
  struct keel_error err = KEEL_ERROR_INIT;
  int r = unpack(e, 1, DIR_, &err);
  if (initial_root())
    {
      struct stat st;
      ASSERT_EQ(r, 0);
      ASSERT_EQ(lstat(DIR_ "/dev/null", &st), 0);
      ASSERT_TRUE(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
    }
  else
    {
      ASSERT_TRUE(r < 0);
      ASSERT_TRUE(strstr(err.msg, "device nodes are not allowed") != NULL);
    }
  keel_rm_rf_at(AT_FDCWD, DIR_);
}

TEST(duplicate_file_later_wins)
{
  if (geteuid() != 0)
    return;
  const struct ent e[]
      = { { "f", AE_IFLNK, "/etc/passwd", false }, { "f", AE_IFREG, "new", false } };
  struct keel_error err = KEEL_ERROR_INIT;
  if (unpack(e, 2, DIR_, &err) < 0)
    FAIL_AT("unpack: %s", err.msg);
  struct stat st;
  ASSERT_OK(lstat(DIR_ "/f", &st));
  ASSERT_TRUE(S_ISREG(st.st_mode) && st.st_size == 3);
  keel_rm_rf_at(AT_FDCWD, DIR_);
}

TEST_MAIN
