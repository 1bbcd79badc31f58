/* dlopen() of libsystemd for the systemd cgroup driver: see cgroup-sdbus.h. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"
#include "runtime/cgroup-sdbus.h"

static struct cg_sdbus table;
static bool loaded;

#define SYM(field, name)                                                                           \
  {                                                                                                \
    offsetof(struct cg_sdbus, field), name                                                         \
  }

static const struct
{
  size_t off;
  const char *name;
} syms[] = {
  SYM(open_system, "sd_bus_open_system"),
  SYM(flush_close_unref, "sd_bus_flush_close_unref"),
  SYM(message_new_method_call, "sd_bus_message_new_method_call"),
  SYM(message_append, "sd_bus_message_append"),
  SYM(message_open_container, "sd_bus_message_open_container"),
  SYM(message_close_container, "sd_bus_message_close_container"),
  SYM(message_read, "sd_bus_message_read"),
  SYM(message_unref, "sd_bus_message_unref"),
  SYM(call, "sd_bus_call"),
  SYM(call_method, "sd_bus_call_method"),
  SYM(match_signal, "sd_bus_match_signal"),
  SYM(slot_unref, "sd_bus_slot_unref"),
  SYM(process, "sd_bus_process"),
  SYM(wait, "sd_bus_wait"),
  SYM(error_free, "sd_bus_error_free"),
  SYM(error_has_name, "sd_bus_error_has_name"),
};

const struct cg_sdbus *
cg_sdbus_get(struct keel_error *err)
{
  if (loaded)
    return &table;
  void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    {
      const char *why = dlerror();
      keel_error_set(err, -ENOSYS, "--systemd-cgroup needs libsystemd.so.0: %s",
                     why ? why : "not found");
      return NULL;
    }
  for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
    {
      void *f = dlsym(h, syms[i].name);
      if (!f)
        {
          keel_error_set(err, -ENOSYS, "--systemd-cgroup: libsystemd.so.0 lacks %s (too old)",
                         syms[i].name);
          dlclose(h);
          return NULL;
        }
      /* POSIX guarantees a data pointer from dlsym converts to a function
       * pointer; store it through the table's layout. */
      *(void **)((char *)&table + syms[i].off) = f;
    }
  loaded = true; /* the handle stays open for the process's life */
  return &table;
}
