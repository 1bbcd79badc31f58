/* Working containers: what image building stands on (buildah's model).
 *
 * A working container is a container record under <root>/containers/<id>/
 * (engine/container's records, so names are unique across ordinary and
 * working containers and `keel rm` removes either) whose config.json says
 * "Kind": "working" and carries the image config being edited
 * ("ImageConfig": a whole OCI image config: architecture, os, config,
 * history; rootfs is rebuilt at commit).  Its rootfs is engine/container's
 * overlay: the base image's unpacked layers (an empty directory for
 * scratch) under upper/ and work/ of its own.  State is on disk, so a
 * working container outlives the process that made it; `keel ps` leaves
 * working containers out unless asked (`--external`, as podman).
 *
 * Commit turns upper/ into an OCI layer (engine/build/layer.h), writes
 * blob, layer, config and manifest into the store (temp + fsync + rename,
 * under the store's gc lock so nothing committed is collected before the
 * image record names it), and names the image only after all of that is
 * durable: a failed or killed commit tags nothing.
 *
 * Every function returns >= 0 on success or a negative errno with err
 * filled; nothing here prints.  Above engine/image, engine/container,
 * engine/runtime and engine/network; below engine/cli. */
#ifndef KEEL_BUILD_WORKING_H
#define KEEL_BUILD_WORKING_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/manifest.h"
#include "image/store.h"
#include "lib/error.h"

#define KEEL_WORKING_KIND "working"

struct keel_working; /* opaque; one open working container */

/* ---- create, open, list, remove ---------------------------------------- */

struct keel_working_create_opts
{
  /* An image already in the store: full id, unique id prefix or full name
   * as recorded (the caller resolves short names and pulls first), or
   * "scratch" for an empty rootfs and an empty config. */
  const char *image;
  /* The name to give it; NULL: "<image base name>-working-container",
   * with "-2", "-3" ... appended while taken (buildah's naming). */
  const char *name;
  /* The reference the user gave ("busybox", "registry/app:1"): recorded,
   * and the default name is made from it; NULL: image. */
  const char *ref;
  /* scratch only: "os/arch[/variant]" of the config; NULL: the host's.
   * (For an image, the image's own platform is kept.) */
  const char *platform;
};

#define KEEL_WORKING_CREATE_OPTS_INIT                                                              \
  {                                                                                                \
    NULL, NULL, NULL, NULL                                                                         \
  }

/* Make a new working container (record only; nothing is mounted). */
int keel_working_create(struct keel_store *s, const struct keel_working_create_opts *o,
                        struct keel_working **ret, struct keel_error *err);

/* Open one by name, id or unique id prefix.  -ENOENT when nothing has
 * that name; -EMEDIUMTYPE when it is an ordinary container. */
int keel_working_open(struct keel_store *s, const char *what, struct keel_working **ret,
                      struct keel_error *err);

/* Close the handle (unsaved config edits are dropped; see save). */
void keel_working_free(struct keel_working *w);

const char *keel_working_id(const struct keel_working *w); /* 64 hex */
const char *keel_working_name(const struct keel_working *w);
const char *keel_working_image(const struct keel_working *w); /* base image id, "" for scratch */
/* The reference it was made from, as given ("scratch" for scratch). */
const char *keel_working_from(const struct keel_working *w);

/* Ids of every working container, oldest first. */
int keel_working_list(struct keel_store *s, char ***ret_ids, size_t *ret_n, struct keel_error *err);

/* Unmount and remove the record (and its upper dir).  Frees w. */
int keel_working_remove(struct keel_working *w, struct keel_error *err);

/* ---- rootfs ------------------------------------------------------------- */

/* Mount the overlay (idempotent); *ret_path (owned by w) is the merged
 * rootfs on the host.  Stays mounted after w is freed, until umount. */
int keel_working_mount(struct keel_working *w, const char **ret_path, struct keel_error *err);
int keel_working_umount(struct keel_working *w, struct keel_error *err);
bool keel_working_mounted(const struct keel_working *w);

/* ---- run ---------------------------------------------------------------- */

enum keel_working_network
{
  KEEL_WORKING_NET_NONE = 0, /* a network namespace with only lo */
  KEEL_WORKING_NET_HOST,     /* the host's network namespace */
  KEEL_WORKING_NET_BRIDGE,   /* keel's default bridge network (engine/network) */
};

enum keel_working_mount_type
{
  KEEL_WORKING_MOUNT_BIND,  /* source: a host path (RUN --mount=type=bind: the caller
                               resolves it inside the context or a stage rootfs) */
  KEEL_WORKING_MOUNT_CACHE, /* source: a cache id; the directory is
                               <root>/build-cache/<sha256 of id>/, kept across runs,
                               made on first use with mode/uid/gid */
  KEEL_WORKING_MOUNT_TMPFS, /* source ignored */
};

struct keel_working_mount
{
  enum keel_working_mount_type type;
  const char *source;
  const char *target; /* absolute path inside the container */
  bool readonly;
  mode_t mode; /* cache: mode of a new cache directory (0 → 0755) */
  uid_t uid;   /* cache: owner of a new cache directory */
  gid_t gid;
};

struct keel_working_run_opts
{
  char *const *argv;    /* NULL-terminated; run as is (no shell added) */
  char *const *env;     /* NULL-terminated K=V, over the image config's Env */
  const char *workdir;  /* NULL: the config's WorkingDir ("/" when none); created if missing */
  const char *user;     /* NULL: the config's User; "user[:group]" looked up in the rootfs */
  const char *hostname; /* NULL: the container's name */
  enum keel_working_network network;
  const struct keel_working_mount *mounts;
  size_t n_mounts;
  /* The command's stdio: -1 inherits this process's fd 0/1/2 (passthrough);
   * stdin defaults to /dev/null unless stdin_inherit. */
  int stdout_fd, stderr_fd;
  bool stdin_inherit;
  const char *runtime_root; /* the OCI runtime's state root; NULL: /run/keel-runtime */
  /* bridge: engine/network's configuration file and the host resolv.conf
   * it reads (NULL: /etc/keel/network.conf, the host's) */
  const char *network_conf;
  const char *host_resolv;
};

#define KEEL_WORKING_RUN_OPTS_INIT                                                                 \
  {                                                                                                \
    .stdout_fd = -1, .stderr_fd = -1                                                               \
  }

/* Mount if needed and run argv in the working container through the OCI
 * runtime library (in-process, no monitor), with podman's defaults
 * (capabilities, seccomp, masked paths).  Waits for it: *ret_status is its
 * exit code (128+N when killed by signal N).  Returns < 0 only when it
 * could not be run; 127/126 come back as a status like any other.  Files
 * the run needed only as mount points (/etc/hosts, /etc/resolv.conf,
 * /etc/hostname when the image had none) are removed again. */
int keel_working_run(struct keel_working *w, const struct keel_working_run_opts *o, int *ret_status,
                     struct keel_error *err);

/* ---- copy --------------------------------------------------------------- */

/* Filter for directory walks (.dockerignore): true skips the entry.  path
 * is relative to the source root ("dir/file"), without a leading "/". */
typedef bool (*keel_working_skip_fn)(const char *path, bool is_dir, void *userdata);

struct keel_working_copy_opts
{
  /* Where sources are read.  One of:
   *   src_dirfd >= 0  sources are relative to it and may not leave it
   *                   (".." past it, absolute symlinks, symlinks out: refused
   *                   with -EXDEV naming the source) — a build context;
   *   from != NULL    sources are paths inside another working container's
   *                   rootfs (COPY --from=stage), resolved inside it;
   *   from_image      sources are paths inside an image of the store (COPY
   *                   --from=image), resolved inside its layers;
   *   otherwise       sources are host paths (keel copy). */
  int src_dirfd;
  struct keel_working *from;
  const char *from_image;
  char *const *sources; /* NULL-terminated, already wildcard-expanded */
  /* Destination inside the container, relative paths against WorkingDir.
   * Docker's rules: with several sources, or a trailing '/', or an existing
   * directory, it is a directory (created as needed); a directory source
   * copies its contents, not itself. */
  const char *dest;
  /* "user[:group]" (names looked up in the container's /etc/passwd and
   * /etc/group, or numbers); NULL: host and context sources become 0:0,
   * --from sources keep their owners (preserve_owner forces keeping). */
  const char *chown;
  bool preserve_owner;
  bool set_mode;
  mode_t mode; /* with set_mode: every copied file and directory gets it */
  /* ADD: a source that is a tar archive (plain, gzip, bzip2, xz, zstd) is
   * extracted at dest instead of copied. */
  bool extract_archives;
  keel_working_skip_fn skip;
  void *skip_userdata;
};

#define KEEL_WORKING_COPY_OPTS_INIT                                                                \
  {                                                                                                \
    .src_dirfd = -1                                                                                \
  }

/* Copy into the working container (mounting it if needed).  Writes are
 * resolved inside the rootfs: symlinks in the image never lead out. */
int keel_working_copy(struct keel_working *w, const struct keel_working_copy_opts *o,
                      struct keel_error *err);

/* ---- config ------------------------------------------------------------- */

/* The OCI image config being edited, borrowed: the whole document
 * (architecture, os, config, history, ...).  Read it freely; change it
 * through the setters below, then save. */
json_object *keel_working_image_config(struct keel_working *w);
/* Its "config" object (created if missing). */
json_object *keel_working_config(struct keel_working *w);
/* A variable of Config.Env, or NULL. */
const char *keel_working_getenv(struct keel_working *w, const char *key);

/* argv NULL (or empty with clear) removes the field. */
int keel_working_set_cmd(struct keel_working *w, char *const *argv, struct keel_error *err);
int keel_working_set_entrypoint(struct keel_working *w, char *const *argv, struct keel_error *err);
int keel_working_set_shell(struct keel_working *w, char *const *argv, struct keel_error *err);
/* value NULL unsets key. */
int keel_working_setenv(struct keel_working *w, const char *key, const char *value,
                        struct keel_error *err);
int keel_working_set_workdir(struct keel_working *w, const char *dir, struct keel_error *err);
int keel_working_set_user(struct keel_working *w, const char *user, struct keel_error *err);
/* value NULL removes the label. */
int keel_working_set_label(struct keel_working *w, const char *key, const char *value,
                           struct keel_error *err);
/* "80", "80/tcp", "53/udp"; remove drops it. */
int keel_working_add_port(struct keel_working *w, const char *port, bool remove,
                          struct keel_error *err);
int keel_working_add_volume(struct keel_working *w, const char *path, bool remove,
                            struct keel_error *err);
int keel_working_set_stop_signal(struct keel_working *w, const char *sig, struct keel_error *err);
/* Healthcheck as in Docker's config: test[0] is "NONE", "CMD" or "CMD-SHELL";
 * durations in nanoseconds (0: unset).  test NULL removes it. */
struct keel_healthcheck
{
  char *const *test;
  int64_t interval, timeout, start_period, start_interval;
  int retries;
};
int keel_working_set_healthcheck(struct keel_working *w, const struct keel_healthcheck *hc,
                                 struct keel_error *err);
/* ONBUILD triggers are recorded as given (instruction text). */
int keel_working_add_onbuild(struct keel_working *w, const char *trigger, struct keel_error *err);
int keel_working_set_author(struct keel_working *w, const char *author, struct keel_error *err);
/* An OCI annotation-free, Docker-compatible history entry; created now
 * (or at the commit's source date).  Commit appends its own entry for the
 * layer it writes unless told otherwise, so builders call this only for
 * config-only steps they want recorded (empty_layer true). */
int keel_working_add_history(struct keel_working *w, const char *created_by, const char *comment,
                             bool empty_layer, struct keel_error *err);

/* One podman `commit --change` / buildah `config` line in Dockerfile
 * syntax: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR, SHELL, HEALTHCHECK (JSON or shell form). */
int keel_working_apply_change(struct keel_working *w, const char *line, struct keel_error *err);
/* The same on a bare OCI image config document (keel commit of an
 * ordinary container). */
int keel_image_config_apply_change(json_object *image_config, const char *line,
                                   struct keel_error *err);

/* Write the edited config to the record (temp + fsync + rename). */
int keel_working_save(struct keel_working *w, struct keel_error *err);

/* ---- commit ------------------------------------------------------------- */

struct keel_commit_opts
{
  const char *const *names;                /* NULL-terminated full names to tag ("" / NULL: none) */
  enum keel_layer_compression compression; /* default gzip */
  /* No new layer: only the config changes (an empty_layer history entry).
   * Without it, an upper dir with no changes also adds no layer. */
  bool omit_layer;
  /* History entry for this commit: created_by (NULL → "" ), comment; no
   * entry at all with omit_history. */
  const char *created_by;
  const char *comment;
  bool omit_history;
  /* Reproducible output: every mtime in the layer clamped to at most
   * source_date, and "created" times set to it; -1 → off (now). */
  int64_t source_date;
  /* Drop every layer mtime to source_date, not only newer ones. */
  bool rewrite_timestamps;
};

#define KEEL_COMMIT_OPTS_INIT                                                                      \
  {                                                                                                \
    .compression = KEEL_COMPRESSION_GZIP, .source_date = -1                                        \
  }

/* Commit the working container into a new image (ret_id: its id, the
 * config digest).  The config is saved first; the container stays as it
 * is and can be committed again. */
int keel_working_commit(struct keel_working *w, const struct keel_commit_opts *o,
                        char ret_id[KEEL_DIGEST_MAX], struct keel_error *err);

/* The general form under it: base image (NULL for none) + the changes in
 * upper_dir (an overlayfs upper directory; NULL: no layer) + the image
 * config document (its rootfs is replaced with the base's diff ids plus
 * the new one; history is appended to per o) → a new image.  This is what
 * `keel commit` of an ordinary container calls. */
int keel_build_commit(struct keel_store *s, const struct keel_image *base, const char *upper_dir,
                      json_object *image_config, const struct keel_commit_opts *o,
                      char ret_id[KEEL_DIGEST_MAX], struct keel_error *err);

#endif
