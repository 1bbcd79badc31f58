#include "image/decompress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"

#define IN_SIZE  (128u << 10)
#define OUT_SIZE (256u << 10)

enum kind
{
  KIND_UNKNOWN,
  KIND_NONE,
  KIND_GZIP,
  KIND_ZSTD,
};

struct keel_dstream
{
  struct keel_unpack_source src;
  struct keel_digest_ctx *cdig, *tdig;
  enum kind kind;
  z_stream z;
  bool z_ready, z_ended;
  ZSTD_DStream *zs;
  size_t zs_ret; /* last ZSTD_decompressStream result: 0 = frame complete */
  unsigned char *in, *out;
  size_t in_pos, in_len;
  bool src_eof;
  uint64_t comp_bytes, tar_bytes, max_out;
  int tee_fd;
};

int
keel_dstream_new(const struct keel_unpack_source *src, uint64_t max_out, struct keel_dstream **ret,
                 struct keel_error *err)
{
  struct keel_dstream *s = calloc(1, sizeof(*s));
  if (!s)
    return keel_error_set(err, -ENOMEM, "out of memory");
  s->src = *src;
  s->max_out = max_out;
  s->tee_fd = -1;
  s->in = malloc(IN_SIZE);
  s->out = malloc(OUT_SIZE);
  if (!s->in || !s->out || keel_digest_new(&s->cdig) < 0 || keel_digest_new(&s->tdig) < 0)
    {
      keel_dstream_free(s);
      return keel_error_set(err, -ENOMEM, "out of memory");
    }
  *ret = s;
  return 0;
}

void
keel_dstream_tee(struct keel_dstream *s, int fd)
{
  s->tee_fd = fd;
}

void
keel_dstream_free(struct keel_dstream *s)
{
  if (!s)
    return;
  if (s->z_ready)
    inflateEnd(&s->z);
  ZSTD_freeDStream(s->zs);
  keel_digest_free(s->cdig);
  keel_digest_free(s->tdig);
  free(s->in);
  free(s->out);
  free(s);
}

const char *
keel_dstream_kind(const struct keel_dstream *s)
{
  return s->kind == KIND_GZIP ? "gzip" : s->kind == KIND_ZSTD ? "zstd" : "none";
}

/* Refill the input buffer once it is used up; false at the source's end. */
static int
fill(struct keel_dstream *s, struct keel_error *err)
{
  if (s->in_pos < s->in_len)
    return 1;
  if (s->src_eof)
    return 0;
  s->in_pos = s->in_len = 0;
  for (;;)
    {
      ssize_t n = s->src.read(s->src.userdata, s->in, IN_SIZE, err);
      if (n < 0)
        return (int)n;
      if (n == 0)
        {
          s->src_eof = true;
          return 0;
        }
      keel_digest_update(s->cdig, s->in, (size_t)n);
      int w = s->tee_fd >= 0 ? keel_write_all(s->tee_fd, s->in, (size_t)n) : 0;
      if (w < 0)
        return keel_error_set_errno(err, w, "cannot keep the layer blob");
      s->comp_bytes += (uint64_t)n;
      s->in_len = (size_t)n;
      return 1;
    }
}

static int
detect(struct keel_dstream *s, struct keel_error *err)
{
  int r = fill(s, err);
  if (r < 0)
    return r;
  /* A first read shorter than a magic number is fine for a plain tar; the
   * compressed formats' magic always arrives whole in practice, and a
   * stream of under four bytes is no valid layer anyway. */
  const unsigned char *p = s->in + s->in_pos;
  size_t n = s->in_len - s->in_pos;
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
    {
      if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
        return keel_error_set(err, -ENOMEM, "cannot start gzip decompression");
      s->z_ready = true;
      s->kind = KIND_GZIP;
    }
  else if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
    {
      s->zs = ZSTD_createDStream();
      if (!s->zs)
        return keel_error_set(err, -ENOMEM, "cannot start zstd decompression");
      s->kind = KIND_ZSTD;
    }
  else
    s->kind = KIND_NONE;
  return 0;
}

static ssize_t
next_gzip(struct keel_dstream *s, struct keel_error *err)
{
  for (;;)
    {
      int r = fill(s, err);
      if (r < 0)
        return r;
      if (r == 0)
        {
          if (!s->z_ended)
            return keel_error_set(err, -EPROTO, "gzip stream ends early (truncated layer)");
          return 0;
        }
      if (s->z_ended)
        {
          /* After a member: another member (concatenated gzip), or padding
           * that is digested and otherwise ignored. */
          if (s->in_len - s->in_pos >= 2 && s->in[s->in_pos] == 0x1f
              && s->in[s->in_pos + 1] == 0x8b)
            {
              inflateReset(&s->z);
              s->z_ended = false;
            }
          else
            {
              s->in_pos = s->in_len;
              continue;
            }
        }
      s->z.next_in = s->in + s->in_pos;
      s->z.avail_in = (uInt)(s->in_len - s->in_pos);
      s->z.next_out = s->out;
      s->z.avail_out = OUT_SIZE;
      int zr = inflate(&s->z, Z_NO_FLUSH);
      s->in_pos = s->in_len - s->z.avail_in;
      if (zr == Z_STREAM_END)
        s->z_ended = true;
      else if (zr != Z_OK && zr != Z_BUF_ERROR)
        return keel_error_set(err, -EBADMSG, "gzip: %s", s->z.msg ? s->z.msg : "corrupt data");
      size_t produced = OUT_SIZE - s->z.avail_out;
      if (produced)
        return (ssize_t)produced;
    }
}

static ssize_t
next_zstd(struct keel_dstream *s, struct keel_error *err)
{
  for (;;)
    {
      int r = fill(s, err);
      if (r < 0)
        return r;
      if (r == 0)
        {
          if (s->zs_ret != 0)
            return keel_error_set(err, -EPROTO, "zstd stream ends early (truncated layer)");
          return 0;
        }
      ZSTD_inBuffer in = { s->in, s->in_len, s->in_pos };
      ZSTD_outBuffer out = { s->out, OUT_SIZE, 0 };
      size_t zr = ZSTD_decompressStream(s->zs, &out, &in);
      s->in_pos = in.pos;
      if (ZSTD_isError(zr))
        return keel_error_set(err, -EBADMSG, "zstd: %s", ZSTD_getErrorName(zr));
      s->zs_ret = zr;
      if (out.pos)
        return (ssize_t)out.pos;
    }
}

ssize_t
keel_dstream_next(struct keel_dstream *s, const void **ret, struct keel_error *err)
{
  ssize_t n;
  if (s->kind == KIND_UNKNOWN && (n = detect(s, err)) < 0)
    return n;
  if (s->kind == KIND_NONE)
    {
      int r = fill(s, err);
      if (r <= 0)
        return r;
      n = (ssize_t)(s->in_len - s->in_pos);
      *ret = s->in + s->in_pos;
      s->in_pos = s->in_len;
    }
  else
    {
      n = s->kind == KIND_GZIP ? next_gzip(s, err) : next_zstd(s, err);
      if (n <= 0)
        return n;
      *ret = s->out;
    }
  s->tar_bytes += (uint64_t)n;
  if (s->tar_bytes > s->max_out)
    return keel_error_set(err, -EFBIG,
                          "layer inflates past %llu MiB from %llu KiB compressed "
                          "(decompression bomb?)",
                          (unsigned long long)(s->max_out >> 20),
                          (unsigned long long)(s->comp_bytes >> 10));
  keel_digest_update(s->tdig, *ret, (size_t)n);
  return n;
}

int
keel_dstream_finish(struct keel_dstream *s, struct keel_unpack_stats *stats, struct keel_error *err)
{
  const void *p;
  ssize_t n;
  while ((n = keel_dstream_next(s, &p, err)) > 0)
    ;
  if (n < 0)
    return (int)n;
  struct keel_digest_ctx *c = TAKE_PTR(s->cdig), *t = TAKE_PTR(s->tdig);
  int r1 = keel_digest_final(c, stats->digest);
  int r2 = keel_digest_final(t, stats->diff_id);
  if (r1 < 0 || r2 < 0)
    return keel_error_set(err, -EIO, "cannot finish layer digests");
  stats->compressed_bytes = s->comp_bytes;
  stats->tar_bytes = s->tar_bytes;
  return 0;
}
