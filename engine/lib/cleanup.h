/* Scope-bound cleanup, systemd style: a variable declared with one of these
 * attributes is released when it leaves scope; TAKE_PTR / TAKE_FD move
 * ownership out.  Every destructor accepts the "empty" value. */
#ifndef KEEL_LIB_CLEANUP_H
#define KEEL_LIB_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
keel_freep(void *p)
{
  free(*(void **)p);
}

static inline void
keel_closep(int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close(*fd);
      errno = saved;
    }
}

static inline void
keel_fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}

static inline void
keel_closedirp(DIR **d)
{
  if (*d)
    closedir(*d);
}

static inline void
keel_strv_free(char **v)
{
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

static inline void
keel_strv_freep(char ***v)
{
  keel_strv_free(*v);
}

#define _cleanup_(f)       __attribute__((cleanup(f)))
#define _cleanup_free_     _cleanup_(keel_freep)
#define _cleanup_close_    _cleanup_(keel_closep)
#define _cleanup_fclose_   _cleanup_(keel_fclosep)
#define _cleanup_closedir_ _cleanup_(keel_closedirp)
#define _cleanup_strv_     _cleanup_(keel_strv_freep)

#define TAKE_PTR(p)                                                                                \
  ({                                                                                               \
    __typeof__(p) _tp = (p);                                                                       \
    (p) = NULL;                                                                                    \
    _tp;                                                                                           \
  })

#define TAKE_FD(fd)                                                                                \
  ({                                                                                               \
    int _tf = (fd);                                                                                \
    (fd) = -EBADF;                                                                                 \
    _tf;                                                                                           \
  })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
