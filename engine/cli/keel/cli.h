/* keel's command line: one small file per verb over a command table.
 * Exit codes follow podman: 0 success, 125 an engine error (bad flag,
 * unknown image, registry failure). */
#ifndef KEEL_CLI_KEEL_H
#define KEEL_CLI_KEEL_H

#include <getopt.h>
#include <stdbool.h>

#include "image/store.h"
#include "registry/config.h"
#include "lib/error.h"
#include "lib/log.h"

#define EXIT_ENGINE 125

struct cli_command
{
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage;
};

/* --root / KEEL_ROOT */
extern const char *cli_root;

/* Print err, return 125. */
int cli_fail(const struct keel_error *err);
/* One usage line for a verb, return 125. */
int cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "true"/"1"/NULL → true, "false"/"0" → false; -EINVAL otherwise. */
int cli_parse_bool(const char *s, bool *ret);
/* KEEL_CERTS_D and KEEL_STALL_TIMEOUT into registry options. */
struct keel_registry_opts;
void cli_registry_env(struct keel_registry_opts *o);
/* --creds USER:PASS, else auth.json's, into registry options. */
int cli_registry_creds(const char *creds, struct keel_registry_opts *o, struct keel_error *err);
/* Open the store at cli_root. */
int cli_open_store(struct keel_store **ret, struct keel_error *err);
/* An image by id, id prefix, name or short name. */
int cli_find_image(struct keel_store *s, const char *what, struct keel_image **ret,
                   struct keel_error *err);
/* Which of img->names the user's reference what is, or -1 (an id, or a
 * name the image does not have). */
ssize_t cli_image_name_index(const struct keel_image *img, const char *what);
/* A user's reference as the full name the store records. */
int cli_normalize_name(const char *what, char *buf, size_t size, struct keel_error *err);
/* A name for a new image (commit, build): unqualified → localhost/NAME:TAG. */
int cli_local_name(const char *in, char *out, size_t size, struct keel_error *err);
/* registries.conf (NULL when absent or broken). */
const struct keel_registries_conf *cli_registries_conf(void);
/* Registries tried for short names. */
const char *const *cli_search_registries(void);
/* Does registries.conf mark the [[registry]] that name ("domain/path", no
 * rewriting: push and login go where the name says) insecure? */
bool cli_registry_insecure(const char *name);
/* "1.5MB", SI units as podman prints them. */
void cli_human_size(uint64_t bytes, char *buf, size_t size);
/* "3 days ago" from an RFC 3339 time. */
void cli_human_ago(const char *rfc3339, char *buf, size_t size);
/* --format templates (format.c): each {{.Key}} replaced by get()'s
 * value for Key (buf is room for it); "table " prints a header first. */
typedef const char *(*cli_template_get)(const char *key, void *data, char *buf, size_t size);
void cli_template(const char *fmt, cli_template_get get, void *data);
void cli_template_header(const char *fmt);
/* Dispatch "keel image VERB" / "keel system VERB". */
int cli_dispatch(const char *group, const struct cli_command *table, size_t n, int argc,
                 char **argv);

int cmd_pull(int argc, char **argv);
/* keel pull as a step of run or build; its output to out_fd (-1: none). */
int cli_pull_step(const char *ref, const char *platform, int out_fd, struct keel_error *err);
int cmd_images(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_image_prune(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_system(int argc, char **argv);
int cmd_check_kernel(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_container(int argc, char **argv);
int cmd_port(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_network(int argc, char **argv);
int cmd_from(int argc, char **argv);
int cmd_run_in(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_containers(int argc, char **argv);
int cmd_commit(int argc, char **argv);
/* rmi.c: the image ids containers (ordinary and working) stand on,
 * NULL-terminated; their container ids beside them in *ret_ctrs. */
char **cli_images_in_use(char ***ret_ctrs);
/* run.c: print err; podman's 127 (not found) / 126 (cannot execute) /
 * 125 (anything else) */
int cli_exec_fail(struct keel_error *err);
int cmd_generate(int argc, char **argv);
/* run.c: relay an attach socket to our stdio; the last exit code or -1 */
int relay(int sock, bool in, bool tty);
/* ctr.c */
struct keel_net_env;
void ctr_net_env(struct keel_net_env *env);

#endif
