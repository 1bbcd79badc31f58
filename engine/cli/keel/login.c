/* keel login, keel logout: credentials in auth.json (containers-auth.json),
 * checked against the registry before they are written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/keel/cli.h"
#include "lib/cleanup.h"
#include "registry/auth.h"
#include "registry/client.h"

/* "https://reg:5000/ns/" → "reg:5000/ns": the auth.json key; its first
 * component is the registry to ask. */
static int
login_key(const char *arg, char *key, size_t size, char *domain, size_t dsize)
{
  const char *p = strstr(arg, "://");
  p = p ? p + 3 : arg;
  snprintf(key, size, "%s", p);
  size_t n = strlen(key);
  while (n > 0 && key[n - 1] == '/')
    key[--n] = '\0';
  if (!n)
    return -EINVAL;
  if (!strcmp(key, "docker.io") || !strcmp(key, "index.docker.io"))
    snprintf(key, size, "docker.io");
  snprintf(domain, dsize, "%.*s", (int)strcspn(key, "/"), key);
  return 0;
}

/* A line from stdin without its newline. */
static char *
read_line(FILE *f)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, f);
  if (n < 0)
    {
      free(line);
      return NULL;
    }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

struct login_flags
{
  const char *user, *password, *cert_dir, *authfile;
  bool password_stdin, tls_verify;
};

static int
parse_login(int argc, char **argv, struct login_flags *f)
{
  static const struct option opts[] = {
    { "username", required_argument, NULL, 'u' },
    { "password", required_argument, NULL, 'p' },
    { "password-stdin", no_argument, NULL, 's' },
    { "tls-verify", optional_argument, NULL, 't' },
    { "cert-dir", required_argument, NULL, 'c' },
    { "authfile", required_argument, NULL, 'a' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long(argc, argv, "+u:p:", opts, NULL)) != -1)
    switch (c)
      {
      case 'u':
        f->user = optarg;
        break;
      case 'p':
        f->password = optarg;
        break;
      case 's':
        f->password_stdin = true;
        break;
      case 'c':
        f->cert_dir = optarg;
        break;
      case 'a':
        f->authfile = optarg;
        break;
      case 't':
        if (cli_parse_bool(optarg, &f->tls_verify) < 0)
          return cli_usage("login", "--tls-verify expects true or false");
        break;
      default:
        return cli_usage("login", "usage: keel login [-u USER] [-p PASS | --password-stdin] "
                                  "REGISTRY");
      }
  if (argc - optind != 1)
    return cli_usage("login", "expects exactly one registry");
  if (f->password && f->password_stdin)
    return cli_usage("login", "--password and --password-stdin are mutually exclusive");
  return 0;
}

/* Fill in what the flags left out: the user from a prompt, the password
 * from stdin or a prompt (never echoed). */
static int
complete_creds(struct login_flags *f, char **user_buf, char **pass_buf)
{
  bool tty = isatty(STDIN_FILENO);
  if (!f->user)
    {
      if (!tty || f->password_stdin)
        return cli_usage("login", "no user name: use -u USER");
      fprintf(stderr, "Username: ");
      if (!(*user_buf = read_line(stdin)) || !**user_buf)
        return cli_usage("login", "no user name given");
      f->user = *user_buf;
    }
  if (f->password_stdin || (!f->password && !tty))
    {
      if (!(*pass_buf = read_line(stdin)))
        return cli_usage("login", "no password on standard input");
    }
  else if (!f->password)
    {
      char *p = getpass("Password: ");
      if (!p || !(*pass_buf = strdup(p)))
        return cli_usage("login", "no password given");
    }
  if (*pass_buf)
    f->password = *pass_buf;
  if (!*f->password)
    return cli_usage("login", "empty password");
  return 0;
}

int
cmd_login(int argc, char **argv)
{
  struct login_flags f = { .tls_verify = true };
  if (parse_login(argc, argv, &f) != 0)
    return EXIT_ENGINE;
  char key[512], domain[256];
  if (login_key(argv[optind], key, sizeof(key), domain, sizeof(domain)) < 0)
    return cli_usage("login", "empty registry name");
  _cleanup_free_ char *user_buf = NULL, *pass_buf = NULL;
  if (complete_creds(&f, &user_buf, &pass_buf) != 0)
    return EXIT_ENGINE;
  struct keel_registry_opts o = KEEL_REGISTRY_OPTS_INIT;
  o.username = f.user;
  o.password = f.password;
  o.cert_dir = f.cert_dir;
  cli_registry_env(&o);
  const struct keel_registries_conf *conf = cli_registries_conf();
  o.insecure = !f.tls_verify || (conf && keel_registries_conf_insecure(conf, domain));
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_registry *r = NULL;
  int rc = keel_registry_new(domain, &o, &r, &err);
  if (rc == 0)
    rc = keel_registry_login(r, &err);
  keel_registry_free(r);
  if (rc == 0)
    rc = keel_auth_store(f.authfile, key, f.user, f.password, &err);
  if (pass_buf)
    explicit_bzero(pass_buf, strlen(pass_buf));
  if (rc < 0)
    return cli_fail(&err);
  printf("Login Succeeded!\n");
  return 0;
}

int
cmd_logout(int argc, char **argv)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "authfile", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  bool all = false;
  const char *authfile = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      case 'f':
        authfile = optarg;
        break;
      default:
        return cli_usage("logout", "usage: keel logout REGISTRY | --all");
      }
  if (all ? argc != optind : argc - optind != 1)
    return cli_usage("logout", "expects one registry, or --all");
  struct keel_error err = KEEL_ERROR_INIT;
  if (all)
    {
      int n = keel_auth_remove_all(authfile, &err);
      if (n < 0)
        return cli_fail(&err);
      printf("Removed login credentials for all registries\n");
      return 0;
    }
  char key[512], domain[256];
  if (login_key(argv[optind], key, sizeof(key), domain, sizeof(domain)) < 0)
    return cli_usage("logout", "empty registry name");
  int r = keel_auth_remove(authfile, key, &err);
  if (r < 0)
    return cli_fail(&err);
  if (r == 0)
    {
      keel_error_set(&err, -ENOENT, "not logged into %s", key);
      return cli_fail(&err);
    }
  printf("Removed login credentials for %s\n", key);
  return 0;
}
