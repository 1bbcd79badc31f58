#include "network/nft.h"

#include <errno.h>
#include <json-c/json.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/json.h"

#define TABLE "inet keel"

static void
fclose_memstream(FILE **f)
{
  if (*f)
    fclose(*f);
}

char *
keel_nft_base_text(void)
{
  /* Numeric priorities: nft accepts "dstnat" only on some hooks.  The
   * "published" chain is reached only for packets to a local address, so
   * traffic to other hosts is never redirected. */
  char *s = NULL;
  if (asprintf(&s,
               "add table " TABLE "\n"
               "add chain " TABLE " prerouting { type nat hook prerouting priority -100; policy "
               "accept; }\n"
               "add chain " TABLE " output { type nat hook output priority -100; policy accept; }\n"
               "add chain " TABLE " postrouting { type nat hook postrouting priority 100; policy "
               "accept; }\n"
               "add chain " TABLE " forward { type filter hook forward priority 0; policy accept; "
               "}\n"
               "add chain " TABLE " published\n"
               "add rule " TABLE " prerouting fib daddr type local jump published comment "
               "\"keel:base\"\n"
               "add rule " TABLE " output fib daddr type local jump published comment "
               "\"keel:base\"\n")
      < 0)
    return NULL;
  return s;
}

char *
keel_nft_network_text(const struct keel_nft_net *n)
{
  char *s = NULL;
  size_t len = 0;
  _cleanup_(fclose_memstream) FILE *f = open_memstream(&s, &len);
  if (!f)
    return NULL;
  const char *r = "add rule " TABLE;
  /* Published ports reached through the host's 127.0.0.1 leave on the
   * bridge with a loopback source (route_localnet lets them): give them the
   * gateway's address so the container can answer. */
  fprintf(f,
          "%s postrouting oifname \"%s\" ip saddr 127.0.0.0/8 masquerade comment \"keel:net:%s\"\n",
          r, n->bridge, n->name);
  /* Hairpin: a member reaching a published port of the same network comes
   * back through the bridge and must see the gateway as the source. */
  fprintf(f,
          "%s postrouting oifname \"%s\" ip saddr %s ct status dnat masquerade comment "
          "\"keel:net:%s\"\n",
          r, n->bridge, n->subnet, n->name);
  if (!n->internal)
    fprintf(f, "%s postrouting ip saddr %s ip daddr != %s masquerade comment \"keel:net:%s\"\n", r,
            n->subnet, n->subnet, n->name);
  else
    {
      /* Traffic between members is bridged and never reaches this hook;
       * anything routed in or out of the bridge is dropped. */
      fprintf(f, "%s forward iifname \"%s\" oifname != \"%s\" drop comment \"keel:net:%s\"\n", r,
              n->bridge, n->bridge, n->name);
      fprintf(f, "%s forward oifname \"%s\" iifname != \"%s\" drop comment \"keel:net:%s\"\n", r,
              n->bridge, n->bridge, n->name);
    }
  if (fclose(f) != 0)
    {
      f = NULL;
      free(s);
      return NULL;
    }
  f = NULL;
  return s;
}

char *
keel_nft_container_text(const char *id, const char *ip, const struct keel_net_port *ports, size_t n)
{
  if (n == 0)
    return NULL;
  char *s = NULL;
  size_t len = 0;
  _cleanup_(fclose_memstream) FILE *f = open_memstream(&s, &len);
  if (!f)
    return NULL;
  for (size_t i = 0; i < n; i++)
    {
      const struct keel_net_port *p = &ports[i];
      fprintf(f, "add rule " TABLE " published ");
      if (p->host_ip[0])
        fprintf(f, "ip daddr %s ", p->host_ip);
      else
        fprintf(f, "meta nfproto ipv4 ");
      fprintf(f, "%s dport %u dnat ip to %s:%u comment \"keel:ctr:%s\"\n", p->proto, p->host_port,
              ip, p->container_port, id);
    }
  if (fclose(f) != 0)
    {
      f = NULL;
      free(s);
      return NULL;
    }
  f = NULL;
  return s;
}

static void
nft_ctx_freep(struct nft_ctx **c)
{
  if (*c)
    nft_ctx_free(*c);
}

static struct nft_ctx *
ctx_new(bool json)
{
  struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!c)
    return NULL;
  nft_ctx_buffer_output(c);
  nft_ctx_buffer_error(c);
  if (json)
    nft_ctx_output_set_flags(c, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  return c;
}

/* nft's error text is several lines (the command, a caret line): keep the first. */
static int
nft_error(struct nft_ctx *c, struct keel_error *err, const char *what)
{
  const char *e = nft_ctx_get_error_buffer(c);
  size_t len = e ? strcspn(e, "\n") : 0;
  return keel_error_set(err, -EIO, "nftables: cannot %s: %.*s", what, (int)len, e ? e : "");
}

int
keel_nft_run(const char *text, struct keel_error *err)
{
  _cleanup_(nft_ctx_freep) struct nft_ctx *c = ctx_new(false);
  if (!c)
    return keel_error_set(err, -ENOMEM, "nftables: cannot create a context");
  if (nft_run_cmd_from_buffer(c, text) != 0)
    return nft_error(c, err, "apply rules");
  return 0;
}

static bool
table_exists(struct nft_ctx *c)
{
  if (nft_run_cmd_from_buffer(c, "list tables inet") != 0)
    return false;
  const char *out = nft_ctx_get_output_buffer(c);
  _cleanup_json_ json_object *root = json_tokener_parse(out ? out : "");
  json_object *items = NULL;
  if (!root || !json_object_object_get_ex(root, "nftables", &items))
    return false;
  for (size_t i = 0; i < json_object_array_length(items); i++)
    {
      json_object *t, *name;
      if (json_object_object_get_ex(json_object_array_get_idx(items, i), "table", &t)
          && json_object_object_get_ex(t, "name", &name)
          && strcmp(json_object_get_string(name), "keel") == 0)
        return true;
    }
  return false;
}

/* For each Keel rule: callback(comment, chain, handle). */
static int
each_rule(struct nft_ctx *c, int (*fn)(const char *, const char *, int64_t, void *), void *data,
          struct keel_error *err)
{
  if (!table_exists(c))
    return 0;
  if (nft_run_cmd_from_buffer(c, "list table " TABLE) != 0)
    return nft_error(c, err, "list table inet keel");
  const char *out = nft_ctx_get_output_buffer(c);
  _cleanup_json_ json_object *root = NULL;
  int r = keel_json_parse(out, strlen(out), "nft output", &root, err);
  if (r < 0)
    return r;
  json_object *items = NULL;
  if (!json_object_object_get_ex(root, "nftables", &items)
      || !json_object_is_type(items, json_type_array))
    return keel_error_set(err, -EIO, "nftables: unexpected JSON listing");
  for (size_t i = 0; i < json_object_array_length(items); i++)
    {
      json_object *rule, *comment, *chain, *handle;
      if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "rule", &rule))
        continue;
      if (!json_object_object_get_ex(rule, "comment", &comment)
          || !json_object_object_get_ex(rule, "chain", &chain)
          || !json_object_object_get_ex(rule, "handle", &handle))
        continue;
      r = fn(json_object_get_string(comment), json_object_get_string(chain),
             json_object_get_int64(handle), data);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
collect_tag(const char *comment, const char *chain, int64_t handle, void *data)
{
  fprintf(data, "%s\n", comment);
  return 0;
}

int
keel_nft_list_tags(char **ret, struct keel_error *err)
{
  _cleanup_(nft_ctx_freep) struct nft_ctx *c = ctx_new(true);
  if (!c)
    return keel_error_set(err, -ENOMEM, "nftables: cannot create a context");
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  if (!f)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = each_rule(c, collect_tag, f, err);
  fclose(f);
  if (r < 0)
    {
      free(s);
      return r;
    }
  *ret = s;
  return 0;
}

bool
keel_nft_tags_have(const char *tags, const char *tag)
{
  size_t n = strlen(tag);
  for (const char *p = tags; p && *p;)
    {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      if (len == n && memcmp(p, tag, n) == 0)
        return true;
      p = nl ? nl + 1 : p + len;
    }
  return false;
}

struct deleter
{
  const char *tag;
  FILE *f;
  int n;
};

static int
collect_delete(const char *comment, const char *chain, int64_t handle, void *data)
{
  struct deleter *d = data;
  if (strcmp(comment, d->tag) != 0)
    return 0;
  fprintf(d->f, "delete rule " TABLE " %s handle %lld\n", chain, (long long)handle);
  d->n++;
  return 0;
}

int
keel_nft_delete_tag(const char *tag, struct keel_error *err)
{
  _cleanup_(nft_ctx_freep) struct nft_ctx *c = ctx_new(true);
  if (!c)
    return keel_error_set(err, -ENOMEM, "nftables: cannot create a context");
  _cleanup_free_ char *s = NULL;
  size_t len = 0;
  struct deleter d = { tag, open_memstream(&s, &len), 0 };
  if (!d.f)
    return keel_error_set(err, -ENOMEM, "out of memory");
  int r = each_rule(c, collect_delete, &d, err);
  fclose(d.f);
  if (r < 0 || d.n == 0)
    return r;
  if (nft_run_cmd_from_buffer(c, s) != 0)
    return nft_error(c, err, "delete rules");
  return d.n;
}

int
keel_nft_drop_table(struct keel_error *err)
{
  _cleanup_(nft_ctx_freep) struct nft_ctx *c = ctx_new(true);
  if (!c)
    return keel_error_set(err, -ENOMEM, "nftables: cannot create a context");
  if (!table_exists(c))
    return 0;
  if (nft_run_cmd_from_buffer(c, "delete table " TABLE) != 0)
    return nft_error(c, err, "delete table inet keel");
  return 0;
}
