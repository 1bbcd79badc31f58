#include "build/context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build/buf.h"
#include "lib/cleanup.h"

int
keel_context_open(int ctxfd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (unsigned)flags | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  int fd = (int)syscall(SYS_openat2, ctxfd, path, &how, sizeof(how));
  return fd < 0 ? -errno : fd;
}

bool
keel_context_has_wildcard(const char *s)
{
  for (; *s; s++)
    {
      if (*s == '\\' && s[1])
        s++;
      else if (*s == '*' || *s == '?' || *s == '[')
        return true;
    }
  return false;
}

/* Clean a relative source; -EXDEV when it climbs out. */
static int
clean_relative(const char *src, char *out, size_t size)
{
  struct keel_strv parts = { 0 };
  _cleanup_free_ char *copy = strdup(src);
  if (!copy)
    return -ENOMEM;
  int r = 0;
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c && r == 0; c = strtok_r(NULL, "/", &save))
    {
      if (strcmp(c, ".") == 0)
        continue;
      if (strcmp(c, "..") == 0)
        {
          if (parts.n == 0)
            r = -EXDEV;
          else
            free(parts.v[--parts.n]), parts.v[parts.n] = NULL;
          continue;
        }
      if (!keel_strv_pushdup(&parts, c))
        r = -ENOMEM;
    }
  out[0] = '\0';
  for (size_t i = 0; r == 0 && i < parts.n; i++)
    if ((i && strlen(out) + 1 >= size) || (i && !strcat(out, "/"))
        || strlen(out) + strlen(parts.v[i]) >= size || !strcat(out, parts.v[i]))
      r = -ENAMETOOLONG;
  if (r == 0 && !out[0])
    strcpy(out, ".");
  keel_strv_clear(&parts);
  return r;
}

static int
check_one(int ctxfd, const struct keel_ignore *ig, const char *src, const char *path,
          struct keel_error *err)
{
  if (strcmp(path, ".") != 0 && keel_ignore_excluded(ig, path))
    return keel_error_set(err, ENOENT, "%s: excluded from the build context by the ignore file",
                          src);
  int fd = keel_context_open(ctxfd, path, O_PATH);
  if (fd == -EXDEV || fd == -ELOOP)
    return keel_error_set(err, EXDEV, "%s: a symlink leads outside the build context", src);
  if (fd < 0)
    return keel_error_set_errno(err, fd, "%s: not found in the build context", src);
  close(fd);
  return 0;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a context directory. */
static int
list_dir(int ctxfd, const char *dir, char ***ret)
{
  int fd = keel_context_open(ctxfd, dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return fd;
  DIR *d = fdopendir(fd);
  if (!d)
    {
      close(fd);
      return -errno;
    }
  struct keel_strv names = { 0 };
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)))
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0
        && !keel_strv_pushdup(&names, de->d_name))
      r = -ENOMEM;
  closedir(d);
  if (r < 0)
    {
      keel_strv_clear(&names);
      return r;
    }
  if (names.n)
    qsort(names.v, names.n, sizeof(char *), cmp_str);
  *ret = keel_strv_steal(&names);
  return *ret ? 0 : -ENOMEM;
}

static char *
join(const char *dir, const char *name)
{
  char *s = NULL;
  if (strcmp(dir, ".") == 0)
    return strdup(name);
  return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

/* Match pattern components from index i against the tree below dir. */
static int
glob_walk(int ctxfd, const struct keel_ignore *ig, char **comp, const char *dir,
          struct keel_strv *out)
{
  if (!*comp)
    return keel_ignore_excluded(ig, dir) ? 0 : (keel_strv_pushdup(out, dir) ? 0 : -ENOMEM);
  _cleanup_strv_ char **names = NULL;
  int r = list_dir(ctxfd, dir, &names);
  if (r == -ENOTDIR || r == -ENOENT)
    return 0;
  if (r < 0)
    return r;
  for (char **n = names; *n; n++)
    {
      int m = keel_ignore_match(*comp, *n);
      if (m < 0)
        return m;
      if (m == 0)
        continue;
      _cleanup_free_ char *p = join(dir, *n);
      if (!p)
        return -ENOMEM;
      if ((r = glob_walk(ctxfd, ig, comp + 1, p, out)) < 0)
        return r;
    }
  return 0;
}

static int
glob_sources(int ctxfd, const struct keel_ignore *ig, const char *src, const char *clean,
             struct keel_strv *out, struct keel_error *err)
{
  _cleanup_free_ char *copy = strdup(clean);
  struct keel_strv comps = { 0 };
  if (!copy)
    return keel_error_set(err, ENOMEM, "out of memory");
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
    if (!keel_strv_pushdup(&comps, c))
      {
        keel_strv_clear(&comps);
        return keel_error_set(err, ENOMEM, "out of memory");
      }
  size_t before = out->n;
  int r = glob_walk(ctxfd, ig, comps.v, ".", out);
  keel_strv_clear(&comps);
  if (r == -EINVAL)
    return keel_error_set(err, EINVAL, "%s: bad wildcard pattern", src);
  if (r < 0)
    return keel_error_set_errno(err, r, "%s: cannot read the build context", src);
  if (out->n == before)
    return keel_error_set(err, ENOENT, "%s: no source files in the build context match", src);
  for (size_t i = before; i < out->n; i++)
    if ((r = check_one(ctxfd, ig, src, out->v[i], err)) < 0)
      return r;
  return 0;
}

int
keel_context_sources(int ctxfd, const struct keel_ignore *ig, const char *src, char ***list,
                     struct keel_error *err)
{
  if (src[0] == '/')
    return keel_error_set(err, EXDEV,
                          "%s: source is an absolute path; sources must be inside the build "
                          "context",
                          src);
  char clean[4096];
  int r = clean_relative(src, clean, sizeof(clean));
  if (r == -EXDEV)
    return keel_error_set(err, EXDEV, "%s: source is outside the build context", src);
  if (r < 0)
    return keel_error_set_errno(err, r, "%s: bad source path", src);
  struct keel_strv out = { .v = *list, .n = keel_strv_len(*list) };
  out.cap = out.n + 1;
  if (keel_context_has_wildcard(clean))
    r = glob_sources(ctxfd, ig, src, clean, &out, err);
  else if ((r = check_one(ctxfd, ig, src, clean, err)) >= 0 && !keel_strv_pushdup(&out, clean))
    r = keel_error_set(err, ENOMEM, "out of memory");
  *list = out.v;
  return r;
}

static int
feed(struct keel_digest_ctx *ctx, const char *s)
{
  return keel_digest_update(ctx, s, strlen(s) + 1);
}

static int
digest_file(int fd, struct keel_digest_ctx *ctx)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      if (n == 0)
        return 0;
      int r = keel_digest_update(ctx, buf, (size_t)n);
      if (r < 0)
        return r;
    }
}

static int digest_entry(int ctxfd, const struct keel_ignore *ig, const char *path, bool top,
                        struct keel_digest_ctx *ctx);

static int
digest_dir(int ctxfd, const struct keel_ignore *ig, const char *path, struct keel_digest_ctx *ctx)
{
  _cleanup_strv_ char **names = NULL;
  int r = list_dir(ctxfd, path, &names);
  if (r < 0)
    return r;
  for (char **n = names; *n; n++)
    {
      _cleanup_free_ char *p = join(path, *n);
      if (!p)
        return -ENOMEM;
      if (keel_ignore_excluded(ig, p) && !keel_ignore_has_exceptions(ig))
        continue;
      if ((r = digest_entry(ctxfd, ig, p, false, ctx)) < 0)
        return r;
    }
  return 0;
}

/* path, type, mode, owner, size, then content / target / children.  The top
 * source is followed (COPY copies what a symlink source points at); below
 * it links are recorded as links. */
static int
digest_entry(int ctxfd, const struct keel_ignore *ig, const char *path, bool top,
             struct keel_digest_ctx *ctx)
{
  _cleanup_close_ int fd = keel_context_open(ctxfd, path, O_PATH | (top ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return fd;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  bool excluded = strcmp(path, ".") != 0 && keel_ignore_excluded(ig, path);
  char meta[160];
  snprintf(meta, sizeof(meta), "%o %u %u %lld", (unsigned)st.st_mode, (unsigned)st.st_uid,
           (unsigned)st.st_gid, S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
  int r = 0;
  if (!excluded && ((r = feed(ctx, path)) < 0 || (r = feed(ctx, meta)) < 0))
    return r;
  if (S_ISDIR(st.st_mode))
    return digest_dir(ctxfd, ig, path, ctx);
  if (excluded)
    return 0;
  if (S_ISLNK(st.st_mode))
    {
      char target[4096];
      ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
      if (n < 0)
        return -errno;
      target[n] = '\0';
      return feed(ctx, target);
    }
  if (!S_ISREG(st.st_mode))
    return 0;
  _cleanup_close_ int rfd = keel_context_open(ctxfd, path, O_RDONLY | O_NOFOLLOW * !top);
  if (rfd < 0)
    return rfd;
  return digest_file(rfd, ctx);
}

int
keel_context_digest(int ctxfd, const struct keel_ignore *ig, const char *path,
                    struct keel_digest_ctx *ctx, struct keel_error *err)
{
  int r = digest_entry(ctxfd, ig, path, true, ctx);
  if (r == -EXDEV || r == -ELOOP)
    return keel_error_set(err, EXDEV, "%s: a symlink leads outside the build context", path);
  if (r < 0)
    return keel_error_set_errno(err, r, "%s: cannot read from the build context", path);
  return 0;
}

int
keel_context_glob(int rootfd, const char *pattern, char ***list, struct keel_error *err)
{
  char clean[4096];
  while (*pattern == '/')
    pattern++;
  int r = clean_relative(pattern, clean, sizeof(clean));
  if (r < 0)
    return keel_error_set_errno(err, r, "%s: bad source path", pattern);
  struct keel_strv out = { .v = *list, .n = keel_strv_len(*list) };
  out.cap = out.n + 1;
  size_t before = out.n;
  r = glob_sources(rootfd, NULL, pattern, clean, &out, err);
  *list = out.v;
  if (r == -ENOENT && keel_strv_len(*list) == before)
    return keel_error_set(err, ENOENT, "%s: no source files match", pattern);
  return r;
}
