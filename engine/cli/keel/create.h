/* keel create / run: flags → container record. */
#ifndef KEEL_CLI_CREATE_H
#define KEEL_CLI_CREATE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "lib/error.h"

struct create_flags
{
  bool detach, interactive, tty, rm;
  bool replace;         /* remove a container of the same name first */
  const char *pull;     /* always, missing (default), never, newer */
  const char *platform; /* OS/ARCH[/VARIANT] */
  const char *image;
  char **cmd; /* after the image */
  int n_cmd;
};

/* Parse run/create's flags and arguments into the record's Config and
 * HostConfig (image fields merged later by create_record). */
int create_parse(const char *verb, int argc, char **argv, struct create_flags *f,
                 json_object **ret_cfg, struct keel_error *err);

/* The image f->image in the store, pulled first per f->pull (always,
 * missing, never) and checked against f->platform. */
struct keel_store;
struct keel_image;
int create_find_image(struct create_flags *f, struct keel_store *s, struct keel_image **img,
                      struct keel_error *err);

/* Find (or pull, per --pull) the image, merge its config, and make the
 * record.  The id in ret_id. */
int create_record(struct create_flags *f, json_object *cfg, char *ret_id, struct keel_error *err);

/* The recorded create command as `keel run` arguments for a service
 * (generate systemd --new): flags in their long form, without the ones
 * the unit sets itself (-d, --rm, --name, --replace, --sdnotify) or that
 * need a terminal (-i, -t); then the image and its command. */
int create_unit_args(json_object *record, char ***ret, struct keel_error *err);

#endif
