#include "network/hosts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fclose() is what stores the final buffer pointer in *s. */
static char *
finish(FILE *f, char **s)
{
  if (fclose(f) != 0)
    {
      free(*s);
      return NULL;
    }
  return *s;
}

char *
keel_hosts_text(const struct keel_hosts_entry *e, size_t n)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  if (!f)
    return NULL;
  fputs("127.0.0.1\tlocalhost localhost.localdomain\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n",
        f);
  for (size_t i = 0; i < n; i++)
    if (e[i].ip[0] && e[i].names[0])
      fprintf(f, "%s\t%s\n", e[i].ip, e[i].names);
  return finish(f, &s);
}

static bool
loopback_server(const char *ip)
{
  return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

/* Nameserver, search and options lines of the host's file, in order. */
static void
copy_host(FILE *f, const char *host, bool servers, bool search, int *ret_servers)
{
  int n = 0;
  for (const char *p = host; p && *p;)
    {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      char line[1024];
      snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
      p = nl ? nl + 1 : p + len;
      char key[32], val[1000];
      if (sscanf(line, "%31s %999[^\n]", key, val) != 2)
        continue;
      if (servers && strcmp(key, "nameserver") == 0)
        {
          char ip[64];
          if (sscanf(val, "%63s", ip) == 1 && !loopback_server(ip) && n < 3)
            {
              fprintf(f, "nameserver %s\n", ip);
              n++;
            }
        }
      else if (search && (strcmp(key, "search") == 0 || strcmp(key, "domain") == 0))
        fprintf(f, "search %s\n", val);
      else if (strcmp(key, "options") == 0 && servers)
        fprintf(f, "options %s\n", val);
    }
  if (ret_servers)
    *ret_servers = n;
}

char *
keel_resolv_text(const char *host, const char *const *dns, const char *const *search)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  if (!f)
    return NULL;
  if (search)
    {
      fputs("search", f);
      for (const char *const *p = search; *p; p++)
        fprintf(f, " %s", *p);
      fputs("\n", f);
    }
  else
    copy_host(f, host, false, true, NULL);
  if (dns)
    {
      for (const char *const *p = dns; *p; p++)
        fprintf(f, "nameserver %s\n", *p);
    }
  else
    {
      int n = 0;
      copy_host(f, host, true, false, &n);
      if (n == 0)
        fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
    }
  return finish(f, &s);
}

int
keel_resolv_is_stub(const char *text)
{
  for (const char *p = text; p && (p = strstr(p, "nameserver")); p += 10)
    {
      const char *q = p + 10;
      while (*q == ' ' || *q == '\t')
        q++;
      if (strncmp(q, "127.0.0.53", 10) == 0)
        return 1;
    }
  return 0;
}
