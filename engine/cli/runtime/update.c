/* keel-runtime update: new linux.resources for a running container. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/runtime/cli.h"
#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"

/* "512m", "1G", "-1" (unlimited), plain bytes */
static int
parse_size(const char *s, int64_t *ret)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s)
    return -EINVAL;
  int shift = 0;
  switch (tolower((unsigned char)*end))
    {
    case '\0':
      break;
    case 'k':
      shift = 10;
      break;
    case 'm':
      shift = 20;
      break;
    case 'g':
      shift = 30;
      break;
    default:
      return -EINVAL;
    }
  if (*end && end[1] && strcasecmp(end + 1, "b"))
    return -EINVAL;
  if (v < -1 || (shift && v > (INT64_MAX >> shift)))
    return -ERANGE;
  *ret = v < 0 ? v : v << shift;
  return 0;
}

struct flag
{
  const char *name, *section, *key;
  bool size, str;
};

static const struct flag flags[] = {
  { "memory", "memory", "limit", true, false },
  { "memory-reservation", "memory", "reservation", true, false },
  { "memory-swap", "memory", "swap", true, false },
  { "kernel-memory", "memory", "kernel", true, false },
  { "cpu-share", "cpu", "shares", false, false },
  { "cpu-quota", "cpu", "quota", false, false },
  { "cpu-period", "cpu", "period", false, false },
  { "cpu-rt-period", "cpu", "realtimePeriod", false, false },
  { "cpu-rt-runtime", "cpu", "realtimeRuntime", false, false },
  { "cpuset-cpus", "cpu", "cpus", false, true },
  { "cpuset-mems", "cpu", "mems", false, true },
  { "pids-limit", "pids", "limit", false, false },
  { "blkio-weight", "blockIO", "weight", false, false },
};

static int
set_flag(json_object *res, const struct flag *f, const char *val)
{
  json_object *sec;
  if (!json_object_object_get_ex(res, f->section, &sec))
    {
      sec = json_object_new_object();
      json_object_object_add(res, f->section, sec);
    }
  if (f->str)
    {
      json_object_object_add(sec, f->key, json_object_new_string(val));
      return 0;
    }
  int64_t v;
  if (f->size)
    {
      if (parse_size(val, &v) < 0)
        return cli_usage("update", "--%s: expected a size, not '%s'", f->name, val);
    }
  else
    {
      char *end;
      errno = 0;
      v = strtoll(val, &end, 10);
      if (errno || *end || end == val)
        return cli_usage("update", "--%s: expected a number, not '%s'", f->name, val);
    }
  json_object_object_add(sec, f->key, json_object_new_int64(v));
  return 0;
}

static int
read_resources(const char *file, json_object **ret, struct keel_error *err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  int r = keel_read_file(AT_FDCWD, !strcmp(file, "-") ? "/dev/stdin" : file, 4 << 20, &buf, &len);
  if (r < 0)
    return keel_error_set_errno(err, r, "cannot read resources from '%s'", file);
  r = keel_json_parse(buf, len, file, ret, err);
  if (r == 0 && !json_object_is_type(*ret, json_type_object))
    return keel_error_set(err, -EINVAL, "%s: expected a JSON object", file);
  return r;
}

int
cmd_update(int argc, char **argv)
{
  struct option opts[sizeof(flags) / sizeof(flags[0]) + 2];
  size_t nf = sizeof(flags) / sizeof(flags[0]);
  for (size_t i = 0; i < nf; i++)
    opts[i] = (struct option){ flags[i].name, required_argument, NULL, 1000 + (int)i };
  opts[nf] = (struct option){ "resources", required_argument, NULL, 'r' };
  opts[nf + 1] = (struct option){ NULL, 0, NULL, 0 };
  struct keel_error err = KEEL_ERROR_INIT;
  _cleanup_json_ json_object *res = json_object_new_object();
  const char *file = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+r:", opts, NULL)) != -1)
    {
      if (c == 'r')
        file = optarg;
      else if (c >= 1000 && c < 1000 + (int)nf)
        {
          if (set_flag(res, &flags[c - 1000], optarg))
            return 1;
        }
      else
        return cli_usage("update", "usage: keel-runtime update [--resources FILE] [FLAGS] ID");
    }
  const char *id;
  if (cli_one_id("update", argc, argv, optind, &id))
    return 1;
  if (file)
    {
      json_object *from = NULL;
      if (read_resources(file, &from, &err) < 0)
        return cli_fail(&err);
      /* flags given beside the file win over it */
      json_object_object_foreach(res, k, v) json_object_object_add(from, k, json_object_get(v));
      json_object_put(res);
      res = from;
    }
  if (keel_container_update(&cli_rt, id, res, &err) < 0)
    return cli_fail(&err);
  return 0;
}
