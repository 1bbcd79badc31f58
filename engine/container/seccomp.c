/* Seccomp profiles in the containers-common / Docker format (Keel's own
 * default, seccomp-default.json, made by gen-seccomp.sh, and any file
 * given with --security-opt seccomp=) resolved into the OCI
 * linux.seccomp of one container: entries whose includes/excludes name
 * capabilities or architectures are kept only when the container's
 * capabilities and the host's architecture match, and archMap picks the
 * seccomp architectures for the host. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "container/container.h"
#include "lib/cleanup.h"
#include "lib/json.h"

/* The machine's name in the Go vocabulary the profiles use. */
static const char *
go_arch(const char *machine)
{
  static const char *const map[][2] = {
    { "x86_64", "amd64" }, { "aarch64", "arm64" },   { "i686", "386" },        { "armv7l", "arm" },
    { "s390x", "s390x" },  { "ppc64le", "ppc64le" }, { "riscv64", "riscv64" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(map); i++)
    if (!strcmp(machine, map[i][0]))
      return map[i][1];
  return machine;
}

static bool
contains(json_object *a, const char *s)
{
  for (size_t i = 0; a && i < json_object_array_length(a); i++)
    if (!strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s))
      return true;
  return false;
}

/* every / any string of list in set */
static bool
all_in(json_object *list, json_object *set)
{
  for (size_t i = 0; list && i < json_object_array_length(list); i++)
    if (!contains(set, json_object_get_string(json_object_array_get_idx(list, i))))
      return false;
  return true;
}

static bool
any_in(json_object *list, json_object *set)
{
  for (size_t i = 0; list && i < json_object_array_length(list); i++)
    if (contains(set, json_object_get_string(json_object_array_get_idx(list, i))))
      return true;
  return false;
}

static json_object *
field(json_object *o, const char *a, const char *b)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
    return NULL;
  return v;
}

static bool
applies(json_object *e, json_object *caps, json_object *arch)
{
  json_object *ia = field(e, "includes", "arches"), *xa = field(e, "excludes", "arches");
  if (!all_in(field(e, "includes", "caps"), caps) || any_in(field(e, "excludes", "caps"), caps))
    return false;
  if (ia && json_object_array_length(ia) && !any_in(arch, ia))
    return false;
  return !any_in(arch, xa);
}

int
keel_ctr_seccomp_resolve(json_object *profile, json_object *caps, const char *machine,
                         json_object **ret, struct keel_error *err)
{
  struct utsname u;
  if (!machine)
    machine = uname(&u) == 0 ? u.machine : "";
  _cleanup_json_ json_object *out = json_object_new_object(), *arch = json_object_new_array();
  json_object_array_add(arch, json_object_new_string(go_arch(machine)));
  json_object *in = field(profile, "syscalls", NULL), *syscalls = json_object_new_array();
  json_object_object_add(out, "syscalls", syscalls);
  if (in && !json_object_is_type(in, json_type_array))
    return keel_error_set(err, -EINVAL, "seccomp profile: syscalls: expected an array");
  json_object_object_foreach(profile, key, v)
  {
    if (strcmp(key, "syscalls") && strcmp(key, "archMap") && strcmp(key, "comment"))
      json_object_object_add(out, key, json_object_get(v));
  }
  json_object *archs = field(profile, "archMap", machine);
  if (!field(profile, "architectures", NULL) && archs)
    json_object_object_add(out, "architectures", json_object_get(archs));
  for (size_t i = 0; in && i < json_object_array_length(in); i++)
    {
      json_object *e = json_object_array_get_idx(in, i);
      if (!json_object_is_type(e, json_type_object))
        return keel_error_set(err, -EINVAL, "seccomp profile: syscalls[%zu]: expected an object",
                              i);
      if (!applies(e, caps, arch))
        continue;
      json_object *copy = json_object_new_object();
      json_object_object_foreach(e, k, ev)
      {
        if (strcmp(k, "includes") && strcmp(k, "excludes") && strcmp(k, "comment"))
          json_object_object_add(copy, k, json_object_get(ev));
      }
      json_object_array_add(syscalls, copy);
    }
  *ret = TAKE_PTR(out);
  return 0;
}
