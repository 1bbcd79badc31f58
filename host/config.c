/* host.conf parsing and the state file.  No libostree here, so the unit
 * tests need only glib. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const policy_names[] = {
  [HOST_POLICY_OFF] = "off",
  [HOST_POLICY_CHECK] = "check",
  [HOST_POLICY_STAGE] = "stage",
  [HOST_POLICY_STAGE_REBOOT] = "stage-reboot",
};

gboolean
host_throw(GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
  return FALSE;
}

void
host_config_init(HostConfig *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->policy = HOST_POLICY_OFF;
  cfg->boot_tries = HOST_CONFIG_DEFAULT_TRIES;
  cfg->health_timeout = HOST_CONFIG_DEFAULT_TIMEOUT;
  cfg->health_engine = TRUE;
  cfg->health_network = TRUE;
  cfg->min_free_root = 512ULL << 20;
}

void
host_config_clear(HostConfig *cfg)
{
  g_clear_pointer(&cfg->health_image, g_free);
}

const char *
host_policy_name(HostPolicy p)
{
  return p < G_N_ELEMENTS(policy_names) ? policy_names[p] : "?";
}

gboolean
host_policy_parse(const char *s, HostPolicy *ret, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS(policy_names); i++)
    if (g_str_equal(s, policy_names[i]))
      {
        *ret = (HostPolicy)i;
        return TRUE;
      }
  return host_throw(error, "unknown policy '%s' (off, check, stage or stage-reboot)", s);
}

static gboolean
parse_hhmm(const char *s, const char *end, int *ret)
{
  /* exactly H:MM or HH:MM, 00:00 .. 24:00 */
  size_t n = (size_t)(end - s);
  if (n < 4 || n > 5 || s[n - 3] != ':')
    return FALSE;
  int h = 0, m = 0;
  for (size_t i = 0; i < n - 3; i++)
    {
      if (!g_ascii_isdigit(s[i]))
        return FALSE;
      h = h * 10 + (s[i] - '0');
    }
  if (!g_ascii_isdigit(s[n - 2]) || !g_ascii_isdigit(s[n - 1]))
    return FALSE;
  m = (s[n - 2] - '0') * 10 + (s[n - 1] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return FALSE;
  *ret = h * 60 + m;
  return TRUE;
}

gboolean
host_window_parse(const char *s, int *ret_start, int *ret_end, GError **error)
{
  const char *dash = strchr(s, '-');
  int a, b;
  if (!dash || !parse_hhmm(s, dash, &a) || !parse_hhmm(dash + 1, dash + strlen(dash), &b))
    return host_throw(error, "bad window '%s' (want HH:MM-HH:MM, e.g. 02:00-04:00)", s);
  if (a == b)
    return host_throw(error, "empty window '%s' (start and end are equal)", s);
  *ret_start = a;
  *ret_end = b;
  return TRUE;
}

gboolean
host_window_contains(int start, int end, int minute)
{
  if (start < end)
    return minute >= start && minute < end;
  /* spans midnight, e.g. 23:00-01:00 */
  return minute >= start || minute < end;
}

gboolean
host_size_parse(const char *s, guint64 *ret, GError **error)
{
  char *end = NULL;
  errno = 0;
  if (!g_ascii_isdigit(*s))
    return host_throw(error, "bad size '%s'", s);
  guint64 v = g_ascii_strtoull(s, &end, 10);
  int shift = 0;
  if (*end == 'K' || *end == 'k')
    shift = 10;
  else if (*end == 'M' || *end == 'm')
    shift = 20;
  else if (*end == 'G' || *end == 'g')
    shift = 30;
  if (shift)
    end++;
  if (errno || *end || v > (G_MAXUINT64 >> shift))
    return host_throw(error, "bad size '%s' (a number with an optional K, M or G)", s);
  *ret = v << shift;
  return TRUE;
}

static gboolean
parse_uint(const char *s, guint min, guint max, guint *ret)
{
  char *end = NULL;
  if (!g_ascii_isdigit(*s))
    return FALSE;
  guint64 v = g_ascii_strtoull(s, &end, 10);
  if (*end || v < min || v > max)
    return FALSE;
  *ret = (guint)v;
  return TRUE;
}

static gboolean
parse_bool(const char *s, gboolean *ret)
{
  if (g_str_equal(s, "yes") || g_str_equal(s, "true") || g_str_equal(s, "1"))
    *ret = TRUE;
  else if (g_str_equal(s, "no") || g_str_equal(s, "false") || g_str_equal(s, "0"))
    *ret = FALSE;
  else
    return FALSE;
  return TRUE;
}

static gboolean
set_key(HostConfig *cfg, const char *key, const char *val, GError **error)
{
  if (g_str_equal(key, "policy"))
    return host_policy_parse(val, &cfg->policy, error);
  if (g_str_equal(key, "window"))
    {
      if (g_str_equal(val, "") || g_str_equal(val, "any"))
        {
          cfg->has_window = FALSE;
          return TRUE;
        }
      cfg->has_window = host_window_parse(val, &cfg->window_start, &cfg->window_end, error);
      return cfg->has_window;
    }
  if (g_str_equal(key, "boot-tries"))
    return parse_uint(val, 1, HOST_CONFIG_MAX_TRIES, &cfg->boot_tries)
           || host_throw(error, "bad boot-tries '%s' (1 to %d)", val, HOST_CONFIG_MAX_TRIES);
  if (g_str_equal(key, "health-timeout"))
    return parse_uint(val, 1, 24 * 3600, &cfg->health_timeout)
           || host_throw(error, "bad health-timeout '%s' (seconds, 1 to 86400)", val);
  if (g_str_equal(key, "health-image"))
    {
      g_free(cfg->health_image);
      cfg->health_image = *val ? g_strdup(val) : NULL;
      return TRUE;
    }
  if (g_str_equal(key, "health-engine"))
    return parse_bool(val, &cfg->health_engine) || host_throw(error, "bad health-engine '%s'", val);
  if (g_str_equal(key, "health-network"))
    return parse_bool(val, &cfg->health_network)
           || host_throw(error, "bad health-network '%s'", val);
  if (g_str_equal(key, "min-free-root"))
    return host_size_parse(val, &cfg->min_free_root, error);
  return host_throw(error, "unknown key '%s'", key);
}

gboolean
host_config_parse(const char *text, HostConfig *cfg, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint n = 0; lines[n]; n++)
    {
      g_autofree char *line = g_strstrip(g_strdup(lines[n]));
      if (*line == '\0' || *line == '#')
        continue;
      char *eq = strchr(line, '=');
      if (!eq)
        return host_throw(error, "line %u: '%s' is not key=value", n + 1, line);
      *eq = '\0';
      g_autoptr(GError) local = NULL;
      if (!set_key(cfg, g_strstrip(line), g_strstrip(eq + 1), &local))
        return host_throw(error, "line %u: %s", n + 1, local->message);
    }
  return TRUE;
}

gboolean
host_config_load(const char *path, HostConfig *cfg, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  host_config_init(cfg);
  if (!g_file_get_contents(path, &text, NULL, &local))
    {
      if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      return host_throw(error, "cannot read '%s': %s", path, local->message);
    }
  if (!host_config_parse(text, cfg, &local))
    return host_throw(error, "%s: %s", path, local->message);
  return TRUE;
}

/* --- state file ------------------------------------------------------------ */

GKeyFile *
host_state_load(const char *dir, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autofree char *path = g_build_filename(dir, "state", NULL);
  g_autoptr(GError) local = NULL;
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &local))
    {
      if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          host_throw(error, "cannot read the state file '%s': %s", path, local->message);
          return NULL;
        }
    }
  return g_steal_pointer(&kf);
}

/* Durable and atomic: temp file, fsync, rename (g_file_set_contents_full). */
gboolean
host_state_save(GKeyFile *state, const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename(dir, "state", NULL);
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data(state, &len, NULL);
  if (g_mkdir_with_parents(dir, 0755) < 0)
    return host_throw(error, "cannot create '%s': %s", dir, g_strerror(errno));
  g_autoptr(GError) local = NULL;
  if (!g_file_set_contents_full(path, data, (gssize)len,
                                G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0644,
                                &local))
    return host_throw(error, "cannot write the state file '%s': %s", path, local->message);
  return TRUE;
}

char *
host_now_iso(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

void
host_state_pause(GKeyFile *state, const char *reason)
{
  g_autofree char *now = host_now_iso();
  g_key_file_set_boolean(state, "auto-update", "paused", TRUE);
  g_key_file_set_string(state, "auto-update", "paused-reason", reason);
  g_key_file_set_string(state, "auto-update", "paused-since", now);
}

void
host_state_resume(GKeyFile *state)
{
  g_key_file_remove_group(state, "auto-update", NULL);
}

gboolean
host_state_paused(GKeyFile *state)
{
  return g_key_file_get_boolean(state, "auto-update", "paused", NULL);
}

void
host_state_add_failed_commit(GKeyFile *state, const char *checksum)
{
  if (host_state_commit_failed(state, checksum))
    return;
  gsize n = 0;
  g_auto(GStrv) old = g_key_file_get_string_list(state, "failed", "commits", &n, NULL);
  g_autoptr(GPtrArray) list = g_ptr_array_new();
  /* keep the newest few: a commit is only retried by an explicit upgrade */
  for (gsize i = n > 15 ? n - 15 : 0; i < n; i++)
    g_ptr_array_add(list, old[i]);
  g_ptr_array_add(list, (gpointer)checksum);
  g_key_file_set_string_list(state, "failed", "commits", (const char *const *)list->pdata,
                             list->len);
}

gboolean
host_state_commit_failed(GKeyFile *state, const char *checksum)
{
  g_auto(GStrv) list = g_key_file_get_string_list(state, "failed", "commits", NULL, NULL);
  return list && g_strv_contains((const char *const *)list, checksum);
}
