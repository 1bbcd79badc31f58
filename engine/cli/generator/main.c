/* keel-systemd-generator: a systemd generator (systemd.generator(7)) that
 * turns every NAME.container file in /etc/keel/systemd,
 * /etc/containers/systemd and /usr/share/keel/systemd (the first directory
 * holding a file name wins) into NAME.service in the normal generator
 * directory, with the [Install] section's WantedBy=, RequiredBy=,
 * UpheldBy= and Alias= as symlinks there.  A bad file is reported (stderr,
 * and /dev/kmsg when systemd runs us) and skipped; the others are still
 * written.
 *
 *   keel-systemd-generator NORMAL_DIR [EARLY_DIR LATE_DIR]
 *   keel-systemd-generator --dryrun      the units on stdout, nothing written
 *
 * KEEL_QUADLET_UNIT_DIRS (colon-separated) replaces the search path;
 * KEEL_QUADLET_KEEL the keel program named in the units (for tests). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "systemd/quadlet.h"
#include "systemd/unitfile.h"

#define PROG "keel-systemd-generator"

static int kmsg = -EBADF;

static void __attribute__((format(printf, 1, 2))) log_error(const char *fmt, ...)
{
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  fprintf(stderr, PROG ": %s\n", msg);
  if (kmsg >= 0)
    dprintf(kmsg, "<3>" PROG ": %s\n", msg);
}

static bool
seen(char **names, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(names[i], name))
      return true;
  return false;
}

/* One file: parse, translate, write (or print).  0, or -1 reported. */
static int
generate_one(const char *dir, const char *name, const char *out, const char *keel)
{
  char path[4096];
  _cleanup_free_ char *text = NULL;
  size_t len;
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_unit_ struct keel_unit *u = NULL;
  struct keel_quadlet q = { 0 };
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  int r = keel_read_file(AT_FDCWD, path, 1 << 20, &text, &len);
  if (r < 0)
    keel_error_set_errno(&err, r, "cannot read '%s'", path);
  else if (memchr(text, '\0', len))
    r = keel_error_set(&err, -EINVAL, "%s: not a text file", path);
  if (r >= 0)
    r = keel_unit_parse(text, path, &u, &err);
  struct keel_quadlet_opts o = { .keel = keel, .source = path, .name = name };
  if (r >= 0)
    r = keel_quadlet_container(u, &o, &q, &err);
  if (r >= 0 && out)
    r = keel_quadlet_write(&q, out, &err);
  else if (r >= 0)
    printf("---%s---\n%s\n", q.service, q.text);
  keel_quadlet_done(&q);
  if (r < 0)
    {
      log_error("skipping %s: %s", path, err.msg);
      return -1;
    }
  return 0;
}

static int
cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.container of dir not already taken by an earlier directory. */
static int
scan_dir(const char *dir, char ***names, size_t *n, const char *out, const char *keel)
{
  _cleanup_closedir_ DIR *d = opendir(dir);
  if (!d)
    return 0; /* a missing directory holds no containers */
  char *batch[4096];
  size_t nb = 0;
  int rc = 0;
  for (struct dirent *de; (de = readdir(d)) && nb < 4096;)
    {
      size_t l = strlen(de->d_name);
      if (l > 10 && !strcmp(de->d_name + l - 10, ".container") && de->d_name[0] != '.'
          && !seen(*names, *n, de->d_name))
        batch[nb++] = strdup(de->d_name);
    }
  qsort(batch, nb, sizeof(*batch), cmp_names);
  for (size_t i = 0; i < nb; i++)
    {
      char **v = batch[i] ? realloc(*names, (*n + 1) * sizeof(*v)) : NULL;
      if (!v)
        {
          log_error("out of memory");
          return -1;
        }
      *names = v;
      v[(*n)++] = batch[i];
      if (generate_one(dir, batch[i], out, keel) < 0)
        rc = -1;
    }
  return rc;
}

int
main(int argc, char **argv)
{
  bool dry = argc == 2 && (!strcmp(argv[1], "--dryrun") || !strcmp(argv[1], "-dryrun"));
  if (!dry && argc != 2 && argc != 4)
    {
      fprintf(stderr, "usage: " PROG " NORMAL_DIR [EARLY_DIR LATE_DIR] | --dryrun\n");
      return 1;
    }
  /* run by systemd (our parent is PID 1): syslog is not up, use kmsg */
  if (getppid() == 1)
    kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
  const char *env = getenv("KEEL_QUADLET_UNIT_DIRS"), *keel = getenv("KEEL_QUADLET_KEEL");
  _cleanup_free_ char *dirs = strdup(env && *env ? env : KEEL_QUADLET_DIRS);
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  if (!dirs)
    return 1;
  for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save))
    if (scan_dir(d, &names, &n, dry ? NULL : argv[1], keel && *keel ? keel : NULL) < 0)
      rc = 1;
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}
