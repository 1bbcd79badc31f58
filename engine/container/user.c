/* -u USER[:GROUP] looked up in the image's /etc/passwd and /etc/group,
 * read inside the rootfs (a symlink cannot lead the lookup out of it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/path.h"

static FILE *
open_in(const char *rootfs, const char *path)
{
  _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return NULL;
  int fd = keel_path_open_in_root(rfd, path, O_RDONLY | O_CLOEXEC, NULL);
  return fd < 0 ? NULL : fdopen(fd, "r");
}

static bool
numeric(const char *s, unsigned *ret)
{
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (!*s || *end || errno || v > 0xfffffffe)
    return false;
  *ret = (unsigned)v;
  return true;
}

/* Field 0 (name) or 2 (id) of a colon file line matching key; fills
 * fields 2 and 3 (ids) into *a and *b.  1 when found. */
static int
find_entry(FILE *f, const char *key, bool by_id, unsigned id, unsigned *a, unsigned *b, char *name,
           size_t name_size)
{
  char line[4096];
  while (f && fgets(line, sizeof(line), f))
    {
      char *fld[4] = { 0 }, *p = line;
      for (int i = 0; i < 4 && p; i++)
        {
          fld[i] = p;
          p = strchr(p, ':');
          if (p)
            *p++ = '\0';
        }
      unsigned x, y = 0;
      if (!fld[2] || !numeric(fld[2], &x))
        continue;
      if (fld[3])
        {
          fld[3][strcspn(fld[3], ":\n")] = '\0';
          numeric(fld[3], &y);
        }
      if (by_id ? x == id : !strcmp(fld[0], key))
        {
          *a = x;
          *b = y;
          if (name)
            snprintf(name, name_size, "%s", fld[0]);
          return 1;
        }
    }
  return 0;
}

/* Supplementary groups: every group in /etc/group listing the user. */
static void
supplementary(const char *rootfs, const char *user, unsigned **ret, size_t *ret_n)
{
  _cleanup_fclose_ FILE *f = open_in(rootfs, "/etc/group");
  char line[4096];
  while (user && f && fgets(line, sizeof(line), f))
    {
      line[strcspn(line, "\n")] = '\0';
      char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
      char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
      if (!c3)
        continue;
      *c3 = '\0';
      unsigned gid;
      if (!numeric(c2 + 1, &gid))
        continue;
      for (char *tok = strtok(c3 + 1, ","); tok; tok = strtok(NULL, ","))
        if (!strcmp(tok, user))
          {
            unsigned *v = realloc(*ret, (*ret_n + 1) * sizeof(*v));
            if (!v)
              return;
            v[(*ret_n)++] = gid;
            *ret = v;
          }
    }
}

int
keel_ctr_user(const char *rootfs, const char *spec, unsigned *ret_uid, unsigned *ret_gid,
              unsigned **ret_groups, size_t *ret_n, struct keel_error *err)
{
  char user[256], *group = NULL;
  snprintf(user, sizeof(user), "%s", spec && *spec ? spec : "0");
  if ((group = strchr(user, ':')))
    *group++ = '\0';
  unsigned uid, gid = 0, dummy;
  *ret_groups = NULL;
  *ret_n = 0;
  _cleanup_fclose_ FILE *pw = open_in(rootfs, "/etc/passwd");
  bool num = numeric(user, &uid);
  char name[256] = "";
  if (num)
    find_entry(pw, NULL, true, uid, &dummy, &gid, name, sizeof(name));
  else if (!find_entry(pw, user, false, 0, &uid, &gid, name, sizeof(name)))
    return keel_error_set(err, -ENOENT,
                          "unable to find user %s: no matching entries in passwd file", user);
  if (group && *group && !numeric(group, &gid))
    {
      _cleanup_fclose_ FILE *gr = open_in(rootfs, "/etc/group");
      if (!find_entry(gr, group, false, 0, &gid, &dummy, NULL, 0))
        return keel_error_set(err, -ENOENT,
                              "unable to find group %s: no matching entries in group file", group);
    }
  if (!group)
    supplementary(rootfs, name[0] ? name : NULL, ret_groups, ret_n);
  *ret_uid = uid;
  *ret_gid = gid;
  return 0;
}
