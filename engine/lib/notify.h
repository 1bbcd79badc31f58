/* The sd_notify(3) datagram, sent by hand: keel-monitor is linked
 * statically and cannot load libsystemd, and the protocol is one
 * datagram of NEWLINE-separated VAR=VALUE assignments to the socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). */
#ifndef KEEL_LIB_NOTIFY_H
#define KEEL_LIB_NOTIFY_H

#include <stddef.h>

/* Send msg (len bytes) to socket; -errno on failure. */
int keel_notify_send(const char *socket, const char *msg, size_t len);

#endif
