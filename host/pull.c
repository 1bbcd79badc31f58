/* Fetching from the origin's remote: progress on a terminal, one summary
 * line otherwise, and libostree's errors turned into one line that names the
 * remote and the cause (offline, missing ref, bad signature). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

gboolean
host_remote_check(OstreeRepo *repo, const char *remote, GError **error)
{
  g_autofree char *url = NULL;
  if (!ostree_repo_remote_get_url(repo, remote, &url, NULL))
    return host_throw(error, "no remote '%s' is configured (see /etc/ostree/remotes.d/)", remote);
  gboolean verify = FALSE;
  if (ostree_repo_remote_get_gpg_verify(repo, remote, &verify, NULL) && !verify)
    fprintf(stderr, "host: warning: remote '%s' does not verify signatures (gpg-verify=false)\n",
            remote);
  return TRUE;
}

static void
progress_changed(OstreeAsyncProgress *progress, gpointer user_data)
{
  guint fetched = 0, requested = 0, outstanding = 0, scanned = 0;
  guint64 bytes = 0;
  g_autofree char *status = NULL;
  ostree_async_progress_get(progress, "outstanding-fetches", "u", &outstanding, "fetched", "u",
                            &fetched, "requested", "u", &requested, "bytes-transferred", "t",
                            &bytes, "scanned-metadata", "u", &scanned, "status", "s", &status,
                            NULL);
  g_autofree char *size = host_format_size(bytes);
  if (status && *status)
    printf("\r\033[K%s", status);
  else if (requested > 0)
    printf("\r\033[KReceiving objects: %u%% (%u/%u) %s", fetched * 100 / requested, fetched,
           requested, size);
  else
    printf("\r\033[KScanning metadata: %u", scanned);
  fflush(stdout);
}

/* One clear line for the ways a pull fails that a user can fix. */
static void
explain_pull_error(OstreeRepo *repo, const char *remote, const char *ref, GError **error)
{
  GError *e = *error;
  g_autofree char *url = NULL;
  ostree_repo_remote_get_url(repo, remote, &url, NULL);
  const char *m = e->message;
  g_autofree char *msg = NULL;
  if (e->domain == OSTREE_GPG_ERROR || strstr(m, "GPG") || strstr(m, "signature"))
    msg = g_strdup_printf("refusing the commit of '%s:%s': it is not signed by a trusted key "
                          "(%s)",
                          remote, ref, m);
  else if (strstr(m, "Couldn't connect") || strstr(m, "Could not connect")
           || strstr(m, "Connection refused") || strstr(m, "resolve host")
           || strstr(m, "Timeout was reached")
           || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
           || g_error_matches(e, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE))
    msg = g_strdup_printf("cannot reach remote '%s' at %s (%s)", remote, url ? url : "?", m);
  else if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) || strstr(m, "No such branch")
           || strstr(m, "404"))
    msg = g_strdup_printf("remote '%s' has no ref '%s' (%s)", remote, ref, m);
  else
    msg = g_strdup_printf("cannot fetch '%s:%s' from %s: %s", remote, ref, url ? url : "?", m);
  g_free(e->message);
  e->message = g_steal_pointer(&msg);
}

/* Pull REF (or COMMIT of it, when given) from REMOTE into REPO; with
 * commit_only, just the commit object (to learn about the update and its
 * size; signatures are checked on it already). */
static gboolean
pull(OstreeRepo *repo, const char *remote, const char *ref, const char *commit,
     gboolean commit_only, int depth, GError **error)
{
  GVariantBuilder b;
  const char *refs[] = { ref, NULL };
  const char *commits[] = { commit, NULL };
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
  g_variant_builder_add(&b, "{s@v}", "refs", g_variant_new_variant(g_variant_new_strv(refs, -1)));
  if (commit)
    g_variant_builder_add(&b, "{s@v}", "override-commit-ids",
                          g_variant_new_variant(g_variant_new_strv(commits, -1)));
  int flags = commit_only ? OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY : OSTREE_REPO_PULL_FLAGS_NONE;
  g_variant_builder_add(&b, "{s@v}", "flags", g_variant_new_variant(g_variant_new_int32(flags)));
  if (depth)
    g_variant_builder_add(&b, "{s@v}", "depth", g_variant_new_variant(g_variant_new_int32(depth)));
  g_variant_builder_add(&b, "{s@v}", "n-network-retries",
                        g_variant_new_variant(g_variant_new_uint32(1)));
  g_autoptr(GVariant) options = g_variant_ref_sink(g_variant_builder_end(&b));

  gboolean tty = !commit_only && isatty(STDOUT_FILENO);
  g_autoptr(OstreeAsyncProgress) progress
      = tty ? ostree_async_progress_new_and_connect(progress_changed, NULL)
            : ostree_async_progress_new();
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = ostree_repo_pull_with_options(repo, remote, options, progress, NULL, error);
  ostree_async_progress_finish(progress);
  if (tty)
    printf("\r\033[K");
  if (!ok)
    {
      explain_pull_error(repo, remote, ref, error);
      return FALSE;
    }
  if (!commit_only)
    {
      guint fetched = 0;
      guint64 bytes = 0;
      ostree_async_progress_get(progress, "fetched", "u", &fetched, "bytes-transferred", "t",
                                &bytes, NULL);
      double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
      g_autofree char *size = host_format_size(bytes);
      printf("fetched %s:%s: %u objects, %s in %.1f s\n", remote, ref, fetched, size, secs);
    }
  return TRUE;
}

gboolean
host_pull(OstreeRepo *repo, const char *remote, const char *ref, const char *commit,
          gboolean commit_only, GError **error)
{
  return pull(repo, remote, ref, commit, commit_only, 0, error);
}

/* The commit objects of REF's whole history (to find a version). */
gboolean
host_pull_history(OstreeRepo *repo, const char *remote, const char *ref, GError **error)
{
  return pull(repo, remote, ref, NULL, TRUE, -1, error);
}

gboolean
host_resolve_new_commit(OstreeRepo *repo, const char *refspec, char **ret_checksum, GError **error)
{
  if (!ostree_repo_resolve_rev(repo, refspec, FALSE, ret_checksum, error))
    {
      g_prefix_error(error, "cannot resolve '%s': ", refspec);
      return FALSE;
    }
  return TRUE;
}
