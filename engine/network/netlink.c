#include "network/netlink.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/ethernet.h>
#include <netinet/ether.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define MSG_CAP 4096

struct req
{
  union
  {
    struct nlmsghdr h;
    char buf[MSG_CAP];
  };
  bool overflow;
};

static void *
put_raw(struct req *r, size_t len)
{
  size_t at = NLMSG_ALIGN(r->h.nlmsg_len);
  if (at + NLMSG_ALIGN(len) > MSG_CAP)
    {
      r->overflow = true;
      return NULL;
    }
  void *p = r->buf + at;
  memset(p, 0, NLMSG_ALIGN(len));
  r->h.nlmsg_len = (uint32_t)(at + len);
  return p;
}

static struct rtattr *
put_attr(struct req *r, int type, const void *data, size_t len)
{
  struct rtattr *a = put_raw(r, RTA_LENGTH(len));
  if (!a)
    return NULL;
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len)
    memcpy(RTA_DATA(a), data, len);
  return a;
}

static struct rtattr *
nest_begin(struct req *r, int type)
{
  return put_attr(r, type, NULL, 0);
}

static void
nest_end(struct req *r, struct rtattr *nest)
{
  if (nest)
    nest->rta_len = (unsigned short)(r->buf + r->h.nlmsg_len - (char *)nest);
}

static void *
req_init(struct req *r, int type, int flags, size_t hdr_len)
{
  memset(&r->h, 0, sizeof(r->h));
  r->overflow = false;
  r->h.nlmsg_len = NLMSG_LENGTH(0);
  r->h.nlmsg_type = (uint16_t)type;
  r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  return put_raw(r, hdr_len);
}

int
keel_nl_open(int netns_fd, struct keel_nl *ret)
{
  _cleanup_close_ int home = -EBADF;
  if (netns_fd >= 0)
    {
      /* setns() changes only this thread's namespace; the socket keeps the
       * namespace it was created in after we switch back. */
      home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      if (home < 0)
        return -errno;
      if (setns(netns_fd, CLONE_NEWNET) < 0)
        return -errno;
    }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int saved = errno;
  if (home >= 0 && setns(home, CLONE_NEWNET) < 0)
    {
      /* Stuck in the container's namespace: nothing else may run here. */
      if (fd >= 0)
        close(fd);
      return -ENOTRECOVERABLE;
    }
  if (fd < 0)
    return -saved;
  ret->fd = fd;
  ret->seq = (uint32_t)getpid() << 8;
  return 0;
}

void
keel_nl_close(struct keel_nl *nl)
{
  if (nl->fd >= 0)
    close(nl->fd);
  nl->fd = -EBADF;
}

/* Send one request and read until its ack; a RTM_NEWLINK reply (to a
 * GETLINK) fills *ret_index. */
static int
talk(struct keel_nl *nl, struct req *r, int *ret_index)
{
  if (r->overflow)
    return -ENOBUFS;
  r->h.nlmsg_seq = ++nl->seq;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  if (sendto(nl->fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
    return -errno;
  char buf[16384] __attribute__((aligned(4)));
  for (;;)
    {
      ssize_t n = recv(nl->fd, buf, sizeof(buf), 0);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      size_t len = (size_t)n;
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
        {
          if (h->nlmsg_seq != nl->seq)
            continue;
          if (h->nlmsg_type == NLMSG_ERROR)
            {
              struct nlmsgerr *e = NLMSG_DATA(h);
              return e->error;
            }
          if (h->nlmsg_type == RTM_NEWLINK && ret_index)
            *ret_index = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
        }
    }
}

int
keel_nl_link_index(struct keel_nl *nl, const char *name)
{
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_GETLINK, 0, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  put_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  int index = 0;
  int rc = talk(nl, &r, &index);
  if (rc < 0)
    return rc;
  return index > 0 ? index : -ENODEV;
}

static int
put_mac(struct req *r, const char *mac)
{
  struct ether_addr e;
  if (!ether_aton_r(mac, &e))
    return -EINVAL;
  put_attr(r, IFLA_ADDRESS, &e, ETH_ALEN);
  return 0;
}

int
keel_nl_veth_add(struct keel_nl *nl, const char *name, const char *peer, int peer_netns_fd,
                 const char *peer_mac)
{
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  put_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr *info = nest_begin(&r, IFLA_LINKINFO);
  put_attr(&r, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = nest_begin(&r, IFLA_INFO_DATA);
  /* VETH_INFO_PEER carries a whole ifinfomsg, then the peer's attributes. */
  struct rtattr *p = nest_begin(&r, VETH_INFO_PEER);
  struct ifinfomsg *pifi = put_raw(&r, sizeof(*pifi));
  if (pifi)
    pifi->ifi_family = AF_UNSPEC;
  put_attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
  uint32_t nsfd = (uint32_t)peer_netns_fd;
  put_attr(&r, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
  if (peer_mac && put_mac(&r, peer_mac) < 0)
    return -EINVAL;
  nest_end(&r, p);
  nest_end(&r, data);
  nest_end(&r, info);
  return talk(nl, &r, NULL);
}

int
keel_nl_bridge_add(struct keel_nl *nl, const char *name, const char *mac)
{
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  put_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  if (mac && put_mac(&r, mac) < 0)
    return -EINVAL;
  struct rtattr *info = nest_begin(&r, IFLA_LINKINFO);
  put_attr(&r, IFLA_INFO_KIND, "bridge", 7);
  nest_end(&r, info);
  return talk(nl, &r, NULL);
}

int
keel_nl_link_up(struct keel_nl *nl, int ifindex, int master)
{
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (master > 0)
    {
      uint32_t m = (uint32_t)master;
      put_attr(&r, IFLA_MASTER, &m, sizeof(m));
    }
  return talk(nl, &r, NULL);
}

int
keel_nl_port_hairpin(struct keel_nl *nl, int ifindex)
{
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  struct rtattr *info = nest_begin(&r, IFLA_LINKINFO);
  put_attr(&r, IFLA_INFO_SLAVE_KIND, "bridge", sizeof("bridge"));
  struct rtattr *data = nest_begin(&r, IFLA_INFO_SLAVE_DATA);
  uint8_t on = 1;
  put_attr(&r, IFLA_BRPORT_MODE, &on, sizeof(on));
  nest_end(&r, data);
  nest_end(&r, info);
  return talk(nl, &r, NULL);
}

int
keel_nl_link_del(struct keel_nl *nl, const char *name)
{
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_DELLINK, 0, sizeof(*ifi));
  ifi->ifi_family = AF_UNSPEC;
  put_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  int rc = talk(nl, &r, NULL);
  return rc == -ENODEV ? 0 : rc;
}

int
keel_nl_addr_add(struct keel_nl *nl, int ifindex, uint32_t ip, int prefix)
{
  struct req r;
  struct ifaddrmsg *ifa = req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)ifindex;
  uint32_t be = htonl(ip);
  uint32_t bcast = htonl(ip | (prefix ? ~(~(uint32_t)0 << (32 - prefix)) : ~(uint32_t)0));
  put_attr(&r, IFA_LOCAL, &be, 4);
  put_attr(&r, IFA_ADDRESS, &be, 4);
  put_attr(&r, IFA_BROADCAST, &bcast, 4);
  return talk(nl, &r, NULL);
}

int
keel_nl_route_default(struct keel_nl *nl, int ifindex, uint32_t gateway)
{
  struct req r;
  struct rtmsg *rt = req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
  rt->rtm_family = AF_INET;
  rt->rtm_dst_len = 0;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  uint32_t gw = htonl(gateway), oif = (uint32_t)ifindex;
  put_attr(&r, RTA_GATEWAY, &gw, 4);
  put_attr(&r, RTA_OIF, &oif, 4);
  return talk(nl, &r, NULL);
}
