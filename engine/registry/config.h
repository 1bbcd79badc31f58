/* registries.conf in the containers-registries.conf(5) version 2 format,
 * for the keys Keel supports:
 *
 *   unqualified-search-registries = ["registry.example", "quay.example"]
 *   short-name-mode = "enforcing"            # parsed, checked, not used
 *   [[registry]]
 *   prefix = "example.com/foo"               # default: location
 *   location = "internal.example:5000/foo"
 *   insecure = false                          # plain HTTP / unverified TLS
 *   blocked = false                           # refuse to pull
 *   mirror-by-digest-only = false
 *   [[registry.mirror]]
 *   location = "mirror.example/foo"
 *   insecure = false
 *   pull-from-mirror = "all"                  # "digest-only", "tag-only"
 *
 * The file is read by a small TOML-subset parser (strings, booleans,
 * arrays of strings, [table] and [[array-of-tables]] headers, comments)
 * that refuses anything else, and any unknown key, with "FILE:LINE: reason";
 * a typo in a registry's settings must not silently pull from elsewhere.
 * Keys the spec has and Keel ignores (credential-helpers, [aliases]) are
 * parsed and recorded as notes.  The version 1 format is refused. */
#ifndef KEEL_REGISTRY_CONFIG_H
#define KEEL_REGISTRY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define KEEL_REGISTRIES_CONF_SYSTEM "/etc/containers/registries.conf"

struct keel_registries_conf;

/* One place to pull from: a reference name rewritten to a mirror or to the
 * registry's location. */
struct keel_registry_source
{
  char *name; /* "host[:port]/path" plus the reference's ":tag" / "@digest" */
  bool insecure;
  bool mirror;
};

/* Where a reference is pulled from: mirrors in order, then the location. */
struct keel_registry_resolution
{
  bool blocked;
  struct keel_registry_source *sources;
  size_t n_sources;
  const char *prefix; /* the [[registry]] that matched (owned by the conf), or NULL */
};

/* The path used when none is given: $CONTAINERS_REGISTRIES_CONF, else for
 * non-root $XDG_CONFIG_HOME/containers/registries.conf (or
 * ~/.config/containers/registries.conf) when it exists, else the system
 * file.  Returns a malloc'ed string. */
int keel_registries_conf_default_path(char **ret, struct keel_error *err);

/* Load path (NULL: the default path).  A missing default file is an empty
 * configuration; a missing explicit one is an error. */
int keel_registries_conf_load(const char *path, struct keel_registries_conf **ret,
                              struct keel_error *err);

/* Parse text (len bytes); filename only names the file in messages. */
int keel_registries_conf_parse(const char *text, size_t len, const char *filename,
                               struct keel_registries_conf **ret, struct keel_error *err);

void keel_registries_conf_free(struct keel_registries_conf *c);

/* unqualified-search-registries, NULL-terminated, owned by c. */
const char *const *keel_registries_conf_search(const struct keel_registries_conf *c);

/* What was parsed and ignored ("FILE:LINE: key 'x' is not supported, ignored"),
 * NULL-terminated, owned by c. */
const char *const *keel_registries_conf_notes(const struct keel_registries_conf *c);

/* Resolve a fully qualified reference ("domain[:port]/path[:tag][@digest]")
 * by the longest matching prefix (whole path components; "*.example.com"
 * matches subdomains).  Without a match the result is the reference itself,
 * secure.  Release with keel_registry_resolution_clear. */
int keel_registries_conf_resolve(const struct keel_registries_conf *c, const char *reference,
                                 struct keel_registry_resolution *ret, struct keel_error *err);

void keel_registry_resolution_clear(struct keel_registry_resolution *r);

/* Shortcut: is registry "host[:port]" marked insecure? */
bool keel_registries_conf_insecure(const struct keel_registries_conf *c, const char *registry);

#endif
