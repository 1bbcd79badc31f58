/* /etc/hosts and /etc/resolv.conf for containers.  Name resolution between
 * members of a network is done by files, not a DNS server: each container
 * gets its own hosts file listing every member of its networks, rewritten
 * whenever a member joins or leaves.  Pure text generators here. */
#ifndef KEEL_NETWORK_HOSTS_H
#define KEEL_NETWORK_HOSTS_H

#include <stddef.h>

struct keel_hosts_entry
{
  char ip[16];
  char names[512]; /* space-separated */
};

/* localhost lines, then one line per entry (entries with no names skipped). */
char *keel_hosts_text(const struct keel_hosts_entry *e, size_t n);

/* resolv.conf for a container from the host's (may be NULL), the caller's
 * servers and search domains (NULL: the host's).  Loopback nameservers are
 * dropped (unreachable from a container); none left means 8.8.8.8 and
 * 8.8.4.4, as podman does. */
char *keel_resolv_text(const char *host, const char *const *dns, const char *const *search);

/* Whether a resolv.conf names the systemd-resolved stub 127.0.0.53. */
int keel_resolv_is_stub(const char *text);

#endif
