/* /etc/keel/host.conf and /var/lib/keel/host/state: pure parsing and
 * storage, no sysroot (unit-tested in tests/unit/test-host-config.c). */
#ifndef KEEL_HOST_CONFIG_H
#define KEEL_HOST_CONFIG_H

#include <gio/gio.h>

typedef enum
{
  HOST_POLICY_OFF,
  HOST_POLICY_CHECK,
  HOST_POLICY_STAGE,
  HOST_POLICY_STAGE_REBOOT,
} HostPolicy;

typedef struct
{
  HostPolicy policy;
  gboolean has_window;
  int window_start;       /* minutes after midnight, local time */
  int window_end;         /* exclusive; may be < start (the window spans midnight) */
  guint boot_tries;       /* failed boots of a new deployment before GRUB falls back */
  guint health_timeout;   /* seconds the health checks may take */
  char *health_image;     /* engine check: image to run; NULL: any image in the store */
  gboolean health_engine; /* run the engine check at all */
  gboolean health_network;
  guint64 min_free_root; /* bytes: the bound used when a commit has no size metadata */
} HostConfig;

#define HOST_CONFIG_DEFAULT_TRIES   3
#define HOST_CONFIG_MAX_TRIES       9
#define HOST_CONFIG_DEFAULT_TIMEOUT 300

/* Set *error (G_IO_ERROR_FAILED) and return FALSE, for early returns. */
gboolean host_throw(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

void host_config_init(HostConfig *cfg);
void host_config_clear(HostConfig *cfg);
/* Parse host.conf text ("key=value" lines, '#' comments).  On error
 * (unknown key, bad value) *error says "line N: ..." and cfg is unchanged
 * beyond what parsed before. */
gboolean host_config_parse(const char *text, HostConfig *cfg, GError **error);
/* Load PATH; a missing file gives the defaults. */
gboolean host_config_load(const char *path, HostConfig *cfg, GError **error);
const char *host_policy_name(HostPolicy p);
gboolean host_policy_parse(const char *s, HostPolicy *ret, GError **error);
/* "HH:MM-HH:MM" */
gboolean host_window_parse(const char *s, int *ret_start, int *ret_end, GError **error);
gboolean host_window_contains(int start, int end, int minute);
/* "123", "512K", "512M", "2G" (powers of 1024) */
gboolean host_size_parse(const char *s, guint64 *ret, GError **error);

/* The state file: a GKeyFile (documented in host/README.md). */
GKeyFile *host_state_load(const char *dir, GError **error);
gboolean host_state_save(GKeyFile *state, const char *dir, GError **error);
void host_state_pause(GKeyFile *state, const char *reason);
void host_state_resume(GKeyFile *state);
gboolean host_state_paused(GKeyFile *state);
void host_state_add_failed_commit(GKeyFile *state, const char *checksum);
gboolean host_state_commit_failed(GKeyFile *state, const char *checksum);
char *host_now_iso(void);

#endif
