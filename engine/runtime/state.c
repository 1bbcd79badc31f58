#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "runtime/cgroup.h"

int
keel_state_open(const struct keel_runtime *rt, const char *id, bool exclusive, int *ret_dirfd,
                struct keel_error *err)
{
  int r = keel_container_check_id(id, err);
  if (r < 0)
    return r;
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", rt->root, id);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return keel_error_set(err, -ENOENT, "container '%s' does not exist", id);
      return keel_error_set_errno(err, -errno, "cannot open state of '%s'", id);
    }
  if (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    return keel_error_set_errno(err, -errno, "cannot lock state of '%s'", id);
  *ret_dirfd = TAKE_FD(fd);
  return 0;
}

int
keel_state_read(int dirfd, const char *id, json_object **ret, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(dirfd, KEEL_STATE_FILE, 16 << 20, &buf, &len);
  if (r == -ENOENT)
    {
      /* the runtime died between making the directory and writing state */
      *ret = json_object_new_object();
      json_object_object_add(*ret, "id", json_object_new_string(id));
      return 0;
    }
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read state of '%s'", id);
  return keel_json_parse(buf, len, "state.json", ret, err);
}

int
keel_state_load(const struct keel_runtime *rt, const char *id, bool exclusive, int *ret_dirfd,
                json_object **ret, struct keel_error *err)
{
  int r = keel_state_open(rt, id, exclusive, ret_dirfd, err);
  if (r < 0)
    return r;
  return keel_state_read(*ret_dirfd, id, ret, err);
}

int
keel_state_write(int dirfd, json_object *st, struct keel_error *err)
{
  size_t len;
  const char *s = json_object_to_json_string_length(st, JSON_C_TO_STRING_PLAIN, &len);
  int r = keel_write_file_replace(dirfd, KEEL_STATE_FILE, s, len, 0600);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot write container state");
  return 0;
}

unsigned long long
keel_proc_start_time(pid_t pid)
{
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = keel_read_all(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* the command name may hold spaces and parentheses: start after the last ')' */
  char *p = strrchr(buf, ')');
  if (!p)
    return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X')
    return 0; /* a zombie has ended, whatever waits for it */
  for (int field = 3; field < 22 && p; field++)
    {
      p = strchr(p, ' ');
      if (p)
        p++;
    }
  return p ? strtoull(p, NULL, 10) : 0;
}

pid_t
keel_state_live_pid(json_object *st)
{
  json_object *v;
  if (!json_object_object_get_ex(st, "pid", &v))
    return 0;
  pid_t pid = (pid_t)json_object_get_int(v);
  if (pid <= 0)
    return 0;
  unsigned long long want = 0;
  if (json_object_object_get_ex(st, "start_time", &v))
    want = (unsigned long long)json_object_get_uint64(v);
  unsigned long long now = keel_proc_start_time(pid);
  if (now == 0 || (want && now != want))
    return 0;
  return pid;
}

const char *
keel_state_status(int dirfd, json_object *st)
{
  json_object *v;
  if (!json_object_object_get_ex(st, "pid", &v))
    return "creating";
  if (!keel_state_live_pid(st))
    return "stopped";
  if (faccessat(dirfd, KEEL_EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return "created";
  json_object *cg = keel_state_obj(st, "cgroup");
  bool frozen = false;
  if (cg && keel_cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
    return "paused";
  return "running";
}

const char *
keel_state_str(json_object *st, const char *key)
{
  json_object *v;
  if (!json_object_object_get_ex(st, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

json_object *
keel_state_obj(json_object *st, const char *key)
{
  json_object *v;
  if (!json_object_object_get_ex(st, key, &v) || json_object_is_type(v, json_type_null))
    return NULL;
  return v;
}
