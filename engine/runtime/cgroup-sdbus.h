/* The few sd-bus calls the systemd cgroup driver makes, resolved from
 * libsystemd.so.0 with dlopen() on first use: keel-runtime does not link
 * libsystemd, so a run without --systemd-cgroup never maps it. */
#ifndef KEEL_RUNTIME_CGROUP_SDBUS_H
#define KEEL_RUNTIME_CGROUP_SDBUS_H

#include <systemd/sd-bus.h>

struct cg_sdbus
{
  int (*open_system)(sd_bus **);
  sd_bus *(*flush_close_unref)(sd_bus *);
  int (*message_new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *,
                                 const char *, const char *);
  int (*message_append)(sd_bus_message *, const char *, ...);
  int (*message_open_container)(sd_bus_message *, char, const char *);
  int (*message_close_container)(sd_bus_message *);
  int (*message_read)(sd_bus_message *, const char *, ...);
  sd_bus_message *(*message_unref)(sd_bus_message *);
  int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
  int (*call_method)(sd_bus *, const char *, const char *, const char *, const char *,
                     sd_bus_error *, sd_bus_message **, const char *, ...);
  int (*match_signal)(sd_bus *, sd_bus_slot **, const char *, const char *, const char *,
                      const char *, sd_bus_message_handler_t, void *);
  sd_bus_slot *(*slot_unref)(sd_bus_slot *);
  int (*process)(sd_bus *, sd_bus_message **);
  int (*wait)(sd_bus *, uint64_t);
  void (*error_free)(sd_bus_error *);
  int (*error_has_name)(const sd_bus_error *, const char *);
};

/* The table, loaded once; NULL with err set when libsystemd is missing. */
const struct cg_sdbus *cg_sdbus_get(struct keel_error *err);

#endif
