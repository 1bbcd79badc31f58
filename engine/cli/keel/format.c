/* --format templates, the subset of Go's text/template that ps and stats
 * take: {{.Key}} (leading dots and spaces ignored), \t for a tab, "table "
 * in front for a header line of the keys. */
#include <stdio.h>
#include <string.h>

#include "cli/keel/cli.h"

/* The key of the {{...}} at p (p points at "{{"), its end in *ret_end. */
static bool
next_key(const char *p, char *key, size_t size, const char **ret_end)
{
  const char *end = strstr(p, "}}");
  if (!end)
    return false;
  snprintf(key, size, "%.*s", (int)(end - p - 2), p + 2);
  char *k = key;
  while (*k == ' ' || *k == '.')
    k++;
  memmove(key, k, strlen(k) + 1);
  key[strcspn(key, " ")] = '\0';
  *ret_end = end + 2;
  return true;
}

static void
render(const char *fmt, cli_template_get get, void *data, bool header)
{
  for (const char *p = fmt; *p;)
    {
      char key[64], buf[1024];
      const char *end;
      if (strncmp(p, "{{", 2))
        {
          if (*p == '\\' && p[1] == 't')
            putchar('\t'), p += 2;
          else
            putchar(*p++);
          continue;
        }
      if (!next_key(p, key, sizeof(key), &end))
        break;
      const char *v = header ? key : get(key, data, buf, sizeof(buf));
      fputs(v ? v : "", stdout);
      p = end;
    }
  putchar('\n');
}

void
cli_template(const char *fmt, cli_template_get get, void *data)
{
  render(strncmp(fmt, "table ", 6) ? fmt : fmt + 6, get, data, false);
}

void
cli_template_header(const char *fmt)
{
  if (!strncmp(fmt, "table ", 6))
    render(fmt + 6, NULL, NULL, true);
}
