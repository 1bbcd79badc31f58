/* The GRUB environment block: exactly 1024 bytes, "# GRUB Environment
 * Block\n", then "name=value\n" lines, padded with '#'.  GRUB 2.06's
 * save_env rewrites the block in place through the file's block list, so the
 * file must exist, be exactly 1024 bytes and fully allocated (no holes) on a
 * filesystem GRUB can write (ext2/3/4 here); load_env accepts any size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grubenv.h"

#define GRUBENV_HEADER "# GRUB Environment Block\n"

GHashTable *
host_grubenv_parse(const char *data, gsize len)
{
  GHashTable *vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *text = g_strndup(data, len);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *l = lines[i];
      const char *eq = strchr(l, '=');
      if (*l == '#' || !eq || eq == l)
        continue;
      g_hash_table_replace(vars, g_strndup(l, (gsize)(eq - l)), g_strdup(eq + 1));
    }
  return vars;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The 1024-byte block for VARS (sorted by name, so output is stable). */
char *
host_grubenv_format(GHashTable *vars, GError **error)
{
  g_autoptr(GString) s = g_string_new(GRUBENV_HEADER);
  guint n = 0;
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array(vars, &n);
  qsort(keys, n, sizeof(*keys), cmp_str);
  for (guint i = 0; i < n; i++)
    {
      const char *k = keys[i];
      const char *v = g_hash_table_lookup(vars, k);
      if (strpbrk(k, "=\n") || strchr(v, '\n'))
        {
          g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                      "grubenv variable '%s' has a newline or '=' in its name", k);
          return NULL;
        }
      g_string_append_printf(s, "%s=%s\n", k, v);
    }
  if (s->len > HOST_GRUBENV_SIZE)
    {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                  "grubenv variables do not fit in %d bytes", HOST_GRUBENV_SIZE);
      return NULL;
    }
  while (s->len < HOST_GRUBENV_SIZE)
    g_string_append_c(s, '#');
  return g_string_free(g_steal_pointer(&s), FALSE);
}

GHashTable *
host_grubenv_read(const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(path, &data, &len, &local))
    {
      if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read '%s': %s", path,
                  local->message);
      return NULL;
    }
  return host_grubenv_parse(data, len);
}

/* Write a new block durably: temp file (fully written, fsync), rename,
 * fsync of the directory.  A power cut leaves the old or the new block. */
gboolean
host_grubenv_write(const char *path, GHashTable *vars, GError **error)
{
  g_autofree char *block = host_grubenv_format(vars, error);
  if (!block)
    return FALSE;
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *tmp = g_strconcat(path, ".new", NULL);
  if (g_mkdir_with_parents(dir, 0755) < 0)
    goto fail;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    goto fail;
  gboolean ok = write(fd, block, HOST_GRUBENV_SIZE) == HOST_GRUBENV_SIZE && fsync(fd) == 0;
  int saved = errno;
  close(fd);
  errno = saved;
  if (!ok || rename(tmp, path) < 0)
    {
      saved = errno;
      unlink(tmp);
      errno = saved;
      goto fail;
    }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      (void)fsync(dfd);
      close(dfd);
    }
  return TRUE;
fail:
  g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot write '%s': %s", path,
              g_strerror(errno));
  return FALSE;
}
