/* The health checks of a boot, each against one shared deadline:
 *   network  a default route (IPv4 or IPv6) appears;
 *   engine   `keel run --rm --network none IMAGE true` succeeds, IMAGE being
 *            health-image from host.conf or else the first image in the
 *            local store (no image: nothing to prove, the check passes);
 *   health.d every executable in /etc/keel/health.d, in name order, exits 0.
 * The first failure is the reason recorded. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"

static gint64
remaining_ms(gint64 deadline)
{
  gint64 left = (deadline - g_get_monotonic_time()) / 1000;
  return left > 0 ? left : 0;
}

typedef struct
{
  GMainLoop *loop;
  GAsyncResult *res;
} Wait;

static void
on_done(GObject *src, GAsyncResult *res, gpointer data)
{
  Wait *w = data;
  w->res = g_object_ref(res);
  g_main_loop_quit(w->loop);
}

static gboolean
on_deadline(gpointer data)
{
  g_cancellable_cancel(data);
  return G_SOURCE_REMOVE;
}

/* Run ARGV with the time that is left; stdout (and stderr) captured when
 * ret_out.  The child is killed at the deadline. */
static gboolean
run(char **argv, gint64 deadline, char **ret_out, GError **error)
{
  GSubprocessFlags flags = ret_out
                               ? G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE
                               : G_SUBPROCESS_FLAGS_NONE;
  g_autoptr(GSubprocess) p = g_subprocess_newv((const char *const *)argv, flags, error);
  if (!p)
    return FALSE;
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  Wait w = { loop, NULL };
  guint id = g_timeout_add((guint)MIN(remaining_ms(deadline), G_MAXUINT), on_deadline, cancel);
  g_subprocess_communicate_utf8_async(p, NULL, cancel, on_done, &w);
  g_main_loop_run(loop);
  if (!g_cancellable_is_cancelled(cancel))
    g_source_remove(id);
  g_autofree char *out = NULL;
  g_autoptr(GError) local = NULL;
  gboolean ok = g_subprocess_communicate_utf8_finish(p, w.res, ret_out ? &out : NULL, NULL, &local);
  g_object_unref(w.res);
  if (!ok)
    {
      g_subprocess_force_exit(p);
      g_subprocess_wait(p, NULL, NULL);
      if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return host_throw(error, "'%s' did not finish before the deadline", argv[0]);
      return host_throw(error, "'%s': %s", argv[0], local->message);
    }
  if (g_subprocess_get_if_signaled(p))
    return host_throw(error, "'%s' was killed by signal %d", argv[0], g_subprocess_get_term_sig(p));
  if (g_subprocess_get_exit_status(p) != 0)
    return host_throw(error, "'%s' exited with status %d", argv[0],
                      g_subprocess_get_exit_status(p));
  if (ret_out)
    *ret_out = g_steal_pointer(&out);
  return TRUE;
}

static gboolean
has_default_route(void)
{
  g_autofree char *v4 = NULL, *v6 = NULL;
  if (g_file_get_contents("/proc/net/route", &v4, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit(v4, "\n", -1);
      for (guint i = 0; lines[i]; i++)
        {
          if (g_str_has_prefix(lines[i], "Iface"))
            continue; /* the header; an empty namespace may list nothing at all */
          g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
          guint n = 0;
          const char *cols[3] = { NULL };
          for (guint j = 0; f[j] && n < 3; j++)
            if (*f[j])
              cols[n++] = f[j];
          if (n == 3 && g_str_equal(cols[1], "00000000") && !g_str_equal(cols[0], "lo"))
            return TRUE;
        }
    }
  if (g_file_get_contents("/proc/net/ipv6_route", &v6, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit(v6, "\n", -1);
      for (guint i = 0; lines[i]; i++)
        if (g_str_has_prefix(lines[i], "00000000000000000000000000000000 00 ")
            && !g_str_has_suffix(lines[i], " lo"))
          return TRUE;
    }
  return FALSE;
}

static gboolean
check_network(gint64 deadline, GError **error)
{
  while (!has_default_route())
    {
      if (remaining_ms(deadline) == 0)
        return host_throw(error, "network: no default route before the deadline");
      g_usleep(500 * 1000);
    }
  return TRUE;
}

static gboolean
check_engine(const HostConfig *cfg, gint64 deadline, char **ret_note, GError **error)
{
  const char *keel = g_getenv("KEEL_HOST_KEEL");
  g_autofree char *image = g_strdup(cfg->health_image);
  if (!keel || !*keel)
    keel = "/usr/bin/keel";
  if (!image)
    {
      g_autofree char *out = NULL;
      char *list[] = { (char *)keel, "images", "-q", NULL };
      if (!run(list, deadline, &out, error))
        {
          g_prefix_error(error, "engine: cannot list the local images: ");
          return FALSE;
        }
      g_auto(GStrv) ids = g_strsplit(g_strstrip(out), "\n", 2);
      if (!ids[0] || !*ids[0])
        {
          *ret_note = g_strdup("engine: no image in the local store, nothing to run");
          return TRUE;
        }
      image = g_strdup(ids[0]);
    }
  char *argv[] = { (char *)keel, "run", "--rm", "--network", "none", image, "true", NULL };
  if (!run(argv, deadline, NULL, error))
    {
      g_prefix_error(error, "engine: cannot run a container of %s: ", image);
      return FALSE;
    }
  *ret_note = g_strdup_printf("engine: ran a container of %s", image);
  return TRUE;
}

static gint
cmp_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static gboolean
check_dir(const char *dir, gint64 deadline, guint *ret_n, GError **error)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while (d && (name = g_dir_read_name(d)))
    if (name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, cmp_names);
  *ret_n = 0;
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index(names, i);
      g_autofree char *path = g_build_filename(dir, n, NULL);
      if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) || access(path, X_OK) < 0)
        continue;
      char *argv[] = { path, NULL };
      if (!run(argv, deadline, NULL, error))
        {
          g_prefix_error(error, "health.d: ");
          return FALSE;
        }
      (*ret_n)++;
    }
  return TRUE;
}

gboolean
host_checks_run(const HostConfig *cfg, const char *health_dir, GPtrArray *notes, GError **error)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)cfg->health_timeout * G_USEC_PER_SEC;
  if (cfg->health_network)
    {
      if (!check_network(deadline, error))
        return FALSE;
      g_ptr_array_add(notes, g_strdup("network: default route present"));
    }
  if (cfg->health_engine)
    {
      char *note = NULL;
      if (!check_engine(cfg, deadline, &note, error))
        return FALSE;
      g_ptr_array_add(notes, note);
    }
  guint n = 0;
  if (!check_dir(health_dir, deadline, &n, error))
    return FALSE;
  g_ptr_array_add(notes, g_strdup_printf("health.d: %u check%s passed", n, n == 1 ? "" : "s"));
  return TRUE;
}
