/* What the container verbs share: finding records, starting a container
 * under keel-monitor, reading its status, cleaning up after it. */
#ifndef KEEL_CLI_CTR_H
#define KEEL_CLI_CTR_H

#include <json-c/json.h>
#include <stdbool.h>

#include "container/container.h"
#include "lib/error.h"

struct ctr
{
  char id[KEEL_CTR_ID_LEN + 1];
  json_object *cfg;   /* the record */
  json_object *state; /* monitor's state.json, NULL before the first start */
  bool alive;         /* the monitor runs */
  const char *status; /* created, running, paused, exited, stopping, unknown */
  int exit_code;
};

/* The runtime's state root: $KEEL_RUNTIME_ROOT or /run/keel-runtime. */
const char *ctr_runtime_root(void);

/* Find and load a container with its status. */
int ctr_find(const char *what, struct ctr *ret, struct keel_error *err);
int ctr_load(const char *id, struct ctr *ret, struct keel_error *err);
void ctr_done(struct ctr *c);

/* Start it under a new keel-monitor; attach_fd (or -1) becomes an attach
 * client connected before the container runs. */
int ctr_start(struct ctr *c, int attach_fd, struct keel_error *err);

/* Ask the monitor to stop it and wait for the monitor to end. */
int ctr_stop(struct ctr *c, int timeout_s, struct keel_error *err);

/* Wait until the monitor is gone; its exit code. */
int ctr_wait(struct ctr *c, int *ret_code);

/* Mount the overlay rootfs (cp into a stopped container). */
int ctr_mount_rootfs(struct ctr *c, struct keel_error *err);

/* Undo a start once the container is gone: rootfs, network, runtime state. */
void ctr_cleanup(struct ctr *c);

/* Remove a container (force: stop it first). */
int ctr_remove(struct ctr *c, bool force, bool volumes, struct keel_error *err);

/* Remove records of --rm containers whose monitor is gone. */
void ctr_sweep(void);

/* keel-monitor, keel-init: $ENV_NAME, else beside keel, else NAME on $PATH. */
const char *ctr_helper_path(const char *env_name, const char *name);

/* JSON helpers */
const char *ctr_str(json_object *o, const char *key);
json_object *ctr_get(json_object *o, const char *path); /* "Config.Env" */

#endif
