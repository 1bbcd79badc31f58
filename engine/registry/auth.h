/* Registry credentials in the containers-auth.json(5) format, which podman,
 * skopeo and buildah share, with Docker's ~/.docker/config.json read too:
 *
 *   {"auths": {"registry.example:5000": {"auth": "<base64 of user:password>"},
 *              "registry.example/team": {"auth": "..."}}}
 *
 * Keys are a registry ("host[:port]") or a registry with a namespace or
 * repository; a lookup takes the longest key that is a path prefix of the
 * name asked for.  Legacy keys with a scheme ("https://index.docker.io/v1/")
 * count as their host.  Writes are atomic and leave the file mode 0600. */
#ifndef KEEL_REGISTRY_AUTH_H
#define KEEL_REGISTRY_AUTH_H

#include "lib/error.h"

/* The file keel login writes: $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json, else for root
 * /run/containers/0/auth.json, else /run/user/<uid>/containers/auth.json.
 * Returns a malloc'ed path. */
int keel_auth_default_path(char **ret, struct keel_error *err);

/* The files a lookup reads, in order (NULL-terminated, free with
 * keel_strv_free): $REGISTRY_AUTH_FILE alone when set, else the default
 * path, $XDG_CONFIG_HOME/containers/auth.json, then
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
int keel_auth_lookup_paths(char ***ret, struct keel_error *err);

/* Credentials for name ("registry[/namespace[/repo]]") from the first of
 * paths (NULL: keel_auth_lookup_paths) that has a matching key.  Returns 1
 * with malloc'ed *ret_user and *ret_pass, 0 when none match, negative on
 * a malformed file. */
int keel_auth_lookup(const char *const *paths, const char *name, char **ret_user, char **ret_pass,
                     struct keel_error *err);

/* Add or replace key's credentials in path (NULL: the default path),
 * creating the file (0600) and its directory (0700) when missing and
 * keeping every other entry and top-level key. */
int keel_auth_store(const char *path, const char *key, const char *user, const char *password,
                    struct keel_error *err);

/* Remove key (exactly as stored, or its legacy URL form) from path (NULL:
 * the default path).  Returns 1 when removed, 0 when it was not there. */
int keel_auth_remove(const char *path, const char *key, struct keel_error *err);

/* Remove every entry of path (NULL: the default path); other top-level
 * keys stay.  Returns the number removed. */
int keel_auth_remove_all(const char *path, struct keel_error *err);

/* The credentials callback of struct keel_registry_opts: looks up registry
 * in the default files (userdata unused). */
int keel_auth_credentials(void *userdata, const char *registry, char **ret_user, char **ret_pass,
                          struct keel_error *err);

#endif
