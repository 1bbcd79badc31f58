/* auth.json: read, longest-prefix lookup, atomic 0600 writes.  See auth.h. */
#include "registry/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

#define AUTH_FILE_MAX (1 << 20)

/* Append a followed by b to the vector v of n strings. */
static int
strv_add(char ***v, size_t *n, const char *a, const char *b)
{
  char *s;
  if (asprintf(&s, "%s%s", a, b) < 0)
    return -ENOMEM;
  char **nv = realloc(*v, (*n + 2) * sizeof(char *));
  if (!nv)
    {
      free(s);
      return -ENOMEM;
    }
  nv[(*n)++] = s;
  nv[*n] = NULL;
  *v = nv;
  return 0;
}

int
keel_auth_default_path(char **ret, struct keel_error *err)
{
  const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_RUNTIME_DIR");
  char *p = NULL;
  int r;
  if (env && *env)
    r = (p = strdup(env)) ? 0 : -1;
  else if (xdg && *xdg)
    r = asprintf(&p, "%s/containers/auth.json", xdg);
  else if (geteuid() == 0)
    r = (p = strdup("/run/containers/0/auth.json")) ? 0 : -1;
  else
    r = asprintf(&p, "/run/user/%u/containers/auth.json", (unsigned)geteuid());
  if (r < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  *ret = p;
  return 0;
}

int
keel_auth_lookup_paths(char ***ret, struct keel_error *err)
{
  _cleanup_strv_ char **v = NULL;
  size_t n = 0;
  _cleanup_free_ char *def = NULL;
  int r = keel_auth_default_path(&def, err);
  if (r < 0)
    return r;
  const char *env = getenv("REGISTRY_AUTH_FILE"), *xdg = getenv("XDG_CONFIG_HOME"),
             *home = getenv("HOME"), *docker = getenv("DOCKER_CONFIG");
  r = strv_add(&v, &n, def, "");
  if (r == 0 && !(env && *env))
    {
      if (xdg && *xdg)
        r = strv_add(&v, &n, xdg, "/containers/auth.json");
      else if (home && *home)
        r = strv_add(&v, &n, home, "/.config/containers/auth.json");
      if (r == 0 && docker && *docker)
        r = strv_add(&v, &n, docker, "/config.json");
      else if (r == 0 && home && *home)
        r = strv_add(&v, &n, home, "/.docker/config.json");
    }
  if (r < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  *ret = TAKE_PTR(v);
  return 0;
}

/* A file key as the registry name it stands for: legacy URL keys
 * ("https://index.docker.io/v1/") become their host; Docker Hub's hosts
 * become docker.io. */
static void
normalize_key(const char *key, char *buf, size_t size)
{
  const char *s = strstr(key, "://");
  if (s)
    snprintf(buf, size, "%.*s", (int)strcspn(s + 3, "/"), s + 3);
  else
    snprintf(buf, size, "%s", key);
  size_t l = strlen(buf);
  while (l > 0 && buf[l - 1] == '/')
    buf[--l] = '\0';
  if (!strcmp(buf, "index.docker.io") || !strcmp(buf, "registry-1.docker.io"))
    snprintf(buf, size, "docker.io");
}

/* Read path into *ret; a missing file is an empty object. */
static int
read_auth_file(const char *path, json_object **ret, struct keel_error *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len;
  int r = keel_read_file(AT_FDCWD, path, AUTH_FILE_MAX, &text, &len);
  if (r == -ENOENT)
    {
      *ret = json_object_new_object();
      return *ret ? 0 : keel_error_set(err, -ENOMEM, "out of memory");
    }
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read '%s'", path);
  if ((r = keel_json_parse(text, len, path, ret, err)) < 0)
    return r;
  if (!json_object_is_type(*ret, json_type_object))
    {
      json_object_put(*ret);
      *ret = NULL;
      return keel_error_set(err, -EINVAL, "%s: not a JSON object", path);
    }
  return 0;
}

/* Decode an "auth" value into user and password. */
static int
decode_auth(const char *path, const char *key, const char *b64, char **ret_user, char **ret_pass,
            struct keel_error *err)
{
  size_t n = strlen(b64);
  _cleanup_free_ unsigned char *dec = malloc(n / 4 * 3 + 4);
  if (!dec)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int dl = n % 4 == 0 ? EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n) : -1;
  if (dl < 0)
    return keel_error_set(err, -EINVAL, "%s: auths.\"%s\".auth is not base64", path, key);
  for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
    dl--; /* EVP_DecodeBlock counts padding as zero bytes */
  dec[dl] = '\0';
  char *colon = memchr(dec, ':', (size_t)dl);
  if (!colon || strlen((char *)dec) != (size_t)dl)
    return keel_error_set(err, -EINVAL, "%s: auths.\"%s\".auth is not user:password", path, key);
  *colon = '\0';
  char *u = strdup((char *)dec), *p = strdup(colon + 1);
  explicit_bzero(dec, (size_t)dl);
  if (!u || !p)
    {
      free(u), free(p);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  *ret_user = u;
  *ret_pass = p;
  return 1;
}

/* The longest key of one file matching name; 1 found, 0 not. */
static int
lookup_file(const char *path, const char *name, char **ret_user, char **ret_pass,
            struct keel_error *err)
{
  _cleanup_json_ json_object *root = NULL;
  json_object *auths = NULL;
  int r = read_auth_file(path, &root, err);
  if (r < 0 || (r = keel_json_get_object(root, "auths", path, &auths, err)) <= 0)
    return r;
  const char *best = NULL, *best_auth = NULL;
  size_t best_len = 0;
  json_object_object_foreach(auths, key, entry)
  {
    char norm[512];
    const char *a = NULL;
    normalize_key(key, norm, sizeof(norm));
    size_t l = strlen(norm);
    if (l == 0 || strncmp(name, norm, l) != 0 || (name[l] != '\0' && name[l] != '/'))
      continue;
    if (l <= best_len)
      continue;
    char ctx[600];
    snprintf(ctx, sizeof(ctx), "%s: auths.\"%s\"", path, key);
    if (!json_object_is_type(entry, json_type_object))
      return keel_error_set(err, -EINVAL, "%s: expected an object", ctx);
    if ((r = keel_json_get_string(entry, "auth", ctx, &a, err)) < 0)
      return r;
    if (r == 0 || !*a)
      continue; /* a credential helper's entry: nothing for us */
    best = key, best_auth = a, best_len = l;
  }
  return best ? decode_auth(path, best, best_auth, ret_user, ret_pass, err) : 0;
}

int
keel_auth_lookup(const char *const *paths, const char *name, char **ret_user, char **ret_pass,
                 struct keel_error *err)
{
  _cleanup_strv_ char **def = NULL;
  int r;
  if (!paths)
    {
      if ((r = keel_auth_lookup_paths(&def, err)) < 0)
        return r;
      paths = (const char *const *)def;
    }
  for (; *paths; paths++)
    if ((r = lookup_file(*paths, name, ret_user, ret_pass, err)) != 0)
      return r;
  return 0;
}

int
keel_auth_credentials(void *userdata, const char *registry, char **ret_user, char **ret_pass,
                      struct keel_error *err)
{
  return keel_auth_lookup(NULL, registry, ret_user, ret_pass, err);
}

/* Open path (NULL: default) for a change: *ret_root is the whole file,
 * *ret_auths its "auths" object (created when missing). */
static int
edit_begin(const char **path, char **def, json_object **ret_root, json_object **ret_auths,
           struct keel_error *err)
{
  int r;
  if (!*path)
    {
      if ((r = keel_auth_default_path(def, err)) < 0)
        return r;
      *path = *def;
    }
  if ((r = read_auth_file(*path, ret_root, err)) < 0)
    return r;
  if ((r = keel_json_get_object(*ret_root, "auths", *path, ret_auths, err)) < 0)
    return r;
  if (r == 0)
    {
      *ret_auths = json_object_new_object();
      if (!*ret_auths)
        return keel_error_set(err, -ENOMEM, "out of memory");
      json_object_object_add(*ret_root, "auths", *ret_auths);
    }
  return 0;
}

/* Write root to path atomically, mode 0600 (it holds passwords), creating
 * the directory 0700. */
static int
edit_commit(const char *path, json_object *root, struct keel_error *err)
{
  _cleanup_free_ char *dir = strdup(path);
  if (!dir)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = keel_mkdir_p(dirname(dir), 0700);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot create the directory of '%s'", path);
  const char *text = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
  _cleanup_free_ char *buf = NULL;
  if (!text || asprintf(&buf, "%s\n", text) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  r = keel_write_file_atomic(AT_FDCWD, path, buf, strlen(buf), 0600);
  explicit_bzero(buf, strlen(buf));
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write '%s'", path);
  return 0;
}

int
keel_auth_store(const char *path, const char *key, const char *user, const char *password,
                struct keel_error *err)
{
  if (!*key || strchr(user, ':'))
    return keel_error_set(err, -EINVAL, "%s",
                          !*key ? "empty registry name" : "a user name may not contain ':'");
  _cleanup_free_ char *def = NULL, *plain = NULL;
  _cleanup_json_ json_object *root = NULL;
  json_object *auths;
  int r = edit_begin(&path, &def, &root, &auths, err);
  if (r < 0)
    return r;
  if (asprintf(&plain, "%s:%s", user, password) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  size_t n = strlen(plain);
  _cleanup_free_ char *b64 = malloc(4 * (n / 3 + 2) + 1);
  if (!b64)
    return keel_error_set(err, -ENOMEM, "out of memory");
  EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)plain, (int)n);
  explicit_bzero(plain, n);
  json_object *entry = json_object_new_object();
  if (!entry)
    return keel_error_set(err, -ENOMEM, "out of memory");
  json_object_object_add(entry, "auth", json_object_new_string(b64));
  explicit_bzero(b64, strlen(b64));
  json_object_object_add(auths, key, entry);
  return edit_commit(path, root, err);
}

int
keel_auth_remove(const char *path, const char *key, struct keel_error *err)
{
  _cleanup_free_ char *def = NULL;
  _cleanup_json_ json_object *root = NULL;
  json_object *auths;
  int r = edit_begin(&path, &def, &root, &auths, err), removed = 0;
  if (r < 0)
    return r;
  /* Collect first: deleting while iterating would break the iteration. */
  _cleanup_strv_ char **doomed = NULL;
  size_t n = 0;
  json_object_object_foreach(auths, k, v)
  {
    char norm[512];
    (void)v;
    normalize_key(k, norm, sizeof(norm));
    if ((!strcmp(k, key) || !strcmp(norm, key)) && strv_add(&doomed, &n, k, "") < 0)
      return keel_error_set(err, -ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++, removed++)
    json_object_object_del(auths, doomed[i]);
  if (removed == 0)
    return 0;
  r = edit_commit(path, root, err);
  return r < 0 ? r : 1;
}

int
keel_auth_remove_all(const char *path, struct keel_error *err)
{
  _cleanup_free_ char *def = NULL;
  _cleanup_json_ json_object *root = NULL;
  json_object *auths;
  int r = edit_begin(&path, &def, &root, &auths, err);
  if (r < 0)
    return r;
  int n = json_object_object_length(auths);
  if (n == 0)
    return 0;
  json_object_object_add(root, "auths", json_object_new_object());
  r = edit_commit(path, root, err);
  return r < 0 ? r : n;
}
