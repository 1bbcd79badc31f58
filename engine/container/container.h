/* Containers as keel sees them: a record per container under
 * <root>/containers/<id>/, the OCI configuration built from the image and
 * the flags, and the overlay rootfs.
 *
 *   containers/.lock          flock: held while records are created,
 *                             renamed or removed (names stay unique)
 *   containers/<id>/config.json  keel's record: Id, Name, Image, Config
 *                             (Cmd, Env, WorkingDir, User, ...), HostConfig
 *                             (flags), Created
 *   containers/<id>/bundle/   the OCI bundle (config.json, written at start)
 *   containers/<id>/rootfs    overlay mount point; upper/, work/ beside it
 *   containers/<id>/userdata/ keel-monitor's state directory
 *   containers/<id>/etc/      hosts, hostname, resolv.conf when keel writes
 *                             them itself (network none / host)
 *   containers/<id>/netns     the bind-mounted network namespace (bridge)
 *
 * Ids are 64 hex digits; any unique prefix, or the name, finds one. */
#ifndef KEEL_CONTAINER_CONTAINER_H
#define KEEL_CONTAINER_CONTAINER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define KEEL_CTR_ID_LEN 64

/* The containers directory lock; close the fd to release. */
int keel_ctr_lock(const char *root, int *ret_fd, struct keel_error *err);

/* Under the lock: refuse a taken name (-EEXIST), pick a fresh id, make
 * the record directory and write cfg (Id and Name are filled in). */
int keel_ctr_new(const char *root, json_object *cfg, char ret_id[KEEL_CTR_ID_LEN + 1],
                 struct keel_error *err);

/* A container by name, full id or unique id prefix. */
int keel_ctr_lookup(const char *root, const char *what, char ret_id[KEEL_CTR_ID_LEN + 1],
                    json_object **ret_cfg, struct keel_error *err);

/* Every container id (sorted by creation, oldest first). */
int keel_ctr_list(const char *root, char ***ret_ids, size_t *ret_n, struct keel_error *err);

/* Paths inside a record: "" for the directory itself. */
void keel_ctr_path(const char *root, const char *id, const char *sub, char *buf, size_t size);

int keel_ctr_load(const char *root, const char *id, json_object **ret, struct keel_error *err);
int keel_ctr_save(const char *root, const char *id, json_object *cfg, struct keel_error *err);

/* Rename under the lock. */
int keel_ctr_rename(const char *root, const char *id, const char *name, struct keel_error *err);

/* Remove the record directory (the rootfs must be unmounted). */
int keel_ctr_remove(const char *root, const char *id, struct keel_error *err);

/* Mount the overlay rootfs from the layer directories (bottom first);
 * already mounted is a success. */
int keel_ctr_mount(const char *root, const char *id, char *const *lowers, size_t n,
                   struct keel_error *err);
/* Unmount it (lazily: a process inside may still hold it); idempotent. */
int keel_ctr_umount(const char *root, const char *id);
bool keel_ctr_mounted(const char *root, const char *id);

/* Build the OCI runtime config for a record whose rootfs is mounted:
 * user lookup in the rootfs' /etc/passwd and /etc/group, default
 * capabilities, seccomp, masked paths, mounts, resources. */
int keel_ctr_spec(const char *root, const char *id, json_object *cfg, const char *netns_path,
                  json_object **ret, struct keel_error *err);

/* The built-in seccomp profile (seccomp-default.json, made by
 * gen-seccomp.sh from seccomp-syscalls.txt), with includes/excludes. */
const char *keel_ctr_seccomp_default(void);

/* A profile with includes/excludes (caps, arches) and archMap resolved
 * into an OCI linux.seccomp for a container holding caps (an array of
 * CAP_ names) on machine (uname -m; NULL: this one). */
int keel_ctr_seccomp_resolve(json_object *profile, json_object *caps, const char *machine,
                             json_object **ret, struct keel_error *err);

/* Resolve "user[:group]" against the files of a rootfs. */
int keel_ctr_user(const char *rootfs, const char *spec, unsigned *ret_uid, unsigned *ret_gid,
                  unsigned **ret_groups, size_t *ret_n, struct keel_error *err);

#endif

/* Named volumes under <root>/volumes/<name>/: _data (what is mounted) and
 * volume.json {Name, Created, Labels, Anonymous, Filled}.  A volume is
 * filled from the image's content at its mount point on first use. */
#define KEEL_VOLUME_NAME_MAX 128

/* Create; with exist_ok an existing volume is a success (0) and a new one
 * returns 1.  name NULL: an anonymous volume with a 64-hex name (in
 * ret_name, KEEL_VOLUME_NAME_MAX + 1 bytes). */
int keel_volume_create(const char *root, const char *name, const char *const *labels, bool exist_ok,
                       char *ret_name, struct keel_error *err);
int keel_volume_load(const char *root, const char *name, json_object **ret, struct keel_error *err);
int keel_volume_list(const char *root, char ***ret, size_t *ret_n, struct keel_error *err);
/* Remove; -EBUSY when a container record uses it (unless force). */
int keel_volume_remove(const char *root, const char *name, bool force, struct keel_error *err);
bool keel_volume_in_use(const char *root, const char *name);
/* The directory to mount. */
void keel_volume_path(const char *root, const char *name, char *buf, size_t size);
/* Copy rootfs/<dst> into the volume once (when it was never filled). */
int keel_volume_fill(const char *root, const char *name, const char *rootfs, const char *dst,
                     struct keel_error *err);
