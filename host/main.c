/* host: the command table.  Every verb lives in its own file; this one only
 * finds the verb, the sysroot and prints the one error line. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "host.h"

typedef struct
{
  const char *name;
  HostVerbFn fn;
  const char *summary;
} HostVerb;

static const HostVerb verbs[] = {
  { "status", host_verb_status, "show the deployments [--json]" },
  { "upgrade", host_verb_upgrade, "fetch and stage the newest commit [--check|--download-only]" },
  { "rollback", host_verb_rollback, "boot the previous deployment next [--reboot]" },
  { "deploy", host_verb_deploy, "deploy VERSION or COMMIT of the current origin" },
  { "rebase", host_verb_rebase, "follow another REMOTE:REF" },
  { "kargs", host_verb_kargs, "show kernel arguments, or change them in a new deployment" },
  { "cleanup", host_verb_cleanup, "remove unpinned rollback deployments and unused objects" },
  { "pin", host_verb_pin, "keep deployment INDEX (default: booted) from cleanup" },
  { "unpin", host_verb_unpin, "let deployment INDEX be cleaned up again" },
  { "auto-update", host_verb_auto_update, "run the automatic update policy [run|pause|resume]" },
  { "health", host_verb_health, "run the boot health checks and mark this boot" },
  { "finalize-hook", host_verb_finalize_hook, "(internal) arm boot counting at shutdown" },
};

static void
usage(FILE *f)
{
  fprintf(f, "usage: host [--sysroot DIR] VERB [ARGS]\n\nverbs:\n");
  for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
    fprintf(f, "  %-14s %s\n", verbs[i].name, verbs[i].summary);
}

static char *
env_or(const char *name, const char *fallback)
{
  const char *v = g_getenv(name);
  return g_strdup(v && *v ? v : fallback);
}

/* Take --sysroot DIR / --sysroot=DIR out of argv wherever it is. */
static gboolean
take_sysroot(HostContext *ctx, int *argc, char **argv, GError **error)
{
  int out = 1;
  for (int i = 1; i < *argc; i++)
    {
      const char *a = argv[i];
      if (g_str_equal(a, "--sysroot"))
        {
          if (i + 1 >= *argc)
            return host_throw(error, "option '--sysroot' needs a directory");
          g_free(ctx->sysroot_path);
          ctx->sysroot_path = g_strdup(argv[++i]);
        }
      else if (g_str_has_prefix(a, "--sysroot="))
        {
          g_free(ctx->sysroot_path);
          ctx->sysroot_path = g_strdup(a + strlen("--sysroot="));
        }
      else
        argv[out++] = argv[i];
    }
  *argc = out;
  argv[out] = NULL;
  return TRUE;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  HostContext ctx = {
    .sysroot_path = env_or("KEEL_SYSROOT", "/"),
    .state_dir = env_or("KEEL_HOST_STATE_DIR", HOST_STATE_DIR),
    .conf_path = env_or("KEEL_HOST_CONF", HOST_CONF_PATH),
    .health_dir = env_or("KEEL_HEALTH_DIR", HOST_HEALTH_DIR),
  };
  g_autoptr(GError) error = NULL;
  int rc = 1;

  if (!take_sysroot(&ctx, &argc, argv, &error))
    goto out;
  if (argc < 2 || g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h"))
    {
      usage(argc < 2 ? stderr : stdout);
      rc = argc < 2 ? 2 : 0;
      goto done;
    }
  for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
    if (g_str_equal(argv[1], verbs[i].name))
      {
        ctx.verb = verbs[i].name;
        if (verbs[i].fn(&ctx, argc - 1, argv + 1, &error))
          rc = ctx.exit_code;
        else if (ctx.exit_code > 1)
          rc = ctx.exit_code;
        goto out;
      }
  g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
              "unknown verb '%s' (see host --help)", argv[1]);
  rc = 2;
out:
  if (error)
    {
      fflush(stdout);
      /* one line, whatever the libraries put in the message */
      g_strdelimit(error->message, "\n", ' ');
      fprintf(stderr, "host%s%s: %s\n", ctx.verb ? " " : "", ctx.verb ? ctx.verb : "",
              error->message);
      if (rc == 0)
        rc = 1;
    }
done:
  g_free(ctx.sysroot_path);
  g_free(ctx.state_dir);
  g_free(ctx.conf_path);
  g_free(ctx.health_dir);
  return rc;
}
