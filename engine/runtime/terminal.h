/* Container terminals: the init opens a pty inside the container's devpts,
 * hands the master to --console-socket (SCM_RIGHTS, as runc and crun do)
 * and makes the slave its controlling terminal and stdio. */
#ifndef KEEL_RUNTIME_TERMINAL_H
#define KEEL_RUNTIME_TERMINAL_H

#include "lib/error.h"

/* Send fd over a connected unix socket, with name as the payload. */
int keel_fd_send(int sock, int fd, const char *name);
/* Receive one fd sent by keel_fd_send. */
int keel_fd_recv(int sock, int *ret_fd);

/* In the container: new pty, master to console_sock, slave on 0/1/2 as the
 * controlling terminal, size set when height and width are non-zero. */
int keel_terminal_setup(int console_sock, unsigned short height, unsigned short width,
                        struct keel_error *err);

/* The socket a container's terminal master travels over: connected to
 * console_socket when given, else one end of a pair whose other end goes
 * to *ret_master for the caller (run and exec in the foreground). */
int keel_console_channel(const char *console_socket, int *ret_master, struct keel_error *err);

/* Connect to a unix socket path. */
int keel_unix_connect(const char *path, struct keel_error *err);

#endif
