/* Declarative containers, Quadlet-style: a NAME.container file (systemd
 * unit syntax with a [Container] section) becomes NAME.service, whose
 * ExecStart is `keel run` with the flags the keys ask for.  The other
 * sections pass through ([Unit], [Service], ...); [Install] becomes the
 * generator's symlinks. */
#ifndef KEEL_SYSTEMD_QUADLET_H
#define KEEL_SYSTEMD_QUADLET_H

#include "lib/error.h"
#include "systemd/unitfile.h"

/* Where the generator looks, first match of a file name wins. */
#define KEEL_QUADLET_DIRS "/etc/keel/systemd:/etc/containers/systemd:/usr/share/keel/systemd"

struct keel_quadlet_opts
{
  const char *keel;   /* the keel program in Exec lines, default /usr/bin/keel */
  const char *source; /* the .container file's path, for SourcePath= and messages */
  const char *name;   /* its file name, NAME.container */
};

struct keel_quadlet
{
  char *service; /* NAME.service */
  char *text;    /* the unit */
  /* from [Install]: units that want / require / uphold this one, aliases */
  char **wanted_by, **required_by, **upheld_by, **alias;
};

/* Translate a parsed .container file; unknown keys, a missing Image and
 * malformed values are errors naming the file and the key. */
int keel_quadlet_container(const struct keel_unit *u, const struct keel_quadlet_opts *o,
                           struct keel_quadlet *ret, struct keel_error *err);
void keel_quadlet_done(struct keel_quadlet *q);

/* Write q into dir (a generator's output directory): the unit and the
 * .wants/.requires/.upholds symlinks and aliases beside it. */
int keel_quadlet_write(const struct keel_quadlet *q, const char *dir, struct keel_error *err);

#endif
