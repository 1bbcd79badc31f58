/* Internal to engine/build: the copy machinery under keel_working_copy. */
#ifndef KEEL_BUILD_COPY_H
#define KEEL_BUILD_COPY_H

#include <stdbool.h>
#include <sys/stat.h>

#include "build/internal.h"

struct copier_link
{
  dev_t dev;
  ino_t ino;
  char *path; /* the first copy, absolute inside the rootfs */
};

struct copier
{
  const struct keel_working_copy_opts *o;
  int rootfd; /* the destination rootfs */
  bool set_owner, keep_owner, set_mode;
  uid_t uid;
  gid_t gid;
  mode_t mode;
  struct copier_link *links;
  size_t n_links;
};

void copier_done(struct copier *c);
/* The parent of abs inside the rootfs (made when missing): an O_PATH fd;
 * the last component in *ret_name (points into abs). */
int copier_parent(struct copier *c, const char *abs, const char **ret_name, struct keel_error *err);
/* Owner, mode and times from st on dirfd/name (or fd when >= 0). */
int copier_finish(struct copier *c, int dirfd, const char *name, int fd, const struct stat *st,
                  const char *abs, struct keel_error *err);
/* Make room at dirfd/name: a non-directory goes; 1 when a directory is
 * there and want_dir (merge into it). */
int copier_clear(int dirfd, const char *name, bool want_dir, const char *abs,
                 struct keel_error *err);
/* The owner a copied entry gets. */
void copier_owner(const struct copier *c, const struct stat *st, uid_t *uid, gid_t *gid);
/* One source (an O_PATH fd) to abs_file (a file source) or into abs_dir
 * (a directory's content, an archive's). */
int copier_source(struct copier *c, int sfd, const char *src, const char *abs_file,
                  const char *abs_dir, struct keel_error *err);
/* The directory sdir as abs, merged into what is there. */
int copier_dir(struct copier *c, int sdir, const struct stat *st, const char *rel, const char *abs,
               int depth, struct keel_error *err);
/* Extract the archive in the file sfd into abs_dir: 0 done, 1 not an
 * archive (copy it as a file), negative on error. */
int copier_extract(struct copier *c, int sfd, const char *src, const char *abs_dir,
                   struct keel_error *err);

#endif
