/* keel-monitor's attach protocol: a stream of frames over the unix socket
 * <state-dir>/attach.sock (SOCK_STREAM).
 *
 * Every frame is an 8-byte header followed by a payload:
 *
 *   byte 0     type (below)
 *   bytes 1-3  zero
 *   bytes 4-7  payload length, big-endian, at most KEEL_ATTACH_MAX_PAYLOAD
 *
 * The header is Docker's attach multiplexing header (stdout = 1, stderr =
 * 2), so an API layer can pass output frames through unchanged.
 *
 * Monitor → client:
 *   STDOUT, STDERR  container output as it is read, marked by stream (with
 *                   a terminal everything is STDOUT)
 *   EXIT            the container ended; payload: exit code in decimal
 *                   ASCII (128+N for a signal).  With a restart policy more
 *                   output and EXIT frames may follow.
 *   GONE            the monitor is about to end (no restart will follow)
 *
 * Client → monitor:
 *   STDIN           bytes for the container's stdin (pipe or terminal);
 *                   dropped when the monitor was not started with stdin
 *   STDIN_CLOSE     close the container's stdin (EOF; ^D on a terminal)
 *   RESIZE          4 bytes: rows, columns, each a big-endian u16
 *   STOP            optional 4 bytes: timeout in seconds, big-endian u32;
 *                   the stop signal now, SIGKILL after the timeout; the
 *                   restart policy does not apply to this exit
 *
 * Any number of clients may be attached; each gets every output frame from
 * the moment it connected.  Closing the socket detaches: the container
 * keeps running.  A client that does not keep up (more than 1 MiB queued)
 * is disconnected rather than allowed to stall the container. */
#ifndef KEEL_MONITOR_ATTACH_H
#define KEEL_MONITOR_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define KEEL_ATTACH_SOCKET      "attach.sock"
#define KEEL_ATTACH_HEADER      8
#define KEEL_ATTACH_MAX_PAYLOAD (64 * 1024)

enum keel_attach_type
{
  KEEL_ATTACH_STDOUT = 1,
  KEEL_ATTACH_STDERR = 2,
  KEEL_ATTACH_EXIT = 3,
  KEEL_ATTACH_GONE = 4,
  KEEL_ATTACH_STDIN = 16,
  KEEL_ATTACH_STDIN_CLOSE = 17,
  KEEL_ATTACH_RESIZE = 18,
  KEEL_ATTACH_STOP = 19,
};

/* Fill an 8-byte header. */
void keel_attach_header(uint8_t hdr[KEEL_ATTACH_HEADER], enum keel_attach_type type, uint32_t len);

/* An incremental decoder: feed it bytes as they arrive, take frames out. */
struct keel_attach_decoder
{
  size_t len;   /* bytes held */
  size_t taken; /* bytes of the frame handed out last, dropped on the next call */
  uint8_t buf[KEEL_ATTACH_HEADER + KEEL_ATTACH_MAX_PAYLOAD];
};

/* Append up to n bytes from data; returns how many were taken (less than
 * n when the buffer is full: take a frame out, then feed the rest). */
size_t keel_attach_feed(struct keel_attach_decoder *d, const void *data, size_t n);

/* Take the next complete frame out: 1 with *type, *payload (valid until the
 * next call) and *len; 0 when more bytes are needed; -EPROTO when the
 * stream is malformed (unknown type, bad padding, oversized payload). */
int keel_attach_next(struct keel_attach_decoder *d, uint8_t *type, const uint8_t **payload,
                     uint32_t *len);

/* Write one frame to a blocking fd. */
int keel_attach_send(int fd, enum keel_attach_type type, const void *payload, uint32_t len);

/* RESIZE and STOP payloads. */
void keel_attach_encode_resize(uint8_t out[4], unsigned rows, unsigned cols);
int keel_attach_decode_resize(const uint8_t *p, uint32_t len, unsigned *rows, unsigned *cols);
void keel_attach_encode_u32(uint8_t out[4], uint32_t v);
uint32_t keel_attach_decode_u32(const uint8_t p[4]);

/* Connect to a monitor's attach socket in state_dir (any length of path:
 * the socket is reached through /proc/self/fd). */
int keel_attach_connect(const char *state_dir, struct keel_error *err);

#endif
