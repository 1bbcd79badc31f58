/* engine/build: the layer writer (overlay upper dir → OCI layer tar:
 * whiteouts, opaque directories, hardlinks, xattrs, sorted and
 * reproducible output) and Dockerfile-style config changes. */
#include "test.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "build/layer.h"
#include "build/working.h"
#include "image/unpack.h"
#include "lib/digest.h"
#include "lib/fs.h"
#include "lib/json.h"

struct seen
{
  char path[256];
  int type;
  char link[256];
  int64_t size, mtime;
  bool overlay_xattr, user_xattr;
};

static char dirs[8][64];
static size_t n_dirs;

static void
remove_dirs(void)
{
  for (size_t i = 0; i < n_dirs; i++)
    keel_rm_rf_at(AT_FDCWD, dirs[i]);
}

static char *
make_dir(void)
{
  if (n_dirs == 0)
    atexit(remove_dirs);
  char *t = dirs[n_dirs++ % 8];
  snprintf(t, sizeof(dirs[0]), "/tmp/keel-test-layer-XXXXXX");
  return mkdtemp(t);
}

static char last_tree[64];

static void
put(int dirfd, const char *path, const char *text)
{
  keel_write_file_replace(dirfd, path, text, strlen(text), 0644);
}

/* A tree as overlayfs leaves an upper dir; whiteout and opaque parts
 * only as root (mknod and trusted.* xattrs need it). */
static int
build_tree(bool root)
{
  char *d = make_dir();
  snprintf(last_tree, sizeof(last_tree), "%s", d);
  int fd = open(d, O_RDONLY | O_DIRECTORY);
  mkdirat(fd, "a", 0755);
  put(fd, "b", "bee\n");
  put(fd, "a/x", "x\n");
  if (linkat(fd, "b", fd, "a/h", 0) < 0 || symlinkat("b", fd, "l") < 0)
    return -1;
  char p[128];
  snprintf(p, sizeof(p), "%s/b", d);
  setxattr(p, "user.keel", "1", 1, 0); /* tmpfs may refuse: checked below */
  if (root)
    {
      mknodat(fd, "gone", S_IFCHR | 0, makedev(0, 0));
      mkdirat(fd, "o", 0755);
      put(fd, "o/keep", "k\n");
      snprintf(p, sizeof(p), "%s/o", d);
      setxattr(p, "trusted.overlay.opaque", "y", 1, 0);
    }
  return fd;
}

static size_t
read_tar(int fd, struct seen *out, size_t max)
{
  lseek(fd, 0, SEEK_SET);
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_open_fd(a, fd, 65536);
  struct archive_entry *e;
  size_t n = 0;
  while (n < max && archive_read_next_header(a, &e) == ARCHIVE_OK)
    {
      struct seen *s = &out[n++];
      memset(s, 0, sizeof(*s));
      snprintf(s->path, sizeof(s->path), "%s", archive_entry_pathname(e));
      s->type = (int)archive_entry_filetype(e);
      const char *l
          = archive_entry_hardlink(e) ? archive_entry_hardlink(e) : archive_entry_symlink(e);
      snprintf(s->link, sizeof(s->link), "%s", l ? l : "");
      s->size = archive_entry_size(e);
      s->mtime = archive_entry_mtime(e);
      const char *k;
      const void *v;
      size_t vn;
      archive_entry_xattr_reset(e);
      while (archive_entry_xattr_next(e, &k, &v, &vn) == ARCHIVE_OK)
        {
          s->overlay_xattr |= !strncmp(k, "trusted.overlay.", 16);
          s->user_xattr |= !strcmp(k, "user.keel");
        }
    }
  archive_read_free(a);
  return n;
}

static const struct seen *
find(const struct seen *v, size_t n, const char *path)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].path, path))
      return &v[i];
  return NULL;
}

static int
index_of(const struct seen *v, size_t n, const char *path)
{
  const struct seen *s = find(v, n, path);
  return s ? (int)(s - v) : -1;
}

TEST(layer_entries_hardlinks_and_digests)
{
  bool root = geteuid() == 0;
  int dir = build_tree(root), out = memfd_create("layer", 0);
  ASSERT_TRUE(dir >= 0);
  struct keel_layer_write_opts o = KEEL_LAYER_WRITE_OPTS_INIT;
  o.compression = KEEL_COMPRESSION_NONE;
  struct keel_layer_write_result res;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(keel_layer_write(dir, out, &o, &res, &err));
  struct seen v[32];
  size_t n = read_tar(out, v, 32);
  ASSERT_EQ(n, res.entries);
  /* sorted: "a/" before its content, "a/h" (first name of the inode) is
   * the file, "b" a hardlink to it */
  ASSERT_TRUE(index_of(v, n, "a/") >= 0); /* directories carry a trailing '/' */
  ASSERT_TRUE(index_of(v, n, "a/") < index_of(v, n, "a/h"));
  ASSERT_TRUE(index_of(v, n, "a/x") < index_of(v, n, "b"));
  ASSERT_EQ(find(v, n, "a/h")->type, AE_IFREG);
  ASSERT_EQ(find(v, n, "a/h")->size, 4);
  ASSERT_STREQ(find(v, n, "b")->link, "a/h");
  ASSERT_EQ(find(v, n, "l")->type, AE_IFLNK);
  ASSERT_STREQ(find(v, n, "l")->link, "b");
  /* uncompressed: the blob is the tar, so both digests match its bytes */
  char whole[KEEL_DIGEST_MAX];
  char *buf = NULL;
  size_t len = 0;
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/fd/%d", out);
  ASSERT_OK(keel_read_file(AT_FDCWD, p, 1 << 24, &buf, &len));
  keel_digest_buffer(buf, len, whole);
  free(buf);
  ASSERT_EQ(len, res.size);
  ASSERT_STREQ(res.diff_id, whole);
  ASSERT_STREQ(res.digest, whole);
  if (!root)
    return;
  /* overlay's forms became OCI's: ".wh.gone", and the opaque marker
   * right after its directory; no trusted.overlay xattr leaks */
  ASSERT_EQ(find(v, n, ".wh.gone")->type, AE_IFREG);
  ASSERT_EQ(find(v, n, ".wh.gone")->size, 0);
  ASSERT_TRUE(find(v, n, "gone") == NULL);
  ASSERT_EQ(index_of(v, n, "o/.wh..wh..opq"), index_of(v, n, "o/") + 1);
  ASSERT_EQ(res.whiteouts, 2);
  for (size_t i = 0; i < n; i++)
    ASSERT_FALSE(v[i].overlay_xattr);
  /* a user xattr travels (where the filesystem took it) */
  char xp[128], xv[4];
  snprintf(xp, sizeof(xp), "%s/b", last_tree);
  if (getxattr(xp, "user.keel", xv, sizeof(xv)) == 1)
    ASSERT_TRUE(find(v, n, "a/h")->user_xattr);
  close(dir);
  close(out);
}

TEST(layer_reproducible_with_source_date)
{
  int dir = build_tree(geteuid() == 0);
  ASSERT_TRUE(dir >= 0);
  struct keel_layer_write_opts o = KEEL_LAYER_WRITE_OPTS_INIT;
  o.source_date = 1000;
  o.rewrite_timestamps = true;
  struct keel_layer_write_result r1, r2, r3;
  struct keel_error err = KEEL_ERROR_INIT;
  int f1 = memfd_create("l1", 0), f2 = memfd_create("l2", 0), f3 = memfd_create("l3", 0);
  ASSERT_OK(keel_layer_write(dir, f1, &o, &r1, &err));
  struct timespec later[2] = { { 5000, 0 }, { 5000, 0 } };
  utimensat(dir, "b", later, AT_SYMLINK_NOFOLLOW);
  ASSERT_OK(keel_layer_write(dir, f2, &o, &r2, &err));
  /* same tree, other mtimes, same source date: the same gzip blob */
  ASSERT_STREQ(r1.digest, r2.digest);
  ASSERT_STREQ(r1.diff_id, r2.diff_id);
  struct seen v[32];
  size_t n = read_tar(f2, v, 32);
  for (size_t i = 0; i < n; i++)
    ASSERT_EQ(v[i].mtime, 1000);
  /* clamping only: older times stay, newer ones come down */
  o.rewrite_timestamps = false;
  o.source_date = 3000;
  struct timespec old[2] = { { 100, 0 }, { 100, 0 } };
  utimensat(dir, "a/x", old, AT_SYMLINK_NOFOLLOW);
  ASSERT_OK(keel_layer_write(dir, f3, &o, &r3, &err));
  n = read_tar(f3, v, 32);
  ASSERT_EQ(find(v, n, "a/x")->mtime, 100);
  ASSERT_EQ(find(v, n, "a/h")->mtime, 3000);
  ASSERT_TRUE(strcmp(r3.diff_id, r1.diff_id) != 0);
  close(dir);
}

TEST(layer_round_trips_through_the_unpacker)
{
  if (geteuid() != 0)
    return;
  int dir = build_tree(true), out = memfd_create("layer", 0);
  ASSERT_TRUE(dir >= 0);
  struct keel_layer_write_opts o = KEEL_LAYER_WRITE_OPTS_INIT;
  struct keel_layer_write_result res;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(keel_layer_write(dir, out, &o, &res, &err));
  lseek(out, 0, SEEK_SET);
  int back = open(make_dir(), O_RDONLY | O_DIRECTORY);
  struct keel_unpack_source src = { keel_unpack_read_fd, &out };
  struct keel_unpack_opts uo = KEEL_UNPACK_OPTS_INIT;
  struct keel_unpack_stats st;
  ASSERT_OK(keel_unpack_layer(back, &src, &uo, &st, &err));
  ASSERT_STREQ(st.diff_id, res.diff_id);
  ASSERT_STREQ(st.digest, res.digest);
  struct stat s;
  ASSERT_OK(fstatat(back, "gone", &s, AT_SYMLINK_NOFOLLOW));
  ASSERT_TRUE(S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0));
  char val[4] = "";
  char p[64];
  snprintf(p, sizeof(p), "/proc/self/fd/%d/o", back);
  ASSERT_EQ(lgetxattr(p, "trusted.overlay.opaque", val, sizeof(val)), 1);
  ASSERT_EQ(val[0], 'y');
  struct stat h1, h2;
  ASSERT_OK(fstatat(back, "a/h", &h1, 0));
  ASSERT_OK(fstatat(back, "b", &h2, 0));
  ASSERT_EQ(h1.st_ino, h2.st_ino);
  close(dir);
  close(back);
}

TEST(layer_refuses_redirect_dirs)
{
  if (geteuid() != 0)
    return;
  char *d = make_dir();
  int dir = open(d, O_RDONLY | O_DIRECTORY), out = memfd_create("layer", 0);
  mkdirat(dir, "moved", 0755);
  char p[128];
  snprintf(p, sizeof(p), "%s/moved", d);
  ASSERT_OK(setxattr(p, "trusted.overlay.redirect", "/old", 4, 0));
  struct keel_layer_write_opts o = KEEL_LAYER_WRITE_OPTS_INIT;
  struct keel_layer_write_result res;
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_EQ(keel_layer_write(dir, out, &o, &res, &err), -ENOTSUP);
  ASSERT_CONTAINS(err.msg, "moved");
  ASSERT_EQ(keel_layer_dir_empty(dir, &err), 0);
  unlinkat(dir, "moved", AT_REMOVEDIR);
  ASSERT_EQ(keel_layer_dir_empty(dir, &err), 1);
  close(dir);
}

static json_object *
apply(const char *const *lines, int *ret)
{
  json_object *ic = json_object_new_object();
  struct keel_error err = KEEL_ERROR_INIT;
  *ret = 0;
  for (size_t i = 0; lines[i] && *ret == 0; i++)
    *ret = keel_image_config_apply_change(ic, lines[i], &err);
  return ic;
}

static const char *
conf_json(json_object *ic, const char *key)
{
  json_object *c, *v;
  if (!json_object_object_get_ex(ic, "config", &c) || !json_object_object_get_ex(c, key, &v))
    return "";
  return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

TEST(config_changes)
{
  static const char *const lines[] = {
    "CMD echo hi",
    "ENTRYPOINT [\"/bin/tini\", \"--\"]",
    "ENV A=1 B=\"two words\"",
    "ENV C three words here",
    "ENV A=one",
    "EXPOSE 80 53/udp",
    "LABEL version=1.0 \"name\"=keel",
    "WORKDIR /srv",
    "WORKDIR app/../data",
    "USER nobody:nogroup",
    "VOLUME [\"/v1\", \"/v2\"]",
    "STOPSIGNAL SIGINT",
    "HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost",
    "ONBUILD RUN make",
    "SHELL [\"/bin/bash\", \"-c\"]",
    NULL,
  };
  int r;
  json_object *ic = apply(lines, &r);
  ASSERT_EQ(r, 0);
  ASSERT_STREQ(conf_json(ic, "Cmd"), "[\"/bin/sh\",\"-c\",\"echo hi\"]");
  ASSERT_STREQ(conf_json(ic, "Entrypoint"), "[\"/bin/tini\",\"--\"]");
  ASSERT_STREQ(conf_json(ic, "Env"), "[\"A=one\",\"B=two words\",\"C=three words here\"]");
  ASSERT_STREQ(conf_json(ic, "ExposedPorts"), "{\"80/tcp\":{},\"53/udp\":{}}");
  ASSERT_STREQ(conf_json(ic, "Labels"), "{\"version\":\"1.0\",\"name\":\"keel\"}");
  ASSERT_STREQ(conf_json(ic, "WorkingDir"), "\"/srv/data\"");
  ASSERT_STREQ(conf_json(ic, "User"), "\"nobody:nogroup\"");
  ASSERT_STREQ(conf_json(ic, "Volumes"), "{\"/v1\":{},\"/v2\":{}}");
  ASSERT_STREQ(conf_json(ic, "StopSignal"), "\"SIGINT\"");
  ASSERT_STREQ(conf_json(ic, "Healthcheck"), "{\"Test\":[\"CMD-SHELL\",\"wget -q localhost\"],"
                                             "\"Interval\":5000000000,\"Retries\":3}");
  ASSERT_STREQ(conf_json(ic, "OnBuild"), "[\"RUN make\"]");
  ASSERT_STREQ(conf_json(ic, "Shell"), "[\"/bin/bash\",\"-c\"]");
  json_object_put(ic);
}

TEST(config_changes_refused)
{
  static const char *const bad[] = {
    "FROM busybox",
    "EXPOSE 70000",
    "EXPOSE 80/icmp",
    "ENV",
    "SHELL /bin/sh",
    "HEALTHCHECK --bogus=1 CMD true",
    "HEALTHCHECK --interval=xs CMD true",
    "USER a b",
    "LABEL \"unterminated",
    "",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    {
      json_object *ic = json_object_new_object();
      struct keel_error err = KEEL_ERROR_INIT;
      int r = keel_image_config_apply_change(ic, bad[i], &err);
      json_object_put(ic);
      if (r >= 0)
        FAIL_AT("'%s' was accepted", bad[i]);
      ASSERT_TRUE(err.msg[0] != '\0');
    }
}

TEST_MAIN
