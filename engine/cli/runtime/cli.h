/* keel-runtime's command line: one file per verb over a command table. */
#ifndef KEEL_CLI_RUNTIME_H
#define KEEL_CLI_RUNTIME_H

#include <getopt.h>
#include <stdbool.h>

#include "lib/error.h"
#include "lib/log.h"
#include "runtime/container.h"

extern struct keel_runtime cli_rt;

struct cli_command
{
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage;
  bool enters_container; /* re-exec from a sealed copy first */
};

/* Print err and return the exit code for it (1). */
int cli_fail(const struct keel_error *err);
/* Usage error for a verb: one line, exit code 2... runc uses 1. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exactly one positional argument, the container id. */
int cli_one_id(const char *verb, int argc, char **argv, int optind_, const char **ret);
/* Parse a signal name ("KILL", "SIGKILL") or number. */
int cli_parse_signal(const char *s);

int cmd_create(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_spec(int argc, char **argv);

/* Copy between the caller's stdio and a terminal master until pid exits;
 * returns the exit code of pid. */
int cli_console_proxy(int master, pid_t pid);

#endif
