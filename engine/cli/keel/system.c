/* keel system check|df (check-kernel is in kernel.c), keel image prune */
#include <stdio.h>
#include <string.h>

#include "cli/keel/cli.h"
#include "lib/cleanup.h"

static int
cmd_check(int argc, char **argv)
{
  static const struct option opts[]
      = { { "repair", no_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
  bool repair = false;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
    {
      if (c != 'r')
        return cli_usage("system check", "usage: keel system check [--repair]");
      repair = true;
    }
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_check_report rep;
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = keel_store_check(s, repair, &rep, &err);
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  for (size_t i = 0; i < rep.n_problems; i++)
    printf("%s\n", rep.problems[i]);
  printf("checked %zu blobs, %zu layers, %zu images, %zu names: %zu problems%s\n", rep.blobs,
         rep.layers, rep.images, rep.names, rep.n_problems, repair ? ", repaired" : "");
  /* Problems left standing are a failure; repaired ones are not. */
  bool bad = rep.n_problems > 0 && (!repair || rep.repaired < rep.n_problems);
  keel_check_report_free(&rep);
  return bad ? 1 : 0;
}

static int
cmd_df(int argc, char **argv)
{
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_df df;
  int r = cli_open_store(&s, &err);
  if (r == 0)
    r = keel_store_df(s, &df, &err);
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  char lb[32], bb[32], rb[32];
  cli_human_size(df.layer_bytes, lb, sizeof(lb));
  cli_human_size(df.blob_bytes, bb, sizeof(bb));
  cli_human_size(df.reclaimable_bytes, rb, sizeof(rb));
  printf("%-10s %-8s %-8s %-10s %s\n", "TYPE", "TOTAL", "DANGLING", "SIZE", "RECLAIMABLE");
  printf("%-10s %-8zu %-8zu %-10s %s\n", "Images", df.images, df.dangling, lb, rb);
  printf("%-10s %-8zu %-8s %-10s %s\n", "Layers", df.layers, "-", lb, rb);
  printf("%-10s %-8zu %-8s %-10s %s\n", "Metadata", df.blobs, "-", bb, "-");
  return 0;
}

int
cmd_system(int argc, char **argv)
{
  static const struct cli_command sub[] = {
    { "check", cmd_check, "system check [--repair]" },
    { "df", cmd_df, "system df" },
    { "check-kernel", cmd_check_kernel, "system check-kernel [--config FILE] [--quiet]" },
  };
  return cli_dispatch("system", sub, ARRAY_SIZE(sub), argc, argv);
}

int
cmd_image_prune(int argc, char **argv)
{
  static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
                                        { "force", no_argument, NULL, 'f' },
                                        { NULL, 0, NULL, 0 } };
  bool all = false;
  int c;
  while ((c = getopt_long(argc, argv, "+af", opts, NULL)) != -1)
    {
      if (c == 'a')
        all = true;
      else if (c != 'f')
        return cli_usage("image prune", "usage: keel image prune [-a] [-f]");
    }
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_store *s = NULL;
  struct keel_gc_stats st;
  int r = cli_open_store(&s, &err);
  /* what containers stand on stays, as in podman */
  _cleanup_strv_ char **keep = r == 0 ? cli_images_in_use(NULL) : NULL;
  if (r == 0)
    r = keel_store_prune_keep(s, all, (const char *const *)keep, &st, &err);
  keel_store_free(s);
  if (r < 0)
    return cli_fail(&err);
  char b[32];
  cli_human_size(st.bytes, b, sizeof(b));
  printf("removed %zu images, %zu layers, %zu blobs; %s freed\n", st.images, st.layers, st.blobs,
         b);
  return 0;
}
