/* The cgroup module's front: resolving cgroupsPath into per-hierarchy
 * directories, the state object, and dispatch to the v1 / v2 / systemd
 * backends.  See cgroup.h for the contract. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/json.h"
#include "runtime/cgroup-internal.h"

static const char *const mode_names[] = {
  [KEEL_CGROUP_V1] = "v1",
  [KEEL_CGROUP_HYBRID] = "hybrid",
  [KEEL_CGROUP_V2] = "v2",
};

/* A directory from a state file must lie inside cgroupfs: destroy kills
 * and removes whatever it names. */
static bool
sane_dir(const char *dir)
{
  return !strncmp(dir, CG_ROOT "/", strlen(CG_ROOT "/")) && !strstr(dir, "/../")
         && strcmp(dir + strlen(dir) - 3, "/..") != 0;
}

int
cg_ctx_from_state(json_object *state, struct cg_ctx *ctx, struct keel_error *err)
{
  const char *mode = NULL;
  json_object *paths = NULL;
  memset(ctx, 0, sizeof(*ctx));
  ctx->state = state;
  if (!state || !json_object_is_type(state, json_type_object))
    return keel_error_set(err, -EINVAL, "cgroup state: expected an object");
  int r = keel_json_get_string(state, "mode", "cgroup state", &mode, err);
  if (r == 0)
    return keel_error_set(err, -EINVAL, "cgroup state: no mode");
  if (r < 0)
    return r;
  for (r = 0; r < (int)ARRAY_SIZE(mode_names) && strcmp(mode, mode_names[r]); r++)
    ;
  if (r == (int)ARRAY_SIZE(mode_names))
    return keel_error_set(err, -EINVAL, "cgroup state: unknown mode '%s'", mode);
  ctx->mode = (enum keel_cgroup_mode)r;
  if ((r = keel_json_get_object(state, "paths", "cgroup state", &paths, err)) < 0
      || (r = keel_json_get_string(state, "unified", "cgroup state", &ctx->unified, err)) < 0
      || (r = keel_json_get_string(state, "unit", "cgroup state", &ctx->unit, err)) < 0)
    return r;
  if (paths)
    {
      json_object_object_foreach(paths, name, v)
      {
        if (!json_object_is_type(v, json_type_string) || ctx->n == CG_MAX_HIER)
          return keel_error_set(err, -EINVAL, "cgroup state: paths.%s: expected a string", name);
        ctx->name[ctx->n] = name;
        ctx->dir[ctx->n++] = json_object_get_string(v);
      }
    }
  for (size_t i = 0; i < ctx->n; i++)
    if (!sane_dir(ctx->dir[i]))
      return keel_error_set(err, -EINVAL, "cgroup state: '%s' is not a cgroup directory",
                            ctx->dir[i]);
  if (ctx->unified && !sane_dir(ctx->unified))
    return keel_error_set(err, -EINVAL, "cgroup state: '%s' is not a cgroup directory",
                          ctx->unified);
  return 0;
}

static const char *
v1_dir(const struct cg_ctx *ctx, const char *ctrl)
{
  for (size_t i = 0; i < ctx->n; i++)
    if (cg_list_has(ctx->name[i], ctrl, ','))
      return ctx->dir[i];
  return NULL;
}

const char *
cg_ctx_dir(const struct cg_ctx *ctx, const char *ctrl)
{
  if (!ctrl || !*ctrl || ctx->mode == KEEL_CGROUP_V2)
    return ctx->unified;
  return v1_dir(ctx, ctrl);
}

const char *
keel_cgroup_path(json_object *state, const char *controller)
{
  struct cg_ctx ctx;
  if (cg_ctx_from_state(state, &ctx, NULL) < 0)
    return NULL;
  if (controller && ctx.mode == KEEL_CGROUP_V2)
    return NULL; /* v2 has one directory: ask with NULL */
  return cg_ctx_dir(&ctx, controller);
}

static void
plan_opts_for(enum keel_cgroup_mode mode, bool hugetlb_v1, bool update, struct cg_plan_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->flavor = mode == KEEL_CGROUP_V2 ? CG_FLAVOR_V2 : CG_FLAVOR_V1;
  o->hugetlb_unified = mode == KEEL_CGROUP_HYBRID && !hugetlb_v1;
  o->unified_ok = mode != KEEL_CGROUP_V1;
  o->update = update;
}

/* The controller a write needs: its hierarchy, or for a unified-hierarchy
 * file the part of the name before the dot ("hugetlb.2MB.max"). */
static void
write_controller(const struct cg_write *w, char *out, size_t size)
{
  if (*w->ctrl)
    snprintf(out, size, "%s", w->ctrl);
  else
    snprintf(out, size, "%.*s", (int)strcspn(w->file, "."), w->file);
}

int
cg_plan_check_host(const struct cg_plan *plan, const struct cg_host *host, struct keel_error *err)
{
  for (size_t i = 0; i < plan->n; i++)
    {
      char ctrl[64];
      write_controller(&plan->w[i], ctrl, sizeof(ctrl));
      /* cgroup.* files are the core's, in every cgroup v2 directory */
      if (!*plan->w[i].ctrl && !strcmp(ctrl, "cgroup"))
        continue;
      bool unified;
      bool found = cg_host_has(host, ctrl, &unified);
      if (found && (unified || *plan->w[i].ctrl))
        continue;
      if (found)
        return keel_error_set(err, -ENODEV,
                              "linux.resources: '%s' is a cgroup v2 file, and this host's %s "
                              "controller is bound to cgroup v1",
                              plan->w[i].file, ctrl);
      return keel_error_set(err, -ENODEV,
                            "linux.resources: '%s' needs the %s controller, which this host "
                            "does not have",
                            plan->w[i].file, ctrl);
    }
  return 0;
}

static int
build_plan(const struct keel_cgroup_opts *opts, const struct cg_host *host, struct cg_plan *plan,
           struct keel_error *err)
{
  struct cg_plan_opts po;
  bool hugetlb_v1 = false;
  for (size_t i = 0; i < host->n; i++)
    hugetlb_v1 |= cg_list_has(host->h[i].name, "hugetlb", ',');
  plan_opts_for(host->mode, hugetlb_v1, false, &po);
  int r = cg_plan_build(opts->resources, &po, plan, err);
  if (r < 0)
    return r;
  if ((r = cg_plan_check_host(plan, host, err)) < 0)
    cg_plan_free(plan);
  return r;
}

/* Where the container goes, relative to each hierarchy's root: the systemd
 * form names a scope in a slice; otherwise cgroupsPath, "/keel/<id>" when
 * absent. */
struct target
{
  bool relative;
  char path[PATH_MAX]; /* absolute path, or the relative cgroupsPath */
  char slice[PATH_MAX];
  char slice_name[256];
  char unit[256];
};

static int
resolve_target(const struct keel_cgroup_opts *opts, struct target *t, struct keel_error *err)
{
  memset(t, 0, sizeof(*t));
  if (!opts->id || !*opts->id || strchr(opts->id, '/'))
    return keel_error_set(err, -EINVAL, "cgroup: invalid container id '%s'",
                          opts->id ? opts->id : "");
  if (opts->systemd)
    {
      char def[512];
      const char *p = opts->path && *opts->path ? opts->path : def;
      snprintf(def, sizeof(def), "system.slice:keel:%s", opts->id);
      int r = cg_systemd_parse_path(p, t->slice, sizeof(t->slice), t->unit, sizeof(t->unit), err);
      if (r < 0)
        return r;
      snprintf(t->slice_name, sizeof(t->slice_name), "%.*s", (int)strcspn(p, ":"), p);
      if (!t->slice_name[0])
        snprintf(t->slice_name, sizeof(t->slice_name), "system.slice");
      snprintf(t->path, sizeof(t->path), "%s/%s", t->slice, t->unit);
      return 0;
    }
  if (!opts->path || !*opts->path)
    snprintf(t->path, sizeof(t->path), "/keel/%s", opts->id);
  else if (snprintf(t->path, sizeof(t->path), "%s", opts->path) >= (int)sizeof(t->path))
    return keel_error_set(err, -ENAMETOOLONG, "cgroupsPath too long");
  t->relative = t->path[0] != '/';
  return 0;
}

/* One hierarchy's directory: mount + (self +) path, never the root. */
static int
target_dir(const struct target *t, const char *mnt, const char *self, char **ret,
           struct keel_error *err)
{
  char rel[PATH_MAX];
  int r = cg_join_path(t->relative ? self : "/", t->path, rel, sizeof(rel));
  if (r < 0)
    return keel_error_set_errno(err, r, "cgroupsPath '%s'", t->path);
  if (!strcmp(rel, "/"))
    return keel_error_set(err, -EINVAL, "cgroupsPath '%s' resolves to the root cgroup", t->path);
  if (asprintf(ret, "%s%s", mnt, rel) < 0)
    return keel_error_set(err, -ENOMEM, "out of memory");
  return 0;
}

static int
add_string(json_object *o, const char *key, char *val, struct keel_error *err)
{
  json_object *s = json_object_new_string(val);
  free(val);
  if (!s || json_object_object_add(o, key, s) < 0)
    {
      json_object_put(s);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  return 0;
}

static int
build_state(const struct cg_host *host, const struct target *t, json_object **ret,
            struct keel_error *err)
{
  _cleanup_json_ json_object *st = json_object_new_object();
  json_object *paths = json_object_new_object();
  if (!st || !paths || json_object_object_add(st, "paths", paths) < 0)
    {
      json_object_put(paths);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  int r = add_string(st, "mode", strdup(mode_names[host->mode]), err);
  for (size_t i = 0; r == 0 && i < host->n; i++)
    {
      char *dir = NULL;
      if ((r = target_dir(t, host->h[i].mnt, host->h[i].self, &dir, err)) == 0)
        r = add_string(paths, host->h[i].name, dir, err);
    }
  if (r == 0 && host->mode != KEEL_CGROUP_V1)
    {
      char *dir = NULL;
      const char *mnt = host->mode == KEEL_CGROUP_V2 ? CG_ROOT : CG_UNIFIED;
      if ((r = target_dir(t, mnt, host->unified_self, &dir, err)) == 0)
        r = add_string(st, "unified", dir, err);
    }
  if (r == 0 && t->unit[0])
    r = add_string(st, "unit", strdup(t->unit), err);
  if (r < 0)
    return r;
  *ret = TAKE_PTR(st);
  return 0;
}

int
keel_cgroup_validate(const struct keel_cgroup_opts *opts, struct keel_error *err)
{
  const struct cg_host *host;
  struct cg_plan plan;
  struct target t;
  int r = cg_host_get(&host, err);
  if (r < 0 || (r = resolve_target(opts, &t, err)) < 0)
    return r;
  if (opts->systemd && !cg_systemd_running())
    return keel_error_set(err, -EOPNOTSUPP,
                          "--systemd-cgroup: systemd is not running on this host (no "
                          "/run/systemd/system); drop the flag to use cgroupfs");
  _cleanup_json_ json_object *st = NULL;
  if ((r = build_state(host, &t, &st, err)) < 0) /* checks the paths */
    return r;
  if ((r = build_plan(opts, host, &plan, err)) < 0)
    return r;
  cg_plan_free(&plan);
  return 0;
}

static const char *
host_mnt(const struct cg_host *host, const char *name)
{
  for (size_t i = 0; i < host->n; i++)
    if (!strcmp(host->h[i].name, name))
      return host->h[i].mnt;
  return NULL;
}

/* What the container's cgroup must have: on v2 every controller the host
 * offers (as runc and crun do: "update" and nested managers count on it);
 * on a hybrid host only what the plan puts in the unified mount. */
static void
v2_wanted(const struct cg_host *host, const struct cg_plan *plan, char *out, size_t size)
{
  size_t len = 0;
  out[0] = '\0';
  const char *list = host->unified_controllers ? host->unified_controllers : "";
  for (const char *p = list; *p;)
    {
      size_t n = strcspn(p, " ");
      bool want = host->mode == KEEL_CGROUP_V2;
      for (size_t i = 0; !want && i < plan->n; i++)
        want = !*plan->w[i].ctrl && !strncmp(plan->w[i].file, p, n) && plan->w[i].file[n] == '.';
      if (want && n && len + n + 3 < size)
        len += (size_t)snprintf(out + len, size - len, "%s+%.*s", len ? " " : "", (int)n, p);
      p += n;
      p += strspn(p, " ");
    }
}

struct undo
{
  bool created[CG_MAX_HIER];
  bool unified_created;
  bool unit;
};

static int
create_dirs(const struct cg_host *host, const struct cg_ctx *ctx, const struct cg_plan *plan,
            struct undo *u, struct keel_error *err)
{
  int r = 0;
  for (size_t i = 0; i < ctx->n && r == 0; i++)
    {
      const char *mnt = host_mnt(host, ctx->name[i]);
      if (!mnt)
        return keel_error_set(err, -ENODEV, "cgroup hierarchy '%s' is gone", ctx->name[i]);
      bool cpuset = cg_list_has(ctx->name[i], "cpuset", ',');
      r = cg_mkdir(mnt, ctx->dir[i], cpuset ? cg_v1_cpuset_fixup : NULL, &u->created[i], err);
    }
  if (r < 0 || !ctx->unified)
    return r;
  const char *mnt = host->mode == KEEL_CGROUP_V2 ? CG_ROOT : CG_UNIFIED;
  char want[256];
  v2_wanted(host, plan, want, sizeof(want));
  if ((r = cg_mkdir(mnt, ctx->unified, NULL, &u->unified_created, err)) < 0)
    return r;
  /* Under systemd the slices are its own and Delegate=yes already gave the
   * scope its controllers: no writes above the scope. */
  if (ctx->unit)
    return 0;
  return cg_v2_enable(mnt, ctx->unified, want, err);
}

/* pid > 0 into every hierarchy; pid 0: the caller, thread-wise, into the
 * v1 hierarchies only; pid < 0: -pid into the unified hierarchy only. */
static int
enter_pid(const struct cg_ctx *ctx, pid_t pid, struct keel_error *err)
{
  int r = 0;
  for (size_t i = 0; i < ctx->n && r == 0 && pid >= 0; i++)
    {
      r = pid ? cg_enter_pid(ctx->dir[i], pid, err) : cg_v1_enter_self(ctx->dir[i], err);
      /* An existing cpuset cgroup somebody left empty: fill it and retry. */
      if (r == -ENOSPC && cg_list_has(ctx->name[i], "cpuset", ',')
          && cg_v1_cpuset_fixup(ctx->dir[i]) == 0)
        r = pid ? cg_enter_pid(ctx->dir[i], pid, err) : cg_v1_enter_self(ctx->dir[i], err);
    }
  if (r == 0 && ctx->unified && pid != 0)
    r = cg_enter_pid(ctx->unified, pid < 0 ? -pid : pid, err);
  return r;
}

static void
undo(const struct cg_ctx *ctx, const struct undo *u)
{
  /* Only what this call created, and only when empty: the pid is the
   * caller's to deal with, never killed here. */
  for (size_t i = ctx->n; i > 0; i--)
    if (u->created[i - 1])
      rmdir(ctx->dir[i - 1]);
  if (u->unified_created)
    rmdir(ctx->unified);
  if (u->unit)
    cg_systemd_stop(ctx->unit, NULL);
}

static int
apply_devices_v2(struct cg_ctx *ctx, const struct cg_plan *plan, struct keel_error *err)
{
  if (!plan->devices || ctx->mode != KEEL_CGROUP_V2)
    return 0;
  int64_t old = 0;
  uint32_t id = 0;
  keel_json_get_int(ctx->state, "devicesProgId", NULL, 0, UINT32_MAX, &old, NULL);
  int r = cg_bpf_apply(ctx->unified, plan->dev, plan->n_dev, (uint32_t)old, &id, err);
  if (r < 0)
    return r;
  json_object *v = json_object_new_int64(id);
  if (!v || json_object_object_add(ctx->state, "devicesProgId", v) < 0)
    {
      json_object_put(v);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  return 0;
}

static int
start_scope(const struct target *t, const struct keel_cgroup_opts *opts, pid_t pid,
            enum keel_cgroup_mode mode, struct keel_error *err)
{
  struct cg_scope_opts so = {
    .unit = t->unit,
    .slice = t->slice_name,
    .pid = pid,
    .resources = opts->resources,
    .v2 = mode == KEEL_CGROUP_V2,
  };
  return cg_systemd_start(&so, err);
}

int
keel_cgroup_enter(const struct keel_cgroup_opts *opts, pid_t pid, json_object **ret_state,
                  struct keel_error *err)
{
  const struct cg_host *host;
  struct cg_plan plan = { 0 };
  struct target t;
  struct cg_ctx ctx;
  struct undo u = { { 0 } };
  _cleanup_json_ json_object *st = NULL;
  int r = cg_host_get(&host, err);
  if (r < 0 || (r = resolve_target(opts, &t, err)) < 0
      || (r = build_plan(opts, host, &plan, err)) < 0)
    return r;
  if ((r = build_state(host, &t, &st, err)) < 0 || (r = cg_ctx_from_state(st, &ctx, err)) < 0)
    goto out;
  if (opts->systemd)
    {
      if ((r = start_scope(&t, opts, pid, host->mode, err)) < 0)
        goto out;
      u.unit = true;
    }
  if ((r = create_dirs(host, &ctx, &plan, &u, err)) < 0 || (r = cg_plan_apply(&plan, &ctx, err)) < 0
      || (r = apply_devices_v2(&ctx, &plan, err)) < 0
      || (pid > 0 && (r = enter_pid(&ctx, pid, err)) < 0))
    {
      undo(&ctx, &u);
      goto out;
    }
  *ret_state = TAKE_PTR(st);
out:
  cg_plan_free(&plan);
  return r;
}

int
keel_cgroup_resolve(const struct keel_cgroup_opts *opts, json_object **ret_state,
                    struct keel_error *err)
{
  const struct cg_host *host;
  struct target t;
  int r = cg_host_get(&host, err);
  if (r < 0 || (r = resolve_target(opts, &t, err)) < 0)
    return r;
  return build_state(host, &t, ret_state, err);
}

int
keel_cgroup_attach(json_object *state, pid_t pid, bool unified_only, struct keel_error *err)
{
  struct cg_ctx ctx;
  int r = cg_ctx_from_state(state, &ctx, err);
  if (r < 0)
    return r;
  return enter_pid(&ctx, unified_only ? -pid : pid, err);
}

int
keel_cgroup_attach_self_v1(json_object *state, struct keel_error *err)
{
  struct cg_ctx ctx;
  int r = cg_ctx_from_state(state, &ctx, err);
  if (r < 0)
    return r;
  return enter_pid(&ctx, 0, err);
}

int
keel_cgroup_update(json_object *state, json_object *resources, struct keel_error *err)
{
  struct cg_ctx ctx;
  struct cg_plan plan;
  struct cg_plan_opts po;
  int r = cg_ctx_from_state(state, &ctx, err);
  if (r < 0)
    return r;
  plan_opts_for(ctx.mode, v1_dir(&ctx, "hugetlb") != NULL, true, &po);
  if ((r = cg_plan_build(resources, &po, &plan, err)) < 0)
    return r;
  r = cg_plan_apply(&plan, &ctx, err);
  if (r == 0)
    r = apply_devices_v2(&ctx, &plan, err);
  cg_plan_free(&plan);
  return r;
}

static const char *
freezer_dir(const struct cg_ctx *ctx)
{
  return ctx->mode == KEEL_CGROUP_V2 ? NULL : v1_dir(ctx, "freezer");
}

int
keel_cgroup_freeze(json_object *state, bool frozen, struct keel_error *err)
{
  struct cg_ctx ctx;
  int r = cg_ctx_from_state(state, &ctx, err);
  if (r < 0)
    return r;
  const char *fz = freezer_dir(&ctx);
  if (fz)
    return cg_v1_freeze(fz, frozen, err);
  if (ctx.unified)
    return cg_v2_freeze(ctx.unified, frozen, err);
  return keel_error_set(err, -EOPNOTSUPP, "cannot %s: this host has no cgroup freezer",
                        frozen ? "pause" : "resume");
}

int
keel_cgroup_is_frozen(json_object *state, bool *ret, struct keel_error *err)
{
  struct cg_ctx ctx;
  int r = cg_ctx_from_state(state, &ctx, err);
  if (r < 0)
    return r;
  const char *fz = freezer_dir(&ctx);
  if (fz)
    return cg_v1_is_frozen(fz, ret, err);
  if (ctx.unified)
    return cg_v2_is_frozen(ctx.unified, ret, err);
  *ret = false;
  return 0;
}

int
keel_cgroup_pids(json_object *state, pid_t **ret, size_t *ret_n, struct keel_error *err)
{
  struct cg_ctx ctx;
  int r = cg_ctx_from_state(state, &ctx, err);
  if (r < 0)
    return r;
  const char *dir = ctx.unified;
  if (ctx.mode != KEEL_CGROUP_V2)
    {
      /* freezer and pids see every task; any v1 hierarchy would do */
      const char *fz = v1_dir(&ctx, "freezer"), *pd = v1_dir(&ctx, "pids");
      dir = fz ? fz : pd ? pd : ctx.n ? ctx.dir[0] : ctx.unified;
    }
  pid_t *pids = NULL;
  size_t n = 0;
  if (dir && (r = cg_collect_pids(dir, &pids, &n, err)) < 0)
    {
      free(pids);
      return r;
    }
  *ret = pids;
  *ret_n = n;
  return 0;
}

int
keel_cgroup_destroy(json_object *state, struct keel_error *err)
{
  struct cg_ctx ctx;
  int r = cg_ctx_from_state(state, &ctx, err), ret = 0;
  if (r < 0)
    return r;
  const char *fz = freezer_dir(&ctx);
  /* The unified hierarchy first: cgroup.kill takes the whole tree at once. */
  if (ctx.unified)
    ret = cg_remove_tree(ctx.unified, true, fz, err);
  for (size_t i = 0; i < ctx.n; i++)
    {
      r = cg_remove_tree(ctx.dir[i], false, fz, ret < 0 ? NULL : err);
      if (r < 0 && ret == 0)
        ret = r;
    }
  if (ctx.unit)
    {
      r = cg_systemd_stop(ctx.unit, ret < 0 ? NULL : err);
      if (r < 0 && ret == 0)
        ret = r;
    }
  return ret;
}
