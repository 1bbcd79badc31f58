/* engine/network: CIDR and allocation tables, lease files, nft rule text,
 * hosts and resolv.conf generation, port specs, and bad input. */
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "network/hosts.h"
#include "network/internal.h"
#include "network/nft.h"

TEST(cidr_parse_table)
{
  static const struct
  {
    const char *in;
    int ok;
    const char *msg;
  } t[] = {
    { "10.88.0.0/16", 1, NULL },
    { "192.168.10.0/24", 1, NULL },
    { "10.0.0.0/8", 1, NULL },
    { "10.1.2.4/30", 1, NULL },
    { "10.88.0.1/16", 0, "host bits set (did you mean 10.88.0.0/16?)" },
    { "10.88.0.0", 0, "expected a.b.c.d/n" },
    { "10.88.0.0/33", 0, "expected a.b.c.d/n" },
    { "10.88.0.0/", 0, "expected a.b.c.d/n" },
    { "10.88.0.0/-1", 0, "expected a.b.c.d/n" },
    { "10.88.0.0/16x", 0, "expected a.b.c.d/n" },
    { "10.88.0/16", 0, "expected a.b.c.d/n" },
    { "300.1.1.0/24", 0, "expected a.b.c.d/n" },
    { "fd00::/64", 0, "expected a.b.c.d/n" },
    { "10.1.2.0/31", 0, "too small" },
    { "10.0.0.0/7", 0, "too large" },
    { "", 0, "expected a.b.c.d/n" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct keel_cidr c;
      int r = keel_cidr_parse(t[i].in, &c, &err);
      if (t[i].ok)
        {
          ASSERT_OK(r);
          char buf[19];
          keel_cidr_format(&c, buf);
          ASSERT_STREQ(buf, t[i].in);
        }
      else
        {
          ASSERT_EQ(r, -EINVAL);
          ASSERT_CONTAINS(err.msg, t[i].msg);
        }
    }
}

TEST(cidr_overlap_and_bounds)
{
  struct keel_cidr a, b, c;
  ASSERT_OK(keel_cidr_parse("10.88.0.0/16", &a, NULL));
  ASSERT_OK(keel_cidr_parse("10.88.5.0/24", &b, NULL));
  ASSERT_OK(keel_cidr_parse("10.89.0.0/24", &c, NULL));
  ASSERT_TRUE(keel_cidr_overlap(&a, &b));
  ASSERT_TRUE(keel_cidr_overlap(&b, &a));
  ASSERT_FALSE(keel_cidr_overlap(&a, &c));
  char ip[16];
  keel_ip_format(keel_cidr_first(&b), ip);
  ASSERT_STREQ(ip, "10.88.5.1");
  keel_ip_format(keel_cidr_last(&b), ip);
  ASSERT_STREQ(ip, "10.88.5.254");
  char mac[18];
  keel_ip_mac(keel_cidr_first(&b), mac);
  ASSERT_STREQ(mac, "02:4b:0a:58:05:01");
}

TEST(ipam_pick_goes_round_and_skips_gateway)
{
  struct keel_cidr c;
  ASSERT_OK(keel_cidr_parse("10.1.2.0/29", &c, NULL)); /* hosts .1 - .6 */
  uint32_t gw = keel_cidr_first(&c), ip, used[8];
  size_t n = 0;
  uint32_t last = 0;
  for (int i = 0; i < 5; i++)
    {
      ASSERT_OK(keel_ipam_pick(&c, gw, last, used, n, &ip));
      ASSERT_NE(ip, gw);
      used[n++] = ip; /* ascending by construction */
      last = ip;
    }
  ASSERT_EQ(ip & 255, 6);
  ASSERT_EQ(keel_ipam_pick(&c, gw, last, used, n, &ip), -ENOSPC);
  /* .3 released: it is the only one free, and comes back */
  used[1] = used[2], used[2] = used[3], used[3] = used[4], n--;
  ASSERT_OK(keel_ipam_pick(&c, gw, last, used, n, &ip));
  ASSERT_EQ(ip & 255, 3);
}

TEST(leases_never_reuse_until_wrap_and_survive_reload)
{
  char dir[] = "/tmp/keel-test-lease.XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof(path), "%s/net.json", dir);
  struct keel_cidr c;
  ASSERT_OK(keel_cidr_parse("10.9.0.0/24", &c, NULL));
  struct keel_leases l = { 0 };
  struct keel_error err = KEEL_ERROR_INIT;
  ASSERT_OK(keel_leases_load(path, &l, &err)); /* missing file: empty */
  ASSERT_EQ(l.n, 0);
  uint32_t first = 0, ip;
  for (int i = 0; i < 3; i++)
    {
      struct keel_lease e = { 0 };
      ASSERT_OK(keel_leases_allocate(&l, &c, keel_cidr_first(&c), &e.ip));
      snprintf(e.container, sizeof(e.container), "c%d", i);
      struct keel_net_port p = { "", 8000 + i, 80, "tcp" };
      e.ports = &p;
      e.n_ports = 1;
      ASSERT_OK(keel_leases_add(&l, &e));
      if (i == 0)
        first = e.ip;
    }
  ASSERT_EQ(keel_leases_remove(&l, "c0", NULL), 1);
  ASSERT_OK(keel_leases_save(path, &l, &err));
  keel_leases_free(&l);
  ASSERT_OK(keel_leases_load(path, &l, &err));
  ASSERT_EQ(l.n, 2);
  ASSERT_EQ(l.v[0].n_ports, 1);
  ASSERT_EQ(l.v[0].ports[0].host_port, 8001);
  /* the released address is not handed out again right away */
  ASSERT_OK(keel_leases_allocate(&l, &c, keel_cidr_first(&c), &ip));
  ASSERT_NE(ip, first);
  ASSERT_EQ(ip, first + 3);
  struct keel_net_port want = { "127.0.0.1", 8002, 80, "tcp" }, other = { "", 8002, 80, "udp" };
  const struct keel_lease *hit = keel_leases_port_conflict(&l, &want);
  ASSERT_TRUE(hit);
  ASSERT_STREQ(hit->container, "c2");
  ASSERT_FALSE(keel_leases_port_conflict(&l, &other));
  keel_leases_free(&l);
  /* a corrupt file is an error, not an empty pool */
  ASSERT_OK(keel_write_file_atomic(AT_FDCWD, path, "{\"leases\": 3}", 13, 0600));
  ASSERT_EQ(keel_leases_load(path, &l, &err), -EINVAL);
  keel_rm_rf_at(AT_FDCWD, dir);
}

TEST(port_spec_table)
{
  static const struct
  {
    const char *in;
    const char *host_ip;
    int hp, cp;
    const char *proto;
    const char *msg;
  } t[] = {
    { "8080:80", "", 8080, 80, "tcp", NULL },
    { "127.0.0.1:8080:80/udp", "127.0.0.1", 8080, 80, "udp", NULL },
    { "65535:1/tcp", "", 65535, 1, "tcp", NULL },
    { "80", NULL, 0, 0, NULL, "expected [ip:]host_port:container_port" },
    { "0:80", NULL, 0, 0, NULL, "host port 0 out of range" },
    { "8080:65536", NULL, 0, 0, NULL, "container port 65536 out of range" },
    { "8080:80/sctp", NULL, 0, 0, NULL, "protocol must be tcp or udp" },
    { "1.2.3:8080:80", NULL, 0, 0, NULL, "bad host IP" },
    { "x:80", NULL, 0, 0, NULL, "bad host port" },
    { "8080:", NULL, 0, 0, NULL, "bad container port" },
  };
  for (size_t i = 0; i < ARRAY_SIZE(t); i++)
    {
      struct keel_error err = KEEL_ERROR_INIT;
      struct keel_net_port p;
      int r = keel_net_port_parse(t[i].in, &p, &err);
      if (!t[i].msg)
        {
          ASSERT_OK(r);
          ASSERT_STREQ(p.host_ip, t[i].host_ip);
          ASSERT_EQ(p.host_port, t[i].hp);
          ASSERT_EQ(p.container_port, t[i].cp);
          ASSERT_STREQ(p.proto, t[i].proto);
        }
      else
        {
          ASSERT_EQ(r, -EINVAL);
          ASSERT_CONTAINS(err.msg, t[i].msg);
        }
    }
}

TEST(nft_rule_text)
{
  _cleanup_free_ char *base = keel_nft_base_text();
  ASSERT_CONTAINS(base, "add table inet keel\n");
  ASSERT_CONTAINS(base, "prerouting fib daddr type local jump published comment \"keel:base\"");
  ASSERT_CONTAINS(base, "output fib daddr type local jump published comment \"keel:base\"");
  struct keel_nft_net n = { "front", "keel1", "10.1.0.0/24", false };
  _cleanup_free_ char *nt = keel_nft_network_text(&n);
  ASSERT_CONTAINS(nt, "postrouting ip saddr 10.1.0.0/24 ip daddr != 10.1.0.0/24 masquerade comment "
                      "\"keel:net:front\"");
  ASSERT_CONTAINS(nt, "oifname \"keel1\" ip saddr 127.0.0.0/8 masquerade");
  ASSERT_FALSE(strstr(nt, "drop"));
  n.internal = true;
  _cleanup_free_ char *it = keel_nft_network_text(&n);
  ASSERT_FALSE(strstr(it, "daddr != 10.1.0.0/24 masquerade"));
  ASSERT_CONTAINS(it,
                  "forward iifname \"keel1\" oifname != \"keel1\" drop comment \"keel:net:front\"");
  struct keel_net_port p[] = { { "", 8080, 80, "tcp" }, { "127.0.0.1", 53, 5353, "udp" } };
  _cleanup_free_ char *ct = keel_nft_container_text("abc", "10.1.0.2", p, 2);
  ASSERT_STREQ(ct, "add rule inet keel published meta nfproto ipv4 tcp dport 8080 dnat ip to "
                   "10.1.0.2:80 comment \"keel:ctr:abc\"\n"
                   "add rule inet keel published ip daddr 127.0.0.1 udp dport 53 dnat ip to "
                   "10.1.0.2:5353 comment \"keel:ctr:abc\"\n");
  ASSERT_FALSE(keel_nft_container_text("abc", "10.1.0.2", p, 0));
  ASSERT_TRUE(keel_nft_tags_have("keel:base\nkeel:ctr:abc\n", "keel:ctr:abc"));
  ASSERT_FALSE(keel_nft_tags_have("keel:base\nkeel:ctr:abcd\n", "keel:ctr:abc"));
}

TEST(hosts_and_resolv_text)
{
  struct keel_hosts_entry e[] = { { "10.1.0.2", "web alias" }, { "10.1.0.3", "" } };
  _cleanup_free_ char *h = keel_hosts_text(e, 2);
  ASSERT_STREQ(h, "127.0.0.1\tlocalhost localhost.localdomain\n"
                  "::1\tlocalhost ip6-localhost ip6-loopback\n"
                  "10.1.0.2\tweb alias\n");
  const char *host = "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch a.test\n"
                     "options edns0\n";
  ASSERT_EQ(keel_resolv_is_stub(host), 1);
  _cleanup_free_ char *r1 = keel_resolv_text(host, NULL, NULL);
  ASSERT_STREQ(r1, "search a.test\nnameserver 192.0.2.1\noptions edns0\n");
  const char *dns[] = { "192.0.2.9", NULL }, *search[] = { "b.test", "c.test", NULL };
  _cleanup_free_ char *r2 = keel_resolv_text(host, dns, search);
  ASSERT_STREQ(r2, "search b.test c.test\nnameserver 192.0.2.9\n");
  _cleanup_free_ char *r3 = keel_resolv_text("nameserver 127.0.0.1\n", NULL, NULL);
  ASSERT_STREQ(r3, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  ASSERT_EQ(keel_resolv_is_stub("nameserver 192.0.2.1\n"), 0);
}

TEST(network_create_rules_and_bad_input)
{
  char dir[] = "/tmp/keel-test-net.XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  char conf[300];
  snprintf(conf, sizeof(conf), "%s/network.conf", dir);
  ASSERT_OK(keel_write_file_atomic(AT_FDCWD, conf, "# site\nsubnet = 10.77.0.0/16\n", 29, 0644));
  struct keel_net_env env = { .root = dir, .conf_path = conf };
  struct keel_error err = KEEL_ERROR_INIT;
  struct keel_network *net = NULL;
  ASSERT_OK(keel_network_load(&env, "keel", &net, &err));
  ASSERT_STREQ(keel_network_subnet(net), "10.77.0.0/16");
  ASSERT_STREQ(keel_network_bridge(net), "keel0");
  keel_network_free(net);
  struct keel_network_create_opts o = { .name = "a", .subnet = "10.77.128.0/24" };
  ASSERT_EQ(keel_network_create(&env, &o, NULL, &err), -EINVAL);
  ASSERT_STREQ(err.msg, "subnet 10.77.128.0/24 overlaps network 'keel' (10.77.0.0/16)");
  o.subnet = "10.5.0.0/24";
  o.gateway = "10.5.1.1";
  ASSERT_EQ(keel_network_create(&env, &o, NULL, &err), -EINVAL);
  ASSERT_CONTAINS(err.msg, "gateway 10.5.1.1 is not a host address of subnet 10.5.0.0/24");
  o.gateway = "10.5.0.254";
  ASSERT_OK(keel_network_create(&env, &o, &net, &err));
  ASSERT_STREQ(keel_network_gateway(net), "10.5.0.254");
  ASSERT_STREQ(keel_network_bridge(net), "keel1");
  keel_network_free(net);
  ASSERT_EQ(keel_network_create(&env, &o, NULL, &err), -EEXIST);
  ASSERT_STREQ(err.msg, "network 'a' already exists");
  struct keel_network_create_opts bad = { .name = "no/slash" };
  ASSERT_EQ(keel_network_create(&env, &bad, NULL, &err), -EINVAL);
  struct keel_network_create_opts b = { .name = "b" };
  ASSERT_OK(keel_network_create(&env, &b, &net, &err));
  ASSERT_CONTAINS(keel_network_subnet(net), "10.89.");
  ASSERT_STREQ(keel_network_bridge(net), "keel2");
  keel_network_free(net);
  ASSERT_EQ(keel_network_remove(&env, "keel", &err), -EPERM);
  ASSERT_EQ(keel_network_remove(&env, "nope", &err), -ENOENT);
  ASSERT_OK(keel_network_remove(&env, "a", &err));
  ASSERT_EQ(keel_network_load(&env, "a", &net, &err), -ENOENT);
  ASSERT_STREQ(err.msg, "network 'a' not found");
  char subnet[19] = "", gw[16] = "";
  ASSERT_EQ(keel_net_conf_parse("bogus = 1\n", subnet, gw, &err), -EINVAL);
  ASSERT_STREQ(err.msg, "network.conf:1: unknown or bad key 'bogus'");
  keel_rm_rf_at(AT_FDCWD, dir);
}

TEST_MAIN
